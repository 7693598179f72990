//! Tool definitions (`tools/<name>.yaml`, or inline in an agent): parse and validate.

use super::schema::TOOL;
use super::validate::Checker;
use crate::format::diagnostic::Diagnostic;
use crate::format::yaml::Node;

/// Validates a tool file whose stem is `stem`; returns its tree.
pub fn parse_tool(file: &str, stem: &str, bytes: &[u8]) -> Result<Node, Vec<Diagnostic>> {
    let root = super::read_yaml(file, bytes)?;
    let mut checker = Checker::new(file);
    checker.object(&root, "", TOOL, false);
    if !checker.has_errors() {
        check_tool_rules(&mut checker, &root, "");
        if let Some(name) = root.get("name").filter(|n| n.as_str() != Some(stem)) {
            checker.error(
                name.line,
                name.col,
                format!("tool name '{}' does not match its file name '{stem}'", name.as_str().unwrap_or_default()),
                Some(format!(
                    "rename the file to tools/{}.yaml or set name: {stem}",
                    name.as_str().unwrap_or_default()
                )),
            );
        }
    }
    let mut diagnostics = checker.diagnostics;
    super::json_form_problems(file, &root, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(root)
}

/// Rules that depend on the tool's type; shared by tool files and inline tools.
pub fn check_tool_rules(checker: &mut Checker<'_>, tool: &Node, path: &str) {
    let kind = tool.get("type").and_then(Node::as_str).unwrap_or_default();
    let prefix = if path.is_empty() { String::new() } else { format!("{path}.") };
    for (field, owner) in [("url", "webhook"), ("number", "transfer_call")] {
        match (kind == owner, tool.get(field)) {
            (true, None) => {
                checker.error(tool.line, tool.col, format!("{prefix}{field}: a {owner} tool needs '{field}'"), None)
            }
            (false, Some(node)) => checker.error(
                node.line,
                node.col,
                format!("{prefix}{field}: '{field}' applies only to {owner} tools, not {kind}"),
                None,
            ),
            _ => {}
        }
    }
    if let Some(params) = tool.get("parameters")
        && let Some(t) = params.get("type").filter(|t| t.as_str() != Some("object"))
    {
        checker.error(
            t.line,
            t.col,
            format!("{prefix}parameters.type: a tool's parameters must be a JSON Schema of type object"),
            Some("write parameters: {type: object, properties: {...}}".to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_type_rules() {
        assert!(parse_tool("tools/t.yaml", "t", b"name: t\ntype: webhook\nurl: https://x.example/a\n").is_ok());
        let e = parse_tool("tools/t.yaml", "t", b"name: t\ntype: webhook\n").unwrap_err();
        assert!(e[0].message.contains("needs 'url'"), "{:?}", e);
        let e = parse_tool("tools/t.yaml", "t", b"name: t\ntype: end_call\nnumber: \"+14155550100\"\n").unwrap_err();
        assert!(e[0].message.contains("applies only"), "{:?}", e);
        let e = parse_tool("tools/t.yaml", "t", b"name: other\ntype: end_call\n").unwrap_err();
        assert!(e[0].message.contains("does not match"), "{:?}", e);
        let e = parse_tool("tools/t.yaml", "t", b"name: t\ntype: webhok\nurl: https://x\n").unwrap_err();
        assert_eq!(e[0].hint.as_deref(), Some("did you mean 'webhook'?"));
    }
}
