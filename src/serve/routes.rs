//! The routes: each one reads the snapshot in place (or the health state) and answers with bytes
//! serialised at load where it can.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State as Extract};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::metrics::route_index;
use super::record::Decision;
use super::snapshot::{Snapshot, escape_label, with_revision};
use super::{BODY_LIMIT, REQUEST_TIMEOUT, State};
use crate::git::ObjectId;
use crate::names::id::{AgentId, RefSpec};
use crate::routing::resolve::Call;

type Shared = Arc<State>;
type Answer = Result<Response, ApiError>;

static REVISION: HeaderName = HeaderName::from_static("agentver-revision");

/// The route patterns, as the router matches them and the metrics label them.
pub const RESOLVE: &str = "/v1/resolve";
pub const AGENTS: &str = "/v1/agents";
pub const VERSIONS: &str = "/v1/agents/{id}/versions";
pub const VERSION: &str = "/v1/agents/{id}/versions/{reference}";
pub const CONFIG: &str = "/v1/configs/{tree}";
pub const CHANNELS: &str = "/v1/channels";
pub const CALLS: &str = "/v1/calls";
pub const CALL: &str = "/v1/calls/{call_id}";
pub const PRUNE: &str = "/v1/calls/prune";
pub const STATS: &str = "/v1/stats/{agent}";
pub const HOOK_VAPI: &str = "/hooks/vapi";
pub const HOOK_RETELL: &str = "/hooks/retell";
pub const HOOK_ELEVENLABS: &str = "/hooks/elevenlabs";
pub const HOOK_ELEVENLABS_INITIATION: &str = "/hooks/elevenlabs/initiation";
pub const HOOK_TWILIO: &str = "/hooks/twilio";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";

pub fn router(state: Shared, names: Arc<super::browsers::Names>) -> Router {
    use axum::routing::{delete, post};
    let secure = state.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let v1 = Router::new()
        .route(RESOLVE, get(resolve_get).post(resolve_post).layer(middleware::from_fn_with_state(state.clone(), pace)))
        .route(AGENTS, get(agents))
        .route(VERSIONS, get(versions))
        .route(VERSION, get(version))
        .route(CONFIG, get(config))
        .route(CHANNELS, get(channels))
        .route(CALLS, get(super::calls::list).post(super::calls::post))
        .route(CALL, get(super::calls::replay).merge(delete(super::calls::forget)))
        .route(PRUNE, post(super::calls::prune))
        .route(STATS, get(super::calls::stats))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    let paced = || middleware::from_fn_with_state(state.clone(), pace);
    Router::new()
        .merge(v1)
        // Each platform's webhook checks the platform's own signature instead of the token. The
        // call-start hooks record decisions, as resolve does, so they are paced as it is.
        .route(HOOK_VAPI, post(super::hooks::vapi).layer(paced()))
        .route(HOOK_RETELL, post(super::hooks::retell).layer(paced()))
        .route(HOOK_ELEVENLABS, post(super::hooks::elevenlabs))
        .route(HOOK_ELEVENLABS_INITIATION, post(super::start::elevenlabs_initiation).layer(paced()))
        .route(HOOK_TWILIO, post(super::start::twilio).layer(paced()))
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
        .route(METRICS, get(metrics))
        // The console's pages and their login, beside the API.
        .merge(crate::console::router(super::pages::console(state.clone(), secure, names.listen.port())))
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Every route, the fallback too: no other origin's page and no other host name.
        .layer(middleware::from_fn_with_state(names, super::browsers::guard))
        // Outermost, so every answer (the fallback's too) closes a connection whose body it left.
        .layer(middleware::from_fn(crate::console::unread::close_if_unread))
        .with_state(state)
}

/// Times, counts and logs every routed request (one line each; the query string, which may
/// hold a caller's number, is not logged), and bounds how long one may take.
async fn observe(Extract(state): Extract<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_index(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took too long").into_response(),
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe(route, status, elapsed);
    let path = printable_path(&path);
    tracing::info!(target: "agentver::http", method = %method, path = %path, status, duration_us = elapsed.as_micros() as u64, "request");
    response
}

/// A request path for the log: control characters escaped, and long paths cut.
fn printable_path(path: &str) -> String {
    let cut = crate::calls::limits::truncate(path, 512).0;
    cut.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

async fn fallback(Extract(state): Extract<Shared>, request: Request) -> Response {
    state.metrics.observe(route_index(None), 404, std::time::Duration::ZERO);
    let path = printable_path(request.uri().path());
    tracing::info!(target: "agentver::http", method = %request.method(), path = %path, status = 404u16, duration_us = 0u64, "request");
    ApiError::new(StatusCode::NOT_FOUND, "no_route", format!("no route {}", request.uri().path()))
        .hint("the routes are listed in docs/reference/http-api.md")
        .into_response()
}

/// Whether `headers` carry the server's token (`Authorization: Bearer`, the scheme in any case,
/// RFC 7235), compared in constant time; true when no token is configured.
pub fn authorized(state: &State, headers: &axum::http::HeaderMap) -> bool {
    let Some(expected) = &state.token else { return true };
    use sha2::{Digest, Sha256};
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::calls::read::bearer_token)
        .map(|t| <[u8; 32]>::from(Sha256::digest(t.as_bytes())));
    sent.is_some_and(|sent| bool::from(sent.ct_eq(expected)))
}

/// With a token configured, `Authorization: Bearer <token>` or 401.
async fn require_token(Extract(state): Extract<Shared>, request: Request, next: Next) -> Response {
    if !authorized(&state, request.headers()) {
        return ApiError::unauthorized().into_response();
    }
    next.run(request).await
}

/// Holds back the answer of a request that may have recorded a decision while the call store is
/// behind (`calls::writer::Writer::behind`: bounded, and never while the store fails), so a flood
/// of resolves is slowed to the rate the store commits instead of outrunning it.
async fn pace(Extract(state): Extract<Shared>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(wait) = state.recorder.as_ref().and_then(|r| r.behind()) {
        wait.await;
    }
    response
}

fn current(state: &State) -> Result<Arc<Snapshot>, ApiError> {
    state.snapshot.load_full().ok_or_else(ApiError::not_ready)
}

/// A JSON answer from the snapshot, with the revision header.
fn answer(snapshot: &Snapshot, body: impl Into<Bytes>) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(revision) = HeaderValue::from_str(&snapshot.revision) {
        headers.insert(REVISION.clone(), revision);
    }
    response
}

/// A runtime's per-call version override: a number, or its digits as a string (metadata fields
/// are strings on every platform).
fn agent_version(value: Option<&serde_json::Value>) -> Result<Option<u64>, ApiError> {
    let n = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.strip_prefix('v').unwrap_or(s).parse().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n >= 1 => Ok(Some(n)),
        _ => Err(ApiError::bad_request("agent_version must be a version number (1 or more)")),
    }
}

/// What a resolve request asks: empty values are absent ones; a call id is checked as every
/// record's is.
struct Ask {
    channel: Option<String>,
    caller: Option<String>,
    call_id: Option<String>,
    agent_version: Option<u64>,
}

impl Ask {
    fn new(
        channel: Option<String>,
        caller: Option<String>,
        call_id: Option<String>,
        version: Option<u64>,
    ) -> Result<Ask, ApiError> {
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        let call_id = present(call_id);
        if let Some(id) = &call_id {
            crate::calls::limits::call_id(id, "call_id").map_err(|e| ApiError::bad_request(e.0))?;
        }
        let caller = present(caller);
        if let Some(c) = &caller {
            crate::calls::limits::short(c, "caller").map_err(|e| ApiError::bad_request(e.0))?;
        }
        Ok(Ask { channel: present(channel), caller, call_id, agent_version: version })
    }
}

async fn resolve_get(
    Extract(state): Extract<Shared>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Answer {
    let Query(pairs) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let q = super::params::Params::new(pairs, &["channel", "caller", "call_id", "agent_version"])?;
    let get = |k: &str| q.get(k).map(str::to_owned);
    let version = agent_version(get("agent_version").map(serde_json::Value::String).as_ref())?;
    resolve(&state, Ask::new(get("channel"), get("caller"), get("call_id"), version)?)
}

async fn resolve_post(Extract(state): Extract<Shared>, body: Result<Bytes, BytesRejection>) -> Answer {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ResolveBody {
        channel: Option<String>,
        caller: Option<String>,
        call_id: Option<String>,
        agent_version: Option<serde_json::Value>,
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(BODY_LIMIT),
        _ => ApiError::bad_request(e.body_text()),
    })?;
    let b: ResolveBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a resolve request: {e}")))?;
    let version = agent_version(b.agent_version.as_ref())?;
    resolve(&state, Ask::new(b.channel, b.caller, b.call_id, version)?)
}

fn resolve(state: &State, ask: Ask) -> Answer {
    // A guard, not an `Arc` clone: no reference count bounced between cores on the hot path.
    let guard = state.snapshot.load();
    let snapshot: &Snapshot = guard.as_deref().ok_or_else(ApiError::not_ready)?;
    let Ask { channel, caller, call_id, agent_version } = ask;
    let channel = channel.ok_or_else(|| {
        ApiError::bad_request("channel is required").hint("GET /v1/resolve?channel=%2B14155550100&caller=...")
    })?;
    let call = Call { caller: caller.as_deref(), call_id: call_id.as_deref(), agent_version };
    let resolution = snapshot.resolver.resolve(&channel, &call)?;
    let mut body = Vec::with_capacity(resolution.served.config_json().get().len() + 1024);
    serde_json::to_writer(&mut body, &resolution.answer(Some(&snapshot.revision)))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let counter = match agent_version {
        None => snapshot.counters.get(channel.as_str()).and_then(|c| c.get(resolution.target)).cloned(),
        Some(_) => Some(state.metrics.resolution_counter(&format!(
            "channel=\"{}\",agent=\"{}\",version=\"{}\",variant=\"\"",
            escape_label(&channel),
            resolution.served.agent,
            resolution.served.version.to_string().trim_start_matches('v'),
        ))),
    };
    if let Some(counter) = counter {
        counter.fetch_add(1, Relaxed);
    }
    if let (Some(id), Some(recorder)) = (call_id.as_deref(), &state.recorder) {
        recorder
            .record(Decision::new(&resolution, id, caller.as_deref(), &snapshot.revision, crate::calls::now()))
            .map_err(|_| not_recorded())?;
    }
    Ok(answer(snapshot, body))
}

async fn agents(Extract(state): Extract<Shared>) -> Answer {
    let snapshot = current(&state)?;
    Ok(answer(&snapshot, snapshot.agents_json.clone()))
}

async fn channels(Extract(state): Extract<Shared>) -> Answer {
    let snapshot = current(&state)?;
    Ok(answer(&snapshot, snapshot.channels_json.clone()))
}

fn agent_id(id: &str) -> Result<AgentId, ApiError> {
    AgentId::new(id).map_err(ApiError::bad_request)
}

async fn versions(Extract(state): Extract<Shared>, Path(id): Path<String>) -> Answer {
    let snapshot = current(&state)?;
    let agent = agent_id(&id)?;
    match snapshot.logs.get(&agent) {
        Some(log) => Ok(answer(&snapshot, log.clone())),
        None => Err(crate::Error::from(crate::error::WorkspaceError::UnknownAgent {
            agent: id,
            path: agent.draft_path(),
            suggestion: None,
        })
        .into()),
    }
}

async fn version(Extract(state): Extract<Shared>, Path((id, reference)): Path<(String, String)>) -> Answer {
    let snapshot = current(&state)?;
    let agent = agent_id(&id)?;
    let want = RefSpec::parse(&reference).map_err(ApiError::bad_request)?;
    let served = snapshot.resolver.configuration(&agent, want)?;
    let body = with_revision(&served.shown(), &snapshot.revision)?;
    Ok(answer(&snapshot, body))
}

async fn config(Extract(state): Extract<Shared>, Path(tree): Path<String>) -> Answer {
    let snapshot = current(&state)?;
    let id = ObjectId::from_hex(tree.as_bytes())
        .map_err(|_| ApiError::bad_request(format!("'{}' is not a tree id (40 hex digits)", tree.escape_debug())))?;
    match snapshot.config_by_tree(&id) {
        Some(body) => Ok(answer(&snapshot, body?)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_tree",
            format!("no version or draft served at {} holds tree {id}", snapshot.revision),
        )),
    }
}

/// `/healthz`: open to load balancers. Anyone sees the status and the kind of a problem; only a
/// client with the token (or any client when none is configured) sees the details, which can
/// hold values from a refused revision.
async fn healthz(Extract(state): Extract<Shared>, headers: axum::http::HeaderMap) -> Response {
    #[derive(Serialize)]
    struct Health<'a> {
        status: &'a str,
        revision: Option<&'a str>,
        loaded_at: Option<&'a str>,
        /// The problem's details (with the token), else its kind.
        error: Option<String>,
        error_kind: Option<&'a str>,
        /// Versions left out because they do not load: with the token, each tag and why.
        #[serde(skip_serializing_if = "Option::is_none")]
        left_out: Option<Vec<serde_json::Value>>,
        left_out_count: usize,
        /// The call store: connected, backlog, decisions the spool refused.
        #[serde(skip_serializing_if = "Option::is_none")]
        store: Option<crate::calls::writer::StoreHealth>,
        /// Channels that cannot serve (a pinned tree its tag no longer holds, a version not
        /// published yet): with the token, each and why; without it, how many.
        #[serde(skip_serializing_if = "Option::is_none")]
        unservable: Option<Vec<serde_json::Value>>,
        unservable_count: usize,
    }
    let store = state.calls.as_ref().map(|c| c.writer().health());
    let store_failing = store.is_some_and(|s| !s.connected || s.spool_refusing);
    let snapshot = state.snapshot.load_full();
    let (mut problem, rewound) = {
        let health = state.health.lock().expect("not poisoned");
        let rewound = health.rewound.as_ref().filter(|(_, until)| Instant::now() < *until).map(|(p, _)| p.clone());
        (health.error.clone(), rewound)
    };
    if problem.is_none() {
        problem = rewound;
    }
    if snapshot.is_none() && problem.is_none() {
        problem = Some(super::Problem { kind: "not_loaded", message: "no snapshot is loaded yet".into() });
    }
    let details = super::routes::authorized(&state, &headers);
    let unservable: Vec<serde_json::Value> = snapshot
        .as_deref()
        .map(|s| {
            s.listing
                .iter()
                .flat_map(|c| {
                    c.targets.iter().filter_map(move |t| {
                        Some(serde_json::json!({"channel": c.channel, "error": t.error.as_ref()?}))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let broken = snapshot.as_deref().map_or(&[][..], |s| s.broken.as_slice());
    let body = Health {
        status: if problem.is_none() && broken.is_empty() && !store_failing && unservable.is_empty() {
            "ok"
        } else {
            "degraded"
        },
        revision: snapshot.as_deref().map(|s| s.revision.as_str()),
        loaded_at: snapshot.as_deref().map(|s| s.loaded_at.as_str()),
        error: problem.as_ref().map(|p| if details { p.message.clone() } else { p.kind.to_owned() }),
        error_kind: problem.as_ref().map(|p| p.kind),
        left_out: details
            .then(|| broken.iter().map(|(tag, why)| serde_json::json!({"tag": tag, "error": why})).collect()),
        left_out_count: broken.len(),
        store,
        unservable_count: unservable.len(),
        unservable: details.then_some(unservable),
    };
    let status = if snapshot.is_some() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::to_vec(&body).unwrap_or_default())
        .into_response()
}

/// A decision the server could not record: the call is not answered as if it were.
pub fn not_recorded() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_recorded",
        "this call's decision could not be recorded (the spool's disk refused it)",
    )
    .hint("try again, or another replica: /readyz is 503 while this lasts")
}

async fn readyz(Extract(state): Extract<Shared>) -> Answer {
    if state.calls.as_ref().is_some_and(|c| c.writer().health().spool_refusing) {
        return Err(not_recorded());
    }
    let snapshot = current(&state)?;
    Ok(answer(&snapshot, with_revision(&serde_json::json!({ "ready": true }), &snapshot.revision)?))
}

async fn metrics(Extract(state): Extract<Shared>) -> Response {
    let snapshot = state.snapshot.load_full();
    let mut text = state.metrics.render(
        snapshot.as_deref().map(|s| s.revision.as_str()),
        snapshot.as_deref().map(|s| s.build_time.as_secs_f64()),
    );
    if let Some(calls) = &state.calls {
        let c = calls.writer().counters();
        let counters = [
            (
                "agentver_call_decisions_spooled_total",
                "Resolve decisions acknowledged (spooled before the answer).",
                &c.spooled,
            ),
            ("agentver_call_decisions_recorded_total", "Resolve decisions committed to the call store.", &c.committed),
            ("agentver_call_decisions_dropped_total", "Resolve decisions that could not be spooled.", &c.dropped),
            (
                "agentver_call_decisions_refused_total",
                "Resolve decisions refused: their call already held the most decisions a call keeps.",
                &c.refused,
            ),
            (
                "agentver_call_decisions_replayed_total",
                "Decisions replayed from the spool of a server that stopped.",
                &c.replayed,
            ),
            (
                "agentver_call_store_retries_total",
                "Decision batches the call store refused and that were retried.",
                &c.retries,
            ),
            (
                "agentver_call_report_warnings_total",
                "Reports kept without a field that could not be read.",
                &calls.warnings,
            ),
            (
                "agentver_call_invalid_attributions_total",
                "Reports whose echoed attribution named nothing served.",
                &calls.invalid,
            ),
        ];
        for (name, help, value) in counters {
            use std::fmt::Write as _;
            let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n", value.load(Relaxed));
        }
    }
    if let Some(s) = snapshot.as_deref() {
        use std::fmt::Write as _;
        let _ = write!(
            text,
            "# HELP agentver_versions_left_out Versions of the served revision that do not load.\n\
             # TYPE agentver_versions_left_out gauge\nagentver_versions_left_out {}\n",
            s.broken.len()
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
