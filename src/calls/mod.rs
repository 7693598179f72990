//! Call records: which configuration served each call and how the call went, merged from the
//! events that report it (a resolve decision, a runtime's report, a platform's webhooks).
//!
//! Merging is a pure fold over every event known for a call. Outcome fields are taken from the
//! latest event that has them, ordered by the platform's own event time (the time agentver
//! received it when the platform gives none), then by arrival; attribution is fixed by agentver's
//! own first decision, else by the first valid echo. The same stored events always give the same
//! record, in whatever order they arrived or are read back.

pub mod attribution;
mod error;
pub mod ingest;
pub mod limits;
pub mod privacy;
pub mod read;
pub mod report;
pub mod sketch;
pub mod spool;
pub mod stats;
pub mod store;
pub mod writer;

pub use error::CallsError;
pub use privacy::{Callers, Privacy};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Where an event came from: decided by the route it arrived on, never by its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Agentver,
    Generic,
    Vapi,
    Retell,
    Elevenlabs,
}

impl Source {
    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "agentver" => Source::Agentver,
            "generic" => Source::Generic,
            "vapi" => Source::Vapi,
            "retell" => Source::Retell,
            "elevenlabs" => Source::Elevenlabs,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Agentver => "agentver",
            Source::Generic => "generic",
            Source::Vapi => "vapi",
            Source::Retell => "retell",
            Source::Elevenlabs => "elevenlabs",
        }
    }
}

/// How a record came to name the configuration that served it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Attribution {
    /// agentver's own resolve decision (`/v1/resolve` with a call id, or a call-start hook).
    Decided,
    /// Echoed back by the platform or the runtime, and checked against the served snapshot.
    Echoed,
    /// Echoed back but naming something that never served (kept, counted apart, never an arm).
    Invalid,
    /// Decided, but the platform could not run it: the version is not deployed where running it
    /// needs a deploy (Retell), so the call ran the number's own agent (counted apart, never an
    /// arm; the reason names what was decided).
    #[serde(rename = "not_deployed")]
    NotDeployed,
}

impl Attribution {
    pub fn as_str(self) -> &'static str {
        match self {
            Attribution::Decided => "decided",
            Attribution::Echoed => "echoed",
            Attribution::Invalid => "invalid",
            Attribution::NotDeployed => "not_deployed",
        }
    }

    pub fn parse(s: &str) -> Option<Attribution> {
        Some(match s {
            "decided" => Attribution::Decided,
            "echoed" => Attribution::Echoed,
            "invalid" => Attribution::Invalid,
            "not_deployed" => Attribution::NotDeployed,
            _ => return None,
        })
    }
}

/// What a cost is counted in: platforms bill in money or in their own credits, which are never
/// averaged together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostUnit {
    Usd,
    Credits,
}

impl CostUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            CostUnit::Usd => "usd",
            CostUnit::Credits => "credits",
        }
    }

    pub fn parse(s: &str) -> Option<CostUnit> {
        Some(match s {
            "usd" => CostUnit::Usd,
            "credits" => CostUnit::Credits,
            _ => return None,
        })
    }
}

/// One call record (DESIGN.md "Call records"); as an event, any field may be unknown (`None`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub call_id: String,
    pub source: Option<Source>,
    pub channel: Option<String>,
    /// A keyed hash of the caller's number unless numbers are kept.
    pub caller: Option<String>,
    pub agent: Option<String>,
    /// The version number; `None` for the draft (with `agent` and `tree` set) or when unknown.
    pub version: Option<u64>,
    pub tree: Option<String>,
    pub variant: Option<String>,
    pub bucket: Option<u64>,
    pub revision: Option<String>,
    /// The runtime chose the version (`agent_version`): no variant, no split arm.
    #[serde(rename = "override", default)]
    pub overridden: bool,
    #[serde(default)]
    pub attribution: Option<Attribution>,
    /// Why an echoed attribution is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution_reason: Option<String>,
    pub resolved_at: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub success: Option<bool>,
    pub sentiment: Option<Sentiment>,
    pub ended_reason: Option<String>,
    pub cost: Option<f64>,
    #[serde(default)]
    pub cost_unit: Option<CostUnit>,
    pub summary: Option<String>,
    pub analysis: Option<Map<String, Value>>,
    /// Fields of a report that were left out because they could not be read (the report itself
    /// was kept, and its raw body holds them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
    Mixed,
    Unknown,
}

impl Sentiment {
    pub fn parse(s: &str) -> Option<Sentiment> {
        Some(match s.to_ascii_lowercase().as_str() {
            "positive" => Sentiment::Positive,
            "neutral" => Sentiment::Neutral,
            "negative" => Sentiment::Negative,
            "mixed" => Sentiment::Mixed,
            "unknown" => Sentiment::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
            Sentiment::Mixed => "mixed",
            Sentiment::Unknown => "unknown",
        }
    }
}

/// One report about a call: a partial record, where it came from, and when the platform says it
/// happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub source: Source,
    /// The platform's own time of the event (normalised RFC 3339), when it gives one.
    pub at: Option<String>,
    pub record: Record,
}

impl Event {
    pub fn new(source: Source, record: Record) -> Event {
        Event { source, at: None, record }
    }

    /// What identifies this event's content: the same report received twice is one event.
    pub fn digest(&self) -> String {
        self.stored_form().0
    }

    /// The digest and the record's JSON, as the store keeps them (serialised once for both).
    pub fn stored_form(&self) -> (String, String) {
        let body = serde_json::to_string(&self.record).expect("a record serialises");
        (self.digest_of(&body), body)
    }

    /// The digest, given the record's JSON: `body` must be what [`Event::stored_form`] would
    /// serialise (a decision read back from the spool this build wrote is, and is not serialised
    /// a second time).
    pub fn digest_of(&self, body: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(self.source.as_str().as_bytes());
        hash.update([0]);
        hash.update(body.as_bytes());
        hex(&hash.finalize()[..16])
    }
}

/// An event as the store keeps it: with when it arrived and its place in the arrival order.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub event: Event,
    pub received_at: String,
    pub seq: i64,
}

impl Stored {
    /// The event's place in time: the platform's time, else arrival; ties by arrival order.
    fn order(&self) -> (&str, i64) {
        (self.event.at.as_deref().unwrap_or(&self.received_at), self.seq)
    }
}

fn take<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
    if from.is_some() {
        into.clone_from(from);
    }
}

/// The record `events` (all about one call) make together: a function of the events and their
/// arrival, whatever order the slice holds them in.
pub fn merge(call_id: &str, events: &[Stored]) -> Record {
    let mut sorted: Vec<&Stored> = events.iter().collect();
    sorted.sort_by(|a, b| a.order().cmp(&b.order()));
    let mut r = Record { call_id: call_id.to_owned(), ..Record::default() };
    merge_outcomes(&mut r, &sorted);
    merge_attribution(&mut r, &sorted);
    if r.duration_ms.is_none()
        && let (Some(start), Some(end)) = (&r.started_at, &r.ended_at)
        && let (Ok(a), Ok(b)) = (start.parse::<jiff::Timestamp>(), end.parse::<jiff::Timestamp>())
    {
        r.duration_ms = b.as_millisecond().checked_sub(a.as_millisecond()).and_then(|d| u64::try_from(d).ok());
    }
    r
}

/// Outcomes: each field from the latest event that has it.
fn merge_outcomes(r: &mut Record, sorted: &[&Stored]) {
    for stored in sorted {
        let f = &stored.event.record;
        take(&mut r.started_at, &f.started_at);
        take(&mut r.ended_at, &f.ended_at);
        take(&mut r.duration_ms, &f.duration_ms);
        take(&mut r.success, &f.success);
        take(&mut r.sentiment, &f.sentiment);
        take(&mut r.ended_reason, &f.ended_reason);
        if f.cost.is_some() {
            r.cost = f.cost;
            r.cost_unit = f.cost_unit.or(Some(CostUnit::Usd));
        }
        take(&mut r.summary, &f.summary);
        take(&mut r.caller, &f.caller);
        take(&mut r.channel, &f.channel);
        if let Some(fields) = &f.analysis {
            let merged = r.analysis.get_or_insert_with(Map::new);
            for (k, v) in fields {
                merged.insert(k.clone(), v.clone());
            }
        }
        for w in &f.warnings {
            if !r.warnings.contains(w) && r.warnings.len() < limits::MAX_WARNINGS {
                r.warnings.push(w.clone());
            }
        }
        if stored.event.source != Source::Agentver || r.source.is_none() {
            r.source = Some(stored.event.source);
        }
    }
}

/// Attribution: agentver's first decision (by time of decision) fixes what served the call;
/// without one, the first valid echo does; without that, the first invalid one says why.
fn merge_attribution(r: &mut Record, sorted: &[&Stored]) {
    let mut decisions: Vec<&Stored> = sorted.iter().copied().filter(|s| s.event.source == Source::Agentver).collect();
    decisions.sort_by(|a, b| (&a.event.record.resolved_at, a.seq).cmp(&(&b.event.record.resolved_at, b.seq)));
    if let Some(decision) = decisions.first() {
        let d = &decision.event.record;
        take(&mut r.channel, &d.channel);
        take(&mut r.caller, &d.caller);
        r.resolved_at.clone_from(&d.resolved_at);
        if d.attribution == Some(Attribution::NotDeployed) {
            // What was decided never ran: the record names no configuration (the decision's
            // event keeps it, and the reason says it).
            r.attribution = Some(Attribution::NotDeployed);
            r.attribution_reason.clone_from(&d.attribution_reason);
            return;
        }
        attribute_from(r, d);
        r.bucket = d.bucket;
        r.overridden = d.overridden;
        r.attribution = Some(Attribution::Decided);
        return;
    }
    let echoed = |state| sorted.iter().find(|s| s.event.record.attribution == Some(state));
    if let Some(echo) = echoed(Attribution::Echoed) {
        let e = &echo.event.record;
        attribute_from(r, e);
        take(&mut r.channel, &e.channel);
        r.attribution = Some(Attribution::Echoed);
    } else if let Some(other) = echoed(Attribution::NotDeployed).or_else(|| echoed(Attribution::Invalid)) {
        r.attribution = other.event.record.attribution;
        r.attribution_reason.clone_from(&other.event.record.attribution_reason);
    }
}

/// The served configuration travels as one: agent, version (null = draft), tree, variant and
/// the revision that served it.
fn attribute_from(r: &mut Record, from: &Record) {
    r.agent.clone_from(&from.agent);
    r.version = from.version;
    r.tree.clone_from(&from.tree);
    r.variant.clone_from(&from.variant);
    r.revision.clone_from(&from.revision);
}

/// Normalises an RFC 3339 time (any offset) to UTC with milliseconds, so text order is time order.
pub fn normal_time(text: &str) -> Option<String> {
    Some(fmt_time(text.parse().ok()?))
}

/// A time from Unix milliseconds.
pub fn time_from_millis(ms: i64) -> Option<String> {
    Some(fmt_time(jiff::Timestamp::from_millisecond(ms).ok()?))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms_u64() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Now, as records store times.
pub fn now() -> String {
    fmt_time(jiff::Timestamp::now())
}

/// `2026-11-30T04:30:00.000Z`: fixed width, so stored times sort as text.
pub fn fmt_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
