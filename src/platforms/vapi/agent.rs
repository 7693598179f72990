//! Vapi's assistant (the body of `POST /assistant`, as `GET /assistant/{id}` returns it) and its
//! field map. Vapi counts time in seconds.

use serde_json::{Value, json};

use crate::platforms::Platform;
use crate::platforms::agent::{self, Spec};
use crate::platforms::map::{self, Row, ToolKind, Unit, same};

/// agentver field → Vapi assistant field. Checked against Vapi's `CreateAssistantDTO`.
pub static ROWS: &[Row] = &[
    same("name", "name"),
    Row::Missing { agentver: "description", note: "a Vapi assistant has no description" },
    Row::Values { agentver: "llm.provider", platform: "model.provider", values: LLM_PROVIDERS },
    Row::Special {
        agentver: "llm.model",
        platform: "model.model",
        note: "the same id; Anthropic's aliases become the dated ids Vapi takes (`claude-sonnet-4` → `claude-sonnet-4-20250514`), and one Vapi does not list is left out, render warns",
    },
    same("llm.temperature", "model.temperature"),
    same("llm.max_tokens", "model.maxTokens"),
    Row::Special { agentver: "prompt.system", platform: "model.messages", note: "the one system message" },
    same("prompt.welcome_message", "firstMessage"),
    Row::Missing {
        agentver: "variables",
        note: "Vapi takes variable values per call (assistantOverrides.variableValues); the call-start hook sends the defaults",
    },
    same("speech.language", "transcriber.language"),
    Row::Values { agentver: "speech.tts.provider", platform: "voice.provider", values: TTS_PROVIDERS },
    same("speech.tts.voice_id", "voice.voiceId"),
    same("speech.tts.speed", "voice.speed"),
    Row::Values { agentver: "speech.stt.provider", platform: "transcriber.provider", values: STT_PROVIDERS },
    same("speech.stt.model", "transcriber.model"),
    Row::Missing { agentver: "turn_taking.vad_threshold", note: "Vapi has no voice activity threshold" },
    Row::Missing {
        agentver: "turn_taking.interruption_sensitivity",
        note: "Vapi counts interruptions in words and seconds (stopSpeakingPlan)",
    },
    Row::Missing { agentver: "turn_taking.silence_timeout_ms", note: "Vapi's endpointing is startSpeakingPlan" },
    Row::Special {
        agentver: "turn_taking.inactivity",
        platform: "hooks",
        note: "a `customer.speech.timeout` hook: `options.timeoutSeconds` (ms ↔ s), `options.triggerMaxCount`, `do: [{type: say, exact: message}]`",
    },
    Row::Values { agentver: "background_sound.preset", platform: "backgroundSound", values: BACKGROUND_SOUNDS },
    Row::Missing { agentver: "background_sound.volume", note: "Vapi's background sound has no volume" },
    Row::Missing {
        agentver: "knowledge_bases",
        note: "Vapi's knowledge bases are query tools over its own file ids (give one under provider_options.vapi)",
    },
    Row::Special {
        agentver: "tools",
        platform: "model.tools",
        note: "function, transferCall and endCall tools (the last two have no description on Vapi, render warns)",
    },
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
    Row::Missing { agentver: "description", note: "a transferCall tool has no description" },
    Row::Field { agentver: "number", platform: "destinations", unit: Unit::Destination },
];

static END: &[Row] = &[Row::Missing { agentver: "description", note: "an endCall tool has no description" }];

/// agentver's LLM providers → Vapi's `model.provider` (CreateAssistantDTO's model union).
pub static LLM_PROVIDERS: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("anthropic-bedrock", "anthropic-bedrock"),
    ("google", "google"),
    ("groq", "groq"),
    ("xai", "xai"),
    ("deepseek", "deep-seek"),
    ("together", "together-ai"),
    ("openrouter", "openrouter"),
    ("perplexity", "perplexity-ai"),
    ("cerebras", "cerebras"),
    ("deepinfra", "deepinfra"),
    ("anyscale", "anyscale"),
    ("inflection", "inflection-ai"),
    ("minimax", "minimax"),
    ("custom", "custom-llm"),
    ("vapi", "vapi"),
];

/// Anthropic's model ids as Vapi takes them (a closed set of dated ids): each dated id as it is,
/// and Anthropic's aliases to the dated id they stand for.
pub static ANTHROPIC_MODELS: &[(&str, &str)] = &[
    ("claude-3-opus-20240229", "claude-3-opus-20240229"),
    ("claude-3-sonnet-20240229", "claude-3-sonnet-20240229"),
    ("claude-3-haiku-20240307", "claude-3-haiku-20240307"),
    ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20240620"),
    ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022"),
    ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet-20250219"),
    ("claude-opus-4-20250514", "claude-opus-4-20250514"),
    ("claude-opus-4-5-20251101", "claude-opus-4-5-20251101"),
    ("claude-opus-4-6", "claude-opus-4-6"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4-20250514"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ("claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("claude-sonnet-5", "claude-sonnet-5"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001"),
    ("claude-3-opus", "claude-3-opus-20240229"),
    ("claude-3-haiku", "claude-3-haiku-20240307"),
    ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-haiku", "claude-3-5-haiku-20241022"),
    ("claude-3-7-sonnet", "claude-3-7-sonnet-20250219"),
    ("claude-opus-4", "claude-opus-4-20250514"),
    ("claude-opus-4-0", "claude-opus-4-20250514"),
    ("claude-opus-4-5", "claude-opus-4-5-20251101"),
    ("claude-sonnet-4", "claude-sonnet-4-20250514"),
    ("claude-sonnet-4-0", "claude-sonnet-4-20250514"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
];

/// agentver's text-to-speech providers → Vapi's `voice.provider`.
pub static TTS_PROVIDERS: &[(&str, &str)] = &[
    ("elevenlabs", "11labs"),
    ("azure", "azure"),
    ("cartesia", "cartesia"),
    ("deepgram", "deepgram"),
    ("openai", "openai"),
    ("playht", "playht"),
    ("lmnt", "lmnt"),
    ("neuphonic", "neuphonic"),
    ("hume", "hume"),
    ("rime", "rime-ai"),
    ("smallest", "smallest-ai"),
    ("wellsaid", "wellsaid"),
    ("sesame", "sesame"),
    ("inworld", "inworld"),
    ("minimax", "minimax"),
    ("xai", "xai"),
    ("microsoft", "microsoft"),
    ("tavus", "tavus"),
    ("vapi", "vapi"),
    ("custom", "custom-voice"),
];

/// agentver's speech-to-text providers → Vapi's `transcriber.provider`.
pub static STT_PROVIDERS: &[(&str, &str)] = &[
    ("deepgram", "deepgram"),
    ("assemblyai", "assembly-ai"),
    ("azure", "azure"),
    ("elevenlabs", "11labs"),
    ("gladia", "gladia"),
    ("google", "google"),
    ("speechmatics", "speechmatics"),
    ("talkscriber", "talkscriber"),
    ("openai", "openai"),
    ("cartesia", "cartesia"),
    ("soniox", "soniox"),
    ("xai", "xai"),
    ("vapi", "vapi"),
    ("custom", "custom-transcriber"),
];

/// agentver's background sounds → Vapi's `backgroundSound` (its presets; a URL goes under
/// provider_options.vapi).
pub static BACKGROUND_SOUNDS: &[(&str, &str)] = &[("office", "office"), ("off", "off")];

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
    needs: &[("model", &["provider", "model"]), ("voice", &["provider", "voiceId"]), ("transcriber", &["provider"])],
    option_keys: &[],
    filled_by_platform: &[],
    render,
    import,
};

fn render(config: &Value, out: &mut Value, warnings: &mut Vec<String>) {
    if let Some(model) = map::get(config, "llm.model").and_then(Value::as_str) {
        let anthropic = map::get(config, "llm.provider").and_then(Value::as_str) == Some("anthropic");
        match ANTHROPIC_MODELS.iter().find(|(ours, _)| *ours == model) {
            _ if !anthropic => map::put(out, "model.model", Value::from(model)),
            Some((_, theirs)) => map::put(out, "model.model", Value::from(*theirs)),
            None => warnings.push(format!(
                "llm.model '{model}' has no counterpart among Vapi's Anthropic models and is left out (Vapi takes Anthropic's dated ids, such as claude-sonnet-4-20250514)"
            )),
        }
    }
    if let Some(system) = map::get(config, "prompt.system").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        map::put(out, "model.messages", json!([{ "role": "system", "content": system }]));
    }
    if let Some(inactivity) = map::get(config, "turn_taking.inactivity") {
        match inactivity_hook(inactivity) {
            Some(hook) => map::put(out, "hooks", json!([hook])),
            None => warnings.push(
                "turn_taking.inactivity has no place on Vapi without timeout_ms (its hook needs the timeout) and is left out"
                    .into(),
            ),
        }
    }
    if let Some(fields) = map::get(config, "analysis.fields").and_then(Value::as_array) {
        let props = agent::fields_to_properties(fields);
        map::put(out, "analysisPlan.structuredDataPlan.enabled", Value::Bool(true));
        map::put(out, "analysisPlan.structuredDataPlan.schema.type", Value::from("object"));
        map::put(out, "analysisPlan.structuredDataPlan.schema.properties", Value::Object(props));
    }
    agent::variable_warnings(config, "Vapi", warnings);
    if map::get(out, "model.messages").is_some() && config.pointer("/provider_options/vapi/model/messages").is_some() {
        warnings.push(
            "prompt.system is not sent: provider_options.vapi.model.messages replaces the messages it renders to"
                .into(),
        );
    }
}

fn import(rest: &mut Value, draft: &mut Value, notes: &mut Vec<String>) {
    let word = crate::format::model::schema::shape_at("llm.model");
    if let Some(model) =
        map::get(rest, "model.model").filter(|m| word.is_some_and(|s| crate::format::model::schema::accepts(s, m)))
    {
        map::put(draft, "llm.model", model.clone());
        map::take(rest, "model.model");
    }
    match map::get(rest, "model.messages").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) if only.as_object().is_some_and(|m| m.len() == 2) && only["role"] == "system" => {
            if let Some(system) = only["content"].as_str().filter(|s| !s.is_empty()) {
                map::put(draft, "prompt.system", Value::from(system));
                map::take(rest, "model.messages");
            }
        }
        Some(messages) if !messages.is_empty() => {
            // More than the one system message a typed prompt is: kept whole, and prompt.system
            // left empty, so no typed prompt pretends to be what Vapi runs (render warns if one
            // is written later while these messages stand).
            notes.push(format!(
                "model.messages holds {} messages, not one system message: kept whole under provider_options.vapi.model.messages; edit the prompt there",
                messages.len()
            ));
        }
        Some(_) => {}
        None => {}
    }
    if let Some([hook]) = map::get(rest, "hooks").and_then(Value::as_array).map(Vec::as_slice)
        && let Some(inactivity) = inactivity_of(hook)
    {
        map::put(draft, "turn_taking.inactivity", inactivity);
        map::take(rest, "hooks");
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

/// Vapi's inactivity reminder: a `customer.speech.timeout` hook that says the message. Vapi needs
/// the timeout, so without one there is no hook.
fn inactivity_hook(inactivity: &Value) -> Option<Value> {
    let seconds = Unit::Seconds.to_platform(inactivity.get("timeout_ms")?)?;
    let mut options = json!({ "timeoutSeconds": seconds });
    if let Some(count) = inactivity.get("max_reminders") {
        options["triggerMaxCount"] = count.clone();
    }
    let mut hook = json!({ "on": "customer.speech.timeout", "options": options });
    hook["do"] = match inactivity.get("message") {
        Some(message) => json!([{ "type": "say", "exact": message }]),
        None => json!([]),
    };
    Some(hook)
}

/// The reverse of [`inactivity_hook`], only for a hook it would write back exactly.
fn inactivity_of(hook: &Value) -> Option<Value> {
    let seconds = map::get(hook, "options.timeoutSeconds")?;
    let ms = Unit::Seconds.from_platform(seconds)?;
    let mut inactivity = json!({ "timeout_ms": ms });
    if let Some(count) = map::get(hook, "options.triggerMaxCount") {
        inactivity["max_reminders"] = count.clone();
    }
    if let Some([say]) = hook.get("do").and_then(Value::as_array).map(Vec::as_slice) {
        inactivity["message"] = say.get("exact")?.clone();
    }
    let fits = crate::format::model::schema::shape_at("turn_taking.inactivity")
        .is_some_and(|s| crate::format::model::schema::accepts(s, &inactivity));
    (fits && inactivity_hook(&inactivity).as_ref() == Some(hook)).then_some(inactivity)
}
