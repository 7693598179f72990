//! ElevenLabs' conversational agent (`{"name", "conversation_config", "platform_settings"}`, the
//! body of `POST /v1/convai/agents/create`) and its field map. ElevenLabs counts time in seconds.

use serde_json::{Value, json};

use crate::platforms::Platform;
use crate::platforms::agent::{self, Spec};
use crate::platforms::map::{self, Row, ToolKind, Unit, same, seconds};

const AGENT: &str = "conversation_config.agent";

/// agentver field → ElevenLabs agent field. Checked against elevenlabs-python's
/// `ConversationalConfig` and `AgentPlatformSettingsRequestModel`.
pub static ROWS: &[Row] = &[
    same("name", "name"),
    Row::Missing { agentver: "description", note: "an ElevenLabs agent has no description" },
    Row::Inferred {
        agentver: "llm.provider",
        note: "ElevenLabs names the model only; import infers the provider from it",
    },
    same("llm.model", "conversation_config.agent.prompt.llm"),
    same("llm.temperature", "conversation_config.agent.prompt.temperature"),
    same("llm.max_tokens", "conversation_config.agent.prompt.max_tokens"),
    same("prompt.system", "conversation_config.agent.prompt.prompt"),
    same("prompt.welcome_message", "conversation_config.agent.first_message"),
    Row::Special {
        agentver: "variables",
        platform: "conversation_config.agent.dynamic_variables.dynamic_variable_placeholders",
        note: "defaults; descriptions have no place",
    },
    same("speech.language", "conversation_config.agent.language"),
    Row::Inferred { agentver: "speech.tts.provider", note: "always elevenlabs" },
    same("speech.tts.voice_id", "conversation_config.tts.voice_id"),
    same("speech.tts.speed", "conversation_config.tts.speed"),
    Row::Values {
        agentver: "speech.stt.provider",
        platform: "conversation_config.asr.provider",
        values: STT_PROVIDERS,
    },
    Row::Missing { agentver: "speech.stt.model", note: "ElevenLabs sets transcription quality, not a model" },
    Row::Missing { agentver: "turn_taking.vad_threshold", note: "ElevenLabs has no voice activity threshold" },
    Row::Missing {
        agentver: "turn_taking.interruption_sensitivity",
        note: "ElevenLabs allows or refuses interruptions (client_events)",
    },
    Row::Missing { agentver: "turn_taking.silence_timeout_ms", note: "ElevenLabs sets the turn mode, not a timeout" },
    seconds("turn_taking.inactivity.timeout_ms", "conversation_config.turn.turn_timeout"),
    Row::Missing {
        agentver: "turn_taking.inactivity.message",
        note: "ElevenLabs' re-engagement is written by the LLM",
    },
    Row::Missing { agentver: "turn_taking.inactivity.max_reminders", note: "ElevenLabs has no reminder count" },
    Row::Missing { agentver: "background_sound.preset", note: "ElevenLabs has no background sound" },
    Row::Missing { agentver: "background_sound.volume", note: "ElevenLabs has no background sound" },
    Row::Special {
        agentver: "knowledge_bases",
        platform: "conversation_config.agent.prompt.knowledge_base",
        note: "documents by id ({type: file, name: id, id}); top_k and min_score have no place",
    },
    Row::Special {
        agentver: "tools",
        platform: "conversation_config.agent.prompt.tools",
        note: "webhook and client tools, and the end_call and transfer_to_number system tools",
    },
    Row::Missing { agentver: "analysis.prompt", note: "ElevenLabs' evaluation criteria are per criterion" },
    Row::Special {
        agentver: "analysis.fields",
        platform: "platform_settings.data_collection",
        note: "{name: {type, description, enum}}",
    },
];

static WEBHOOK: &[Row] = &[
    same("name", "name"),
    same("description", "description"),
    same("url", "api_schema.url"),
    same("parameters", "api_schema.request_body_schema"),
];

static CLIENT: &[Row] = &[same("name", "name"), same("description", "description"), same("parameters", "parameters")];

static END: &[Row] = &[same("name", "name"), same("description", "description")];

static TRANSFER: &[Row] = &[
    same("name", "name"),
    same("description", "description"),
    Row::Field { agentver: "number", platform: "params.transfers", unit: Unit::PhoneTransfer },
];

/// agentver's speech-to-text providers → ElevenLabs' `asr.provider`: only its own transcriber.
pub static STT_PROVIDERS: &[(&str, &str)] = &[("elevenlabs", "elevenlabs")];

/// The initiation overrides the call-start answer uses (prompt, first message, language, voice):
/// ElevenLabs ignores an override its agent does not enable, so every render enables these.
pub const OVERRIDES: &str = "platform_settings.overrides.conversation_config_override";

/// The fields under `conversation_config` the initiation answer overrides (and [`OVERRIDES`]
/// enables, at the same paths).
pub const OVERRIDDEN: [&str; 4] = ["agent.prompt.prompt", "agent.first_message", "agent.language", "tts.voice_id"];

/// agentver tool type → ElevenLabs tool (`conversation_config.agent.prompt.tools[]`). A transfer
/// is the system tool `transfer_to_number` with one phone destination (a condition per
/// destination, which agentver writes as one fixed sentence).
pub static TOOLS: &[ToolKind] = &[
    ToolKind { agentver: "webhook", constants: &[("type", "webhook")], requires: &["api_schema.url"], rows: WEBHOOK },
    ToolKind { agentver: "function", constants: &[("type", "client")], requires: &[], rows: CLIENT },
    ToolKind {
        agentver: "end_call",
        constants: &[("type", "system"), ("params.system_tool_type", "end_call")],
        requires: &[],
        rows: END,
    },
    ToolKind {
        agentver: "transfer_call",
        constants: &[("type", "system"), ("params.system_tool_type", "transfer_to_number")],
        requires: &["params.transfers"],
        rows: TRANSFER,
    },
];

pub static SPEC: Spec = Spec {
    platform: Platform::Elevenlabs,
    rows: ROWS,
    tools_at: "conversation_config.agent.prompt.tools",
    tool_kinds: TOOLS,
    read_only: &["agent_id", "metadata", "access_info", "phone_numbers", "version_id", "branch_id"],
    needs: &[],
    option_keys: &[],
    filled_by_platform: &[],
    render,
    import,
};

fn render(config: &Value, out: &mut Value, warnings: &mut Vec<String>) {
    if let Some(defaults) = agent::variable_defaults(config, false) {
        map::put(out, &format!("{AGENT}.dynamic_variables.dynamic_variable_placeholders"), Value::Object(defaults));
    }
    agent::variable_warnings(config, "ElevenLabs", warnings);
    if let Some(kbs) = config.get("knowledge_bases").and_then(Value::as_array).filter(|k| !k.is_empty()) {
        let docs = kbs.iter().map(|k| json!({ "type": "file", "name": k["id"], "id": k["id"] })).collect();
        map::put(out, &format!("{AGENT}.prompt.knowledge_base"), docs);
        if kbs.iter().any(|k| k.get("top_k").is_some() || k.get("min_score").is_some()) {
            warnings.push("knowledge_bases: top_k and min_score have no place on ElevenLabs and are left out".into());
        }
    }
    if let Some(fields) = map::get(config, "analysis.fields").and_then(Value::as_array) {
        map::put(out, "platform_settings.data_collection", Value::Object(agent::fields_to_properties(fields)));
    }
    let model = map::get(config, "llm.model").and_then(Value::as_str);
    agent::inferred_warning(config, "llm.provider", model.map(agent::provider_of_model), "ElevenLabs", warnings);
    agent::inferred_warning(config, "speech.tts.provider", Some("elevenlabs"), "ElevenLabs", warnings);
    for path in OVERRIDDEN {
        map::put(out, &format!("{OVERRIDES}.{path}"), Value::Bool(true));
    }
}

fn import(rest: &mut Value, draft: &mut Value, _notes: &mut Vec<String>) {
    let placeholders = format!("{AGENT}.dynamic_variables.dynamic_variable_placeholders");
    if let Some(vars) = map::get(rest, &placeholders).and_then(|m| agent::defaults_to_variables(m, false)) {
        map::put(draft, "variables", vars);
        map::take(rest, &placeholders);
    }
    let docs = format!("{AGENT}.prompt.knowledge_base");
    if let Some(kbs) = map::get(rest, &docs).and_then(import_documents) {
        map::put(draft, "knowledge_bases", Value::Array(kbs));
        map::take(rest, &docs);
    }
    if let Some(fields) = map::get(rest, "platform_settings.data_collection").and_then(agent::properties_to_fields) {
        map::put(draft, "analysis.fields", Value::Array(fields));
        map::take(rest, "platform_settings.data_collection");
    }
    agent::infer_providers(draft, |_| "elevenlabs");
    // The overrides render enables are render's own: only others (or ones turned off) stay.
    for path in OVERRIDDEN {
        let path = format!("{OVERRIDES}.{path}");
        if map::get(rest, &path) == Some(&Value::Bool(true)) {
            map::take(rest, &path);
        }
    }
}

/// Documents that are exactly what render writes for a knowledge base id.
fn import_documents(list: &Value) -> Option<Vec<Value>> {
    let list = list.as_array().filter(|l| !l.is_empty())?;
    list.iter()
        .map(|d| {
            let id = d.get("id")?.as_str().filter(|s| !s.trim().is_empty())?;
            let exact = d.as_object()?.len() == 3 && d["type"] == "file" && d["name"] == id;
            exact.then(|| json!({ "id": id }))
        })
        .collect()
}
