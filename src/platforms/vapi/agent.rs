//! Vapi's assistant (the body of `POST /assistant`, as `GET /assistant/{id}` returns it) and its
//! field map. Vapi counts time in seconds.

use serde_json::{Value, json};

use crate::platforms::Platform;
use crate::platforms::agent::{self, Spec};
use crate::platforms::map::{self, Row, ToolKind, Unit, same, seconds};

/// agentver field → Vapi assistant field. Checked against Vapi's `CreateAssistantDTO`.
pub static ROWS: &[Row] = &[
    same("name", "name"),
    Row::Missing { agentver: "description", note: "a Vapi assistant has no description" },
    same("llm.provider", "model.provider"),
    same("llm.model", "model.model"),
    same("llm.temperature", "model.temperature"),
    same("llm.max_tokens", "model.maxTokens"),
    Row::Special { agentver: "prompt.system", platform: "model.messages", note: "the one system message" },
    same("prompt.welcome_message", "firstMessage"),
    Row::Missing {
        agentver: "variables",
        note: "Vapi takes variable values per call (assistantOverrides.variableValues); the call-start hook sends the defaults",
    },
    same("speech.language", "transcriber.language"),
    same("speech.tts.provider", "voice.provider"),
    same("speech.tts.voice_id", "voice.voiceId"),
    same("speech.tts.speed", "voice.speed"),
    same("speech.stt.provider", "transcriber.provider"),
    same("speech.stt.model", "transcriber.model"),
    Row::Missing { agentver: "turn_taking.vad_threshold", note: "Vapi has no voice activity threshold" },
    Row::Missing {
        agentver: "turn_taking.interruption_sensitivity",
        note: "Vapi counts interruptions in words and seconds (stopSpeakingPlan)",
    },
    Row::Missing { agentver: "turn_taking.silence_timeout_ms", note: "Vapi's endpointing is startSpeakingPlan" },
    seconds("turn_taking.inactivity.timeout_ms", "messagePlan.idleTimeoutSeconds"),
    Row::Special {
        agentver: "turn_taking.inactivity.message",
        platform: "messagePlan.idleMessages",
        note: "a list of one message",
    },
    same("turn_taking.inactivity.max_reminders", "messagePlan.idleMessageMaxSpokenCount"),
    same("background_sound.preset", "backgroundSound"),
    Row::Missing { agentver: "background_sound.volume", note: "Vapi's background sound has no volume" },
    Row::Special {
        agentver: "knowledge_bases",
        platform: "model.knowledgeBaseId",
        note: "one knowledge base, by id; top_k and min_score have no place",
    },
    Row::Special { agentver: "tools", platform: "model.tools", note: "function, transferCall and endCall tools" },
    Row::Missing { agentver: "analysis.prompt", note: "Vapi's analysis prompts are lists of messages (analysisPlan)" },
    Row::Special {
        agentver: "analysis.fields",
        platform: "analysisPlan.structuredDataPlan.schema.properties",
        note: "a JSON Schema object, the plan enabled",
    },
];

static FUNCTION: &[Row] = &[
    same("name", "function.name"),
    same("description", "function.description"),
    same("parameters", "function.parameters"),
];

static WEBHOOK: &[Row] = &[
    same("name", "function.name"),
    same("description", "function.description"),
    same("parameters", "function.parameters"),
    same("url", "server.url"),
];

static TRANSFER: &[Row] = &[
    same("description", "function.description"),
    Row::Field { agentver: "number", platform: "destinations", unit: Unit::Destination },
];

static END: &[Row] = &[same("description", "function.description")];

/// agentver tool type → Vapi tool (`model.tools[]`).
pub static TOOLS: &[ToolKind] = &[
    ToolKind { agentver: "webhook", constants: &[("type", "function")], requires: &["server.url"], rows: WEBHOOK },
    ToolKind { agentver: "function", constants: &[("type", "function")], requires: &[], rows: FUNCTION },
    ToolKind { agentver: "transfer_call", constants: &[("type", "transferCall")], requires: &[], rows: TRANSFER },
    ToolKind { agentver: "end_call", constants: &[("type", "endCall")], requires: &[], rows: END },
];

pub static SPEC: Spec = Spec {
    platform: Platform::Vapi,
    rows: ROWS,
    tools_at: "model.tools",
    tool_kinds: TOOLS,
    read_only: &["id", "orgId", "createdAt", "updatedAt", "isServerUrlSecretSet"],
    render,
    import,
};

fn render(config: &Value, out: &mut Value, warnings: &mut Vec<String>) {
    if let Some(system) = map::get(config, "prompt.system").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        map::put(out, "model.messages", json!([{ "role": "system", "content": system }]));
    }
    if let Some(message) = map::get(config, "turn_taking.inactivity.message") {
        map::put(out, "messagePlan.idleMessages", json!([message]));
    }
    if let Some(kbs) = config.get("knowledge_bases").and_then(Value::as_array).filter(|k| !k.is_empty()) {
        map::put(out, "model.knowledgeBaseId", kbs[0]["id"].clone());
        if kbs.len() > 1 || kbs.iter().any(|k| k.get("top_k").is_some() || k.get("min_score").is_some()) {
            warnings.push(
                "knowledge_bases: Vapi links one knowledge base by id; the others, top_k and min_score are left out"
                    .into(),
            );
        }
    }
    if let Some(fields) = map::get(config, "analysis.fields").and_then(Value::as_array) {
        let props = agent::fields_to_properties(fields);
        map::put(out, "analysisPlan.structuredDataPlan.enabled", Value::Bool(true));
        map::put(out, "analysisPlan.structuredDataPlan.schema.type", Value::from("object"));
        map::put(out, "analysisPlan.structuredDataPlan.schema.properties", Value::Object(props));
    }
    agent::variable_warnings(config, "Vapi", warnings);
}

fn import(rest: &mut Value, draft: &mut Value, notes: &mut Vec<String>) {
    match map::get(rest, "model.messages").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) if only.as_object().is_some_and(|m| m.len() == 2) && only["role"] == "system" => {
            if let Some(system) = only["content"].as_str().filter(|s| !s.is_empty()) {
                map::put(draft, "prompt.system", Value::from(system));
                map::take(rest, "model.messages");
            }
        }
        Some(messages) => {
            if let Some(system) = messages.iter().find(|m| m["role"] == "system").and_then(|m| m["content"].as_str()) {
                map::put(draft, "prompt.system", Value::from(system));
                notes.push(
                    "model.messages holds more than one system message: kept whole under provider_options.vapi, \
                     so prompt.system is a copy that render does not send"
                        .into(),
                );
            }
        }
        None => {}
    }
    if let Some([Value::String(message)]) =
        map::get(rest, "messagePlan.idleMessages").and_then(Value::as_array).map(Vec::as_slice)
    {
        map::put(draft, "turn_taking.inactivity.message", Value::from(message.as_str()));
        map::take(rest, "messagePlan.idleMessages");
    }
    if let Some(id) = map::get(rest, "model.knowledgeBaseId").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) {
        map::put(draft, "knowledge_bases", json!([{ "id": id }]));
        map::take(rest, "model.knowledgeBaseId");
    }
    let plan = "analysisPlan.structuredDataPlan";
    if map::get(rest, &format!("{plan}.enabled")) == Some(&Value::Bool(true))
        && map::get(rest, &format!("{plan}.schema.type")).and_then(Value::as_str) == Some("object")
        && let Some(fields) = map::get(rest, &format!("{plan}.schema.properties")).and_then(agent::properties_to_fields)
    {
        map::put(draft, "analysis.fields", Value::Array(fields));
        for key in ["enabled", "schema.type", "schema.properties"] {
            map::take(rest, &format!("{plan}.{key}"));
        }
    }
}
