//! `agentver serve`: answers voice runtimes over HTTP from a snapshot of one revision, rebuilt off
//! the request path when the followed ref or the agent tags move, and swapped in whole.
//!
//! No git calls of its own: snapshots are built through the workspace, the router reads only
//! the snapshot. Log lines are `tracing` events; the binary decides where they go.

pub mod calls;
mod error;
mod follow;
pub mod metrics;
pub mod record;
mod routes;
pub mod snapshot;

pub use error::ServeError;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use self::metrics::Metrics;
use self::record::Recorder;
use self::snapshot::{Key, Snapshot};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// How long a client may take to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may run on after SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);
/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

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
}

pub struct StoreOptions {
    pub location: crate::calls::store::Location,
    pub callers: crate::calls::Callers,
    pub hooks: calls::HookSecrets,
}

/// What `/healthz` reports besides the snapshot.
#[derive(Default)]
struct Health {
    /// Why the last check failed; `None` when the served snapshot is the followed state.
    error: Option<String>,
    /// A state that failed to load, so it is not rebuilt every interval.
    failed: Option<Key>,
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
}

impl State {
    fn new(options: &Options) -> Result<Self> {
        let calls = match &options.store {
            Some(s) => {
                Some(calls::Calls::start(&s.location, s.callers.clone(), options.root.clone(), s.hooks.clone())?)
            }
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
        })
    }
}

/// Checks the options and binds the listener: what can be refused is refused before serving.
pub async fn bind(options: &Options) -> Result<TcpListener> {
    let addr: SocketAddr = options.listen.parse().map_err(|_| Error::BadValue {
        what: "--listen".into(),
        value: options.listen.clone(),
        expected: "an address and port like 127.0.0.1:8700".into(),
    })?;
    if !addr.ip().is_loopback() && options.token.is_none() && !options.insecure_no_auth {
        return Err(ServeError::InsecureBind { addr: addr.to_string() }.into());
    }
    if options.interval.is_zero() {
        return Err(Error::BadValue {
            what: "--interval".into(),
            value: "0".into(),
            expected: "a number of seconds, 1 or more".into(),
        });
    }
    Workspace::discover(&options.root)?;
    TcpListener::bind(addr).await.map_err(|e| Error::io(format!("--listen {addr}"), e))
}

/// Serves until `shutdown` completes, then lets requests in flight finish (10 s at most).
pub async fn serve(listener: TcpListener, options: Options, shutdown: impl Future<Output = ()>) -> Result<()> {
    let state = Arc::new(State::new(&options)?);
    let local = listener.local_addr().map_err(|e| Error::io("the listening socket", e))?;
    tracing::info!("listening on http://{local}, following {}", options.follow);
    let follower = tokio::spawn(follow::run(state.clone(), follow::Follow::from(&options)));
    let router = routes::router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    follower.abort();
    tracing::info!("stopping: finishing requests in flight");
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after {} s were cut off", DRAIN.as_secs());
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
