//! Walks a YAML tree against a [`Shape`], collecting every problem with its line.

use super::schema::{Field, Shape, TOOL};
use crate::format::diagnostic::{Diagnostic, closest};
use crate::format::text::is_e164;
use crate::format::yaml::{Node, Value};
use crate::names::id::id_problem;

/// Collects diagnostics for one file.
pub struct Checker<'a> {
    pub file: &'a str,
    pub diagnostics: Vec<Diagnostic>,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

fn quoted(path: &str) -> String {
    if path.is_empty() { "the top level".to_owned() } else { format!("'{path}'") }
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a str) -> Self {
        Checker { file, diagnostics: Vec::new() }
    }

    pub fn error(&mut self, node_line: u32, col: u32, message: String, hint: Option<String>) {
        self.diagnostics
            .push(Diagnostic::error(self.file, Some(node_line), message).with_col(Some(col)).with_hint(hint));
    }

    pub fn warning(&mut self, line: u32, message: String, hint: Option<String>) {
        self.diagnostics.push(Diagnostic::warning(self.file, Some(line), message).with_hint(hint));
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    fn expected(&mut self, node: &Node, path: &str, what: &str) {
        let hint = match &node.value {
            Value::Null => Some("give the field a value or remove it".to_owned()),
            Value::Str(_) if what.contains("number") || what.contains("integer") => {
                Some("write the number without quotes".to_owned())
            }
            _ => None,
        };
        self.error(node.line, node.col, format!("{}: expected {what}, found {}", path, node.value.kind()), hint);
    }

    /// Checks `node` against the fields of an object; `top` is the schema used for "belongs under"
    /// hints (only the agent format gives them).
    pub fn object(&mut self, node: &Node, path: &str, fields: &'static [Field], agent_hints: bool) {
        let Some(entries) = node.as_map() else {
            let label = if path.is_empty() { "the file" } else { path };
            self.expected(node, label, "a mapping");
            return;
        };
        for (key, value) in entries {
            match fields.iter().find(|f| f.name == key.name) {
                Some(f) => self.value(value, &join(path, f.name), &f.shape),
                None => {
                    let mut hint =
                        closest(&key.name, fields.iter().map(|f| f.name)).map(|name| format!("did you mean '{name}'?"));
                    if hint.is_none()
                        && agent_hints
                        && let Some(elsewhere) = super::schema::find_field_path(&key.name)
                        && elsewhere != join(path, &key.name)
                    {
                        hint = Some(format!("'{}' belongs at '{elsewhere}'", key.name));
                    }
                    if hint.is_none() && key.name == "<<" {
                        hint = Some("YAML merge keys are not supported; write the fields out".to_owned());
                    }
                    let hint = hint.or_else(|| {
                        Some(format!(
                            "known fields here: {}",
                            fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                        ))
                    });
                    self.error(key.line, key.col, format!("unknown field '{}' in {}", key.name, quoted(path)), hint);
                }
            }
        }
        for f in fields.iter().filter(|f| f.required) {
            if !entries.iter().any(|(k, _)| k.name == f.name) {
                self.error(node.line, node.col, format!("missing required field '{}'", join(path, f.name)), None);
            }
        }
    }

    /// Checks `node` against `shape`: one line per kind of value, each kind's check below.
    pub fn value(&mut self, node: &Node, path: &str, shape: &'static Shape) {
        match shape {
            Shape::Text => self.text(node, path),
            Shape::Word => self.word(node, path),
            Shape::Name => self.name(node, path),
            Shape::Choice(choices) => self.choice(node, path, choices),
            Shape::Int { min, max } => self.int(node, path, *min, *max),
            Shape::Number { min, max } => self.number(node, path, *min, *max),
            Shape::Bool => self.boolean(node, path),
            Shape::Scalar => self.scalar(node, path),
            Shape::Language => self.language(node, path),
            Shape::Url => self.url(node, path),
            Shape::Phone => self.phone(node, path),
            Shape::Object(fields) => self.object(node, path, fields, true),
            Shape::List(item) => self.list(node, path, item),
            Shape::Dict(value) => self.dict(node, path, value),
            Shape::AnyMapping => self.any_mapping(node, path),
            Shape::ToolUse => self.tool_use(node, path),
        }
    }

    fn text(&mut self, node: &Node, path: &str) {
        if node.as_str().is_none() {
            self.expected(node, path, "a string");
        }
    }

    fn word(&mut self, node: &Node, path: &str) {
        match node.as_str() {
            Some(s) if !s.trim().is_empty() => {}
            Some(_) => self.error(node.line, node.col, format!("{path}: must not be empty"), None),
            None => self.expected(node, path, "a string"),
        }
    }

    fn name(&mut self, node: &Node, path: &str) {
        let Some(s) = node.as_str() else { return self.expected(node, path, "a name") };
        if let Some(problem) = id_problem(s) {
            self.error(
                node.line,
                node.col,
                format!("{path}: '{}' is not a valid name: it {problem}", s.escape_debug()),
                Some("names match [a-z0-9][a-z0-9_-]{0,62}".to_owned()),
            );
        }
    }

    fn choice(&mut self, node: &Node, path: &str, choices: &[&str]) {
        match node.as_str() {
            Some(s) if choices.contains(&s) => {}
            Some(s) => {
                let hint = closest(s, choices.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| format!("expected one of: {}", choices.join(", ")));
                self.error(
                    node.line,
                    node.col,
                    format!("{path}: '{}' is not one of {}", s.escape_debug(), choices.join(", ")),
                    Some(hint),
                );
            }
            None => self.expected(node, path, &format!("one of {}", choices.join(", "))),
        }
    }

    fn int(&mut self, node: &Node, path: &str, min: i64, max: i64) {
        match node.value {
            Value::Int(i) if (min..=max).contains(&i) => {}
            Value::Int(i) => {
                self.error(node.line, node.col, format!("{path}: {i} is out of range {min}..={max}"), None)
            }
            Value::BigInt(ref i) => {
                self.error(node.line, node.col, format!("{path}: {i} is out of range {min}..={max}"), None)
            }
            _ => self.expected(node, path, "an integer"),
        }
    }

    fn number(&mut self, node: &Node, path: &str, min: f64, max: f64) {
        let n = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            Value::BigInt(_) => f64::INFINITY,
            _ => return self.expected(node, path, "a number"),
        };
        if !(n >= min && n <= max) {
            self.error(node.line, node.col, format!("{path}: {n} is out of range {min}..={max}"), None);
        }
    }

    fn boolean(&mut self, node: &Node, path: &str) {
        if !matches!(node.value, Value::Bool(_)) {
            self.expected(node, path, "true or false");
        }
    }

    fn scalar(&mut self, node: &Node, path: &str) {
        match node.value {
            Value::Str(_) | Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {}
            Value::Float(f) if f.is_finite() => {}
            _ => self.expected(node, path, "a string, number or boolean"),
        }
    }

    fn language(&mut self, node: &Node, path: &str) {
        match node.as_str() {
            Some(s) if is_language_tag(s) => {}
            Some(s) => self.error(
                node.line,
                node.col,
                format!("{path}: '{}' is not a BCP 47 language tag", s.escape_debug()),
                Some("write it like en-US, en-GB, es or pt-BR".to_owned()),
            ),
            None => self.expected(node, path, "a language tag such as en-US"),
        }
    }

    fn url(&mut self, node: &Node, path: &str) {
        match node.as_str() {
            Some(s) if (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace) => {}
            Some(s) => {
                self.error(node.line, node.col, format!("{path}: '{}' is not an http(s) URL", s.escape_debug()), None)
            }
            None => self.expected(node, path, "a URL"),
        }
    }

    fn phone(&mut self, node: &Node, path: &str) {
        match node.as_str() {
            Some(s) if is_e164(s) => {}
            Some(s) => self.error(
                node.line,
                node.col,
                format!("{path}: '{}' is not an E.164 phone number", s.escape_debug()),
                Some("write it like \"+14155550100\"".to_owned()),
            ),
            None if matches!(node.value, Value::Int(_)) => self.error(
                node.line,
                node.col,
                format!("{path}: phone numbers must be quoted strings"),
                Some("write it like \"+14155550100\" (quoted, with the +)".to_owned()),
            ),
            None => self.expected(node, path, "an E.164 phone number"),
        }
    }

    fn list(&mut self, node: &Node, path: &str, item: &'static Shape) {
        let Some(items) = node.as_seq() else { return self.expected(node, path, "a list") };
        for (i, child) in items.iter().enumerate() {
            self.value(child, &format!("{path}[{i}]"), item);
        }
    }

    /// A mapping of variable names to values of one shape (`{{var}}` defaults).
    fn dict(&mut self, node: &Node, path: &str, value: &'static Shape) {
        let Some(entries) = node.as_map() else { return self.expected(node, path, "a mapping") };
        for (key, child) in entries {
            if !is_identifier(&key.name) {
                self.error(
                    key.line,
                    key.col,
                    format!("{path}: '{}' is not a valid variable name", key.name.escape_debug()),
                    Some("variable names are letters, digits and '_', not starting with a digit".to_owned()),
                );
            }
            self.value(child, &join(path, &key.name), value);
        }
    }

    fn any_mapping(&mut self, node: &Node, path: &str) {
        if node.as_map().is_none() {
            self.expected(node, path, "a mapping");
        }
    }

    /// A tool is linked by name or defined inline.
    fn tool_use(&mut self, node: &Node, path: &str) {
        match &node.value {
            Value::Str(_) => self.name(node, path),
            Value::Map(_) => self.object(node, path, TOOL, false),
            _ => self.expected(node, path, "a tool name or an inline tool mapping"),
        }
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A BCP 47 tag's shape: a 2 to 8 letter primary subtag, then alphanumeric subtags of 1 to 8.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=8).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_formats() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("14155550100") && !is_e164("+0123") && !is_e164("+1") && !is_e164("+1415555010012345"));
        assert!(is_language_tag("en-US") && is_language_tag("es") && is_language_tag("zh-Hant-TW"));
        assert!(!is_language_tag("english!") && !is_language_tag("e") && !is_language_tag("en_US"));
        assert!(is_identifier("first_name") && !is_identifier("1x") && !is_identifier("a-b"));
    }
}
