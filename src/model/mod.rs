//! The configuration formats: agent YAML (schema v1), tool YAML and workflow JSON.

pub mod agent;
pub mod check;
pub mod schema;
pub mod tool;
pub mod workflow;

pub use agent::{AgentDoc, Reference, ToolUse, parse_agent};
pub use tool::parse_tool;
pub use workflow::parse_workflow;

use crate::diagnostic::Diagnostic;
use crate::yaml;

/// Reads bytes as one YAML document, turning syntax problems into a diagnostic for `file`.
fn read_yaml(file: &str, bytes: &[u8]) -> Result<yaml::Node, Vec<Diagnostic>> {
    let to_diag = |e: yaml::SyntaxError| {
        let message = if e.message.starts_with("file ") || e.message.contains("YAML") {
            e.message
        } else {
            format!("invalid YAML: {}", e.message)
        };
        vec![Diagnostic::error(file, e.line, message).with_col(e.col).with_hint(e.hint)]
    };
    let text = yaml::check_text(bytes).map_err(to_diag)?;
    yaml::parse(text).map_err(to_diag)
}
