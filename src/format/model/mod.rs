//! The configuration formats: agent YAML (schema v1), tool YAML, workflow JSON, and the
//! conversation tests' YAML.

pub mod agent;
pub mod schema;
pub mod test;
pub mod tool;
pub mod validate;
pub mod workflow;

pub use agent::{AgentDoc, Reference, ToolUse, parse_agent};
pub use tool::parse_tool;
pub use workflow::parse_workflow;

use crate::format::diagnostic::Diagnostic;
use crate::format::yaml;

/// Reads bytes as one YAML document, turning syntax problems into a diagnostic for `file`.
/// Values that have no JSON form (infinite or NaN numbers such as `1e400`), anywhere in the file,
/// `provider_options` included: what check reports is exactly what publish and resolve refuse.
fn json_form_problems(file: &str, node: &yaml::Node, out: &mut Vec<Diagnostic>) {
    match &node.value {
        yaml::Value::Seq(items) => items.iter().for_each(|n| json_form_problems(file, n, out)),
        yaml::Value::Map(entries) => entries.iter().for_each(|(_, n)| json_form_problems(file, n, out)),
        // Only numbers can lack a JSON form; strings and the rest convert as they are.
        yaml::Value::Float(_) | yaml::Value::BigInt(_) => {
            if let Err(e) = node.to_json() {
                out.push(e.diagnostic(file));
            }
        }
        _ => {}
    }
}

fn read_yaml(file: &str, bytes: &[u8]) -> Result<yaml::Node, Vec<Diagnostic>> {
    let to_diag = |mut e: crate::format::text::SyntaxError| {
        if e.message.contains("tab") {
            // The parser's words ("tabs disallowed within this context") say little to a person.
            let d = Diagnostic::error(file, e.line, "this line is indented with a tab; YAML indents with spaces only")
                .with_col(e.col)
                .with_hint(Some("replace the tab with spaces (two per level, as in the rest of the file)".into()));
            return vec![d];
        }
        if !(e.message.starts_with("file ") || e.message.contains("YAML")) {
            e.message = format!("invalid YAML: {}", e.message);
        }
        vec![e.diagnostic(file)]
    };
    let text = crate::format::text::check_text(bytes).map_err(to_diag)?;
    yaml::parse(text).map_err(to_diag)
}
