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

pub fn router(state: Shared) -> Router {
    let v1 = Router::new()
        .route("/v1/resolve", get(resolve_get).post(resolve_post))
        .route("/v1/agents", get(agents))
        .route("/v1/agents/{id}/versions", get(versions))
        .route("/v1/agents/{id}/versions/{reference}", get(version))
        .route("/v1/configs/{tree}", get(config))
        .route("/v1/channels", get(channels))
        .route("/v1/calls", get(super::calls::list).post(super::calls::post))
        .route("/v1/calls/{call_id}", get(super::calls::replay))
        .route("/v1/stats/{agent}", get(super::calls::stats))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(v1)
        // Each platform's webhook checks the platform's own signature instead of the token.
        .route("/hooks/{platform}", axum::routing::post(super::calls::hook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
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
    state.metrics.observe(route, response.status().as_u16(), elapsed);
    tracing::info!(target: "agentver::http", "{method} {path} {} {}us", response.status().as_u16(), elapsed.as_micros());
    response
}

async fn fallback(Extract(state): Extract<Shared>, request: Request) -> Response {
    state.metrics.observe(route_index(None), 404, std::time::Duration::ZERO);
    tracing::info!(target: "agentver::http", "{} {} 404 0us", request.method(), request.uri().path());
    ApiError::new(StatusCode::NOT_FOUND, "no_route", format!("no route {}", request.uri().path()))
        .hint("the routes are listed in the README's \"Serving calls\"")
        .into_response()
}

/// With a token configured, `Authorization: Bearer <token>` or 401.
async fn require_token(Extract(state): Extract<Shared>, request: Request, next: Next) -> Response {
    if let Some(expected) = &state.token {
        use sha2::{Digest, Sha256};
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .map(|t| <[u8; 32]>::from(Sha256::digest(t)));
        if !sent.is_some_and(|sent| bool::from(sent.ct_eq(expected))) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(request).await
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

#[derive(Deserialize)]
struct ResolveQuery {
    channel: Option<String>,
    caller: Option<String>,
    call_id: Option<String>,
    agent_version: Option<String>,
}

/// A runtime's per-call version override: a number, or its digits as a string (metadata fields
/// are strings on every platform).
fn agent_version(value: Option<&serde_json::Value>) -> Result<Option<u64>, ApiError> {
    let n = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.strip_prefix('v').unwrap_or(s).parse().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n >= 1 => Ok(Some(n)),
        _ => Err(ApiError::bad_request("agent_version must be a version number (1 or more)")),
    }
}

async fn resolve_get(Extract(state): Extract<Shared>, query: Result<Query<ResolveQuery>, QueryRejection>) -> Answer {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let version = agent_version(q.agent_version.map(serde_json::Value::String).as_ref())?;
    resolve(&state, q.channel, q.caller, q.call_id, version)
}

async fn resolve_post(Extract(state): Extract<Shared>, body: Result<Bytes, BytesRejection>) -> Answer {
    #[derive(Deserialize)]
    struct ResolveBody {
        channel: Option<String>,
        caller: Option<String>,
        call_id: Option<String>,
        agent_version: Option<serde_json::Value>,
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
        _ => ApiError::bad_request(e.body_text()),
    })?;
    let b: ResolveBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a resolve request: {e}")))?;
    let version = agent_version(b.agent_version.as_ref())?;
    resolve(&state, b.channel, b.caller, b.call_id, version)
}

fn resolve(
    state: &State,
    channel: Option<String>,
    caller: Option<String>,
    call_id: Option<String>,
    agent_version: Option<u64>,
) -> Answer {
    // A guard, not an `Arc` clone: no reference count bounced between cores on the hot path.
    let guard = state.snapshot.load();
    let snapshot: &Snapshot = guard.as_deref().ok_or_else(ApiError::not_ready)?;
    let channel = channel.filter(|c| !c.is_empty()).ok_or_else(|| {
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
            "channel=\"{}\",agent=\"{}\",version=\"{}\",variant=\"{}\"",
            escape_label(&channel),
            resolution.served.agent,
            resolution.served.version.to_string().trim_start_matches('v'),
            escape_label(resolution.variant.unwrap_or_default()),
        ))),
    };
    if let Some(counter) = counter {
        counter.fetch_add(1, Relaxed);
    }
    if let (Some(id), Some(recorder)) = (call_id.as_deref(), &state.recorder) {
        recorder.record(Decision::new(&resolution, id, caller.as_deref(), &snapshot.revision, crate::calls::now()));
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

async fn healthz(Extract(state): Extract<Shared>) -> Response {
    #[derive(Serialize)]
    struct Health<'a> {
        status: &'a str,
        revision: Option<&'a str>,
        loaded_at: Option<&'a str>,
        error: Option<String>,
    }
    let snapshot = state.snapshot.load_full();
    let mut error = state.health.lock().expect("not poisoned").error.clone();
    if snapshot.is_none() && error.is_none() {
        error = Some("no snapshot is loaded yet".into());
    }
    let body = Health {
        status: if error.is_none() { "ok" } else { "degraded" },
        revision: snapshot.as_deref().map(|s| s.revision.as_str()),
        loaded_at: snapshot.as_deref().map(|s| s.loaded_at.as_str()),
        error,
    };
    let status = if snapshot.is_some() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::to_vec(&body).unwrap_or_default())
        .into_response()
}

async fn readyz(Extract(state): Extract<Shared>) -> Answer {
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
        use std::fmt::Write as _;
        let _ = write!(
            text,
            "# HELP agentver_call_decisions_recorded_total Resolve decisions handed to the call store.\n\
             # TYPE agentver_call_decisions_recorded_total counter\nagentver_call_decisions_recorded_total {}\n\
             # HELP agentver_call_decisions_dropped_total Decisions dropped because the store's queue was full.\n\
             # TYPE agentver_call_decisions_dropped_total counter\nagentver_call_decisions_dropped_total {}\n",
            calls.recorded.load(Relaxed),
            calls.dropped.load(Relaxed)
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
