//! The field maps' machinery: each platform's table of agentver field ↔ platform field (with the
//! unit), read in both directions, and the deep merge of `provider_options`.
//!
//! A row is taken on import only when it converts back exactly (`render` of the imported value is
//! the platform's value, byte for byte as JSON) and agentver's schema accepts it; anything else
//! stays in the platform's object, which becomes `provider_options.<platform>`. So the round trip
//! `render(import(X)) == X` holds by construction, row by row.

use serde_json::{Map, Value};

use crate::format::model::schema::{self, Shape};

/// How a value converts between agentver and a platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// The same value on both sides.
    Same,
    /// agentver's milliseconds, the platform's seconds.
    Seconds,
    /// A phone number, as Vapi's list of one transfer destination `[{type: number, number}]`.
    Destination,
    /// A phone number, as ElevenLabs' list of one transfer
    /// `[{transfer_destination: {type: phone, phone_number}, condition}]`, with a fixed condition.
    PhoneTransfer,
}

/// The condition of an ElevenLabs transfer agentver renders (ElevenLabs requires one).
pub const TRANSFER_CONDITION: &str = "The caller asks to be transferred to a person.";

impl Unit {
    pub fn to_platform(self, value: &Value) -> Option<Value> {
        match self {
            Unit::Same => Some(value.clone()),
            Unit::Seconds => {
                let ms = value.as_u64()?;
                Some(if ms % 1000 == 0 { Value::from(ms / 1000) } else { Value::from(ms as f64 / 1000.0) })
            }
            Unit::Destination => Some(serde_json::json!([{ "type": "number", "number": value }])),
            Unit::PhoneTransfer => Some(serde_json::json!([{
                "transfer_destination": { "type": "phone", "phone_number": value },
                "condition": TRANSFER_CONDITION,
            }])),
        }
    }

    pub fn from_platform(self, value: &Value) -> Option<Value> {
        match self {
            Unit::Same => Some(value.clone()),
            Unit::Seconds => {
                let secs = value.as_f64().filter(|s| (0.0..=1e9).contains(s))?;
                Some(Value::from((secs * 1000.0).round() as u64))
            }
            Unit::Destination => match value.as_array()?.as_slice() {
                [only] if only.as_object()?.len() == 2 && only["type"] == "number" => Some(only.get("number")?.clone()),
                _ => None,
            },
            Unit::PhoneTransfer => match value.as_array()?.as_slice() {
                [only] if only.as_object()?.len() == 2 && only["condition"] == TRANSFER_CONDITION => {
                    let destination = only.get("transfer_destination")?.as_object()?;
                    (destination.len() == 2 && destination.get("type")? == "phone")
                        .then(|| destination.get("phone_number").cloned())?
                }
                _ => None,
            },
        }
    }

    /// The unit as the field map's documentation writes it.
    pub fn label(self) -> &'static str {
        match self {
            Unit::Same => "",
            Unit::Seconds => "ms ↔ s",
            Unit::Destination => "number ↔ [{type: number, number}]",
            Unit::PhoneTransfer => "number ↔ [{transfer_destination: {type: phone, phone_number}, condition}]",
        }
    }
}

/// One row of a platform's field map.
#[derive(Debug)]
pub enum Row {
    /// A field with a place on both sides.
    Field { agentver: &'static str, platform: &'static str, unit: Unit },
    /// A field the platform's own code maps (a list or a map with its own shape).
    Special { agentver: &'static str, platform: &'static str, note: &'static str },
    /// A field the platform does not hold but implies (import fills it in; render leaves it out,
    /// and warns when it disagrees with what the platform would infer).
    Inferred { agentver: &'static str, note: &'static str },
    /// A field with no place on the platform: render leaves it out with a warning.
    Missing { agentver: &'static str, note: &'static str },
    /// A field whose values the platform names its own way (agentver's value, the platform's):
    /// render maps a known value and leaves any other out with a warning; import maps back the
    /// first row naming the platform's value and leaves any other with the platform's options.
    Values { agentver: &'static str, platform: &'static str, values: &'static [(&'static str, &'static str)] },
    /// A field the platform takes from a closed set of the same names: render sends a value in
    /// the set and leaves any other out with a warning; import takes one in the set.
    OneOf { agentver: &'static str, platform: &'static str, values: &'static [&'static str] },
}

pub const fn same(agentver: &'static str, platform: &'static str) -> Row {
    Row::Field { agentver, platform, unit: Unit::Same }
}

pub const fn seconds(agentver: &'static str, platform: &'static str) -> Row {
    Row::Field { agentver, platform, unit: Unit::Seconds }
}

impl Row {
    pub fn agentver(&self) -> &'static str {
        match self {
            Row::Field { agentver, .. }
            | Row::Special { agentver, .. }
            | Row::Inferred { agentver, .. }
            | Row::Missing { agentver, .. }
            | Row::Values { agentver, .. }
            | Row::OneOf { agentver, .. } => agentver,
        }
    }
}

/// The value at a dotted path, through objects only.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.as_object()?.get(key))
}

/// Sets the value at a dotted path, making the objects on the way (a non-object on the way is
/// replaced: render builds its output from nothing, so there is none).
pub fn put(target: &mut Value, path: &str, value: Value) {
    let mut at = target;
    let mut parts = path.split('.').peekable();
    while let Some(key) = parts.next() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let map = at.as_object_mut().expect("made an object");
        if parts.peek().is_none() {
            map.insert(key.to_owned(), value);
            return;
        }
        at = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Removes the value at a dotted path; an object that this leaves empty goes too (render makes
/// it again from the typed field), while one that was empty before stays.
pub fn take(target: &mut Value, path: &str) -> Option<Value> {
    match path.split_once('.') {
        None => target.as_object_mut()?.shift_remove(path),
        Some((key, rest)) => {
            let map = target.as_object_mut()?;
            let taken = take(map.get_mut(key)?, rest)?;
            if map.get(key).is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
                map.shift_remove(key);
            }
            Some(taken)
        }
    }
}

/// `provider_options.<platform>` over a rendered object: an object merges key by key, anything
/// else replaces.
pub fn merge(base: &mut Value, over: &Value) {
    match (base.as_object_mut(), over.as_object()) {
        (Some(base), Some(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// Render: every `Field` row whose agentver field is set, converted into the platform's place.
pub fn render_fields(rows: &[Row], from: &Value, out: &mut Value) {
    for row in rows {
        if let Row::Field { agentver, platform, unit } = row
            && let Some(value) = get(from, agentver).and_then(|v| unit.to_platform(v))
        {
            put(out, platform, value);
        }
    }
}

/// Import: every `Field` row whose platform value converts back exactly and fits agentver's
/// schema moves from `rest` into `into`.
pub fn import_fields(rows: &[Row], rest: &mut Value, into: &mut Value, shape: fn(&str) -> Option<&'static Shape>) {
    for row in rows {
        let Row::Field { agentver, platform, unit } = row else { continue };
        let Some(theirs) = get(rest, platform).filter(|v| !v.is_null()) else { continue };
        let Some(ours) = unit.from_platform(theirs) else { continue };
        let exact = unit.to_platform(&ours).as_ref() == Some(theirs);
        if exact && shape(agentver).is_some_and(|s| schema::accepts(s, &ours)) {
            take(rest, platform);
            put(into, agentver, ours);
        }
    }
}

/// Render of the `Values` rows: each set value the platform names, or a warning naming the value.
pub fn render_values(rows: &[Row], from: &Value, out: &mut Value, platform: &str, warnings: &mut Vec<String>) {
    for row in rows {
        let (agentver, path, theirs, known) = match row {
            Row::Values { agentver, platform, values } => {
                let ours = get(from, agentver).and_then(Value::as_str);
                (*agentver, *platform, values.iter().find(|(a, _)| Some(*a) == ours).map(|(_, t)| *t), values.len())
            }
            Row::OneOf { agentver, platform, values } => {
                let ours = get(from, agentver).and_then(Value::as_str);
                (*agentver, *platform, values.iter().copied().find(|v| Some(*v) == ours), values.len())
            }
            _ => continue,
        };
        let Some(ours) = get(from, agentver).filter(|v| !v.is_null()) else { continue };
        match theirs {
            Some(theirs) => put(out, path, Value::from(theirs)),
            None => warnings.push(format!(
                "{agentver} '{}' has no counterpart on {platform} and is left out ({platform} takes one of {known} values; docs/platforms.md's field map lists them)",
                ours.as_str().unwrap_or_default(),
            )),
        }
    }
}

/// Import of the `Values` and `OneOf` rows: a platform value some row names becomes agentver's.
pub fn import_values(rows: &[Row], rest: &mut Value, into: &mut Value) {
    for row in rows {
        let (agentver, platform, ours) = match row {
            Row::Values { agentver, platform, values } => {
                let theirs = get(rest, platform).and_then(Value::as_str);
                (*agentver, *platform, values.iter().find(|(_, t)| Some(*t) == theirs).map(|(a, _)| *a))
            }
            Row::OneOf { agentver, platform, values } => {
                let theirs = get(rest, platform).and_then(Value::as_str);
                (*agentver, *platform, values.iter().copied().find(|v| Some(*v) == theirs))
            }
            _ => continue,
        };
        if let Some(ours) = ours {
            take(rest, platform);
            put(into, agentver, Value::from(ours));
        }
    }
}

/// The warnings render owes for set fields that the platform has no place for.
pub fn missing_warnings(rows: &[Row], config: &Value, platform: &str, warnings: &mut Vec<String>) {
    for row in rows {
        if let Row::Missing { agentver, note } = row
            && get(config, agentver).is_some_and(|v| !v.is_null())
        {
            warnings.push(format!("{agentver} has no place on {platform} and is left out: {note}"));
        }
    }
}

/// A tool type's map on a platform: the agentver type, the platform's constant fields that
/// identify it, and its rows. `requires` lists platform paths that must be present to match.
#[derive(Debug)]
pub struct ToolKind {
    pub agentver: &'static str,
    pub constants: &'static [(&'static str, &'static str)],
    pub requires: &'static [&'static str],
    pub rows: &'static [Row],
}

impl ToolKind {
    fn matches(&self, tool: &Value) -> bool {
        self.constants.iter().all(|(path, value)| get(tool, path).and_then(Value::as_str) == Some(value))
            && self.requires.iter().all(|path| get(tool, path).is_some_and(|v| !v.is_null()))
            && self.rows.iter().all(|row| match row {
                // Every path that names the platform's own fields must hold an object on the way.
                Row::Field { platform, .. } => platform.split('.').count() == 1 || parent_is_object(tool, platform),
                _ => true,
            })
    }

    /// The platform's tool object for an agentver tool (before its `provider_options`).
    pub fn render(&self, tool: &Value) -> Value {
        let mut out = Value::Object(Map::new());
        for (path, value) in self.constants {
            put(&mut out, path, Value::from(*value));
        }
        render_fields(self.rows, tool, &mut out);
        out
    }
}

fn parent_is_object(tool: &Value, path: &str) -> bool {
    let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
    parent.is_empty() || get(tool, parent).is_none_or(Value::is_object)
}

/// Import of one platform tool: the first kind that matches, the agentver tool it becomes (its
/// `name` possibly `None` when the platform object has none that fits) and what is left of the
/// platform object. `None` when no kind matches or a field the type needs does not fit.
pub fn import_tool(kinds: &[ToolKind], tool: &Value) -> Option<(Value, Value)> {
    let kind = kinds.iter().find(|k| k.matches(tool))?;
    let mut rest = tool.clone();
    for (path, _) in kind.constants {
        take(&mut rest, path);
    }
    let mut ours = Value::Object(Map::new());
    put(&mut ours, "type", Value::from(kind.agentver));
    import_fields(kind.rows, &mut rest, &mut ours, schema::tool_shape_at);
    let needed = match kind.agentver {
        "webhook" => Some("url"),
        "transfer_call" => Some("number"),
        _ => None,
    };
    if needed.is_some_and(|field| get(&ours, field).is_none()) {
        return None;
    }
    Some((ours, rest))
}

/// Whether a value is an object with nothing in it (or not there at all).
pub fn is_empty(value: &Value) -> bool {
    value.is_null() || value.as_object().is_some_and(Map::is_empty)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn seconds_convert_exactly_or_not_at_all() {
        assert_eq!(Unit::Seconds.from_platform(&json!(7.5)), Some(json!(7500)));
        assert_eq!(Unit::Seconds.to_platform(&json!(7500)), Some(json!(7.5)));
        assert_eq!(Unit::Seconds.to_platform(&json!(30000)), Some(json!(30)));
        assert_eq!(Unit::Seconds.from_platform(&json!(-1)), None);
        // 30.0 comes back as 30: not exact, so import leaves it with the platform's options.
        let mut rest = json!({"a": {"t": 30.0}});
        let mut into = json!({});
        let rows = [seconds("turn_taking.silence_timeout_ms", "a.t")];
        import_fields(&rows, &mut rest, &mut into, schema::shape_at);
        assert_eq!(into, json!({}));
        let mut rest = json!({"a": {"t": 8}, "b": {}});
        import_fields(&rows, &mut rest, &mut into, schema::shape_at);
        assert_eq!(into, json!({"turn_taking": {"silence_timeout_ms": 8000}}));
        assert_eq!(rest, json!({"b": {}}), "the emptied object goes, the empty one stays");
    }

    #[test]
    fn merge_is_deep_for_objects_and_replaces_the_rest() {
        let mut base = json!({"a": {"x": 1, "y": [1, 2]}, "b": 1});
        merge(&mut base, &json!({"a": {"y": [3], "z": null}, "c": 2}));
        assert_eq!(base, json!({"a": {"x": 1, "y": [3], "z": null}, "b": 1, "c": 2}));
    }

    #[test]
    fn values_out_of_agentver_range_stay_with_the_platform() {
        let mut rest = json!({"t": 3.5, "m": -1});
        let mut into = json!({});
        import_fields(
            &[same("llm.temperature", "t"), same("llm.max_tokens", "m")],
            &mut rest,
            &mut into,
            schema::shape_at,
        );
        assert_eq!(rest, json!({"t": 3.5, "m": -1}));
    }
}
