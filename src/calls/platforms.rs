//! The platforms' end-of-call webhooks and generic records, normalised into events, and the
//! platforms' signature schemes.
//!
//! Field names follow each platform's documented payloads: Vapi `end-of-call-report`, Retell
//! `call_started`/`call_ended`/`call_analyzed`, ElevenLabs `post_call_transcription`. Attribution
//! comes from the `agentver_*` values the runtime put into the call's metadata or dynamic
//! variables. Fields this code does not map stay in the raw body the store keeps.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::{Callers, Event, Record, Sentiment, Source, hex, normal_time, time_from_millis};

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

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Obj, BadPayload> {
    v.as_object().ok_or_else(|| bad(format!("{what} is not a JSON object")))
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k)).filter(|v| !v.is_null())
}

fn string(v: &Value, path: &[&str]) -> Result<Option<String>, BadPayload> {
    match at(v, path) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("{} must be a string", path.join(".")))),
    }
}

fn number(v: &Value, path: &[&str]) -> Result<Option<f64>, BadPayload> {
    match at(v, path) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(bad(format!("{} must be a number", path.join(".")))),
    }
}

fn time(v: &Value, path: &[&str]) -> Result<Option<String>, BadPayload> {
    match string(v, path)? {
        None => Ok(None),
        Some(s) => {
            normal_time(&s).map(Some).ok_or_else(|| bad(format!("{}: '{s}' is not an RFC 3339 time", path.join("."))))
        }
    }
}

fn millis_time(v: &Value, path: &[&str]) -> Result<Option<String>, BadPayload> {
    match number(v, path)? {
        None => Ok(None),
        Some(ms) => {
            time_from_millis(ms as i64).map(Some).ok_or_else(|| bad(format!("{} is out of range", path.join("."))))
        }
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

/// Attribution from the `agentver_*` strings a runtime passed on (metadata, dynamic variables).
fn attribute(r: &mut Record, values: &[Option<&Value>]) -> Result<(), BadPayload> {
    for bag in values.iter().flatten() {
        let Some(bag) = bag.as_object() else { continue };
        let get = |k: &str| bag.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(agent) = get("agentver_agent") {
            r.agent = Some(agent);
            r.version =
                match get("agentver_version").as_deref() {
                    None | Some("draft") => None,
                    Some(n) => Some(n.trim_start_matches('v').parse().map_err(|_| {
                        bad(format!("agentver_version must be a version number or \"draft\", not '{n}'"))
                    })?),
                };
            r.tree = get("agentver_tree");
        }
        r.channel = r.channel.take().or_else(|| get("agentver_channel"));
        r.variant = r.variant.take().or_else(|| get("agentver_variant"));
        r.revision = r.revision.take().or_else(|| get("agentver_revision"));
    }
    Ok(())
}

fn call_id(id: Option<String>, path: &str) -> Result<String, BadPayload> {
    match id {
        Some(id) if !id.is_empty() && id.len() <= 256 => Ok(id),
        Some(_) => Err(bad(format!("{path} must be 1 to 256 characters"))),
        None => Err(bad(format!("{path} is missing: a call report needs the call's id"))),
    }
}

/// Vapi's server message: `end-of-call-report` becomes an event; other types are ignored.
pub fn vapi(body: &Value, callers: &Callers) -> Result<Parsed, BadPayload> {
    let message = body.get("message").unwrap_or(body);
    object(message, "message")?;
    let kind = string(message, &["type"])?.unwrap_or_default();
    if kind != "end-of-call-report" {
        return Ok(Parsed::Ignored(format!("Vapi message type '{kind}' carries no call outcome")));
    }
    let call = message.get("call").unwrap_or(&Value::Null);
    let mut r = Record {
        call_id: call_id(string(call, &["id"])?, "message.call.id")?,
        started_at: time(message, &["startedAt"])?.or(time(call, &["startedAt"])?),
        ended_at: time(message, &["endedAt"])?.or(time(call, &["endedAt"])?),
        ended_reason: string(message, &["endedReason"])?,
        cost: number(message, &["cost"])?,
        summary: string(message, &["analysis", "summary"])?,
        caller: string(call, &["customer", "number"])?.map(|n| callers.apply(&n)),
        ..Record::default()
    };
    let mut analysis = match at(message, &["analysis", "structuredData"]) {
        Some(v) => object(v, "analysis.structuredData")?.clone(),
        None => Map::new(),
    };
    if let Some(eval) = at(message, &["analysis", "successEvaluation"]) {
        r.success = verdict(eval);
        if r.success.is_none() {
            // A numeric or descriptive rubric: kept as it is, not forced into a verdict.
            analysis.insert("success_evaluation".into(), eval.clone());
        }
    }
    r.analysis = (!analysis.is_empty()).then_some(analysis);
    attribute(
        &mut r,
        &[
            at(message, &["assistant", "metadata"]),
            at(call, &["assistantOverrides", "metadata"]),
            at(call, &["assistantOverrides", "variableValues"]),
            at(call, &["metadata"]),
        ],
    )?;
    Ok(Parsed::Event(Box::new(Event { source: Source::Vapi, record: r })))
}

/// Retell's `call_started`, `call_ended` and `call_analyzed`, each merged into the same record.
pub fn retell(body: &Value, callers: &Callers) -> Result<Parsed, BadPayload> {
    object(body, "the body")?;
    let kind = string(body, &["event"])?.unwrap_or_default();
    if !matches!(kind.as_str(), "call_started" | "call_ended" | "call_analyzed") {
        return Ok(Parsed::Ignored(format!("Retell event '{kind}' carries no call outcome")));
    }
    let call = body.get("call").ok_or_else(|| bad("call is missing"))?;
    object(call, "call")?;
    let duration = number(call, &["duration_ms"])?;
    let mut r = Record {
        call_id: call_id(string(call, &["call_id"])?, "call.call_id")?,
        started_at: millis_time(call, &["start_timestamp"])?,
        ended_at: millis_time(call, &["end_timestamp"])?,
        duration_ms: duration.map(|d| d.max(0.0) as u64),
        ended_reason: string(call, &["disconnection_reason"])?,
        // Retell reports cost in cents; records hold the currency unit.
        cost: number(call, &["call_cost", "combined_cost"])?.map(|c| c / 100.0),
        caller: string(call, &["from_number"])?.map(|n| callers.apply(&n)),
        summary: string(call, &["call_analysis", "call_summary"])?,
        ..Record::default()
    };
    if let Some(v) = at(call, &["call_analysis", "call_successful"]) {
        r.success = Some(v.as_bool().ok_or_else(|| bad("call.call_analysis.call_successful must be true or false"))?);
    }
    if let Some(s) = string(call, &["call_analysis", "user_sentiment"])? {
        r.sentiment =
            Some(Sentiment::parse(&s).ok_or_else(|| bad(format!("user_sentiment '{s}' is not a sentiment")))?);
    }
    if let Some(v) = at(call, &["call_analysis", "custom_analysis_data"]) {
        r.analysis = Some(object(v, "call.call_analysis.custom_analysis_data")?.clone());
    }
    attribute(&mut r, &[at(call, &["retell_llm_dynamic_variables"]), at(call, &["metadata"])])?;
    Ok(Parsed::Event(Box::new(Event { source: Source::Retell, record: r })))
}

/// ElevenLabs' `post_call_transcription`.
pub fn elevenlabs(body: &Value, callers: &Callers) -> Result<Parsed, BadPayload> {
    object(body, "the body")?;
    let kind = string(body, &["type"])?.unwrap_or_default();
    if kind != "post_call_transcription" {
        return Ok(Parsed::Ignored(format!("ElevenLabs webhook type '{kind}' carries no call outcome")));
    }
    let data = body.get("data").ok_or_else(|| bad("data is missing"))?;
    object(data, "data")?;
    let start = number(data, &["metadata", "start_time_unix_secs"])?;
    let duration = number(data, &["metadata", "call_duration_secs"])?;
    let mut r = Record {
        call_id: call_id(string(data, &["conversation_id"])?, "data.conversation_id")?,
        started_at: start.and_then(|s| time_from_millis((s * 1000.0) as i64)),
        ended_at: match (start, duration) {
            (Some(s), Some(d)) => time_from_millis(((s + d) * 1000.0) as i64),
            _ => None,
        },
        duration_ms: duration.map(|d| (d.max(0.0) * 1000.0) as u64),
        cost: number(data, &["metadata", "cost"])?,
        ended_reason: string(data, &["metadata", "termination_reason"])?,
        summary: string(data, &["analysis", "transcript_summary"])?,
        caller: string(data, &["metadata", "phone_call", "external_number"])?.map(|n| callers.apply(&n)),
        ..Record::default()
    };
    if let Some(v) = at(data, &["analysis", "call_successful"]) {
        r.success = match v.as_str() {
            Some("success") => Some(true),
            Some("failure") => Some(false),
            Some("unknown") => None,
            _ => return Err(bad("data.analysis.call_successful must be success, failure or unknown")),
        };
    }
    if let Some(v) = at(data, &["analysis", "data_collection_results"]) {
        // Each result is {data_collection_id, value, rationale}: the value is the field.
        let results = object(v, "data.analysis.data_collection_results")?;
        let fields: Map<String, Value> =
            results.iter().map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or_else(|| v.clone()))).collect();
        r.analysis = (!fields.is_empty()).then_some(fields);
    }
    attribute(&mut r, &[at(data, &["conversation_initiation_client_data", "dynamic_variables"])])?;
    Ok(Parsed::Event(Box::new(Event { source: Source::Elevenlabs, record: r })))
}

/// A record in DESIGN.md's field names (`POST /v1/calls`, `calls import --source generic`).
pub fn generic(body: &Value, callers: &Callers) -> Result<Parsed, BadPayload> {
    object(body, "the body")?;
    let mut r: Record = serde_json::from_value(body.clone()).map_err(|e| bad(format!("not a call record: {e}")))?;
    r.call_id = call_id(Some(r.call_id), "call_id")?;
    for t in [&mut r.resolved_at, &mut r.started_at, &mut r.ended_at] {
        if let Some(text) = t.as_deref() {
            *t = Some(normal_time(text).ok_or_else(|| bad(format!("'{text}' is not an RFC 3339 time")))?);
        }
    }
    if r.caller.as_deref().is_some_and(|c| !c.starts_with("h:")) {
        r.caller = r.caller.map(|n| callers.apply(&n));
    }
    let source = match r.source.take() {
        None | Some(Source::Agentver) => Source::Generic,
        Some(s) => s,
    };
    Ok(Parsed::Event(Box::new(Event { source, record: r })))
}

/// Normalises one body from `source`.
pub fn parse(source: Source, body: &Value, callers: &Callers) -> Result<Parsed, BadPayload> {
    match source {
        Source::Vapi => vapi(body, callers),
        Source::Retell => retell(body, callers),
        Source::Elevenlabs => elevenlabs(body, callers),
        Source::Generic | Source::Agentver => generic(body, callers),
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

/// Retell: `x-retell-signature: v=<ms>,d=<hex>`, HMAC-SHA256(api key, body + ms), 5 minutes.
pub fn verify_retell(key: &str, header: Option<&str>, body: &[u8], now_ms: i64) -> Result<(), BadSignature> {
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
    if (now_ms - ts).abs() > 5 * 60 * 1000 {
        return Err(BadSignature("the signature is older than 5 minutes".into()));
    }
    if !same(&hex(&mac(key.as_bytes(), &[body, ts.to_string().as_bytes()])), digest) {
        return Err(BadSignature("the signature does not match the body".into()));
    }
    Ok(())
}

/// ElevenLabs: `ElevenLabs-Signature: t=<secs>,v0=<hex>`, HMAC-SHA256(secret, `"<t>.<body>"`),
/// 30 minutes.
pub fn verify_elevenlabs(secret: &str, header: Option<&str>, body: &[u8], now_secs: i64) -> Result<(), BadSignature> {
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
    if (now_secs - secs).abs() > 30 * 60 {
        return Err(BadSignature("the signature is older than 30 minutes".into()));
    }
    if !same(&hex(&mac(secret.as_bytes(), &[ts.as_bytes(), b".", body])), digest) {
        return Err(BadSignature("the signature does not match the body".into()));
    }
    Ok(())
}

/// Vapi: the secret as `Authorization: Bearer <secret>` or `X-Vapi-Secret: <secret>`.
pub fn verify_vapi(secret: &str, bearer: Option<&str>, header: Option<&str>) -> Result<(), BadSignature> {
    if bearer.is_some_and(|b| same(b, secret)) || header.is_some_and(|h| same(h, secret)) {
        Ok(())
    } else {
        Err(BadSignature("the Vapi secret is missing or wrong (Authorization: Bearer or X-Vapi-Secret)".into()))
    }
}

/// Signs like Retell (for tests and for replaying captured webhooks).
pub fn sign_retell(key: &str, body: &[u8], ms: i64) -> String {
    format!("v={ms},d={}", hex(&mac(key.as_bytes(), &[body, ms.to_string().as_bytes()])))
}

/// Signs like ElevenLabs.
pub fn sign_elevenlabs(secret: &str, body: &[u8], secs: i64) -> String {
    format!("t={secs},v0={}", hex(&mac(secret.as_bytes(), &[secs.to_string().as_bytes(), b".", body])))
}
