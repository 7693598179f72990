//! Reading call reports, the same for every source: the lenient reader a platform's payload
//! goes through, agentver's own strict report format (`POST /v1/calls`, `--source generic`), and
//! the pieces the platforms' signature checks share. Each platform's own payloads are read in
//! its folder under `src/platforms/`, which passes its parser in as a [`Parse`].
//!
//! A platform's payload is read leniently: only a missing call id refuses it; an optional field
//! of an odd type or out of range is left out with a warning (the raw body keeps it). agentver's
//! own format is read strictly: a wrong field is a 400 naming it.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::attribution::Claim;
use super::{CostUnit, Event, Privacy, Record, Sentiment, Source, limits, normal_time, time_from_millis};

/// Why a payload is not a call report (the HTTP answer is 400, and nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPayload(pub String);

pub fn bad(message: impl Into<String>) -> BadPayload {
    BadPayload(message.into())
}

/// A source's parser: one body into an event, or the reason it carries none.
pub type Parse = fn(Source, &Value, &Privacy) -> Result<Parsed, BadPayload>;

/// A payload's outcome: an event to merge, or a message type that carries no call outcome
/// (acknowledged and dropped, as platforms send many kinds to one URL).
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Event(Box<Event>),
    Ignored(String),
}

pub type Obj = Map<String, Value>;

pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k)).filter(|v| !v.is_null())
}

/// Reads a platform's payload field by field; what cannot be read becomes a warning.
#[derive(Default)]
pub struct Lenient {
    warnings: Vec<String>,
}

impl Lenient {
    pub fn warn(&mut self, message: String) {
        if self.warnings.len() < limits::MAX_WARNINGS {
            self.warnings.push(message);
        }
    }

    pub fn string(&mut self, v: &Value, path: &[&str]) -> Option<String> {
        match at(v, path)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.warn(format!("{} is not a string", path.join(".")));
                None
            }
        }
    }

    pub fn number(&mut self, v: &Value, path: &[&str]) -> Option<f64> {
        match at(v, path)? {
            Value::Number(n) => limits::finite(n).or_else(|| {
                self.warn(format!("{} is out of range", path.join(".")));
                None
            }),
            _ => {
                self.warn(format!("{} is not a number", path.join(".")));
                None
            }
        }
    }

    pub fn object(&mut self, v: &Value, path: &[&str]) -> Option<Obj> {
        match at(v, path)? {
            Value::Object(o) => Some(o.clone()),
            _ => {
                self.warn(format!("{} is not an object", path.join(".")));
                None
            }
        }
    }

    /// An RFC 3339 time, or Unix milliseconds.
    pub fn time(&mut self, v: &Value, path: &[&str]) -> Option<String> {
        let found = match at(v, path)? {
            Value::String(s) => normal_time(s),
            Value::Number(n) => limits::finite(n).and_then(|ms| time_from_millis(ms as i64)),
            _ => None,
        };
        if found.is_none() {
            self.warn(format!("{} is not a time", path.join(".")));
        }
        found
    }

    /// Unix seconds as a time.
    pub fn seconds_time(&mut self, secs: Option<f64>, path: &str) -> Option<String> {
        let secs = secs?;
        let found = (secs.abs() < 1e11).then(|| time_from_millis((secs * 1000.0) as i64)).flatten();
        if found.is_none() {
            self.warn(format!("{path} is not a time"));
        }
        found
    }

    pub fn duration(&mut self, ms: Option<f64>, path: &str) -> Option<u64> {
        limits::duration_ms(ms?, path).map_err(|e| self.warn(e.0)).ok()
    }

    pub fn cost(&mut self, value: Option<f64>, path: &str) -> Option<f64> {
        limits::cost(value?, path).map_err(|e| self.warn(e.0)).ok()
    }

    pub fn short(&mut self, value: Option<String>, path: &str) -> Option<String> {
        let value = value?;
        limits::short(&value, path).map_err(|e| self.warn(e.0)).ok()?;
        Some(value)
    }

    /// Finishes a platform's record: limits applied, numbers hashed, the warnings attached.
    pub fn finish(mut self, source: Source, at: Option<String>, mut r: Record, privacy: &Privacy) -> Parsed {
        if let Some(summary) = r.summary.take() {
            let (kept, cut) = limits::summary(&summary);
            if cut {
                self.warn(format!("the summary was cut to {} bytes", limits::MAX_SUMMARY));
            }
            r.summary = Some(privacy.scrub_text(&kept).into_owned());
        }
        if let Some(fields) = r.analysis.take() {
            let (mut kept, dropped) = limits::analysis(fields);
            for e in dropped {
                self.warn(e.0);
            }
            for value in kept.values_mut() {
                privacy.scrub(value);
            }
            r.analysis = (!kept.is_empty()).then_some(kept);
        }
        r.warnings = self.warnings;
        Parsed::Event(Box::new(Event { source, at, record: r }))
    }
}

/// `true`/`false` and the words platforms use for them; anything else is not a verdict.
pub fn verdict(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "pass" | "passed" | "success" | "successful" | "yes" => Some(true),
            "false" | "fail" | "failed" | "failure" | "unsuccessful" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

pub fn call_id(id: Option<&Value>, path: &str) -> Result<String, BadPayload> {
    match id {
        Some(Value::String(id)) => {
            limits::call_id(id, path).map_err(|e| bad(e.0))?;
            Ok(id.clone())
        }
        Some(_) => Err(bad(format!("{path} must be a string"))),
        None => Err(bad(format!("{path} is missing: a call report needs the call's id"))),
    }
}

pub fn claim_into(r: &mut Record, bags: &[Option<&Value>]) {
    if let Some(claim) = Claim::find(bags) {
        Claim::apply(claim, r);
    }
}

/// agentver's own report format (`POST /v1/calls`, `calls import --source generic`): the outcome
/// fields of DESIGN.md's record, and optionally the attribution a runtime was given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    call_id: Value,
    source: Option<String>,
    channel: Option<String>,
    caller: Option<String>,
    agent: Option<String>,
    version: Option<Value>,
    tree: Option<String>,
    variant: Option<String>,
    revision: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    duration_ms: Option<serde_json::Number>,
    success: Option<bool>,
    sentiment: Option<String>,
    ended_reason: Option<String>,
    cost: Option<serde_json::Number>,
    cost_unit: Option<String>,
    summary: Option<String>,
    analysis: Option<Obj>,
}

/// The fields only agentver's own decision records: a report naming them is refused.
const DECIDED: &[&str] = &["bucket", "resolved_at", "override", "attribution", "attribution_reason", "warnings"];

/// A record in agentver's own field names, read strictly.
pub fn generic(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    let object = body.as_object().ok_or_else(|| bad("the body is not a JSON object"))?;
    if let Some(key) = DECIDED.iter().find(|k| object.contains_key(**k)) {
        return Err(bad(format!("{key} is recorded by agentver's own resolve decision, not by a report")));
    }
    let mut report = Report::deserialize(body).map_err(|e| bad(format!("not a call record: {e}")))?;
    if let Some(s) = report.source.as_deref().filter(|s| *s != "generic") {
        return Err(bad(format!(
            "source '{}': the source is decided by where a report arrives, and this is a generic report",
            limits::truncate(s, 40).0.escape_debug()
        )));
    }
    let mut r = Record { call_id: call_id(Some(&report.call_id), "call_id")?, ..Record::default() };
    report_outcomes(&mut r, &mut report, privacy)?;
    r.channel = report.channel;
    r.caller = report.caller.filter(|c| !c.is_empty()).map(|c| privacy.caller(&c));
    r.ended_reason = report.ended_reason;
    if let Some(agent) = report.agent {
        let version = match report.version {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) if s == "draft" => None,
            Some(_) => return Err(bad("version must be a version number, \"draft\" or null")),
        };
        let claim = Claim {
            agent,
            version,
            tree: report.tree,
            channel: r.channel.clone(),
            variant: report.variant,
            revision: report.revision,
            not_deployed: false,
        };
        Claim::apply(Ok(claim), &mut r);
    } else if report.version.is_some() || report.tree.is_some() || report.variant.is_some() {
        return Err(bad("version, tree and variant need the agent they belong to"));
    }
    Ok(Parsed::Event(Box::new(Event::new(Source::Generic, r))))
}

/// The outcome fields of agentver's own format, each checked (a wrong one refuses the report).
fn report_outcomes(r: &mut Record, report: &mut Report, privacy: &Privacy) -> Result<(), BadPayload> {
    let time = |t: Option<String>, field: &str| -> Result<Option<String>, BadPayload> {
        t.map(|t| {
            normal_time(&t).ok_or_else(|| bad(format!("{field}: '{}' is not an RFC 3339 time", t.escape_debug())))
        })
        .transpose()
    };
    r.started_at = time(report.started_at.take(), "started_at")?;
    r.ended_at = time(report.ended_at.take(), "ended_at")?;
    let number = |n: Option<serde_json::Number>, field: &str| {
        n.map(|n| limits::finite(&n).ok_or_else(|| bad(format!("{field} is out of range")))).transpose()
    };
    let duration = number(report.duration_ms.take(), "duration_ms")?;
    r.duration_ms = duration.map(|d| limits::duration_ms(d, "duration_ms")).transpose().map_err(|e| bad(e.0))?;
    r.cost = number(report.cost.take(), "cost")?.map(|c| limits::cost(c, "cost")).transpose().map_err(|e| bad(e.0))?;
    r.cost_unit = match report.cost_unit.as_deref() {
        None => r.cost.map(|_| CostUnit::Usd),
        Some(u) => Some(
            CostUnit::parse(u).ok_or_else(|| bad(format!("cost_unit '{}' is not usd or credits", u.escape_debug())))?,
        ),
    };
    r.success = report.success;
    r.sentiment = report
        .sentiment
        .as_deref()
        .map(|s| Sentiment::parse(s).ok_or_else(|| bad(format!("sentiment '{}' is not a sentiment", s.escape_debug()))))
        .transpose()?;
    for (field, value) in
        [("channel", &report.channel), ("caller", &report.caller), ("ended_reason", &report.ended_reason)]
    {
        if let Some(v) = value {
            limits::short(v, field).map_err(|e| bad(e.0))?;
        }
    }
    if let Some(s) = &report.summary {
        if s.len() > limits::MAX_SUMMARY {
            return Err(bad(format!("summary is over {} bytes", limits::MAX_SUMMARY)));
        }
        r.summary = Some(privacy.scrub_text(s).into_owned());
    }
    if let Some(fields) = report.analysis.take() {
        let (mut kept, dropped) = limits::analysis(fields);
        if let Some(e) = dropped.into_iter().next() {
            return Err(bad(e.0));
        }
        kept.values_mut().for_each(|v| privacy.scrub(v));
        r.analysis = Some(kept);
    }
    Ok(())
}

pub fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Why a signature is refused (401, nothing stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSignature(pub String);

/// How far ahead of our clock a signature's time may be.
const FUTURE_SKEW_MS: i64 = 60_000;

/// Checks a signature's time against now: not older than `window_ms`, not more than a minute
/// ahead, with arithmetic that cannot wrap.
pub fn fresh(signed_ms: i64, now_ms: i64, window_ms: i64, window: &str) -> Result<(), BadSignature> {
    match now_ms.checked_sub(signed_ms) {
        Some(age) if age > window_ms => Err(BadSignature(format!("the signature is older than {window}"))),
        Some(age) if age < -FUTURE_SKEW_MS => {
            Err(BadSignature("the signature's time is more than a minute in the future".into()))
        }
        Some(_) => Ok(()),
        None => Err(BadSignature("the signature's time is out of range".into())),
    }
}

/// The time and the digest of a signature header of `key=value` pairs joined by commas
/// (`v=<ms>,d=<hex>` for Retell, `t=<secs>,v0=<hex>` for ElevenLabs).
pub fn signed_parts<'a>(header: &'a str, time: &str, digest: &str) -> (Option<&'a str>, Option<&'a str>) {
    let (mut t, mut d) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some((k, v)) if k == time => t = Some(v),
            Some((k, v)) if k == digest => d = Some(v),
            _ => {}
        }
    }
    (t, d)
}

/// The token of `Authorization: Bearer <token>`, the scheme matched case-insensitively (RFC 7235).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
