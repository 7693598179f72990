//! Retell's inbound webhook (`call_inbound`): sent before an inbound call connects, answered with
//! the variables and the overrides Retell allows per call. The decision is recorded under
//! `call_inbound.call_id`.
//!
//! Retell's per-call override cannot carry a prompt or tools (`AgentOverrideRetellLlm` has the
//! model, temperature, begin message and knowledge bases), so a version runs on Retell only as a
//! Retell agent version that `deploy` made. Until one names it, the answer carries no
//! `override_agent_id`/`override_agent_version` (never ids copied from an import, which would run
//! another version than the record says), its attribution says `agentver_deployed: "false"` (so
//! Retell's echo of it is read as not deployed too), and the decision is recorded `not_deployed`:
//! the call runs the number's own agent.

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
    Ok(Some(Ask { channel, caller: text("from_number"), call_id: text("call_id") }))
}

/// The attribution value that says the served version did not run (read back by
/// `calls::attribution` from Retell's echo).
pub const NOT_DEPLOYED: (&str, &str) = ("agentver_deployed", "false");

/// The Retell LLM settings a call may override (`AgentOverrideRetellLlm`), from the render.
const LLM_OVERRIDES: &[&str] = &["model", "model_temperature", "begin_message", "knowledge_base_ids", "kb_config"];

/// The Retell agent version `deploy` made for the served version, when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployed {
    pub agent_id: String,
    pub version: u64,
}

/// `{"call_inbound": {metadata, dynamic_variables, override_agent_id, override_agent_version,
/// agent_override: {retell_llm}}}`. Without a deployed version (`deployed` is `None`) there are no
/// override ids and the attribution says the version did not run.
pub fn answer(start: &Start<'_>, deployed: Option<&Deployed>) -> Value {
    let mut attribution = start.attribution.clone();
    if deployed.is_none() {
        attribution.insert(NOT_DEPLOYED.0.into(), Value::from(NOT_DEPLOYED.1));
    }
    let mut variables: Map<String, Value> = agent::variable_defaults(start.config, true).unwrap_or_default();
    variables.extend(attribution.clone());
    let mut inbound = json!({ "metadata": attribution, "dynamic_variables": variables });
    if let Some(deployed) = deployed {
        inbound["override_agent_id"] = Value::from(deployed.agent_id.as_str());
        inbound["override_agent_version"] = Value::from(deployed.version);
    }
    let llm: Map<String, Value> = start
        .rendered
        .get("llm")
        .and_then(Value::as_object)
        .map(|l| {
            l.iter().filter(|(k, _)| LLM_OVERRIDES.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    if !llm.is_empty() {
        inbound["agent_override"] = json!({ "retell_llm": llm });
    }
    json!({ "call_inbound": inbound })
}

/// An unknown channel: no override, so Retell connects the number's own inbound agent if it has
/// one, and otherwise ends the call.
pub fn refusal() -> Value {
    json!({ "call_inbound": {} })
}
