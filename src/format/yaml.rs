//! A YAML reader that keeps line numbers and enforces agentver's input limits.
//!
//! serde_yaml has no spans and is no longer maintained, so agent and tool files are read through
//! saphyr-parser's events into a small tree whose every node and key knows its line. That tree
//! is what validation walks, which is how every error can name a line. The reader also owns the
//! YAML limits DESIGN.md sets (the byte-level ones are `text`'s): one document per file, nesting at most [`MAX_DEPTH`] deep, alias
//! expansion bounded by [`MAX_ALIAS_NODES`], no duplicate keys, no byte-order mark, UTF-8 only.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::format::text::SyntaxError;

/// Deepest nesting of sequences and mappings accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes that aliases may expand to in one file (a "billion laughs" stops here).
pub const MAX_ALIAS_NODES: usize = 10_000;

/// One value with the position where it starts (1-based).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, kept as its digits so it is never rounded into a float.
    BigInt(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always a string, with its own position.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: u32,
    pub col: u32,
}

impl Value {
    /// The word used in "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::BigInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
    }

    /// The node as JSON. Infinite and NaN floats have no JSON form and are refused.
    pub fn to_json(&self) -> Result<serde_json::Value, SyntaxError> {
        use serde_json::Value as J;
        Ok(match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::BigInt(digits) => J::Number(digits.parse().map_err(|_| {
                SyntaxError::at(self.line, self.col, format!("{digits} is not a number JSON can hold"))
            })?),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => J::Number(n),
                None => {
                    return Err(SyntaxError::at(self.line, self.col, format!("{f} cannot be stored"))
                        .hint("infinite and NaN numbers have no JSON form; quote the value to keep it as text"));
                }
            },
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.name.clone(), v.to_json()?);
                }
                J::Object(map)
            }
        })
    }
}

/// The YAML writer for drafts agentver makes itself (`import`); a user's drafts are never
/// rewritten (they are the user's bytes). The property tests check that [`parse`] reads every
/// emitted value back unchanged.
pub mod emitter {
    use super::*;

    /// Writes a JSON value as block-style YAML that [`parse`] reads back to the same value: mapping
    /// keys plain where that is unambiguous, strings double-quoted with JSON escapes (valid YAML).
    pub fn emit(value: &serde_json::Value) -> String {
        let mut out = String::new();
        match value {
            serde_json::Value::Object(m) if !m.is_empty() => emit_map(m, 0, &mut out),
            serde_json::Value::Array(a) if !a.is_empty() => emit_seq(a, 0, &mut out),
            other => {
                out.push_str(&emit_scalar(other));
                out.push('\n');
            }
        }
        out
    }

    fn emit_scalar(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Object(_) => "{}".to_owned(),
            serde_json::Value::Array(_) => "[]".to_owned(),
            serde_json::Value::String(s) if is_plain(s) => s.clone(),
            // JSON's escapes are YAML's; `\/` never appears in serde_json output.
            other => other.to_string(),
        }
    }

    fn emit_key(key: &str) -> String {
        let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && matches!(resolve_plain(key), Value::Str(_));
        if plain { key.to_owned() } else { serde_json::Value::from(key).to_string() }
    }

    fn is_block(value: &serde_json::Value) -> bool {
        matches!(value, serde_json::Value::Object(m) if !m.is_empty())
            || matches!(value, serde_json::Value::Array(a) if !a.is_empty())
    }

    fn emit_map(map: &serde_json::Map<String, serde_json::Value>, indent: usize, out: &mut String) {
        for (key, value) in map {
            out.push_str(&" ".repeat(indent));
            out.push_str(&emit_key(key));
            out.push(':');
            emit_child(value, indent, out);
        }
    }

    fn emit_seq(items: &[serde_json::Value], indent: usize, out: &mut String) {
        for item in items {
            out.push_str(&" ".repeat(indent));
            match item {
                // A mapping in a list starts on the dash's line: `- name: x`.
                serde_json::Value::Object(m) if !m.is_empty() => {
                    let mut block = String::new();
                    emit_map(m, indent + 2, &mut block);
                    out.push_str("- ");
                    out.push_str(&block[indent + 2..]);
                }
                _ => {
                    out.push('-');
                    emit_child(item, indent, out);
                }
            }
        }
    }

    /// A string YAML reads back as that string without quotes: no indicator or comment
    /// character of YAML's, no edge spaces, not a word another reader takes for a boolean or
    /// null, and not a number.
    fn is_plain(s: &str) -> bool {
        let safe = |c: char| {
            c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | '.' | '/' | '+' | '(' | ')' | '?' | '=' | '~' | '$' | ';')
                || (!c.is_ascii()
                    && !c.is_control()
                    && !c.is_whitespace()
                    && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}'))
        };
        let first_ok = s.chars().next().is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '('));
        let word = s.to_ascii_lowercase();
        first_ok
            && !s.ends_with(' ')
            && s.chars().all(safe)
            && !matches!(word.as_str(), "yes" | "no" | "on" | "off" | "y" | "n" | "true" | "false" | "null" | "~")
            && matches!(resolve_plain(s), Value::Str(_))
    }

    fn emit_child(value: &serde_json::Value, indent: usize, out: &mut String) {
        if is_block(value) {
            out.push('\n');
            match value {
                serde_json::Value::Object(m) => emit_map(m, indent + 2, out),
                serde_json::Value::Array(a) => emit_seq(a, indent + 2, out),
                _ => unreachable!("is_block"),
            }
        } else if let Some(text) = value.as_str().filter(|s| is_literal(s)) {
            // Prompts read as written: a literal block, each line indented under its key.
            out.push_str(if text.ends_with('\n') { " |\n" } else { " |-\n" });
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        } else {
            out.push(' ');
            out.push_str(&emit_scalar(value));
            out.push('\n');
        }
    }

    /// A multi-line string that a literal block (`|` or `|-`) holds exactly: printable, no
    /// leading space or break (the block's indentation would change), at most one final break.
    fn is_literal(s: &str) -> bool {
        s.contains('\n')
            && !s.starts_with([' ', '\n'])
            && !s.ends_with("\n\n")
            && !s.ends_with(' ')
            && !s.split('\n').any(|line| line.ends_with(' ') || line.starts_with('\t'))
            && s.chars()
                .all(|c| c == '\n' || !(c.is_control() || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}')))
    }
}
pub use emitter::emit;

/// Parses exactly one YAML document into a tree. An empty file is a null node at line 1.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    Reader::default().read(text)
}

enum Frame {
    Seq { items: Vec<Node>, line: u32, col: u32, anchor: usize },
    Map { entries: Vec<(Key, Node)>, key: Option<Key>, line: u32, col: u32, anchor: usize },
}

#[derive(Default)]
struct Reader {
    stack: Vec<Frame>,
    /// Anchored nodes and how many nodes each expands to.
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    documents: usize,
    root: Option<Node>,
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_nodes(v)).sum(),
        _ => 0,
    }
}

impl Reader {
    fn read(mut self, text: &str) -> Result<Node, SyntaxError> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| {
                let m = e.marker();
                SyntaxError::at(m.line() as u32, m.col() as u32 + 1, e.info().to_owned())
            })?;
            let (line, col) = (span.start.line() as u32, span.start.col() as u32 + 1);
            match event {
                Event::StreamEnd => break,
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(SyntaxError::at(line, col, "a second YAML document starts here")
                            .hint("an agentver file holds exactly one document; remove the extra '---'"));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    if tag.is_some() {
                        return Err(SyntaxError::at(line, col, "YAML tags (!!type or !name) are not supported")
                            .hint("remove the tag; quote the value to keep it as text"));
                    }
                    let value =
                        if style == ScalarStyle::Plain { resolve_plain(&text) } else { Value::Str(text.into_owned()) };
                    self.push(Node { value, line, col }, anchor)?;
                }
                Event::Alias(id) => {
                    let Some((node, size)) = self.anchors.get(&id) else {
                        return Err(SyntaxError::at(line, col, "alias to an unknown anchor"));
                    };
                    self.alias_nodes += size;
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        return Err(SyntaxError::at(
                            line,
                            col,
                            format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        )
                        .hint("this looks like a YAML bomb; write the values out instead of aliasing them"));
                    }
                    let node = Node { line, col, ..node.clone() };
                    self.push(node, 0)?;
                }
                Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) if tag.is_some() => {
                    let _ = anchor;
                    return Err(SyntaxError::at(line, col, "YAML tags (!!type or !name) are not supported")
                        .hint("remove the tag"));
                }
                Event::SequenceStart(anchor, _) => {
                    self.enter(line, col)?;
                    self.stack.push(Frame::Seq { items: Vec::new(), line, col, anchor });
                }
                Event::MappingStart(anchor, _) => {
                    self.enter(line, col)?;
                    self.stack.push(Frame::Map { entries: Vec::new(), key: None, line, col, anchor });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match self.stack.pop() {
                        Some(Frame::Seq { items, line, col, anchor }) => {
                            (Node { value: Value::Seq(items), line, col }, anchor)
                        }
                        Some(Frame::Map { entries, line, col, anchor, .. }) => {
                            (Node { value: Value::Map(entries), line, col }, anchor)
                        }
                        None => return Err(SyntaxError::at(line, col, "unbalanced YAML structure")),
                    };
                    self.push(node, anchor)?;
                }
            }
        }
        Ok(self.root.unwrap_or(Node { value: Value::Null, line: 1, col: 1 }))
    }

    fn enter(&self, line: u32, col: u32) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError::at(line, col, format!("nesting is deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            let size = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    let name = match node.value {
                        Value::Str(s) => s,
                        Value::Null => String::new(),
                        Value::Bool(b) => b.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::BigInt(i) => i,
                        Value::Float(f) => f.to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(SyntaxError::at(node.line, node.col, "a mapping key must be a plain string"));
                        }
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                        return Err(SyntaxError::at(
                            node.line,
                            node.col,
                            format!("duplicate key '{name}' (first at line {})", first.line),
                        )
                        .hint("each key may appear once in a mapping"));
                    }
                    *key = Some(Key { name, line: node.line, col: node.col });
                }
            },
        }
        Ok(())
    }
}

/// YAML 1.2 core schema resolution of a plain (unquoted) scalar.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = s.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = s.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<i64>() {
            Ok(i) => Value::Int(i),
            // Beyond 64 bits: the digits, without a plus sign or leading zeros (JSON has neither).
            Err(_) => {
                let digits = unsigned.trim_start_matches('0');
                let sign = if s.starts_with('-') { "-" } else { "" };
                Value::BigInt(format!("{sign}{}", if digits.is_empty() { "0" } else { digits }))
            }
        };
    }
    if is_decimal_float(unsigned)
        && let Ok(f) = s.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(s.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` — the core schema's float form, without sign.
fn is_decimal_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exponent_ok = match exponent {
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
        None => true,
    };
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> Value {
        parse(&format!("k: {s}\n")).unwrap().get("k").unwrap().value.clone()
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        assert_eq!(scalar("0.3"), Value::Float(0.3));
        assert_eq!(scalar("400"), Value::Int(400));
        assert_eq!(scalar("-2"), Value::Int(-2));
        assert_eq!(scalar("1e3"), Value::Float(1000.0));
        assert_eq!(scalar(".5"), Value::Float(0.5));
        assert_eq!(scalar("true"), Value::Bool(true));
        assert_eq!(scalar("~"), Value::Null);
        assert_eq!(scalar(""), Value::Null);
        assert_eq!(scalar("\"0.3\""), Value::Str("0.3".into()));
        assert_eq!(scalar("+14155550100"), Value::Int(14155550100));
        assert_eq!(scalar("yes"), Value::Str("yes".into()));
        assert_eq!(scalar("en-US"), Value::Str("en-US".into()));
        assert_eq!(scalar("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(scalar("inf"), Value::Str("inf".into()));
        assert_eq!(scalar("0x1F"), Value::Int(31));
    }

    #[test]
    fn keeps_lines() {
        let doc = parse("a: 1\nb:\n  c: [x, y]\n").unwrap();
        let b = doc.get("b").unwrap();
        assert_eq!(b.get("c").unwrap().line, 3);
        let (key, _) = &doc.as_map().unwrap()[1];
        assert_eq!((key.name.as_str(), key.line, key.col), ("b", 2, 1));
    }

    #[test]
    fn refuses_hostile_input() {
        let dup = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(dup.line, Some(3));
        assert!(dup.message.contains("duplicate key 'a'"), "{}", dup.message);

        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, prev) in ["b", "c", "d", "e", "f"].iter().zip(["a", "b", "c", "d", "e"]) {
            bomb += &format!(
                "{i}: &{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            );
        }
        assert!(parse(&bomb).unwrap_err().message.contains("aliases expand"));

        let two = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(two.line, Some(2));
        assert!(parse("a: !!binary aGk=\n").is_err());
        assert!(parse("a: [unclosed\n").is_err());
        assert!(parse("? [a, b]\n: 1\n").is_err());
    }

    #[test]
    fn emits_what_it_reads() {
        let value = serde_json::json!({
            "name": "A: \"quoted\" # not a comment",
            "llm": {"provider": "openai", "temperature": 0.3, "max_tokens": 400, "big": 1e300},
            "prompt": {"system": "line one\nline two\n\ttabbed ünïcødé"},
            "tools": [{"name": "x", "parameters": {}}, "plain", [], [1, [2, 3]], null, true],
            "odd keys": {"true": 1, "1": 2, "-x": 3, "": 4},
            "empty": {}
        });
        let text = emit(&value);
        let back = parse(&text).unwrap_or_else(|e| panic!("{text}\n{e:?}")).to_json().unwrap();
        assert_eq!(back, value, "{text}");
        assert_eq!(emit(&back), text);
    }

    #[test]
    fn aliases_within_budget_work() {
        let doc = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(doc.get("other").unwrap().get("x").unwrap().value, Value::Int(1));
    }
}
