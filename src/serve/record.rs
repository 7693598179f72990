//! The hand-off from `serve` to a call store: what one resolved call was served with.

use std::pin::Pin;

use serde::Serialize;

use crate::routing::resolve::{Bucket, Resolution};
use crate::workspace::Version;

/// One resolve decision for a call with an id, as the call store records it (idempotent on
/// `call_id`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub call_id: String,
    pub channel: String,
    /// The caller's number as the runtime sent it; the store decides how to keep it.
    pub caller: Option<String>,
    pub agent: String,
    pub version: Version,
    pub tree: String,
    pub variant: Option<String>,
    pub bucket: Option<Bucket>,
    pub revision: String,
    /// The runtime chose the version (`agent_version`): no variant, no split arm.
    pub overridden: bool,
    /// RFC 3339.
    pub resolved_at: String,
    /// Why the platform could not run what was decided (a version not deployed where running it
    /// needs a deploy); the decision is then recorded `not_deployed`.
    pub not_deployed: Option<String>,
}

impl Decision {
    pub fn new(resolution: &Resolution<'_>, call_id: &str, caller: Option<&str>, revision: &str, at: String) -> Self {
        Decision {
            call_id: call_id.to_owned(),
            channel: resolution.channel.to_owned(),
            caller: caller.map(str::to_owned),
            agent: resolution.served.agent.to_string(),
            version: resolution.served.version,
            tree: resolution.served.tree_hex().to_owned(),
            variant: resolution.variant.map(str::to_owned),
            bucket: resolution.bucket,
            revision: revision.to_owned(),
            overridden: resolution.overridden,
            resolved_at: at,
            not_deployed: None,
        }
    }
}

/// A decision the recorder could not make durable.
#[derive(Debug)]
pub struct NotRecorded;

/// Where `serve` hands decisions. `record` is called on the request path before the answer goes
/// out: an implementation makes the decision durable quickly (the call store spools it) and
/// returns; it never blocks on a slow store.
pub trait Recorder: Send + Sync {
    /// Makes the decision durable; `Err` when it could not (the spool's disk refused it): the
    /// call is then not answered as recorded (503), so no answered decision is ever dropped.
    fn record(&self, decision: Decision) -> Result<(), NotRecorded>;

    /// While the recorder is further behind than it allows, a wait for it to catch up, which
    /// the server holds answers that record decisions back for (bounded; `None` when not behind).
    fn behind(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
        None
    }
}
