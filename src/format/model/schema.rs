//! The agent and tool formats as data: one table that drives validation and `agentver schema`.
//!
//! Every field of schema v1 is declared once here with its type, range and documentation. The
//! validator in `check.rs` walks a YAML tree against these shapes; `json_schema()` renders the same
//! table as a JSON Schema for editors. Adding a field is one line, and both stay in step.

use serde_json::{Map, Value as Json, json};

/// What a value must look like.
#[derive(Debug)]
pub enum Shape {
    /// Any string, possibly multi-line (prompts, descriptions).
    Text,
    /// A non-empty string.
    Word,
    /// A name that becomes a path: `[a-z0-9][a-z0-9_-]{0,62}` (tools, workflows).
    Name,
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    Int {
        min: i64,
        max: i64,
    },
    Number {
        min: f64,
        max: f64,
    },
    Bool,
    /// A string, number or boolean (a variable's default).
    Scalar,
    /// A BCP 47 language tag such as `en-US`.
    Language,
    /// An `http://` or `https://` URL.
    Url,
    /// An E.164 phone number such as `+14155550100`.
    Phone,
    Object(&'static [Field]),
    List(&'static Shape),
    /// A mapping from user-chosen identifiers to values of one shape (`variables`).
    Dict(&'static Shape),
    /// Any mapping, kept verbatim (`provider_options`, a tool's `parameters`).
    AnyMapping,
    /// A tool name (a file under `tools/`) or an inline tool definition.
    ToolUse,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub doc: &'static str,
}

const fn field(name: &'static str, shape: Shape, doc: &'static str) -> Field {
    Field { name, shape, required: false, doc }
}

const fn required(name: &'static str, shape: Shape, doc: &'static str) -> Field {
    Field { name, shape, required: true, doc }
}

pub const TOOL_TYPES: &[&str] = &["webhook", "transfer_call", "end_call", "function"];
pub const ANALYSIS_TYPES: &[&str] = &["string", "number", "boolean", "enum"];

pub static LLM: &[Field] = &[
    required("provider", Shape::Word, "LLM provider, e.g. openai, anthropic, google"),
    required("model", Shape::Word, "model name, e.g. gpt-4o"),
    field("temperature", Shape::Number { min: 0.0, max: 2.0 }, "sampling temperature, 0 to 2"),
    field("max_tokens", Shape::Int { min: 1, max: 1_000_000 }, "most tokens in one reply"),
];

pub static PROMPT: &[Field] = &[
    field("system", Shape::Text, "the system prompt; required unless `workflow` is set"),
    field("welcome_message", Shape::Text, "first thing the agent says; may use {{variables}}"),
];

pub static VARIABLE: &[Field] = &[
    field("default", Shape::Scalar, "value used when the call supplies none"),
    field("description", Shape::Text, "what the variable holds"),
];

pub static TTS: &[Field] = &[
    required("provider", Shape::Word, "text-to-speech provider, e.g. elevenlabs, cartesia"),
    field("voice_id", Shape::Word, "the provider's voice id"),
    field("speed", Shape::Number { min: 0.25, max: 4.0 }, "speaking rate, 1.0 is normal"),
];

pub static STT: &[Field] = &[
    required("provider", Shape::Word, "speech-to-text provider, e.g. deepgram"),
    field("model", Shape::Word, "the provider's model, e.g. nova-2"),
];

pub static SPEECH: &[Field] = &[
    field("language", Shape::Language, "BCP 47 language tag, e.g. en-US"),
    field("tts", Shape::Object(TTS), "text to speech"),
    field("stt", Shape::Object(STT), "speech to text"),
];

pub static INACTIVITY: &[Field] = &[
    field("timeout_ms", Shape::Int { min: 0, max: 3_600_000 }, "silence from the caller before a reminder"),
    field("message", Shape::Text, "the reminder"),
    field("max_reminders", Shape::Int { min: 0, max: 100 }, "reminders before hanging up"),
];

pub static TURN_TAKING: &[Field] = &[
    field("vad_threshold", Shape::Number { min: 0.0, max: 1.0 }, "voice activity detection threshold, 0 to 1"),
    field("interruption_sensitivity", Shape::Number { min: 0.0, max: 1.0 }, "how easily the caller interrupts, 0 to 1"),
    field("silence_timeout_ms", Shape::Int { min: 0, max: 3_600_000 }, "silence that ends the caller's turn"),
    field("inactivity", Shape::Object(INACTIVITY), "what to do when the caller goes quiet"),
];

pub static BACKGROUND_SOUND: &[Field] = &[
    required("preset", Shape::Word, "ambient sound preset, e.g. office"),
    field("volume", Shape::Number { min: 0.0, max: 1.0 }, "0 to 1"),
];

pub static KNOWLEDGE_BASE: &[Field] = &[
    required("id", Shape::Word, "the knowledge base's id"),
    field("top_k", Shape::Int { min: 1, max: 100 }, "passages retrieved per query"),
    field("min_score", Shape::Number { min: 0.0, max: 1.0 }, "lowest similarity kept, 0 to 1"),
];

pub static ANALYSIS_FIELD: &[Field] = &[
    required("name", Shape::Word, "field name in the post-call analysis"),
    required("type", Shape::Choice(ANALYSIS_TYPES), "string, number, boolean or enum"),
    field("description", Shape::Text, "what the analysis should extract"),
    field("values", Shape::List(&Shape::Word), "the allowed values of an enum field"),
];

pub static ANALYSIS: &[Field] = &[
    field("prompt", Shape::Text, "instructions for the post-call analysis"),
    field("fields", Shape::List(&Shape::Object(ANALYSIS_FIELD)), "structured fields to extract"),
];

pub static TOOL: &[Field] = &[
    required("name", Shape::Name, "the tool's name; for a file, equal to its stem"),
    required("type", Shape::Choice(TOOL_TYPES), "webhook, transfer_call, end_call or function"),
    field("description", Shape::Text, "what the tool does, shown to the LLM"),
    field("url", Shape::Url, "endpoint of a webhook tool"),
    field("number", Shape::Phone, "E.164 number a transfer_call tool dials"),
    field("parameters", Shape::AnyMapping, "JSON Schema object of the tool's arguments"),
    field("provider_options", Shape::AnyMapping, "platform-specific settings of the tool, kept verbatim"),
];

pub static AGENT: &[Field] = &[
    required("name", Shape::Word, "display name"),
    field("description", Shape::Text, "what the agent is for"),
    field("llm", Shape::Object(LLM), "the language model; without one the platform runs its default"),
    field("prompt", Shape::Object(PROMPT), "system prompt and welcome message"),
    field("variables", Shape::Dict(&Shape::Object(VARIABLE)), "dynamic variables used as {{name}} in prompts"),
    field("speech", Shape::Object(SPEECH), "language, voice and transcriber"),
    field("turn_taking", Shape::Object(TURN_TAKING), "voice activity, interruptions, silence and inactivity"),
    field("background_sound", Shape::Object(BACKGROUND_SOUND), "ambient sound"),
    field(
        "knowledge_bases",
        Shape::List(&Shape::Object(KNOWLEDGE_BASE)),
        "linked knowledge bases with retrieval settings",
    ),
    field("tools", Shape::List(&Shape::ToolUse), "tool names (tools/<name>.yaml) or inline tool definitions"),
    field("analysis", Shape::Object(ANALYSIS), "post-call analysis"),
    field("workflow", Shape::Name, "a workflow graph, workflows/<name>.json"),
    field("provider_options", Shape::AnyMapping, "platform-specific settings, kept verbatim"),
];

/// Where else in the agent format a field of this name lives, as a dotted path.
pub fn find_field_path(name: &str) -> Option<String> {
    fn walk(fields: &'static [Field], prefix: &str, name: &str) -> Option<String> {
        for f in fields {
            let path = if prefix.is_empty() { f.name.to_owned() } else { format!("{prefix}.{}", f.name) };
            if f.name == name {
                return Some(path);
            }
            let inner = match &f.shape {
                Shape::Object(inner) => Some(*inner),
                Shape::List(Shape::Object(inner)) => Some(*inner),
                _ => None,
            };
            if let Some(found) = inner.and_then(|inner| walk(inner, &path, name)) {
                return Some(found);
            }
        }
        None
    }
    walk(AGENT, "", name)
}

/// The shape of the agent field at a dotted path (`speech.tts.voice_id`), walking objects only.
pub fn shape_at(path: &str) -> Option<&'static Shape> {
    shape_in(AGENT, path)
}

/// The shape of the tool field at a dotted path.
pub fn tool_shape_at(path: &str) -> Option<&'static Shape> {
    shape_in(TOOL, path)
}

fn shape_in(mut fields: &'static [Field], path: &str) -> Option<&'static Shape> {
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = fields.iter().find(|f| f.name == part)?;
        if parts.peek().is_none() {
            return Some(&field.shape);
        }
        let Shape::Object(inner) = &field.shape else { return None };
        fields = inner;
    }
    None
}

/// Whether a JSON value is one the validator accepts for a scalar shape (objects and lists are
/// never accepted here: their fields are checked one by one).
pub fn accepts(shape: &Shape, value: &Json) -> bool {
    let text = value.as_str();
    match shape {
        Shape::Text => text.is_some(),
        Shape::Word => text.is_some_and(|s| !s.trim().is_empty()),
        Shape::Name => text.is_some_and(|s| crate::names::id::id_problem(s).is_none()),
        Shape::Choice(values) => text.is_some_and(|s| values.contains(&s)),
        Shape::Int { min, max } => value.as_i64().is_some_and(|n| (*min..=*max).contains(&n)),
        Shape::Number { min, max } => value.as_f64().is_some_and(|n| (*min..=*max).contains(&n)),
        Shape::Bool => value.is_boolean(),
        Shape::Scalar => value.is_string() || value.is_number() || value.is_boolean(),
        Shape::Language => text.is_some_and(super::validate::is_language_tag),
        Shape::Url => text.is_some_and(|s| {
            (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace)
        }),
        Shape::Phone => text.is_some_and(crate::format::text::is_e164),
        Shape::AnyMapping => value.is_object(),
        Shape::Object(_) | Shape::List(_) | Shape::Dict(_) | Shape::ToolUse => false,
    }
}

/// The agent format as a JSON Schema (draft 2020-12), for editors: the field table, plus the
/// rules that span fields (a system prompt unless a workflow; `values` exactly for enum fields;
/// a tool's `url` and `number` by its type).
pub fn json_schema() -> Json {
    let mut schema = object_schema(AGENT);
    let map = schema.as_object_mut().expect("object");
    map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    map.insert("$id".into(), json!("https://agentver.dev/schema/agent-v1.json"));
    map.insert("title".into(), json!("agentver agent (schema v1)"));
    map.insert(
        "description".into(),
        json!("A voice agent draft, agents/<id>.yaml. `prompt.system` is required unless `workflow` is set."),
    );
    map.insert("if".into(), json!({ "not": { "required": ["workflow"] } }));
    map.insert(
        "then".into(),
        json!({ "required": ["prompt"], "properties": { "prompt": { "required": ["system"] } } }),
    );
    map.insert("$defs".into(), json!({ "tool": tool_object() }));
    let field = schema.pointer_mut("/properties/analysis/properties/fields/items").expect("analysis fields");
    field
        .as_object_mut()
        .expect("object")
        .insert("if".into(), json!({ "required": ["type"], "properties": { "type": { "const": "enum" } } }));
    field.as_object_mut().expect("object").insert("then".into(), json!({ "required": ["values"] }));
    field.as_object_mut().expect("object").insert("else".into(), json!({ "not": { "required": ["values"] } }));
    schema
}

/// A tool definition: the field table, `url` exactly for webhooks, `number` exactly for
/// transfers, and parameters of type object.
fn tool_object() -> Json {
    let mut tool = object_schema(TOOL);
    let rules = json!([
        { "if": { "properties": { "type": { "const": "webhook" } } },
          "then": { "required": ["url"] }, "else": { "not": { "required": ["url"] } } },
        { "if": { "properties": { "type": { "const": "transfer_call" } } },
          "then": { "required": ["number"] }, "else": { "not": { "required": ["number"] } } },
    ]);
    let map = tool.as_object_mut().expect("object");
    map.insert("allOf".into(), rules);
    map["properties"]["parameters"] = json!({
        "type": "object",
        "properties": { "type": { "const": "object" } },
        "description": "JSON Schema object of the tool's arguments",
    });
    tool
}

/// `tests/<name>.yaml` (`agentver test`) as a JSON Schema, for editors.
pub fn test_json_schema() -> Json {
    let mut schema = object_schema(super::test::TEST);
    let map = schema.as_object_mut().expect("object");
    map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    map.insert("$id".into(), json!("https://agentver.dev/schema/test-v1.json"));
    map.insert("title".into(), json!("agentver conversation test"));
    map.insert(
        "description".into(),
        json!("A conversation test, tests/<name>.yaml: one of agent/agents, and a scripted conversation or a simulated caller."),
    );
    map.insert(
        "allOf".into(),
        json!([
            { "oneOf": [ { "required": ["agent"] }, { "required": ["agents"] } ] },
            { "oneOf": [ { "required": ["conversation"] }, { "required": ["simulate"] } ] },
        ]),
    );
    schema
}

/// `tools/<name>.yaml` as a JSON Schema, for editors.
pub fn tool_json_schema() -> Json {
    let mut tool = tool_object();
    let map = tool.as_object_mut().expect("object");
    map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    map.insert("$id".into(), json!("https://agentver.dev/schema/tool-v1.json"));
    map.insert("title".into(), json!("agentver tool (schema v1)"));
    map.insert(
        "description".into(),
        json!("A shared tool definition, tools/<name>.yaml; `name` equals the file name."),
    );
    tool
}

fn object_schema(fields: &'static [Field]) -> Json {
    let mut properties = Map::new();
    for f in fields {
        let mut s = shape_schema(&f.shape);
        if let Some(obj) = s.as_object_mut() {
            obj.insert("description".into(), json!(f.doc));
        }
        properties.insert(f.name.into(), s);
    }
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,62}$";

fn shape_schema(shape: &Shape) -> Json {
    match shape {
        Shape::Text => json!({ "type": "string" }),
        Shape::Word => json!({ "type": "string", "pattern": "\\S" }),
        Shape::Name => json!({ "type": "string", "pattern": NAME_PATTERN }),
        Shape::Choice(values) => json!({ "type": "string", "enum": values }),
        Shape::Int { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Shape::Number { min, max } => json!({ "type": "number", "minimum": min, "maximum": max }),
        Shape::Bool => json!({ "type": "boolean" }),
        Shape::Scalar => json!({ "type": ["string", "number", "boolean"] }),
        Shape::Language => json!({ "type": "string", "pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$" }),
        Shape::Url => json!({ "type": "string", "pattern": "^https?://\\S*$" }),
        Shape::Phone => json!({ "type": "string", "pattern": "^\\+[1-9][0-9]{1,14}$" }),
        Shape::Object(fields) => object_schema(fields),
        Shape::List(item) => json!({ "type": "array", "items": shape_schema(item) }),
        Shape::Dict(value) => json!({
            "type": "object",
            "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
            "additionalProperties": shape_schema(value),
        }),
        Shape::AnyMapping => json!({ "type": "object" }),
        Shape::ToolUse => json!({
            "oneOf": [{ "type": "string", "pattern": NAME_PATTERN }, { "$ref": "#/$defs/tool" }]
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_elsewhere() {
        assert_eq!(find_field_path("temperature").as_deref(), Some("llm.temperature"));
        assert_eq!(find_field_path("voice_id").as_deref(), Some("speech.tts.voice_id"));
        assert_eq!(find_field_path("top_k").as_deref(), Some("knowledge_bases.top_k"));
        assert_eq!(find_field_path("nonsense"), None);
    }

    #[test]
    fn schema_lists_every_top_level_field() {
        let schema = json_schema();
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), AGENT.len());
        assert_eq!(schema["properties"]["llm"]["properties"]["temperature"]["maximum"], json!(2.0));
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["$defs"]["tool"]["properties"]["type"]["enum"], json!(TOOL_TYPES));
    }
}
