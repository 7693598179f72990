//! ElevenLabs' post-call webhook (`post_call_transcription`) and conversation objects, and the
//! `ElevenLabs-Signature` check.
//!
//! Attribution comes from `conversation_initiation_client_data.dynamic_variables`.

use serde_json::Value;

use crate::calls::read::{
    BadPayload, BadSignature, Lenient, Obj, Parsed, at, bad, call_id, claim_into, fresh, mac, same, signed_parts,
};
use crate::calls::{CostUnit, Privacy, Record, Source, hex};

/// ElevenLabs: `post_call_transcription` (other webhook types ignored) or a conversation object
/// as `GET /v1/convai/conversations/{id}` returns it.
pub fn parse(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
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
    // A phone call is one record: the one its call-start hook recorded under the call's SID.
    let sid = at(data, &["metadata", "phone_call", "call_sid"]).filter(|v| v.as_str().is_some_and(|s| !s.is_empty()));
    let path = match (sid.is_some(), std::ptr::eq(data, body)) {
        (true, true) => "metadata.phone_call.call_sid",
        (true, false) => "data.metadata.phone_call.call_sid",
        (false, true) => "conversation_id",
        (false, false) => "data.conversation_id",
    };
    let mut read = Lenient::default();
    let mut r = Record { call_id: call_id(sid.or(data.get("conversation_id")), path)?, ..Record::default() };
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

/// ElevenLabs: `ElevenLabs-Signature: t=<secs>,v0=<hex>`, HMAC-SHA256(secret, `"<t>.<body>"`),
/// 30 minutes. Returns the signature's time (Unix ms).
pub fn verify_elevenlabs(secret: &str, header: Option<&str>, body: &[u8], now_ms: i64) -> Result<i64, BadSignature> {
    let header = header.ok_or_else(|| BadSignature("ElevenLabs-Signature is missing".into()))?;
    let (Some(ts), Some(digest)) = signed_parts(header, "t", "v0") else {
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

/// Signs like ElevenLabs.
pub fn sign_elevenlabs(secret: &str, body: &[u8], secs: i64) -> String {
    format!("t={secs},v0={}", hex(&mac(secret.as_bytes(), &[secs.to_string().as_bytes(), b".", body])))
}
