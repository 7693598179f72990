//! Vapi's `assistant-request`: the server message Vapi sends when a call reaches a phone number
//! with a server URL and no assistant, answered with the assistant to run.

use serde_json::{Map, Value, json};

use crate::calls::read::{BadPayload, bad};
use crate::platforms::{Ask, Start, agent};

/// The call an `assistant-request` asks about, or `None` for another message type.
pub fn ask(body: &Value) -> Result<Option<Ask>, BadPayload> {
    let Some(message) = body.get("message") else { return Ok(None) };
    if message.get("type").and_then(Value::as_str) != Some("assistant-request") {
        return Ok(None);
    }
    let text = |path: &str| message.pointer(path).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let channel = text("/phoneNumber/number")
        .or_else(|| text("/call/phoneNumber/number"))
        .ok_or_else(|| bad("message.phoneNumber.number is missing: the dialled number names the channel"))?;
    Ok(Some(Ask {
        channel,
        caller: text("/customer/number").or_else(|| text("/call/customer/number")),
        call_id: text("/call/id"),
    }))
}

/// `{"assistant": …}`: the rendered version, the attribution merged into its `metadata`, and
/// the version's variable defaults as `assistantOverrides.variableValues`.
pub fn answer(start: &Start<'_>) -> Value {
    let mut assistant = start.rendered.clone();
    if let Some(map) = assistant.as_object_mut() {
        let metadata = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = metadata.as_object_mut() {
            m.extend(start.attribution.clone());
        } else {
            *metadata = Value::Object(start.attribution.clone());
        }
    }
    let mut out = json!({ "assistant": assistant });
    if let Some(defaults) = agent::variable_defaults(start.config, false) {
        out["assistantOverrides"] = json!({ "variableValues": defaults });
    }
    out
}

/// What Vapi speaks before it ends a call that agentver cannot place.
pub fn refusal(message: &str) -> Value {
    json!({ "error": message })
}
