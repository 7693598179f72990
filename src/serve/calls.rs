//! The server's side of call records: decisions handed to the store's writer (spooled before the
//! resolve is answered), and the routes that read the store or feed it (`/v1/calls`,
//! `/v1/stats`, forgetting and pruning). The platforms' webhooks are in `hooks`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::State;
use super::error::ApiError;
use super::params::Params;
use super::record::{Decision, Recorder};
use super::snapshot::Snapshot;
use crate::calls::ingest::{self, Outcome};
use crate::calls::report::{self, StatsRequest};
use crate::calls::store::{Filter, Location, Store};
use crate::calls::writer::{Busy, Job, Writer};
use crate::calls::{Attribution, Privacy, Record, Source};
use crate::names::id::AgentId;
use crate::workspace::Version;

/// Request bodies of reports and webhooks: a 60-minute call's report with its transcript is over
/// a megabyte, and platforms do not all retry a refused one.
pub const REPORT_LIMIT: usize = 16 << 20;
/// Large bodies read at once; more wait (each may take a few times its size in memory).
const LARGE_BODIES: usize = 8;
/// After a snapshot is swapped in, the invalid attributions of calls this recent are checked
/// against it again: a replica that loads a version late does so within seconds or minutes, not
/// days, and a claim a day old that only now validates is no late replica's.
const RECHECK_WINDOW_S: i64 = 24 * 3600;
/// Calls checked per transaction (the writer's decisions wait behind each), and at most per
/// snapshot: the newest first, so a flood of invalid reports costs a swap a bounded time.
const RECHECK_BATCH: usize = 256;
const RECHECK_MAX: usize = 4096;

/// The call store behind the server.
pub struct Calls {
    writer: Writer,
    pub privacy: Privacy,
    /// Reports kept without a field they held that could not be read.
    pub warnings: AtomicU64,
    /// Reports whose echoed attribution was invalid.
    pub invalid: AtomicU64,
    large: tokio::sync::Semaphore,
}

impl Calls {
    /// Starts the store's threads and opens the spool; waits until the store is open.
    pub fn start(location: &Location, privacy: Privacy, spool: &std::path::Path) -> crate::Result<Arc<Calls>> {
        let writer = Writer::start(location, &privacy, spool)?;
        Ok(Arc::new(Calls {
            writer,
            privacy,
            warnings: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            large: tokio::sync::Semaphore::new(LARGE_BODIES),
        }))
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Commits what is spooled and stops the store's writer, waiting up to `within`.
    pub fn stop(&self, within: Duration) -> bool {
        self.writer.stop(within)
    }

    async fn run<T: Send + 'static>(
        &self,
        submit: impl FnOnce(Job) -> Result<(), Busy>,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        submit(Box::new(move |store| {
            let _ = tx.send(f(store));
        }))
        .map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_busy", "the call store is not keeping up; retry")
        })?;
        // A job dropped unrun: its thread could not reach the store (it reconnects on its own).
        rx.await.map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the call store cannot be reached; retry",
            )
        })
    }

    /// Runs `f` on the store's writer, ahead of any decisions waiting.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run(|job| self.writer.write(job), f).await
    }

    /// Runs `f` on one of the store's readers.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run(|job| self.writer.read(job), f).await
    }

    /// Stores one prepared report and answers with the call's record as it now stands.
    pub async fn store(&self, prepared: ingest::Prepared) -> Result<Option<Record>, ApiError> {
        if !prepared.event.record.warnings.is_empty() {
            self.warnings.fetch_add(1, Relaxed);
        }
        if prepared.event.record.attribution == Some(Attribution::Invalid) {
            self.invalid.fetch_add(1, Relaxed);
        }
        let events = vec![(prepared.event, prepared.raw)];
        let at = crate::calls::now();
        let mut merged = self.write(move |store| store.merge(&events, &at, true)).await??;
        if merged.refused > 0 {
            let max = crate::calls::limits::MAX_EVENTS_PER_SOURCE;
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "too_many_events",
                format!("the call already holds {max} reports from this source; this one was not kept"),
            )
            .hint("a real call sends a handful; check that each call reports under its own call id"));
        }
        Ok(merged.records.pop())
    }

    /// Checks the recent invalid attributions again against `snapshot`, just swapped in (see
    /// [`Store::recheck_invalid`]), a batch at a time on the writer; waits for them (it runs on
    /// the follower's thread, never a request's). Answers how many calls are attributed now.
    pub fn recheck(&self, snapshot: Arc<Snapshot>) -> usize {
        let since = jiff::Timestamp::now().as_second() - RECHECK_WINDOW_S;
        let Some(since) = jiff::Timestamp::from_second(since).ok().map(crate::calls::fmt_time) else { return 0 };
        let (mut after, mut checked, mut attributed) = (None, 0, 0);
        while checked < RECHECK_MAX {
            let (tx, rx) = std::sync::mpsc::channel();
            let (known, since, from) = (snapshot.clone(), since.clone(), after.take());
            let job: Job = Box::new(move |store| {
                let _ = tx.send(store.recheck_invalid(known.as_ref(), &since, from.as_ref(), RECHECK_BATCH));
            });
            if self.writer.write(job).is_err() {
                tracing::warn!(
                    "checking invalid attributions again: the call store is busy; left for the next snapshot"
                );
                break;
            }
            match rx.recv() {
                Ok(Ok(done)) => {
                    checked += done.checked;
                    attributed += done.attributed;
                    match done.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!("checking invalid attributions again: {e}");
                    break;
                }
                // The writer dropped the job: the store is unreachable.
                Err(_) => break,
            }
        }
        if attributed > 0 {
            tracing::info!(
                "{attributed} of {checked} calls with an invalid attribution named what {} serves: attributed now",
                snapshot.revision
            );
        }
        attributed
    }

    /// Reads a report's body (up to [`REPORT_LIMIT`]), a few large ones at a time.
    pub async fn body(&self, body: Body) -> Result<axum::body::Bytes, ApiError> {
        let _permit = self.large.acquire().await.map_err(|_| ApiError::not_ready())?;
        read_limited(body, REPORT_LIMIT).await
    }
}

/// A request body up to `limit` bytes: 413 beyond it, 400 when the connection breaks.
pub async fn read_limited(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(format!("reading the body: {e}"))
        }
    })
}

impl Recorder for Calls {
    fn record(&self, d: Decision) -> Result<(), super::record::NotRecorded> {
        let record = Record {
            call_id: d.call_id,
            source: Some(Source::Agentver),
            channel: Some(d.channel),
            caller: d.caller.map(|c| self.privacy.caller(&c)),
            agent: Some(d.agent),
            version: match d.version {
                Version::Number(n) => Some(n),
                Version::Draft => None,
            },
            tree: Some(d.tree),
            variant: d.variant,
            bucket: d.bucket.map(|b| b.value),
            revision: Some(d.revision),
            overridden: d.overridden,
            attribution: Some(if d.not_deployed.is_some() { Attribution::NotDeployed } else { Attribution::Decided }),
            attribution_reason: d.not_deployed,
            resolved_at: Some(d.resolved_at),
            ..Record::default()
        };
        if self.writer.record(&record) { Ok(()) } else { Err(super::record::NotRecorded) }
    }

    fn behind(&self) -> Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> {
        self.writer.behind().map(|pacer| Box::pin(pacer.wait()) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>)
    }
}

pub(super) fn calls_of(state: &State) -> Result<&Arc<Calls>, ApiError> {
    state.calls.as_ref().ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_store", "this server records no calls"))
}

pub(super) fn json_response(value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn snapshot(state: &State) -> Result<Arc<Snapshot>, ApiError> {
    state.snapshot.load_full().ok_or_else(ApiError::not_ready)
}

/// `POST /v1/calls`: merge a runtime's report; answers with the stored record.
pub async fn post(Extract(state): Extract<Arc<State>>, body: Body) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let snapshot = snapshot(&state)?;
    let body = calls.body(body).await?;
    let value = ingest::json(&body).map_err(|e| ApiError::bad_request(e.0))?;
    let prepared =
        match ingest::prepare(crate::platforms::parse, Source::Generic, value, &calls.privacy, snapshot.as_ref()) {
            Ok(Outcome::Report(p)) => *p,
            Ok(Outcome::Ignored(why)) => return Err(ApiError::bad_request(why)),
            Err(e) => return Err(ApiError::bad_request(e.0)),
        };
    Ok(json_response(&calls.store(prepared).await?))
}

const FILTERS: &[&str] = &["agent", "version", "variant", "channel", "since", "until", "success"];

fn filter(q: &Params) -> Result<Filter, ApiError> {
    let version = match q.get("version") {
        None => None,
        Some(v) => Some(
            report::version_filter(v)
                .ok_or_else(|| ApiError::bad_request(format!("version: '{}' is not a version", v.escape_debug())))?,
        ),
    };
    let time = |k: &str| {
        q.get(k).map(|t| report::parse_since(t).map_err(|e| ApiError::bad_request(e.to_string()))).transpose()
    };
    let number = |k: &str, max: u64| -> Result<Option<u64>, ApiError> {
        q.get(k)
            .map(|l| match l.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(ApiError::bad_request(format!("{k} must be a number from 0 to {max}"))),
            })
            .transpose()
    };
    Ok(Filter {
        agent: q.get("agent").map(str::to_owned),
        version,
        variant: q.get("variant").map(str::to_owned),
        channel: q.get("channel").map(str::to_owned),
        since: time("since")?,
        until: time("until")?,
        success: q
            .get("success")
            .map(|s| s.parse().map_err(|_| ApiError::bad_request("success must be true or false")))
            .transpose()?,
        limit: Some(number("limit", crate::calls::store::MAX_LIMIT)?.unwrap_or(100)),
        offset: number("offset", i64::MAX as u64)?,
    })
}

/// `GET /v1/calls?…`: as `agentver calls`.
pub async fn list(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let q = Params::new(q, &[FILTERS, &["limit", "offset"]].concat())?;
    let filter = filter(&q)?;
    let found = calls.read(move |store| store.list(&filter)).await??;
    Ok(json_response(&found))
}

/// `GET /v1/calls/{call_id}`: as `agentver replay`, the configuration taken from what the
/// server serves (a tree it does not serve is named, not read).
pub async fn replay(Extract(state): Extract<Arc<State>>, Path(call_id): Path<String>) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let snapshot = snapshot(&state)?;
    let answer = calls
        .read(move |store| {
            report::replay(store, &call_id, &|agent, tree| {
                snapshot.config_value(agent, tree).ok_or_else(|| {
                    super::ServeError::TreeNotServed { tree: tree.to_owned(), revision: snapshot.revision.clone() }
                        .into()
                })
            })
        })
        .await??;
    Ok(json_response(&answer))
}

/// `DELETE /v1/calls/{call_id}`: forget a call and every event about it (a deletion request).
pub async fn forget(Extract(state): Extract<Arc<State>>, Path(call_id): Path<String>) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let ids = vec![call_id.clone()];
    let at = crate::calls::now();
    let found = calls.write(move |store| store.forget(&ids, &at)).await??;
    if found == 0 {
        return Err(crate::Error::from(crate::calls::CallsError::UnknownCall { call_id }).into());
    }
    Ok(json_response(&json!({ "forgotten": [call_id] })))
}

/// `POST /v1/calls/prune` `{"before": T}`: erase calls that started before T (retention).
pub async fn prune(Extract(state): Extract<Arc<State>>, body: Body) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Prune {
        before: String,
    }
    let calls = calls_of(&state)?;
    let body =
        axum::body::to_bytes(body, super::BODY_LIMIT).await.map_err(|_| ApiError::too_large(super::BODY_LIMIT))?;
    let Prune { before } = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a prune request ({{\"before\": T}}): {e}")))?;
    let before = report::parse_since(&before).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let cutoff = before.clone();
    let pruned = calls.write(move |store| store.prune(&cutoff)).await??;
    Ok(json_response(&json!({ "pruned": pruned, "before": before })))
}

/// `GET /v1/stats/{agent}?…`: as `agentver stats`, against what the server serves.
pub async fn stats(
    Extract(state): Extract<Arc<State>>,
    Path(agent): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let snapshot = snapshot(&state)?;
    let q = Params::new(q, &[FILTERS, &["compare", "by"]].concat())?;
    let agent = AgentId::new(&agent).map_err(ApiError::bad_request)?;
    let compare = q.get("compare").map(report::parse_compare).transpose().map_err(ApiError::bad_request)?;
    let by_variant = report::parse_by(q.get("by")).map_err(ApiError::bad_request)?;
    let request = StatsRequest { filter: Filter { limit: None, ..filter(&q)? }, compare, by_variant };
    let report = calls
        .read(move |store| {
            let report = report::stats_report(store, snapshot.as_ref(), &agent, &request);
            super::memory::give_back(store);
            report
        })
        .await??;
    Ok(json_response(&report))
}
