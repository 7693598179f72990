//! Call records: which configuration served each call and how the call went, merged from the
//! events that report it (a resolve decision, a runtime's report, a platform's webhooks).
//!
//! Merging is a pure fold over every event known for a call, in an order fixed by the events
//! themselves (source rank, then content digest), so receiving events twice, late or out of order
//! always gives the same record, and no field once known is lost.

mod error;
pub mod platforms;
pub mod report;
pub mod stats;
pub mod store;

pub use error::CallsError;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Where an event came from.
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

    /// For attribution, agentver's own decision is the authority; for outcomes, the platform.
    fn rank(self) -> u8 {
        match self {
            Source::Agentver => 0,
            Source::Generic => 1,
            _ => 2,
        }
    }
}

/// One call record (DESIGN.md "Call records"); as an event, any field may be unknown (`None`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub resolved_at: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub success: Option<bool>,
    pub sentiment: Option<Sentiment>,
    pub ended_reason: Option<String>,
    pub cost: Option<f64>,
    pub summary: Option<String>,
    pub analysis: Option<Map<String, Value>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
    Unknown,
}

impl Sentiment {
    pub fn parse(s: &str) -> Option<Sentiment> {
        Some(match s.to_ascii_lowercase().as_str() {
            "positive" => Sentiment::Positive,
            "neutral" => Sentiment::Neutral,
            "negative" => Sentiment::Negative,
            "unknown" => Sentiment::Unknown,
            _ => return None,
        })
    }
}

/// One report about a call: a partial record and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub source: Source,
    pub record: Record,
}

impl Event {
    /// What identifies this event's content: the same report received twice is one event.
    pub fn digest(&self) -> String {
        let body = serde_json::to_vec(&self.record).expect("a record serialises");
        let mut hash = Sha256::new();
        hash.update(self.source.as_str().as_bytes());
        hash.update([0]);
        hash.update(&body);
        hex(&hash.finalize()[..16])
    }
}

fn take<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
    if from.is_some() {
        into.clone_from(from);
    }
}

/// The record `events` (all about one call) make together. Any order of the same events gives
/// the same record: they are sorted by a key of their own before the fold.
pub fn merge(call_id: &str, events: &[Event]) -> Record {
    let mut sorted: Vec<(&Event, String)> = events.iter().map(|e| (e, e.digest())).collect();
    // Within a source, by time of decision then content: the earliest decision for a call is the
    // one that stands (a call resolved twice keeps what first served it).
    sorted.sort_by(|(a, da), (b, db)| {
        let key = |e: &Event| (e.source.rank(), e.source, e.record.resolved_at.is_none());
        (key(a), &a.record.resolved_at, da).cmp(&(key(b), &b.record.resolved_at, db))
    });
    let mut r = Record { call_id: call_id.to_owned(), ..Record::default() };
    // Outcomes: later (higher-ranked) events win.
    for (e, _) in &sorted {
        let f = &e.record;
        take(&mut r.started_at, &f.started_at);
        take(&mut r.ended_at, &f.ended_at);
        take(&mut r.duration_ms, &f.duration_ms);
        take(&mut r.success, &f.success);
        take(&mut r.sentiment, &f.sentiment);
        take(&mut r.ended_reason, &f.ended_reason);
        take(&mut r.cost, &f.cost);
        take(&mut r.summary, &f.summary);
        if let Some(fields) = &f.analysis {
            let merged = r.analysis.get_or_insert_with(Map::new);
            for (k, v) in fields {
                merged.insert(k.clone(), v.clone());
            }
        }
        r.source = Some(e.source);
    }
    // Attribution: agentver's own decision wins over what a platform echoes back.
    for (e, _) in sorted.iter().rev() {
        let f = &e.record;
        take(&mut r.channel, &f.channel);
        take(&mut r.caller, &f.caller);
        take(&mut r.variant, &f.variant);
        take(&mut r.bucket, &f.bucket);
        take(&mut r.revision, &f.revision);
        take(&mut r.resolved_at, &f.resolved_at);
        // The served configuration travels as one: agent, version (null = draft) and tree.
        if f.agent.is_some() {
            r.agent.clone_from(&f.agent);
            r.version = f.version;
            take(&mut r.tree, &f.tree);
        }
    }
    if r.duration_ms.is_none()
        && let (Some(start), Some(end)) = (&r.started_at, &r.ended_at)
        && let (Ok(a), Ok(b)) = (start.parse::<jiff::Timestamp>(), end.parse::<jiff::Timestamp>())
    {
        r.duration_ms = u64::try_from(b.as_millisecond() - a.as_millisecond()).ok();
    }
    r
}

/// How caller numbers are kept: a keyed hash (HMAC-SHA256, so a number cannot be found by
/// hashing every number) unless the configuration says to keep them.
#[derive(Clone)]
pub enum Callers {
    Hash([u8; 32]),
    Keep,
}

impl Callers {
    pub fn apply(&self, number: &str) -> String {
        use hmac::Mac;
        match self {
            Callers::Keep => number.to_owned(),
            Callers::Hash(key) => {
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("any key length");
                mac.update(number.as_bytes());
                let bytes = mac.finalize().into_bytes();
                format!("h:{}", hex(&bytes[..16]))
            }
        }
    }
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
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Now, as records store times.
pub fn now() -> String {
    fmt_time(jiff::Timestamp::now())
}

/// `2026-11-30T04:30:00.000Z`: fixed width, so stored times sort as text.
pub fn fmt_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests;
