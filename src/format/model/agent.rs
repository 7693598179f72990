//! Agent drafts (`agents/<id>.yaml`): parse, validate against schema v1, and find references.

use std::collections::BTreeSet;

use super::schema::AGENT;
use super::tool::check_tool_rules;
use super::validate::Checker;
use crate::format::diagnostic::Diagnostic;
use crate::format::yaml::{Node, Value};

/// A name used somewhere in a file, with its position, so a missing target can be reported there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub line: u32,
    pub col: u32,
}

/// How an agent links a tool.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolUse {
    /// `tools/<name>.yaml`
    Named(Reference),
    /// A full definition written in the agent file.
    Inline { name: String, node: Node },
}

/// A validated agent file.
#[derive(Clone, Debug)]
pub struct AgentDoc {
    pub root: Node,
    pub tools: Vec<ToolUse>,
    pub workflow: Option<Reference>,
    /// Problems that do not stop a publish (an undeclared `{{variable}}`).
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates an agent file. On failure, every diagnostic found (errors first).
pub fn parse_agent(file: &str, bytes: &[u8]) -> Result<AgentDoc, Vec<Diagnostic>> {
    let root = super::read_yaml(file, bytes)?;
    let mut checker = Checker::new(file);
    checker.object(&root, "", AGENT, true);
    if !checker.has_errors() {
        semantic_checks(&mut checker, &root);
    }
    let mut diagnostics = checker.diagnostics;
    super::json_form_problems(file, &root, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.sort_by_key(|d| (d.severity, d.line));
        return Err(diagnostics);
    }
    let tools = root
        .get("tools")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|t| match &t.value {
            Value::Str(name) => ToolUse::Named(Reference { name: name.clone(), line: t.line, col: t.col }),
            _ => ToolUse::Inline {
                name: t.get("name").and_then(Node::as_str).unwrap_or_default().to_owned(),
                node: t.clone(),
            },
        })
        .collect();
    let workflow =
        root.get("workflow").and_then(|w| Some(Reference { name: w.as_str()?.to_owned(), line: w.line, col: w.col }));
    Ok(AgentDoc { root, tools, workflow, warnings: diagnostics })
}

/// Rules that span fields: what the per-field shapes cannot say.
fn semantic_checks(checker: &mut Checker<'_>, root: &Node) {
    let has_workflow = root.get("workflow").is_some();
    let has_system = root.get("prompt").and_then(|p| p.get("system")).is_some();
    if !has_workflow && !has_system {
        let line = root.get("prompt").map_or(root.line, |p| p.line);
        checker.error(
            line,
            1,
            "missing required field 'prompt.system'".to_owned(),
            Some("every agent needs a system prompt unless it runs a workflow (workflow: <name>)".to_owned()),
        );
    }

    if let Some(tools) = root.get("tools").and_then(Node::as_seq) {
        let mut seen = BTreeSet::new();
        for tool in tools {
            let name = match &tool.value {
                Value::Str(s) => s.as_str(),
                _ => {
                    check_tool_rules(checker, tool, "tools[]");
                    tool.get("name").and_then(Node::as_str).unwrap_or_default()
                }
            };
            if !seen.insert(name) {
                checker.error(tool.line, tool.col, format!("tool '{name}' is listed twice"), None);
            }
        }
    }

    unique_by(checker, root.get("knowledge_bases"), "id", "knowledge base");

    if let Some(fields) = root.get("analysis").and_then(|a| a.get("fields")) {
        unique_by(checker, Some(fields), "name", "analysis field");
        for field in fields.as_seq().unwrap_or_default() {
            let is_enum = field.get("type").and_then(Node::as_str) == Some("enum");
            match (is_enum, field.get("values")) {
                (true, None) => checker.error(
                    field.line,
                    field.col,
                    "analysis field of type enum needs 'values'".to_owned(),
                    Some("list the allowed values: values: [yes, no, maybe]".to_owned()),
                ),
                (true, Some(v)) if v.as_seq().is_some_and(<[Node]>::is_empty) => {
                    checker.error(v.line, v.col, "'values' must not be empty".to_owned(), None)
                }
                (false, Some(v)) => {
                    checker.error(v.line, v.col, "'values' applies only to fields of type enum".to_owned(), None)
                }
                _ => {}
            }
        }
    }

    // `{{var}}` used but never declared: a warning, since platforms pass variables per call.
    let declared: BTreeSet<&str> =
        root.get("variables").and_then(Node::as_map).unwrap_or_default().iter().map(|(k, _)| k.name.as_str()).collect();
    let texts = [
        root.get("prompt").and_then(|p| p.get("system")),
        root.get("prompt").and_then(|p| p.get("welcome_message")),
        root.get("turn_taking").and_then(|t| t.get("inactivity")).and_then(|i| i.get("message")),
        root.get("analysis").and_then(|a| a.get("prompt")),
    ];
    for node in texts.into_iter().flatten() {
        let text = node.as_str().unwrap_or_default();
        for name in template_variables(text) {
            if !declared.contains(name) {
                // The line that uses it: a literal block keeps its lines, so count them.
                let at = text.find(&format!("{{{{{name}")).or_else(|| text.find(name)).unwrap_or(0);
                let lines_before = text[..at].matches('\n').count() as u32;
                checker.warning(
                    node.line + lines_before,
                    format!("'{{{{{name}}}}}' is used but not declared under 'variables'"),
                    Some(format!("declare it: variables: {{{name}: {{default: \"\", description: ...}}}}")),
                );
            }
        }
    }
}

fn unique_by(checker: &mut Checker<'_>, list: Option<&Node>, key: &str, what: &str) {
    let mut seen = BTreeSet::new();
    for item in list.and_then(Node::as_seq).unwrap_or_default() {
        if let Some(name) = item.get(key).and_then(Node::as_str)
            && !seen.insert(name)
        {
            checker.error(item.line, item.col, format!("{what} '{name}' is listed twice"), None);
        }
    }
}

/// The names inside `{{ name }}` placeholders, in order of first use.
pub fn template_variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if super::validate::is_identifier(name) && !names.contains(&name) {
            names.push(name);
        }
        rest = &after[end + 2..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: Sales\nllm: {provider: openai, model: gpt-4o, temperature: 0.3}\nprompt:\n  system: Hi {{first_name}}\nvariables:\n  first_name: {default: there}\ntools: [book, {name: hang_up, type: end_call}]\nworkflow: intake\n";

    #[test]
    fn parses_references() {
        let doc = parse_agent("agents/sales.yaml", GOOD.as_bytes()).unwrap();
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        assert_eq!(doc.tools.len(), 2);
        assert!(matches!(&doc.tools[0], ToolUse::Named(r) if r.name == "book" && r.line == 7));
        assert!(matches!(&doc.tools[1], ToolUse::Inline { name, .. } if name == "hang_up"));
        assert_eq!(doc.workflow.unwrap().name, "intake");
    }

    fn first_error(text: &str) -> Diagnostic {
        parse_agent("agents/x.yaml", text.as_bytes()).unwrap_err().remove(0)
    }

    #[test]
    fn explains_problems() {
        let e = first_error("name: X\nllm:\n  provider: openai\n  model: m\n  temprature: 0.3\nprompt: {system: hi}\n");
        assert_eq!(e.line, Some(5));
        assert!(e.message.contains("temprature"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'temperature'?"));

        let e = first_error("name: X\nllm: {provider: openai, model: m}\ntemperature: 0.3\nprompt: {system: hi}\n");
        assert_eq!(e.hint.as_deref(), Some("'temperature' belongs at 'llm.temperature'"));

        let e = first_error("name: X\nllm: {provider: openai, model: m, temperature: 3}\nprompt: {system: hi}\n");
        assert!(e.message.contains("out of range"), "{e}");

        let e = first_error("name: X\nllm: {provider: openai, model: m}\n");
        assert!(e.message.contains("prompt.system"), "{e}");

        let e = first_error("name: X\nllm: {provider: openai}\nprompt: {system: hi}\n");
        assert!(e.message.contains("missing required field 'llm.model'"), "{e}");
    }

    #[test]
    fn warns_on_undeclared_variables() {
        let doc = parse_agent("a.yaml", b"name: X\nllm: {provider: o, model: m}\nprompt:\n  system: Hello {{ who }}\n")
            .unwrap();
        assert_eq!(doc.warnings.len(), 1);
        assert!(doc.warnings[0].message.contains("{{who}}"));
        assert_eq!(template_variables("{{a}} {{ b }} {{a}} {{not valid}} {{"), vec!["a", "b"]);
    }
}
