//! ElevenLabs' conversation-initiation webhook: sent when a phone call reaches an agent whose
//! settings fetch initiation data, answered with dynamic variables and overrides. ElevenLabs does
//! not sign it; serve checks the token it is configured to send.

use serde_json::{Value, json};

use crate::calls::read::{BadPayload, bad};
use crate::platforms::map;
use crate::platforms::{Ask, Start, agent};

/// The call an initiation request asks about.
pub fn ask(body: &Value) -> Result<Ask, BadPayload> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let channel =
        text("called_number").ok_or_else(|| bad("called_number is missing: the dialled number names the channel"))?;
    Ok(Ask { channel, caller: text("caller_id"), call_id: text("call_sid") })
}

/// `{"type": "conversation_initiation_client_data", dynamic_variables,
/// conversation_config_override}`: the prompt, first message, language and voice of the version.
pub fn answer(start: &Start<'_>) -> Value {
    let mut variables = agent::variable_defaults(start.config, false).unwrap_or_default();
    variables.extend(start.attribution.clone());
    let mut config = json!({});
    for path in super::agent::OVERRIDDEN {
        if let Some(value) = map::get(start.rendered, &format!("conversation_config.{path}")) {
            map::put(&mut config, path, value.clone());
        }
    }
    json!({
        "type": "conversation_initiation_client_data",
        "dynamic_variables": variables,
        "conversation_config_override": config,
    })
}
