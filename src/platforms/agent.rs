//! Render and import, the same for every platform: a platform's [`Spec`] (its field map, tool
//! kinds, read-only fields and the code for its special rows) drives both directions, and
//! `provider_options.<platform>` carries whatever has no typed place, so nothing is lost.

use serde_json::{Map, Value};

use super::Platform;
use super::map::{self, Row, ToolKind};
use crate::format::model::schema::{self, AGENT, Field, Shape};
use crate::names::id::slug;

/// What a platform contributes to render and import.
pub struct Spec {
    pub platform: Platform,
    pub rows: &'static [Row],
    /// Where the platform keeps an agent's tools (a list of tool objects).
    pub tools_at: &'static str,
    pub tool_kinds: &'static [ToolKind],
    /// Fields the platform sets itself (ids, timestamps, flags): import drops and lists them,
    /// the drift check ignores them.
    pub read_only: &'static [&'static str],
    /// Objects the platform refuses without some of their keys (Vapi's `voice` without
    /// `provider` and `voiceId`): render leaves such an object out whole, with a warning.
    pub needs: &'static [(&'static str, &'static [&'static str])],
    /// The keys `provider_options.<platform>` may have at its top, when the render is a bundle of
    /// objects (Retell's `agent` and `llm`); empty when any key may.
    pub option_keys: &'static [&'static str],
    /// Fields the platform fills in itself or that agentver derives (Retell's
    /// `response_engine`): the drift check ignores them where render sends none.
    pub filled_by_platform: &'static [&'static str],
    /// Render of the `Special` rows.
    pub render: fn(&Value, &mut Value, &mut Vec<String>),
    /// Import of the `Special` rows and the `Inferred` ones: (what is left, the draft, notes).
    pub import: fn(&mut Value, &mut Value, &mut Vec<String>),
}

/// A version as the platform's object.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub object: Value,
    /// One line per typed field that has no place on the platform.
    pub warnings: Vec<String>,
}

/// A platform object as a draft and its tools.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The agent file's content, in the schema's field order.
    pub draft: Value,
    /// Tool definitions for `tools/<name>.yaml`, each with its `name`.
    pub tools: Vec<Value>,
    /// The read-only fields dropped, by path.
    pub read_only: Vec<String>,
    /// Required fields the object lacks, filled in (by path, with what was written).
    pub filled: Vec<String>,
    /// What else a reader should know (a field copied rather than moved, tools kept whole).
    pub notes: Vec<String>,
}

/// Renders a resolved configuration (what `show --json` calls `config`).
pub fn render(spec: &Spec, config: &Value) -> Rendered {
    // An empty system prompt is none (what import writes for an object without one): no
    // platform is sent an empty prompt.
    let without_prompt;
    let config = if map::get(config, "prompt.system").and_then(Value::as_str) == Some("") {
        without_prompt = {
            let mut c = config.clone();
            map::take(&mut c, "prompt.system");
            c
        };
        &without_prompt
    } else {
        config
    };
    let mut out = Value::Object(Map::new());
    let mut warnings = Vec::new();
    let title = spec.platform.title();
    map::render_fields(spec.rows, config, &mut out);
    map::render_values(spec.rows, config, &mut out, title, &mut warnings);
    (spec.render)(config, &mut out, &mut warnings);
    map::missing_warnings(spec.rows, config, title, &mut warnings);
    if let Some(tools) = config.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty()) {
        let rendered: Vec<Value> = tools.iter().filter_map(|t| render_tool(spec, t, &mut warnings)).collect();
        if !rendered.is_empty() {
            map::put(&mut out, spec.tools_at, Value::Array(rendered));
        }
    }
    if config.get("workflow").is_some_and(|w| !w.is_null()) {
        warnings.push(format!(
            "workflow has no place on {} and is left out: its graph is agentver's own",
            spec.platform.title()
        ));
    }
    if let Some(options) = config.pointer(&format!("/provider_options/{}", spec.platform.name())) {
        map::merge(&mut out, &placed_options(spec, options, &mut warnings));
    }
    drop_incomplete(spec, config, &mut out, &mut warnings);
    Rendered { object: out, warnings }
}

/// `provider_options.<platform>` less the top keys the render has no place for (Retell's options
/// go under `agent` or `llm`), each named in a warning.
fn placed_options(spec: &Spec, options: &Value, warnings: &mut Vec<String>) -> Value {
    let (Some(map), false) = (options.as_object(), spec.option_keys.is_empty()) else { return options.clone() };
    let mut placed = map.clone();
    placed.retain(|key, _| {
        let known = spec.option_keys.contains(&key.as_str());
        if !known {
            warnings.push(format!(
                "provider_options.{}.{key} is left out: {} options go under {}",
                spec.platform.name(),
                spec.platform.title(),
                spec.option_keys.join(" or ")
            ));
        }
        known
    });
    Value::Object(placed)
}

/// The platform path a row writes to, for rows that write one.
fn platform_path(row: &Row) -> Option<&'static str> {
    match row {
        Row::Field { platform, .. }
        | Row::Special { platform, .. }
        | Row::Values { platform, .. }
        | Row::OneOf { platform, .. } => Some(platform),
        Row::Inferred { .. } | Row::Missing { .. } => None,
    }
}

/// Leaves out each object the platform would refuse for a missing key (one whose value had no
/// counterpart, say), naming the agentver fields that go with it and what it lacks.
fn drop_incomplete(spec: &Spec, config: &Value, out: &mut Value, warnings: &mut Vec<String>) {
    let name = |platform: &str| {
        spec.rows
            .iter()
            .find(|r| platform_path(r) == Some(platform))
            .map_or(platform.to_owned(), |r| r.agentver().to_owned())
    };
    for (object, keys) in spec.needs {
        let Some(found) = map::get(out, object) else { continue };
        let lacking: Vec<String> = keys
            .iter()
            .filter(|k| found.get(**k).is_none_or(Value::is_null))
            .map(|k| name(&format!("{object}.{k}")))
            .collect();
        if lacking.is_empty() {
            continue;
        }
        map::take(out, object);
        let inside = format!("{object}.");
        let mut lost: Vec<&str> = spec
            .rows
            .iter()
            .filter(|r| platform_path(r).is_some_and(|p| p == *object || p.starts_with(&inside)))
            .map(Row::agentver)
            .filter(|field| map::get(config, field).is_some_and(|v| !v.is_null()))
            .collect();
        lost.dedup();
        let lost = if lost.is_empty() {
            format!("provider_options.{}.{object}", spec.platform.name())
        } else {
            lost.join(", ")
        };
        warnings.push(format!(
            "{lost} left out: {} refuses its {object} without {}",
            spec.platform.title(),
            lacking.join(" and ")
        ));
    }
}

/// The platform's object for one tool, or `None` (with a warning) for a kind the platform has
/// no counterpart for: never an empty object the platform would refuse.
fn render_tool(spec: &Spec, tool: &Value, warnings: &mut Vec<String>) -> Option<Value> {
    let kind_name = tool.get("type").and_then(Value::as_str).unwrap_or_default();
    let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
    let options = tool.pointer(&format!("/provider_options/{}", spec.platform.name()));
    let mut out = match spec.tool_kinds.iter().find(|k| k.agentver == kind_name) {
        Some(kind) => {
            for row in kind.rows {
                if let Row::Missing { agentver, note } = row
                    && tool.get(agentver).is_some_and(|v| !v.is_null())
                {
                    warnings.push(format!(
                        "tools[{name}].{agentver} has no place on {} and is left out: {note}",
                        spec.platform.title()
                    ));
                }
            }
            kind.render(tool)
        }
        None if options.is_some() => Value::Object(Map::new()),
        None => {
            warnings.push(format!(
                "tools[{name}]: a {kind_name} tool has no counterpart on {} and is left out; give its object under the tool's provider_options.{}",
                spec.platform.title(),
                spec.platform.name()
            ));
            return None;
        }
    };
    if let Some(options) = options {
        map::merge(&mut out, options);
    }
    Some(out)
}

/// Imports a platform object as the draft of agent `id` (also its name when the object has
/// none). `taken` says whether a tool file of that name holds another tool.
pub fn import(spec: &Spec, object: &Value, id: &str, taken: Taken<'_>) -> Imported {
    let mut rest = object.clone();
    let read_only =
        spec.read_only.iter().filter(|p| map::take(&mut rest, p).is_some()).map(|p| p.to_string()).collect();
    let mut draft = Value::Object(Map::new());
    let mut notes = Vec::new();
    map::import_fields(spec.rows, &mut rest, &mut draft, schema::shape_at);
    map::import_values(spec.rows, &mut rest, &mut draft);
    (spec.import)(&mut rest, &mut draft, &mut notes);
    let required = [
        ("llm", "model"),
        ("llm", "provider"),
        ("speech.tts", "provider"),
        ("speech.stt", "provider"),
        ("background_sound", "preset"),
    ];
    for (object, key) in required {
        if map::get(&draft, object).is_some() && map::get(&draft, &format!("{object}.{key}")).is_none() {
            give_back(spec.rows, &mut draft, &mut rest, object);
        }
    }
    let ctx = ToolImport { spec, agent: id, taken };
    let tools = import_tools(&ctx, &mut rest, &mut draft, &mut notes);
    let filled = fill_required(&mut draft, id);
    if !map::is_empty(&rest) {
        map::put(&mut draft, &format!("provider_options.{}", spec.platform.name()), rest);
    }
    Imported { draft: canonical(draft, AGENT), tools, read_only, filled, notes }
}

/// Whether a tool file of this name already holds another tool (so an import must pick
/// another name, never overwrite it).
pub type Taken<'a> = &'a dyn Fn(&Value) -> bool;

struct ToolImport<'a> {
    spec: &'a Spec,
    agent: &'a str,
    taken: Taken<'a>,
}

fn import_tools(ctx: &ToolImport<'_>, rest: &mut Value, draft: &mut Value, notes: &mut Vec<String>) -> Vec<Value> {
    let spec = ctx.spec;
    let Some(list) = map::get(rest, spec.tools_at).and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return Vec::new();
    };
    let mut tools: Vec<Value> = Vec::new();
    for (i, theirs) in list.iter().enumerate() {
        let (ours, left) = match map::import_tool(spec.tool_kinds, theirs) {
            Some(found) => found,
            // A tool agentver has no type for: a function tool whose provider_options hold it
            // whole, when that renders back to exactly it.
            None => (serde_json::json!({ "type": "function" }), theirs.clone()),
        };
        let tool = name_tool(ctx, ours, left, theirs, &tools);
        if render_tool(spec, &tool, &mut Vec::new()).as_ref() != Some(theirs) {
            notes.push(format!(
                "{}[{i}] has no agentver tool type: the platform's tool list is kept whole under provider_options.{}",
                spec.tools_at,
                spec.platform.name()
            ));
            return Vec::new();
        }
        if map::import_tool(spec.tool_kinds, theirs).is_none() {
            let kind = theirs.get("type").and_then(Value::as_str).unwrap_or("untyped");
            notes.push(format!(
                "tools[{}]: a {} '{kind}' tool has no agentver type: imported as a function tool whose provider_options.{} hold it whole",
                tool["name"].as_str().unwrap_or_default(),
                spec.platform.title(),
                spec.platform.name()
            ));
        }
        tools.push(tool);
    }
    map::take(rest, spec.tools_at);
    let names = tools.iter().map(|t| t["name"].clone()).collect();
    map::put(draft, "tools", Value::Array(names));
    tools
}

/// Names an imported tool: a valid file stem, unique among the agent's tools and not the name of
/// another tool's file (then `<agent>-<name>`, then a number). When the name differs from the
/// platform's, the platform's stays in the tool's `provider_options`, which render merges back.
fn name_tool(ctx: &ToolImport<'_>, ours: Value, left: Value, theirs: &Value, done: &[Value]) -> Value {
    let kind = ctx.spec.tool_kinds.iter().find(|k| Some(k.agentver) == ours["type"].as_str());
    let name_path = kind.and_then(|k| {
        k.rows.iter().find_map(|r| match r {
            Row::Field { agentver: "name", platform, .. } => Some(*platform),
            _ => None,
        })
    });
    let label = ["name", "function.name"].iter().find_map(|p| map::get(theirs, p)?.as_str());
    let base = ours["name"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| label.and_then(|l| if crate::names::id::is_valid_id(l) { Some(l.to_owned()) } else { slug(l) }))
        .unwrap_or_else(|| ours["type"].as_str().unwrap_or("tool").to_owned());
    let short = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let candidates = std::iter::once(base.clone())
        .chain(std::iter::once(format!("{}-{}", short(ctx.agent, 30), short(&base, 32))))
        .chain((2..).map(|n| format!("{}-{}-{n}", short(ctx.agent, 26), short(&base, 30))));
    for name in candidates {
        let mut left = left.clone();
        let mut tool = ours.clone();
        if ours.get("name").is_some_and(|v| v != name.as_str())
            && let Some(path) = name_path
        {
            map::put(&mut left, path, Value::from(base.as_str()));
        }
        map::put(&mut tool, "name", Value::from(name.as_str()));
        if !map::is_empty(&left) {
            map::put(&mut tool, &format!("provider_options.{}", ctx.spec.platform.name()), left);
        }
        let tool = canonical(tool, schema::TOOL);
        if !done.iter().any(|t| t["name"] == name.as_str()) && !(ctx.taken)(&tool) {
            return tool;
        }
    }
    unreachable!("the numbered names never run out")
}

/// Moves an object's imported fields back to the platform's object: they cannot stand without
/// the object's required field, which the platform object lacks (a volume without a sound).
fn give_back(rows: &[Row], draft: &mut Value, rest: &mut Value, object: &str) {
    let prefix = format!("{object}.");
    for row in rows {
        if let Row::Field { agentver, platform, unit } = row
            && agentver.starts_with(&prefix)
            && let Some(value) = map::take(draft, agentver)
            && let Some(theirs) = unit.to_platform(&value)
        {
            map::put(rest, platform, theirs);
        }
    }
    map::take(draft, object);
}

/// Required fields a platform object may lack: filled in so the draft passes `check`, and listed.
/// Only what stands for nothing is filled (the id as the name, an empty system prompt that render
/// sends as none): never a value the platform would then be sent, such as an invented model.
fn fill_required(draft: &mut Value, fallback_name: &str) -> Vec<String> {
    let mut filled = Vec::new();
    let fill = |draft: &mut Value, filled: &mut Vec<String>, path: &str, value: &str| {
        if map::get(draft, path).is_none() {
            map::put(draft, path, Value::from(value));
            filled.push(format!("{path} = {value:?}"));
        }
    };
    fill(draft, &mut filled, "name", fallback_name);
    if map::get(draft, "workflow").is_none() && map::get(draft, "prompt.system").is_none() {
        // An empty system prompt is none: render sends no system prompt for it.
        map::put(draft, "prompt.system", Value::from(""));
    }
    filled
}

/// Keys in the schema's order (what a reader expects to find where), then the others as found.
pub fn canonical(value: Value, fields: &'static [Field]) -> Value {
    let Value::Object(mut map) = value else { return value };
    let mut out = Map::new();
    for field in fields {
        if let Some(v) = map.shift_remove(field.name) {
            let v = match &field.shape {
                Shape::Object(inner) => canonical(v, inner),
                _ => v,
            };
            out.insert(field.name.to_owned(), v);
        }
    }
    out.extend(map);
    Value::Object(out)
}

/// Numbers compared by value (`0.30` is `0.3`, `1.0` is `1`), for the drift check and the tests
/// of the round trip: JSON says nothing of a number's spelling.
pub fn normalized(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            Some(f) => Value::from(f),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        other => other.clone(),
    }
}

/// Analysis fields as JSON Schema properties (`{name: {type, description, enum}}`), which Vapi's
/// structured data and ElevenLabs' data collection both use.
pub fn fields_to_properties(fields: &[Value]) -> Map<String, Value> {
    let mut props = Map::new();
    for f in fields {
        let Some(name) = f.get("name").and_then(Value::as_str) else { continue };
        let kind = f.get("type").and_then(Value::as_str).unwrap_or("string");
        let mut p = Map::new();
        p.insert("type".into(), Value::from(if kind == "enum" { "string" } else { kind }));
        if let Some(d) = f.get("description") {
            p.insert("description".into(), d.clone());
        }
        if kind == "enum"
            && let Some(values) = f.get("values")
        {
            p.insert("enum".into(), values.clone());
        }
        props.insert(name.to_owned(), Value::Object(p));
    }
    props
}

/// The reverse of [`fields_to_properties`], only when every property converts back exactly.
pub fn properties_to_fields(props: &Value) -> Option<Vec<Value>> {
    let props = props.as_object()?;
    let mut fields = Vec::new();
    for (name, p) in props {
        let p = p.as_object()?;
        if name.trim().is_empty() || p.keys().any(|k| !matches!(k.as_str(), "type" | "description" | "enum")) {
            return None;
        }
        let kind = p.get("type")?.as_str().filter(|t| matches!(*t, "string" | "number" | "boolean"))?;
        let mut f = Map::new();
        f.insert("name".into(), Value::from(name.as_str()));
        match p.get("enum") {
            Some(values) if kind == "string" && words(values) => {
                f.insert("type".into(), Value::from("enum"));
                f.insert("values".into(), values.clone());
            }
            Some(_) => return None,
            None => {
                f.insert("type".into(), Value::from(kind));
            }
        }
        if let Some(d) = p.get("description") {
            f.insert("description".into(), Value::from(d.as_str()?));
        }
        fields.push(canonical(Value::Object(f), schema::ANALYSIS_FIELD));
    }
    (!fields.is_empty()).then_some(fields)
}

/// A non-empty list of non-empty strings.
pub fn words(values: &Value) -> bool {
    values
        .as_array()
        .is_some_and(|v| !v.is_empty() && v.iter().all(|s| s.as_str().is_some_and(|s| !s.trim().is_empty())))
}

/// Variables' defaults as the platforms' flat maps (`{name: value}`); `strings` when the
/// platform takes strings only.
pub fn variable_defaults(config: &Value, strings: bool) -> Option<Map<String, Value>> {
    let vars = config.get("variables")?.as_object()?;
    let out: Map<String, Value> = vars
        .iter()
        .filter_map(|(name, v)| {
            let default = v.get("default")?;
            let value = match default {
                Value::String(_) => default.clone(),
                other if strings => Value::from(other.to_string()),
                other => other.clone(),
            };
            Some((name.clone(), value))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// The reverse of [`variable_defaults`], when every name is an identifier and every value one
/// agentver holds (a string, or with `strings` false a number or boolean too).
pub fn defaults_to_variables(map: &Value, strings: bool) -> Option<Value> {
    let map = map.as_object().filter(|m| !m.is_empty())?;
    let mut vars = Map::new();
    for (name, value) in map {
        let ok = value.is_string() || (!strings && (value.is_number() || value.is_boolean()));
        if !ok || !crate::format::model::validate::is_identifier(name) {
            return None;
        }
        vars.insert(name.clone(), serde_json::json!({ "default": value }));
    }
    Some(Value::Object(vars))
}

/// Warnings for variable descriptions, which no platform keeps.
pub fn variable_warnings(config: &Value, platform: &str, warnings: &mut Vec<String>) {
    let described = config
        .get("variables")
        .and_then(Value::as_object)
        .is_some_and(|vars| vars.values().any(|v| v.get("description").is_some()));
    if described {
        warnings.push(format!("variables.*.description has no place on {platform} and is left out"));
    }
}

/// The LLM provider a model name implies, for platforms that name only the model.
pub fn provider_of_model(model: &str) -> &'static str {
    let m = model.to_ascii_lowercase();
    if m.starts_with("gpt") || m.starts_with("o1") || m.starts_with("o3") || m.starts_with("o4") {
        "openai"
    } else if m.starts_with("claude") {
        "anthropic"
    } else if m.starts_with("gemini") {
        "google"
    } else if m.starts_with("llama") || m.starts_with("meta") {
        "meta"
    } else {
        "custom"
    }
}

/// Import's implied fields, for platforms that name only the model and the voice: the LLM
/// provider from the model, and the voice's provider (`tts`) when there is a voice.
pub fn infer_providers(draft: &mut Value, tts: impl FnOnce(&str) -> &'static str) {
    if let Some(model) = map::get(draft, "llm.model").and_then(Value::as_str) {
        let provider = provider_of_model(model);
        map::put(draft, "llm.provider", Value::from(provider));
    }
    if map::get(draft, "speech.tts").is_some() {
        let provider = tts(map::get(draft, "speech.tts.voice_id").and_then(Value::as_str).unwrap_or_default());
        map::put(draft, "speech.tts.provider", Value::from(provider));
    }
}

/// Warns when a typed value that the platform does not hold disagrees with what it implies.
pub fn inferred_warning(config: &Value, path: &str, implied: Option<&str>, platform: &str, warnings: &mut Vec<String>) {
    if let (Some(ours), Some(implied)) = (map::get(config, path).and_then(Value::as_str), implied)
        && ours != implied
    {
        warnings.push(format!(
            "{path} '{ours}' has no place on {platform}, which implies '{implied}' from the other fields"
        ));
    }
}

/// The platform's field map as docs/platforms.md prints it: one row per agentver field, then the tool
/// types. Written from the same tables render and import run on, and checked against that page.
pub fn field_map_markdown(spec: &Spec) -> String {
    let title = spec.platform.title();
    let mut out = format!("| agentver | {title} | notes |\n|---|---|---|\n");
    for row in spec.rows {
        let line = match row {
            Row::Field { agentver, platform, unit } => format!("| `{agentver}` | `{platform}` | {} |", unit.label()),
            Row::Special { agentver, platform, note } => format!("| `{agentver}` | `{platform}` | {note} |"),
            Row::Inferred { agentver, note } => format!("| `{agentver}` | (implied) | {note} |"),
            Row::Missing { agentver, note } => format!("| `{agentver}` | none | {note}; render warns |"),
            Row::Values { agentver, platform, values } => {
                let pairs: Vec<String> = values
                    .iter()
                    .map(|(a, t)| if a == t { format!("`{a}`") } else { format!("`{a}` → `{t}`") })
                    .collect();
                format!(
                    "| `{agentver}` | `{platform}` | values: {}; any other is left out, render warns |",
                    pairs.join(", ")
                )
            }
            Row::OneOf { agentver, platform, values } => format!(
                "| `{agentver}` | `{platform}` | one of {} values: {}; any other is left out, render warns |",
                values.len(),
                values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let base = spec.tools_at;
    for kind in spec.tool_kinds {
        let constants: Vec<String> = kind.constants.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let fields: Vec<String> = kind
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Field { agentver, platform, .. } => Some(format!("{agentver} → {platform}")),
                _ => None,
            })
            .collect();
        out.push_str(&format!(
            "| tool `{}` | `{base}[]` with `{}` | {} |\n",
            kind.agentver,
            constants.join(", "),
            fields.join(", ")
        ));
    }
    out
}
