//! Retell's agent and its Retell LLM, rendered and imported together as `{"agent", "llm"}` (the
//! bodies of `create-agent` and `create-retell-llm`), and their field map. Retell counts time
//! in milliseconds, as agentver does.

use serde_json::{Map, Value, json};

use crate::platforms::Platform;
use crate::platforms::agent::{self, Spec};
use crate::platforms::map::{self, Row, ToolKind, same};

/// agentver field → Retell field (`agent.*` on the agent, `llm.*` on its Retell LLM). Checked
/// against retell-python-sdk's `AgentCreateParams` and `LlmCreateParams`.
pub static ROWS: &[Row] = &[
    same("name", "agent.agent_name"),
    Row::Missing { agentver: "description", note: "a Retell agent has no description" },
    Row::Inferred { agentver: "llm.provider", note: "Retell names the model only; import infers the provider from it" },
    Row::Values { agentver: "llm.model", platform: "llm.model", values: MODELS },
    same("llm.temperature", "llm.model_temperature"),
    Row::Missing { agentver: "llm.max_tokens", note: "Retell has no reply length limit" },
    same("prompt.system", "llm.general_prompt"),
    same("prompt.welcome_message", "llm.begin_message"),
    Row::Special {
        agentver: "variables",
        platform: "llm.default_dynamic_variables",
        note: "defaults as strings; descriptions have no place",
    },
    Row::OneOf { agentver: "speech.language", platform: "agent.language", values: LANGUAGES },
    Row::Inferred { agentver: "speech.tts.provider", note: "Retell's voice ids name the provider (11labs-Adrian)" },
    same("speech.tts.voice_id", "agent.voice_id"),
    same("speech.tts.speed", "agent.voice_speed"),
    Row::Missing { agentver: "speech.stt.provider", note: "Retell picks its transcriber (stt_mode)" },
    Row::Missing { agentver: "speech.stt.model", note: "Retell picks its transcriber (stt_mode)" },
    Row::Missing { agentver: "turn_taking.vad_threshold", note: "Retell has no voice activity threshold" },
    same("turn_taking.interruption_sensitivity", "agent.interruption_sensitivity"),
    Row::Missing { agentver: "turn_taking.silence_timeout_ms", note: "Retell sets turn-taking by responsiveness" },
    same("turn_taking.inactivity.timeout_ms", "agent.reminder_trigger_ms"),
    Row::Missing { agentver: "turn_taking.inactivity.message", note: "Retell's reminders are written by the LLM" },
    same("turn_taking.inactivity.max_reminders", "agent.reminder_max_count"),
    Row::Values { agentver: "background_sound.preset", platform: "agent.ambient_sound", values: AMBIENT_SOUNDS },
    same("background_sound.volume", "agent.ambient_sound_volume"),
    Row::Special {
        agentver: "knowledge_bases",
        platform: "llm.knowledge_base_ids",
        note: "ids; one top_k and min_score for all as llm.kb_config.top_k and filter_score",
    },
    Row::Special {
        agentver: "tools",
        platform: "llm.general_tools",
        note: "custom, transfer_call (a cold transfer) and end_call tools; a function tool is left out, render warns",
    },
    Row::Missing { agentver: "analysis.prompt", note: "Retell's post-call analysis has no prompt" },
    Row::Special {
        agentver: "analysis.fields",
        platform: "agent.post_call_analysis_data",
        note: "string, number, boolean and enum (choices) fields",
    },
];

static END: &[Row] = &[same("name", "name"), same("description", "description")];

static TRANSFER: &[Row] =
    &[same("name", "name"), same("description", "description"), same("number", "transfer_destination.number")];

/// agentver's model ids → Retell's `llm.model` (retell-sdk's closed set): OpenAI's and Google's
/// ids are the same; Retell writes Anthropic's the other way round (`claude-4.5-haiku`).
pub static MODELS: &[(&str, &str)] = &[
    ("gpt-4.1", "gpt-4.1"),
    ("gpt-4.1-mini", "gpt-4.1-mini"),
    ("gpt-5", "gpt-5"),
    ("gpt-5-mini", "gpt-5-mini"),
    ("gpt-5-nano", "gpt-5-nano"),
    ("gpt-5.1", "gpt-5.1"),
    ("gpt-5.2", "gpt-5.2"),
    ("gpt-5.4", "gpt-5.4"),
    ("gpt-5.4-mini", "gpt-5.4-mini"),
    ("gpt-5.4-nano", "gpt-5.4-nano"),
    ("gpt-5.5", "gpt-5.5"),
    ("gpt-5.6-terra", "gpt-5.6-terra"),
    ("gpt-5.6-luna", "gpt-5.6-luna"),
    ("gpt-6-astra", "gpt-6-astra"),
    ("gpt-6-sol", "gpt-6-sol"),
    ("gpt-6.1-sol", "gpt-6.1-sol"),
    ("gpt-6-luna", "gpt-6-luna"),
    ("claude-sonnet-4-6", "claude-4.6-sonnet"),
    ("claude-opus-5", "claude-5-opus"),
    ("claude-opus-5-5", "claude-5.5-opus"),
    ("claude-sonnet-5", "claude-5-sonnet"),
    ("claude-sonnet-5-5", "claude-5.5-sonnet"),
    ("claude-haiku-5-5", "claude-5.5-haiku"),
    ("claude-haiku-4-5", "claude-4.5-haiku"),
    ("gemini-3.0-flash", "gemini-3.0-flash"),
    ("gemini-3.1-flash-lite", "gemini-3.1-flash-lite"),
    ("gemini-3.5-flash", "gemini-3.5-flash"),
    ("gemini-3.5-flash-lite", "gemini-3.5-flash-lite"),
    ("gemini-3.6-flash", "gemini-3.6-flash"),
    ("gemini-3.7-flash", "gemini-3.7-flash"),
    ("gemini-3.8-flash", "gemini-3.8-flash"),
    ("gemini-4-argon", "gemini-4-argon"),
];

/// Retell's `agent.language` (retell-sdk's closed set of locales).
pub static LANGUAGES: &[&str] = &[
    "en-US", "en-IN", "en-GB", "en-AU", "en-NZ", "de-DE", "es-ES", "es-419", "hi-IN", "fr-FR", "fr-CA", "ja-JP",
    "pt-PT", "pt-BR", "zh-CN", "ru-RU", "it-IT", "ko-KR", "nl-NL", "nl-BE", "pl-PL", "tr-TR", "vi-VN", "ro-RO",
    "bg-BG", "ca-ES", "th-TH", "da-DK", "fi-FI", "el-GR", "hu-HU", "id-ID", "no-NO", "sk-SK", "sv-SE", "lt-LT",
    "lv-LV", "cs-CZ", "ms-MY", "af-ZA", "ar-SA", "az-AZ", "bs-BA", "cy-GB", "fa-IR", "fil-PH", "gl-ES", "he-IL",
    "hr-HR", "hy-AM", "is-IS", "kk-KZ", "kn-IN", "mk-MK", "mr-IN", "ne-NP", "sl-SI", "sr-RS", "sw-KE", "ta-IN",
    "ur-IN", "yue-CN", "uk-UA",
];

/// agentver's background sounds → Retell's `agent.ambient_sound`: an office is Retell's call
/// centre; Retell's own names pass as they are.
pub static AMBIENT_SOUNDS: &[(&str, &str)] = &[
    ("office", "call-center"),
    ("call-center", "call-center"),
    ("coffee-shop", "coffee-shop"),
    ("convention-hall", "convention-hall"),
    ("summer-outdoor", "summer-outdoor"),
    ("mountain-outdoor", "mountain-outdoor"),
    ("static-noise", "static-noise"),
];

static CUSTOM: &[Row] =
    &[same("name", "name"), same("description", "description"), same("url", "url"), same("parameters", "parameters")];

/// agentver tool type → Retell LLM tool (`general_tools[]`). Retell's custom tools always call a
/// URL, so agentver's `function` tools have no counterpart.
pub static TOOLS: &[ToolKind] = &[
    ToolKind { agentver: "end_call", constants: &[("type", "end_call")], requires: &[], rows: END },
    ToolKind {
        agentver: "transfer_call",
        // Retell requires a transfer option; agentver's transfer is a cold one (a warm transfer
        // is the tool's provider_options.retell).
        constants: &[
            ("type", "transfer_call"),
            ("transfer_destination.type", "predefined"),
            ("transfer_option.type", "cold_transfer"),
        ],
        requires: &[],
        rows: TRANSFER,
    },
    ToolKind { agentver: "webhook", constants: &[("type", "custom")], requires: &["url"], rows: CUSTOM },
];

pub static SPEC: Spec = Spec {
    platform: Platform::Retell,
    rows: ROWS,
    tools_at: "llm.general_tools",
    tool_kinds: TOOLS,
    read_only: &[
        "agent.agent_id",
        "agent.version",
        "agent.is_published",
        "agent.last_modification_timestamp",
        "llm.llm_id",
        "llm.version",
        "llm.is_published",
        "llm.last_modification_timestamp",
    ],
    needs: &[],
    // The response engine names the Retell LLM by id, which only the platform knows.
    option_keys: &["agent", "llm"],
    filled_by_platform: &["agent.response_engine", "agent.voice_id"],
    render,
    import,
};

/// The TTS provider a Retell voice id names (`11labs-Adrian`, `openai-Alloy`).
pub fn voice_provider(voice_id: &str) -> &'static str {
    match voice_id.split('-').next().unwrap_or_default() {
        "11labs" => "elevenlabs",
        "openai" => "openai",
        "deepgram" => "deepgram",
        "cartesia" => "cartesia",
        "play" | "playht" => "playht",
        "minimax" => "minimax",
        _ => "retell",
    }
}

fn render(config: &Value, out: &mut Value, warnings: &mut Vec<String>) {
    if let Some(defaults) = agent::variable_defaults(config, true) {
        map::put(out, "llm.default_dynamic_variables", Value::Object(defaults));
    }
    agent::variable_warnings(config, "Retell", warnings);
    if let Some(kbs) = config.get("knowledge_bases").and_then(Value::as_array).filter(|k| !k.is_empty()) {
        map::put(out, "llm.knowledge_base_ids", kbs.iter().map(|k| k["id"].clone()).collect());
        for (ours, theirs) in [("top_k", "top_k"), ("min_score", "filter_score")] {
            let values: Vec<&Value> = kbs.iter().filter_map(|k| k.get(ours)).collect();
            match values.first() {
                Some(first) if values.len() == kbs.len() && values.iter().all(|v| v == first) => {
                    map::put(out, &format!("llm.kb_config.{theirs}"), (*first).clone());
                }
                Some(_) => warnings.push(format!(
                    "knowledge_bases.{ours}: Retell has one {theirs} for all knowledge bases, and these differ; left out"
                )),
                None => {}
            }
        }
    }
    if let Some(fields) = map::get(config, "analysis.fields").and_then(Value::as_array) {
        map::put(out, "agent.post_call_analysis_data", fields.iter().map(analysis_field).collect());
    }
    let model = map::get(config, "llm.model").and_then(Value::as_str);
    agent::inferred_warning(config, "llm.provider", model.map(agent::provider_of_model), "Retell", warnings);
    let voice = map::get(config, "speech.tts.voice_id").and_then(Value::as_str);
    agent::inferred_warning(config, "speech.tts.provider", voice.map(voice_provider), "Retell", warnings);
}

fn analysis_field(field: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), field["type"].clone());
    out.insert("name".into(), field["name"].clone());
    if let Some(d) = field.get("description") {
        out.insert("description".into(), d.clone());
    }
    if let Some(values) = field.get("values") {
        out.insert("choices".into(), values.clone());
    }
    Value::Object(out)
}

fn import(rest: &mut Value, draft: &mut Value, _notes: &mut Vec<String>) {
    if let Some(vars) =
        map::get(rest, "llm.default_dynamic_variables").and_then(|m| agent::defaults_to_variables(m, true))
    {
        map::put(draft, "variables", vars);
        map::take(rest, "llm.default_dynamic_variables");
    }
    import_knowledge_bases(rest, draft);
    if let Some(fields) = map::get(rest, "agent.post_call_analysis_data").and_then(import_analysis) {
        map::put(draft, "analysis.fields", Value::Array(fields));
        map::take(rest, "agent.post_call_analysis_data");
    }
    agent::infer_providers(draft, voice_provider);
}

fn import_knowledge_bases(rest: &mut Value, draft: &mut Value) {
    let Some(ids) = map::get(rest, "llm.knowledge_base_ids").filter(|ids| agent::words(ids)).cloned() else { return };
    let ids = ids.as_array().expect("words is a list");
    let mut unique: Vec<&Value> = ids.iter().collect();
    unique.dedup();
    if unique.len() != ids.len() {
        return;
    }
    let mut kbs: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    for (ours, theirs) in [("top_k", "top_k"), ("min_score", "filter_score")] {
        let path = format!("llm.kb_config.{theirs}");
        let fits = match map::get(rest, &path) {
            Some(v) if ours == "top_k" => v.as_u64().is_some_and(|n| (1..=100).contains(&n)),
            Some(v) => v.as_f64().is_some_and(|n| (0.0..=1.0).contains(&n)),
            None => false,
        };
        if fits {
            let value = map::take(rest, &path).expect("present");
            kbs.iter_mut().for_each(|k| k[ours] = value.clone());
        }
    }
    map::put(draft, "knowledge_bases", Value::Array(kbs));
    map::take(rest, "llm.knowledge_base_ids");
}

fn import_analysis(list: &Value) -> Option<Vec<Value>> {
    let list = list.as_array().filter(|l| !l.is_empty())?;
    let mut fields = Vec::new();
    for item in list {
        let obj = item.as_object()?;
        if obj.keys().any(|k| !matches!(k.as_str(), "type" | "name" | "description" | "choices")) {
            return None;
        }
        let kind = obj.get("type")?.as_str()?;
        let name = obj.get("name")?.as_str().filter(|n| !n.trim().is_empty())?;
        let mut f = Map::new();
        f.insert("name".into(), Value::from(name));
        f.insert("type".into(), Value::from(kind));
        if let Some(d) = obj.get("description") {
            f.insert("description".into(), Value::from(d.as_str()?));
        }
        match (kind, obj.get("choices")) {
            ("enum", Some(c)) if agent::words(c) => {
                f.insert("values".into(), c.clone());
            }
            ("string" | "number" | "boolean", None) => {}
            _ => return None,
        }
        fields.push(agent::canonical(Value::Object(f), crate::format::model::schema::ANALYSIS_FIELD));
    }
    Some(fields)
}
