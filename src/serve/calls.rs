//! The server's side of call records: the store on its own thread (SQLite and PostgreSQL clients
//! are synchronous), resolve decisions queued to it without waiting, and the routes that read it
//! or feed it (`/v1/calls`, `/v1/stats`, the platforms' webhooks).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;
use super::error::ApiError;
use super::record::{Decision, Recorder};
use crate::calls::platforms::{self, Parsed};
use crate::calls::report::{self, StatsRequest};
use crate::calls::store::{Filter, Location, Store};
use crate::calls::{Callers, Event, Record, Source};
use crate::names::id::AgentId;
use crate::workspace::{Version, Workspace};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// Decisions waiting for the store beyond this are dropped (and counted), never blocking a call.
const QUEUE: usize = 65_536;

/// The platforms' webhook secrets (from the environment).
#[derive(Clone, Debug, Default)]
pub struct HookSecrets {
    pub vapi: Option<String>,
    pub retell: Option<String>,
    pub elevenlabs: Option<String>,
}

impl HookSecrets {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        HookSecrets {
            vapi: var("AGENTVER_VAPI_SECRET"),
            retell: var("AGENTVER_RETELL_API_KEY"),
            elevenlabs: var("AGENTVER_ELEVENLABS_WEBHOOK_SECRET"),
        }
    }
}

/// The call store behind the server.
pub struct Calls {
    jobs: mpsc::SyncSender<Job>,
    callers: Callers,
    root: PathBuf,
    pub hooks: HookSecrets,
    pub recorded: AtomicU64,
    pub dropped: AtomicU64,
}

impl Calls {
    /// Starts the store's thread, which opens (creating and migrating) the store; waits for that.
    /// The PostgreSQL client runs its own small runtime, so it must live off the server's.
    pub fn start(
        location: &Location,
        callers: Callers,
        root: PathBuf,
        hooks: HookSecrets,
    ) -> crate::Result<Arc<Calls>> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
        let (opened, ready) = mpsc::channel();
        let location = location.clone();
        std::thread::Builder::new()
            .name("agentver-calls".into())
            .spawn(move || match Store::open(&location) {
                Ok(mut store) => {
                    let _ = opened.send(Ok(()));
                    for job in queue {
                        job(&mut store);
                    }
                }
                Err(e) => {
                    let _ = opened.send(Err(e));
                }
            })
            .map_err(|e| crate::Error::io("starting the call store's thread", e))?;
        ready.recv().map_err(|_| crate::Error::Internal { what: "the call store's thread stopped".into() })??;
        Ok(Arc::new(Calls { jobs, callers, root, hooks, recorded: AtomicU64::new(0), dropped: AtomicU64::new(0) }))
    }

    /// Runs `f` on the store's thread and waits for its answer.
    async fn with<T: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = tx.send(f(store));
        });
        self.jobs.try_send(job).map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_busy", "the call store is not keeping up; retry")
        })?;
        rx.await.map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the call store stopped"))
    }

    /// Merges events, answering with the stored records.
    async fn merge(&self, events: Vec<(Event, Option<String>)>) -> Result<Vec<Record>, ApiError> {
        let at = crate::calls::now();
        Ok(self.with(move |store| store.merge(&events, &at)).await??)
    }
}

impl Recorder for Calls {
    fn record(&self, d: Decision) {
        let record = Record {
            call_id: d.call_id,
            channel: Some(d.channel),
            caller: d.caller.map(|c| self.callers.apply(&c)),
            agent: Some(d.agent),
            version: match d.version {
                Version::Number(n) => Some(n),
                Version::Draft => None,
            },
            tree: Some(d.tree),
            variant: d.variant,
            bucket: d.bucket.map(|b| b.value),
            revision: Some(d.revision),
            resolved_at: Some(d.resolved_at),
            ..Record::default()
        };
        let event = Event { source: Source::Agentver, record };
        let at = crate::calls::now();
        let job: Job = Box::new(move |store| {
            if let Err(e) = store.merge(&[(event, None)], &at) {
                tracing::warn!("recording a resolve decision: {e}");
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => {
                self.recorded.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.dropped.fetch_add(1, Relaxed);
                tracing::warn!("the call store's queue is full: a resolve decision was not recorded");
            }
        }
    }
}

fn calls_of(state: &State) -> Result<&Arc<Calls>, ApiError> {
    state.calls.as_ref().ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_store", "this server records no calls"))
}

fn json_response(value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
        _ => ApiError::bad_request(e.body_text()),
    })
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))
}

/// `POST /v1/calls`: merge a record; answers with the stored record.
pub async fn post(
    Extract(state): Extract<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let body = body_of(body)?;
    let value = parse_json(&body)?;
    let event = match platforms::generic(&value, &calls.callers).map_err(|e| ApiError::bad_request(e.0))? {
        Parsed::Event(e) => *e,
        Parsed::Ignored(why) => return Err(ApiError::bad_request(why)),
    };
    let mut stored = calls.merge(vec![(event, Some(String::from_utf8_lossy(&body).into_owned()))]).await?;
    Ok(json_response(&stored.pop()))
}

fn filter(q: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let version = match get("version").as_deref() {
        None => None,
        Some("draft") => Some(None),
        Some(v) => Some(Some(
            v.trim_start_matches('v')
                .parse()
                .map_err(|_| ApiError::bad_request(format!("version: '{v}' is not a version")))?,
        )),
    };
    let time =
        |k: &str| get(k).map(|t| report::parse_since(&t).map_err(|e| ApiError::bad_request(e.to_string()))).transpose();
    Ok(Filter {
        agent: get("agent"),
        version,
        variant: get("variant"),
        channel: get("channel"),
        since: time("since")?,
        until: time("until")?,
        success: get("success")
            .map(|s| s.parse().map_err(|_| ApiError::bad_request("success must be true or false")))
            .transpose()?,
        limit: Some(
            get("limit")
                .map(|l| l.parse().map_err(|_| ApiError::bad_request("limit must be a number")))
                .transpose()?
                .unwrap_or(100),
        ),
    })
}

/// `GET /v1/calls?…`: as `agentver calls`.
pub async fn list(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let filter = filter(&q)?;
    let found = calls.with(move |store| store.list(&filter)).await??;
    Ok(json_response(&found))
}

/// `GET /v1/calls/{call_id}`: as `agentver replay`.
pub async fn replay(Extract(state): Extract<Arc<State>>, Path(call_id): Path<String>) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let root = calls.root.clone();
    let answer = calls
        .with(move |store| -> crate::Result<report::Replay> {
            let ws = Workspace::discover(&root)?.without_cache_writes();
            report::replay(&ws, store, &call_id)
        })
        .await?;
    Ok(json_response(&answer?))
}

/// `GET /v1/stats/{agent}?…`: as `agentver stats`.
pub async fn stats(
    Extract(state): Extract<Arc<State>>,
    Path(agent): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let agent = AgentId::new(&agent).map_err(ApiError::bad_request)?;
    let compare = match q.get("compare") {
        None => None,
        Some(pair) => {
            let parse = |v: &str| v.trim().trim_start_matches('v').parse::<u64>().ok();
            match pair.split_once(',').map(|(a, b)| (parse(a), parse(b))) {
                Some((Some(a), Some(b))) => Some((a, b)),
                _ => return Err(ApiError::bad_request("compare must be two versions: compare=v2,v3")),
            }
        }
    };
    let request = StatsRequest {
        filter: Filter { limit: None, ..filter(&q)? },
        compare,
        by_variant: q.get("by").is_some_and(|b| b == "variant"),
    };
    let root = calls.root.clone();
    let report = calls
        .with(move |store| {
            let ws = Workspace::discover(&root)?.without_cache_writes();
            report::stats_report(&ws, store, &agent, &request)
        })
        .await??;
    Ok(json_response(&report))
}

fn not_configured(platform: &str, var: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_configured", format!("the {platform} webhook is not configured"))
        .hint(format!("set {var} for serve"))
}

fn unauthorized(e: platforms::BadSignature) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.0)
}

/// `POST /hooks/{platform}`: a platform's end-of-call webhook, its signature checked first.
pub async fn hook(
    Extract(state): Extract<Arc<State>>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let body = body_of(body)?;
    let now = jiff::Timestamp::now();
    let source = match platform.as_str() {
        "vapi" => {
            let secret = calls.hooks.vapi.as_deref().ok_or_else(|| not_configured("Vapi", "AGENTVER_VAPI_SECRET"))?;
            let bearer = header("authorization").and_then(|a| a.strip_prefix("Bearer "));
            platforms::verify_vapi(secret, bearer, header("x-vapi-secret")).map_err(unauthorized)?;
            Source::Vapi
        }
        "retell" => {
            let key =
                calls.hooks.retell.as_deref().ok_or_else(|| not_configured("Retell", "AGENTVER_RETELL_API_KEY"))?;
            platforms::verify_retell(key, header("x-retell-signature"), &body, now.as_millisecond())
                .map_err(unauthorized)?;
            Source::Retell
        }
        "elevenlabs" => {
            let secret = calls
                .hooks
                .elevenlabs
                .as_deref()
                .ok_or_else(|| not_configured("ElevenLabs", "AGENTVER_ELEVENLABS_WEBHOOK_SECRET"))?;
            platforms::verify_elevenlabs(secret, header("elevenlabs-signature"), &body, now.as_second())
                .map_err(unauthorized)?;
            Source::Elevenlabs
        }
        other => return Err(ApiError::new(StatusCode::NOT_FOUND, "no_route", format!("no webhook for '{other}'"))),
    };
    let value = parse_json(&body)?;
    match platforms::parse(source, &value, &calls.callers).map_err(|e| ApiError::bad_request(e.0))? {
        Parsed::Ignored(why) => Ok(json_response(&json!({ "ignored": why }))),
        Parsed::Event(event) => {
            let mut stored = calls.merge(vec![(*event, Some(String::from_utf8_lossy(&body).into_owned()))]).await?;
            Ok(json_response(&json!({ "call": stored.pop() })))
        }
    }
}
