//! `agentver serve`: answers voice runtimes over HTTP from a snapshot of one revision, rebuilt off
//! the request path when the followed ref or the agent tags move, and swapped in whole.
//!
//! No git calls of its own: snapshots are built through the workspace, the router reads only
//! the snapshot. Log lines are `tracing` events; the binary decides where they go. Connections
//! are capped below the file-descriptor limit, shedding the oldest idle one first; on SIGTERM the
//! server stops accepting, lets requests in flight finish, then has the call store commit every
//! decision it acknowledged before it exits.

mod browsers;
pub mod calls;
mod conns;
mod error;
mod follow;
pub mod hooks;
mod memory;
pub mod metrics;
mod pages;
mod params;
pub mod record;
mod routes;
pub mod snapshot;
pub mod start;

pub use error::ServeError;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use self::metrics::Metrics;
use self::record::Recorder;
use self::snapshot::{Key, Snapshot};
use crate::error::{Error, GitError, Result};
use crate::workspace::Workspace;

/// How long a client may take to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may run on after SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);
/// How long the call store may take to commit what it acknowledged, after SIGTERM.
const STORE_DRAIN: Duration = Duration::from_secs(10);
/// Request bodies above this are refused with 413 (reports and webhooks take more: 16 MiB).
pub const BODY_LIMIT: usize = 1 << 20;
/// The shortest token accepted: anything shorter can be guessed.
pub const MIN_TOKEN: usize = 16;

pub struct Options {
    /// Where the workspace is (as `-C` names it).
    pub root: PathBuf,
    pub listen: String,
    /// The ref whose commit is served.
    pub follow: String,
    /// Fetch the followed branch and the agent tags from this remote before each check.
    pub fetch: Option<String>,
    pub interval: Duration,
    pub token: Option<String>,
    pub insecure_no_auth: bool,
    /// Where resolve decisions go besides the call store (a library user's own hook).
    pub recorder: Option<Arc<dyn Recorder>>,
    /// The call store: decisions recorded, `/v1/calls`, `/v1/stats` and the webhooks served.
    pub store: Option<StoreOptions>,
    /// The platforms' webhook secrets.
    pub hooks: hooks::HookSecrets,
    /// Connections served at once; `None`: what the file-descriptor limit allows.
    pub max_connections: Option<usize>,
    /// The URL the platforms reach this server at (`https://agentver.example.com`): Twilio
    /// signs it, and a session cookie is `Secure` behind https.
    pub public_url: Option<String>,
    /// Where Twilio's `<Stream>` connects a call: the bot's WebSocket (`[platforms.twilio]
    /// stream_url` in agentver.toml).
    pub twilio_stream_url: Option<String>,
}

pub struct StoreOptions {
    pub location: crate::calls::store::Location,
    pub privacy: crate::calls::Privacy,
    /// Where decisions are spooled before they reach the store.
    pub spool: PathBuf,
}

/// Why the served state is not the followed one: a kind anyone may see, and the details only
/// an authenticated client may (they can hold values from a refused revision).
#[derive(Clone, Debug)]
struct Problem {
    kind: &'static str,
    message: String,
}

/// What `/healthz` reports besides the snapshot.
#[derive(Default)]
struct Health {
    /// Why the last check failed; `None` when the served snapshot is the followed state.
    error: Option<Problem>,
    /// A state that failed to load, so it is not rebuilt every interval.
    failed: Option<Key>,
    /// The followed ref went backwards (a force-push): said in `/healthz` until this passes.
    rewound: Option<(Problem, std::time::Instant)>,
}

/// Everything the handlers share.
pub struct State {
    snapshot: ArcSwapOption<Snapshot>,
    health: Mutex<Health>,
    metrics: Metrics,
    /// SHA-256 of the token: compared in constant time, and equal lengths whatever was sent.
    token: Option<[u8; 32]>,
    recorder: Option<Arc<dyn Recorder>>,
    calls: Option<Arc<calls::Calls>>,
    hooks: hooks::HookSecrets,
    public_url: Option<String>,
    twilio_stream_url: Option<String>,
}

impl State {
    fn new(options: &Options) -> Result<Self> {
        let calls = match &options.store {
            Some(s) => Some(calls::Calls::start(&s.location, s.privacy.clone(), &s.spool)?),
            None => None,
        };
        let recorder = options.recorder.clone().or_else(|| calls.clone().map(|c| c as Arc<dyn Recorder>));
        Ok(State {
            snapshot: ArcSwapOption::empty(),
            health: Mutex::default(),
            metrics: Metrics::default(),
            token: options.token.as_deref().map(|t| Sha256::digest(t.as_bytes()).into()),
            recorder,
            calls,
            hooks: options.hooks.clone(),
            public_url: options.public_url.clone(),
            twilio_stream_url: options.twilio_stream_url.clone(),
        })
    }
}

/// Checks the options and binds the listener: what can be refused is refused before serving,
/// the followed ref included (a repository with no commit, a branch that does not exist).
pub async fn bind(options: &Options) -> Result<TcpListener> {
    let addr: SocketAddr = options.listen.parse().map_err(|_| Error::BadValue {
        what: "--listen".into(),
        value: options.listen.clone(),
        expected: "an address and port like 127.0.0.1:8700".into(),
    })?;
    if !addr.ip().is_loopback() && options.token.is_none() && !options.insecure_no_auth {
        return Err(ServeError::InsecureBind { addr: addr.to_string() }.into());
    }
    if options.token.as_ref().is_some_and(|t| t.len() < MIN_TOKEN) {
        return Err(ServeError::ShortToken { min: MIN_TOKEN }.into());
    }
    if options.interval.is_zero() {
        return Err(Error::BadValue {
            what: "--interval".into(),
            value: "0".into(),
            expected: "a number of seconds, 1 or more".into(),
        });
    }
    let ws = Workspace::discover(&options.root)?;
    if options.fetch.is_none() {
        check_follow(&ws, &options.follow)?;
    }
    TcpListener::bind(addr).await.map_err(|e| Error::io(format!("--listen {addr}"), e))
}

/// The followed ref must name a commit at start: say what to do when it does not.
fn check_follow(ws: &Workspace, follow: &str) -> Result<()> {
    match ws.rev_commit(follow) {
        Err(Error::Git(GitError::UnknownRevision { .. })) if ws.has_no_commits() => {
            Err(ServeError::NoCommits { follow: follow.to_owned() }.into())
        }
        Err(Error::Git(GitError::UnknownRevision { .. })) => {
            let branches = ws.branch_names().unwrap_or_default();
            let suggestion =
                crate::format::diagnostic::closest(follow, branches.iter().map(String::as_str)).map(str::to_owned);
            Err(ServeError::UnknownFollow { follow: follow.to_owned(), suggestion }.into())
        }
        other => other.map(drop),
    }
}

/// Serves until `shutdown` completes, then lets requests in flight finish (10 s at most) and has
/// the call store commit what it acknowledged.
pub async fn serve(listener: TcpListener, options: Options, shutdown: impl Future<Output = ()>) -> Result<()> {
    let state = Arc::new(State::new(&options)?);
    let local = listener.local_addr().map_err(|e| Error::io("the listening socket", e))?;
    let cap = options.max_connections.unwrap_or_else(conns::from_descriptor_limit);
    tracing::info!("listening on http://{local}, following {} (at most {cap} connections)", options.follow);
    let follower = tokio::spawn(follow::run(state.clone(), follow::Follow::from(&options)));
    let names = Arc::new(browsers::Names::new(local, options.public_url.as_deref()));
    let router = routes::router(state.clone(), names);
    let connections = conns::Connections::new(cap);
    connections.accept_until(listener, router, shutdown).await;
    follower.abort();
    tracing::info!("stopping: finishing requests in flight");
    if !connections.drain(DRAIN).await {
        tracing::warn!("requests still running after {} s were cut off", DRAIN.as_secs());
    }
    if let Some(calls) = &state.calls {
        let calls = calls.clone();
        let drained = tokio::task::spawn_blocking(move || calls.stop(STORE_DRAIN)).await.unwrap_or(false);
        if drained {
            tracing::info!("the call store has every decision it acknowledged");
        } else {
            tracing::warn!(
                "the call store did not take every decision within {} s: the spool keeps them for the next start",
                STORE_DRAIN.as_secs()
            );
        }
    }
    Ok(())
}

/// SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// The whole server on its own runtime, until SIGTERM or SIGINT.
pub fn run(options: Options) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the server's runtime", e))?;
    let result = runtime.block_on(async {
        let listener = bind(&options).await?;
        serve(listener, options, shutdown_signal()).await
    });
    // A snapshot being built when the signal came is abandoned, not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}
