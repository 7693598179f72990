//! Vapi's end-of-call report (`{"message": {"type": "end-of-call-report"}}`) and call objects
//! (`GET /call`), and how Vapi authenticates what it sends to a server URL.
//!
//! Attribution comes from the `agentver_*` values in the first bag of: `call.assistantOverrides.metadata`,
//! `assistant.metadata`, `call.assistant.metadata`, `call.metadata`,
//! `call.assistantOverrides.variableValues`.

use serde_json::Value;

use crate::calls::read::Obj;

use crate::calls::read::{
    BadPayload, BadSignature, Lenient, Parsed, at, bad, bearer_token, call_id, claim_into, fresh, mac, same, verdict,
};
use crate::calls::{CostUnit, Privacy, Record, Source, hex};

/// Vapi's call types (a call object's `type`), as against server message types.
const VAPI_CALL_TYPES: &[&str] = &["inboundPhoneCall", "outboundPhoneCall", "webCall", "vapi.websocketCall"];

/// Vapi: a server message (`{"message": {...}}`; `end-of-call-report` becomes an event, other
/// types are ignored) or a call object as `GET /call` returns it.
pub fn parse(body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
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

/// Signs like a Vapi HMAC credential: the `x-signature` value for `x-timestamp: ms`.
pub fn sign_vapi(key: &str, body: &[u8], ms: i64) -> String {
    hex(&mac(key.as_bytes(), &[ms.to_string().as_bytes(), b".", body]))
}
