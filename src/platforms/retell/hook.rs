//! Retell's inbound webhook (`call_inbound`): sent before an inbound call connects, answered with
//! the agent, version, variables and overrides for it. There is no call id yet: the decision is
//! recorded when `call_started` arrives carrying the attribution as its metadata.

use serde_json::{Map, Value, json};

use crate::calls::read::{BadPayload, bad};
use crate::platforms::{Ask, Start, agent};

/// The call a `call_inbound` asks about, or `None` for another event.
pub fn ask(body: &Value) -> Result<Option<Ask>, BadPayload> {
    if body.get("event").and_then(Value::as_str) != Some("call_inbound") {
        return Ok(None);
    }
    let inbound = body.get("call_inbound").ok_or_else(|| bad("call_inbound is missing"))?;
    let text = |key: &str| inbound.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let channel = text("to_number")
        .ok_or_else(|| bad("call_inbound.to_number is missing: the dialled number names the channel"))?;
    Ok(Some(Ask { channel, caller: text("from_number"), call_id: None }))
}

/// Agent fields that are the agent's identity, not settings a call may override.
const NOT_OVERRIDES: &[&str] =
    &["agent_id", "version", "response_engine", "is_published", "last_modification_timestamp"];

/// `{"call_inbound": {metadata, dynamic_variables, override_agent_id, override_agent_version,
/// agent_override}}`.
pub fn answer(start: &Start<'_>) -> Value {
    let mut variables: Map<String, Value> = agent::variable_defaults(start.config, true).unwrap_or_default();
    variables.extend(start.attribution.clone());
    let mut inbound = json!({ "metadata": start.attribution, "dynamic_variables": variables });
    let rendered_agent = start.rendered.get("agent").and_then(Value::as_object);
    if let Some(id) = rendered_agent.and_then(|a| a.get("agent_id")).filter(|v| v.is_string()) {
        inbound["override_agent_id"] = id.clone();
    }
    if let Some(version) = rendered_agent.and_then(|a| a.get("version")).filter(|v| v.is_number()) {
        inbound["override_agent_version"] = version.clone();
    }
    let overrides: Map<String, Value> = rendered_agent
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_OVERRIDES.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if !overrides.is_empty() {
        inbound["agent_override"] = json!({ "agent": overrides });
    }
    json!({ "call_inbound": inbound })
}

/// An unknown channel: no override, so Retell connects the number's own inbound agent if it has
/// one, and otherwise ends the call.
pub fn refusal() -> Value {
    json!({ "call_inbound": {} })
}
