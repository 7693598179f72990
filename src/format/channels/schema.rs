//! channels.toml as a JSON Schema (draft 2020-12), for editors (taplo, Even Better TOML): the
//! same rules the reader in `mod.rs` applies, as far as a schema can say them (weights that sum
//! to zero and agents that do not exist are `check`'s to find).

use serde_json::{Value as Json, json};

use super::MAX_WEIGHT;

const NAME: &str = "^[a-z0-9][a-z0-9_-]{0,62}$";
/// An E.164 number, or a name of letters, digits, `_`, `.`, `:` and `-` (up to 64).
const CHANNEL: &str = "^(\\+[1-9][0-9]{1,14}|[A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$";

fn version() -> Json {
    json!({
        "description": "a version number, \"latest\" (floats) or \"draft\" (follows the draft)",
        "oneOf": [{ "type": "integer", "minimum": 1 }, { "enum": ["latest", "draft"] }]
    })
}

fn tree() -> Json {
    json!({ "type": "string", "pattern": "^[0-9a-f]{40}$", "description": "the snapshot tree a numbered version must hold" })
}

/// A numbered version may carry `tree`; `latest` and `draft` may not.
fn tree_only_when_numbered() -> Json {
    json!({ "if": { "required": ["version"], "properties": { "version": { "type": "string" } } },
            "then": { "not": { "required": ["tree"] } } })
}

pub fn json_schema() -> Json {
    let mut pin = json!({
        "type": "object", "additionalProperties": false, "required": ["agent", "version"],
        "properties": {
            "agent": { "type": "string", "pattern": NAME, "description": "the agent id" },
            "version": version(),
            "tree": tree(),
        },
    });
    merge(&mut pin, tree_only_when_numbered());
    let mut variant = json!({
        "type": "object", "additionalProperties": false, "required": ["name", "agent", "version", "weight"],
        "properties": {
            "name": { "type": "string", "pattern": NAME, "description": "the variant's name, recorded with each call" },
            "agent": { "type": "string", "pattern": NAME },
            "version": version(),
            "weight": { "type": "integer", "minimum": 0, "maximum": MAX_WEIGHT },
            "tree": tree(),
        },
    });
    merge(&mut variant, tree_only_when_numbered());
    let split = json!({
        "type": "object", "additionalProperties": false, "required": ["variants"],
        "properties": {
            "sticky": { "enum": ["caller", "call"], "description": "what keeps a call in its variant" },
            "salt": { "type": "string", "description": "the bucketing salt (default: the channel's name)" },
            "variants": { "type": "array", "minItems": 1, "items": variant },
        },
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://agentver.dev/schema/channels-v1.json",
        "title": "agentver channels.toml",
        "description": "Which configuration answers each channel: a pin, or an A/B split.",
        "type": "object", "additionalProperties": false,
        "properties": {
            "channels": {
                "type": "object",
                "propertyNames": { "pattern": CHANNEL },
                "additionalProperties": { "oneOf": [pin, split] },
            }
        },
    })
}

fn merge(into: &mut Json, extra: Json) {
    if let (Some(a), Json::Object(b)) = (into.as_object_mut(), extra) {
        a.extend(b);
    }
}
