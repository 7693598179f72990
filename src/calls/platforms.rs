//! The platforms' end-of-call payloads and call objects, and agentver's own report format,
//! normalised into events; and the platforms' signature schemes.
//!
//! Field names follow each platform's documented payloads: Vapi `end-of-call-report` and call
//! objects (`GET /call`), Retell `call_started`/`call_ended`/`call_analyzed` and call objects
//! (`list-calls`), ElevenLabs `post_call_transcription` and conversation objects. A platform's
//! payload is read leniently: only a missing call id refuses it; an optional field of an odd type
//! or out of range is left out with a warning (the raw body keeps it). agentver's own format
//! (`POST /v1/calls`, `--source generic`) is read strictly: a wrong field is a 400 naming it.
//!
//! Attribution comes from the `agentver_*` values in the first bag, in each platform's order:
//! Vapi `call.assistantOverrides.metadata`, `assistant.metadata`, `call.assistant.metadata`,
//! `call.metadata`, `call.assistantOverrides.variableValues`; Retell `metadata`, then
//! `retell_llm_dynamic_variables`; ElevenLabs
//! `conversation_initiation_client_data.dynamic_variables`.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::attribution::Claim;
use super::{CostUnit, Event, Privacy, Record, Sentiment, Source, hex, limits, normal_time, time_from_millis};

/// Why a payload is not a call report (the HTTP answer is 400, and nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPayload(pub String);

fn bad(message: impl Into<String>) -> BadPayload {
    BadPayload(message.into())
}

/// A payload's outcome: an event to merge, or a message type that carries no call outcome
/// (acknowledged and dropped, as platforms send many kinds to one URL).
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Event(Box<Event>),
    Ignored(String),
}

type Obj = Map<String, Value>;

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k)).filter(|v| !v.is_null())
}

/// Reads a platform's payload field by field; what cannot be read becomes a warning.
#[derive(Default)]
struct Lenient {
    warnings: Vec<String>,
}

impl Lenient {
    fn warn(&mut self, message: String) {
        if self.warnings.len() < limits::MAX_WARNINGS {
            self.warnings.push(message);
        }
    }

    fn string(&mut self, v: &Value, path: &[&str]) -> Option<String> {
        match at(v, path)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.warn(format!("{} is not a string", path.join(".")));
                None
            }
        }
    }

    fn number(&mut self, v: &Value, path: &[&str]) -> Option<f64> {
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

    fn object(&mut self, v: &Value, path: &[&str]) -> Option<Obj> {
        match at(v, path)? {
            Value::Object(o) => Some(o.clone()),
            _ => {
                self.warn(format!("{} is not an object", path.join(".")));
                None
            }
        }
    }

    /// An RFC 3339 time, or Unix milliseconds.
    fn time(&mut self, v: &Value, path: &[&str]) -> Option<String> {
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
    fn seconds_time(&mut self, secs: Option<f64>, path: &str) -> Option<String> {
        let secs = secs?;
        let found = (secs.abs() < 1e11).then(|| time_from_millis((secs * 1000.0) as i64)).flatten();
        if found.is_none() {
            self.warn(format!("{path} is not a time"));
        }
        found
    }

    fn duration(&mut self, ms: Option<f64>, path: &str) -> Option<u64> {
        limits::duration_ms(ms?, path).map_err(|e| self.warn(e.0)).ok()
    }

    fn cost(&mut self, value: Option<f64>, path: &str) -> Option<f64> {
        limits::cost(value?, path).map_err(|e| self.warn(e.0)).ok()
    }

    fn short(&mut self, value: Option<String>, path: &str) -> Option<String> {
        let value = value?;
        limits::short(&value, path).map_err(|e| self.warn(e.0)).ok()?;
        Some(value)
    }

    /// Finishes a platform's record: limits applied, numbers hashed, the warnings attached.
    fn finish(mut self, source: Source, at: Option<String>, mut r: Record, privacy: &Privacy) -> Parsed {
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
fn verdict(v: &Value) -> Option<bool> {
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

fn call_id(id: Option<&Value>, path: &str) -> Result<String, BadPayload> {
    match id {
        Some(Value::String(id)) => {
            limits::call_id(id, path).map_err(|e| bad(e.0))?;
            Ok(id.clone())
        }
        Some(_) => Err(bad(format!("{path} must be a string"))),
        None => Err(bad(format!("{path} is missing: a call report needs the call's id"))),
    }
}

fn claim_into(r: &mut Record, bags: &[Option<&Value>]) {
    if let Some(claim) = Claim::find(bags) {
        Claim::apply(claim, r);
    }
}

/// Vapi's call types (a call object's `type`), as against server message types.
const VAPI_CALL_TYPES: &[&str] = &["inboundPhoneCall", "outboundPhoneCall", "webCall", "vapi.websocketCall"];

/// Vapi: a server message (`{"message": {...}}`; `end-of-call-report` becomes an event, other
/// types are ignored) or a call object as `GET /call` returns it.
pub fn vapi(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    let mut read = Lenient::default();
    let (message, call) = match body.get("message") {
        Some(message) => {
            let kind = message.get("type").and_then(Value::as_str).unwrap_or_default();
            if kind != "end-of-call-report" {
                return Ok(Parsed::Ignored(format!("Vapi message type '{kind}' carries no call outcome")));
            }
            (message, message.get("call").unwrap_or(&Value::Null))
        }
        None if body.get("id").is_some()
            && body.get("type").and_then(Value::as_str).is_some_and(|t| VAPI_CALL_TYPES.contains(&t)) =>
        {
            (&Value::Null, body)
        }
        None if body.is_object() => return Ok(Parsed::Ignored("not a Vapi server message or call object".into())),
        None => return Err(bad("the body is not a JSON object")),
    };
    let id_path = if message.is_null() { "id" } else { "message.call.id" };
    let mut r = Record { call_id: call_id(call.get("id"), id_path)?, ..Record::default() };
    let either = |read: &mut Lenient, path: &[&str], f: fn(&mut Lenient, &Value, &[&str]) -> Option<String>| {
        f(read, message, path).or_else(|| f(read, call, path))
    };
    r.started_at = either(&mut read, &["startedAt"], Lenient::time);
    r.ended_at = either(&mut read, &["endedAt"], Lenient::time);
    let reason = either(&mut read, &["endedReason"], Lenient::string);
    r.ended_reason = read.short(reason, "endedReason");
    let cost = read.number(message, &["cost"]).or_else(|| read.number(call, &["cost"]));
    r.cost = read.cost(cost, "cost");
    r.cost_unit = r.cost.map(|_| CostUnit::Usd);
    let analysis = at(message, &["analysis"]).or_else(|| at(call, &["analysis"])).cloned().unwrap_or_default();
    r.summary = read.string(&analysis, &["summary"]).or_else(|| read.string(message, &["summary"]));
    let customer = either(&mut read, &["customer", "number"], Lenient::string);
    r.caller = read.short(customer, "customer.number").map(|n| privacy.caller(&n));
    r.channel = either(&mut read, &["phoneNumber", "number"], Lenient::string);
    r.analysis = Some(vapi_analysis(&mut read, &mut r, &analysis, message, call));
    claim_into(
        &mut r,
        &[
            at(call, &["assistantOverrides", "metadata"]),
            at(message, &["assistant", "metadata"]),
            at(call, &["assistant", "metadata"]),
            at(call, &["metadata"]),
            at(call, &["assistantOverrides", "variableValues"]),
        ],
    );
    let when = read.time(message, &["timestamp"]);
    Ok(read.finish(Source::Vapi, when, r, privacy))
}

/// Vapi's analysis: `structuredData`, the structured outputs of the artifact (by name), and the
/// success evaluation (a verdict when it is one, else kept as a field).
fn vapi_analysis(read: &mut Lenient, r: &mut Record, analysis: &Value, message: &Value, call: &Value) -> Obj {
    let mut fields = read.object(analysis, &["structuredData"]).unwrap_or_default();
    let outputs = read
        .object(message, &["artifact", "structuredOutputs"])
        .or_else(|| read.object(call, &["artifact", "structuredOutputs"]))
        .unwrap_or_default();
    for (id, output) in outputs {
        // Each output is {"name", "result"}, keyed by its id.
        match (output.get("name").and_then(Value::as_str), output.get("result")) {
            (Some(name), Some(result)) => fields.insert(name.to_owned(), result.clone()),
            _ => fields.insert(id, output),
        };
    }
    if let Some(eval) = at(analysis, &["successEvaluation"]) {
        r.success = verdict(eval);
        if r.success.is_none() {
            // A numeric or descriptive rubric: kept as it is, not forced into a verdict.
            fields.insert("success_evaluation".into(), eval.clone());
        }
    }
    fields
}

/// Retell: a webhook (`call_started`, `call_ended`, `call_analyzed`, each merged into the same
/// record; other events ignored) or a call object as `list-calls` returns it.
pub fn retell(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    let call = match body.get("event") {
        Some(kind) => {
            let kind = kind.as_str().unwrap_or_default();
            if !matches!(kind, "call_started" | "call_ended" | "call_analyzed") {
                return Ok(Parsed::Ignored(format!("Retell event '{kind}' carries no call outcome")));
            }
            body.get("call").filter(|c| c.is_object()).ok_or_else(|| bad("call is missing"))?
        }
        None if body.get("call_id").is_some() => body,
        None if body.is_object() => return Ok(Parsed::Ignored("not a Retell webhook or call object".into())),
        None => return Err(bad("the body is not a JSON object")),
    };
    let path = if std::ptr::eq(call, body) { "call_id" } else { "call.call_id" };
    let mut read = Lenient::default();
    let mut r = Record { call_id: call_id(call.get("call_id"), path)?, ..Record::default() };
    r.started_at = read.time(call, &["start_timestamp"]);
    r.ended_at = read.time(call, &["end_timestamp"]);
    let duration = read.number(call, &["duration_ms"]);
    r.duration_ms = read.duration(duration, "call.duration_ms");
    let reason = read.string(call, &["disconnection_reason"]);
    r.ended_reason = read.short(reason, "call.disconnection_reason");
    // Retell reports cost in cents; records hold the currency unit.
    let cents = read.number(call, &["call_cost", "combined_cost"]);
    r.cost = read.cost(cents.map(|c| c / 100.0), "call.call_cost.combined_cost");
    r.cost_unit = r.cost.map(|_| CostUnit::Usd);
    // The caller is the person: who called in, or who was called.
    let outbound = call.get("direction").and_then(Value::as_str) == Some("outbound");
    let (person, ours) = if outbound { ("to_number", "from_number") } else { ("from_number", "to_number") };
    let number = read.string(call, &[person]);
    r.caller = read.short(number, person).map(|n| privacy.caller(&n));
    r.channel = read.string(call, &[ours]);
    r.summary = read.string(call, &["call_analysis", "call_summary"]);
    if let Some(v) = at(call, &["call_analysis", "call_successful"]) {
        r.success = v.as_bool();
        if r.success.is_none() {
            read.warn("call.call_analysis.call_successful is not true or false".into());
        }
    }
    if let Some(s) = read.string(call, &["call_analysis", "user_sentiment"]) {
        r.sentiment = Sentiment::parse(&s);
        if r.sentiment.is_none() {
            read.warn(format!("call.call_analysis.user_sentiment '{}' is not a sentiment", limits::truncate(&s, 40).0));
        }
    }
    r.analysis = read.object(call, &["call_analysis", "custom_analysis_data"]);
    claim_into(&mut r, &[at(call, &["metadata"]), at(call, &["retell_llm_dynamic_variables"])]);
    Ok(read.finish(Source::Retell, None, r, privacy))
}

/// ElevenLabs: `post_call_transcription` (other webhook types ignored) or a conversation object
/// as `GET /v1/convai/conversations/{id}` returns it.
pub fn elevenlabs(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    let data = match body.get("type") {
        Some(kind) => {
            let kind = kind.as_str().unwrap_or_default();
            if kind != "post_call_transcription" {
                return Ok(Parsed::Ignored(format!("ElevenLabs webhook type '{kind}' carries no call outcome")));
            }
            body.get("data").filter(|d| d.is_object()).ok_or_else(|| bad("data is missing"))?
        }
        None if body.get("conversation_id").is_some() => body,
        None if body.is_object() => {
            return Ok(Parsed::Ignored("not an ElevenLabs webhook or conversation object".into()));
        }
        None => return Err(bad("the body is not a JSON object")),
    };
    let path = if std::ptr::eq(data, body) { "conversation_id" } else { "data.conversation_id" };
    let mut read = Lenient::default();
    let mut r = Record { call_id: call_id(data.get("conversation_id"), path)?, ..Record::default() };
    let start = read.number(data, &["metadata", "start_time_unix_secs"]);
    let duration = read.number(data, &["metadata", "call_duration_secs"]);
    r.started_at = read.seconds_time(start, "metadata.start_time_unix_secs");
    r.duration_ms = read.duration(duration.map(|d| d * 1000.0), "metadata.call_duration_secs");
    if let (Some(s), Some(d)) = (start, r.duration_ms) {
        r.ended_at = read.seconds_time(Some(s + d as f64 / 1000.0), "metadata.call_duration_secs");
    }
    // `cost_fiat` is dollars; `cost` is ElevenLabs credits, never averaged with money.
    let (fiat, credits) = (read.number(data, &["metadata", "cost_fiat"]), read.number(data, &["metadata", "cost"]));
    (r.cost, r.cost_unit) = match (read.cost(fiat, "metadata.cost_fiat"), read.cost(credits, "metadata.cost")) {
        (Some(usd), _) => (Some(usd), Some(CostUnit::Usd)),
        (None, Some(c)) => (Some(c), Some(CostUnit::Credits)),
        _ => (None, None),
    };
    let reason = read.string(data, &["metadata", "termination_reason"]);
    r.ended_reason = read.short(reason, "metadata.termination_reason");
    r.summary = read.string(data, &["analysis", "transcript_summary"]);
    let number = read.string(data, &["metadata", "phone_call", "external_number"]);
    r.caller = read.short(number, "metadata.phone_call.external_number").map(|n| privacy.caller(&n));
    r.channel = read.string(data, &["metadata", "phone_call", "agent_number"]);
    match at(data, &["analysis", "call_successful"]).map(|v| v.as_str()) {
        None | Some(Some("unknown")) => {}
        Some(Some("success")) => r.success = Some(true),
        Some(Some("failure")) => r.success = Some(false),
        Some(_) => read.warn("analysis.call_successful is not success, failure or unknown".into()),
    }
    // Each result is {data_collection_id, value, rationale}: the value is the field.
    let results = read.object(data, &["analysis", "data_collection_results"]).unwrap_or_default();
    let fields: Obj = results.into_iter().map(|(k, v)| (k, v.get("value").cloned().unwrap_or(v))).collect();
    r.analysis = Some(fields);
    claim_into(&mut r, &[at(data, &["conversation_initiation_client_data", "dynamic_variables"])]);
    let when = read.number(body, &["event_timestamp"]);
    let when = read.seconds_time(when, "event_timestamp");
    Ok(read.finish(Source::Elevenlabs, when, r, privacy))
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

/// Normalises one body from `source`.
pub fn parse(source: Source, body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    match source {
        Source::Vapi => vapi(body, privacy),
        Source::Retell => retell(body, privacy),
        Source::Elevenlabs => elevenlabs(body, privacy),
        Source::Generic | Source::Agentver => generic(body, privacy),
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn same(a: &str, b: &str) -> bool {
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
fn fresh(signed_ms: i64, now_ms: i64, window_ms: i64, window: &str) -> Result<(), BadSignature> {
    match now_ms.checked_sub(signed_ms) {
        Some(age) if age > window_ms => Err(BadSignature(format!("the signature is older than {window}"))),
        Some(age) if age < -FUTURE_SKEW_MS => {
            Err(BadSignature("the signature's time is more than a minute in the future".into()))
        }
        Some(_) => Ok(()),
        None => Err(BadSignature("the signature's time is out of range".into())),
    }
}

/// Retell: `x-retell-signature: v=<ms>,d=<hex>`, HMAC-SHA256(api key, body + ms), 5 minutes.
/// Returns the signature's time (Unix ms), the platform's time of the event.
pub fn verify_retell(key: &str, header: Option<&str>, body: &[u8], now_ms: i64) -> Result<i64, BadSignature> {
    let header = header.ok_or_else(|| BadSignature("x-retell-signature is missing".into()))?;
    let (mut ts, mut digest) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("v", v)) => ts = v.parse::<i64>().ok(),
            Some(("d", d)) => digest = Some(d),
            _ => {}
        }
    }
    let (Some(ts), Some(digest)) = (ts, digest) else {
        return Err(BadSignature("x-retell-signature is not v=<ms>,d=<hex>".into()));
    };
    fresh(ts, now_ms, 5 * 60 * 1000, "5 minutes")?;
    if !same(&hex(&mac(key.as_bytes(), &[body, ts.to_string().as_bytes()])), digest) {
        return Err(BadSignature("the signature does not match the body".into()));
    }
    Ok(ts)
}

/// ElevenLabs: `ElevenLabs-Signature: t=<secs>,v0=<hex>`, HMAC-SHA256(secret, `"<t>.<body>"`),
/// 30 minutes. Returns the signature's time (Unix ms).
pub fn verify_elevenlabs(secret: &str, header: Option<&str>, body: &[u8], now_ms: i64) -> Result<i64, BadSignature> {
    let header = header.ok_or_else(|| BadSignature("ElevenLabs-Signature is missing".into()))?;
    let (mut ts, mut digest) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => ts = Some(t),
            Some(("v0", d)) => digest = Some(d),
            _ => {}
        }
    }
    let (Some(ts), Some(digest)) = (ts, digest) else {
        return Err(BadSignature("ElevenLabs-Signature is not t=<secs>,v0=<hex>".into()));
    };
    let secs: i64 = ts.parse().map_err(|_| BadSignature("the signature's time is not a number".into()))?;
    let ms = secs.checked_mul(1000).ok_or_else(|| BadSignature("the signature's time is out of range".into()))?;
    fresh(ms, now_ms, 30 * 60 * 1000, "30 minutes")?;
    if !same(&hex(&mac(secret.as_bytes(), &[ts.as_bytes(), b".", body])), digest) {
        return Err(BadSignature("the signature does not match the body".into()));
    }
    Ok(ms)
}

/// How Vapi authenticates its requests to a server URL: the secret itself in a header (the
/// server URL secret as `X-Vapi-Secret`, or a bearer credential in `Authorization` or in a header
/// of the credential's choosing), or an HMAC credential.
#[derive(Clone, Debug, Default)]
pub struct VapiAuth {
    /// The shared secret, compared with `X-Vapi-Secret`, `Authorization: Bearer` and the custom
    /// header.
    pub secret: Option<String>,
    /// A bearer credential's `headerName` when it is not `Authorization`.
    pub header: Option<String>,
    /// An HMAC credential's secret key: `x-signature` = hex HMAC-SHA256 of `{x-timestamp}.{body}`.
    pub hmac: Option<String>,
}

/// Vapi: any one of the configured ways must pass. `header(name)` reads a request header.
pub fn verify_vapi(
    auth: &VapiAuth,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now_ms: i64,
) -> Result<(), BadSignature> {
    if let Some(secret) = &auth.secret {
        let bearer = header("authorization").and_then(|a| bearer_token(&a).map(str::to_owned));
        let custom = auth.header.as_deref().and_then(header);
        let custom = custom.as_deref().map(|v| bearer_token(v).unwrap_or(v));
        if [bearer.as_deref(), header("x-vapi-secret").as_deref(), custom]
            .into_iter()
            .flatten()
            .any(|s| same(s, secret))
        {
            return Ok(());
        }
    }
    if let Some(key) = &auth.hmac
        && let (Some(signature), Some(ts)) = (header("x-signature"), header("x-timestamp"))
    {
        let ms: i64 = ts.trim().parse().map_err(|_| BadSignature("x-timestamp is not a number".into()))?;
        // Vapi sends milliseconds; a value that small is seconds.
        let ms = if ms < 100_000_000_000 { ms.saturating_mul(1000) } else { ms };
        fresh(ms, now_ms, 5 * 60 * 1000, "5 minutes")?;
        let want = hex(&mac(key.as_bytes(), &[ts.trim().as_bytes(), b".", body]));
        let signature = signature.trim();
        return if same(signature.strip_prefix("sha256=").unwrap_or(signature), &want) {
            Ok(())
        } else {
            Err(BadSignature("x-signature does not match the body".into()))
        };
    }
    Err(BadSignature(
        "the Vapi secret is missing or wrong (X-Vapi-Secret, a bearer credential or an HMAC credential)".into(),
    ))
}

/// The token of `Authorization: Bearer <token>`, the scheme matched case-insensitively (RFC 7235).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Signs like Retell (for tests and for replaying captured webhooks).
pub fn sign_retell(key: &str, body: &[u8], ms: i64) -> String {
    format!("v={ms},d={}", hex(&mac(key.as_bytes(), &[body, ms.to_string().as_bytes()])))
}

/// Signs like ElevenLabs.
pub fn sign_elevenlabs(secret: &str, body: &[u8], secs: i64) -> String {
    format!("t={secs},v0={}", hex(&mac(secret.as_bytes(), &[secs.to_string().as_bytes(), b".", body])))
}

/// Signs like a Vapi HMAC credential: the `x-signature` value for `x-timestamp: ms`.
pub fn sign_vapi(key: &str, body: &[u8], ms: i64) -> String {
    hex(&mac(key.as_bytes(), &[ms.to_string().as_bytes(), b".", body]))
}
