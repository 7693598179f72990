//! Retell's call webhooks (`call_started`, `call_ended`, `call_analyzed`) and call objects
//! (`list-calls`), and the `x-retell-signature` check.
//!
//! Attribution comes from `call.metadata`, then `call.retell_llm_dynamic_variables`.

use serde_json::Value;

use crate::calls::read::{
    BadPayload, BadSignature, Lenient, Parsed, at, bad, call_id, claim_into, fresh, mac, same, signed_parts,
};
use crate::calls::{CostUnit, Privacy, Record, Sentiment, Source, hex, limits};

/// Retell: a webhook (`call_started`, `call_ended`, `call_analyzed`, each merged into the same
/// record; other events ignored) or a call object as `list-calls` returns it.
pub fn parse(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
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

/// Retell: `x-retell-signature: v=<ms>,d=<hex>`, HMAC-SHA256(api key, body + ms), 5 minutes.
/// Returns the signature's time (Unix ms), the platform's time of the event.
pub fn verify_retell(key: &str, header: Option<&str>, body: &[u8], now_ms: i64) -> Result<i64, BadSignature> {
    let header = header.ok_or_else(|| BadSignature("x-retell-signature is missing".into()))?;
    let (ts, digest) = signed_parts(header, "v", "d");
    let (Some(ts), Some(digest)) = (ts.and_then(|v| v.parse::<i64>().ok()), digest) else {
        return Err(BadSignature("x-retell-signature is not v=<ms>,d=<hex>".into()));
    };
    fresh(ts, now_ms, 5 * 60 * 1000, "5 minutes")?;
    if !same(&hex(&mac(key.as_bytes(), &[body, ts.to_string().as_bytes()])), digest) {
        return Err(BadSignature("the signature does not match the body".into()));
    }
    Ok(ts)
}

/// Signs like Retell (for tests and for replaying captured webhooks).
pub fn sign_retell(key: &str, body: &[u8], ms: i64) -> String {
    format!("v={ms},d={}", hex(&mac(key.as_bytes(), &[body, ms.to_string().as_bytes()])))
}
