//! An agent's complete configuration from one source: the agent file, the tool and workflow
//! files it references (the bytes that make a snapshot), and the resolved config as JSON.

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::format::diagnostic::{Diagnostic, closest};
use crate::format::model::{self, Reference, ToolUse};
use crate::names::id::AgentId;
use crate::workspace::WorkspaceError;
use crate::workspace::source::Source;

pub use crate::git::Files;

#[derive(Clone, Debug)]
pub struct Bundle {
    pub agent: AgentId,
    pub files: Files,
    /// The agent as JSON with tools replaced by their full definitions and the workflow inlined.
    pub config: Json,
    /// Problems that do not stop a publish.
    pub warnings: Vec<Diagnostic>,
}

fn first_error(file: &str, diagnostics: Vec<Diagnostic>) -> Error {
    diagnostics
        .into_iter()
        .find(Diagnostic::is_error)
        .map(Error::invalid)
        .unwrap_or_else(|| Error::invalid(Diagnostic::error(file, None, "invalid file")))
}

/// Paths are built from checked names only; see [`crate::names::id`].
pub fn tool_path(name: &str) -> String {
    format!("tools/{name}.yaml")
}

pub fn workflow_path(name: &str) -> String {
    format!("workflows/{name}.json")
}

/// "tool 'x' not found" at the reference in `file`, suggesting the closest of `known` tools.
pub fn missing_tool<'a>(
    file: &str,
    reference: &Reference,
    shown_path: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let hint = closest(&reference.name, known)
        .map(|c| format!("did you mean '{c}'?"))
        .unwrap_or_else(|| format!("create {}, or define the tool inline", tool_path(&reference.name)));
    Diagnostic::error(
        file,
        Some(reference.line),
        format!("tool '{}' not found: {shown_path} does not exist", reference.name),
    )
    .with_col(Some(reference.col))
    .with_hint(Some(hint))
}

/// "workflow 'x' not found" at the reference in `file`.
pub fn missing_workflow(file: &str, reference: &Reference, shown_path: &str) -> Diagnostic {
    Diagnostic::error(
        file,
        Some(reference.line),
        format!("workflow '{}' not found: {shown_path} does not exist", reference.name),
    )
    .with_col(Some(reference.col))
    .with_hint(Some(format!("create {} holding the workflow's JSON object", workflow_path(&reference.name))))
}

/// Reads and validates `agent` and everything it references from `source`.
pub fn load(source: &dyn Source, agent: &AgentId) -> Result<Bundle> {
    let path = agent.draft_path();
    let Some(bytes) = source.read(&path)? else {
        let drafts = list_agents(source).map(|(ids, _)| ids).unwrap_or_default();
        let suggestion = closest(agent.as_str(), drafts.iter().map(AgentId::as_str)).map(str::to_owned);
        return Err(
            WorkspaceError::UnknownAgent { agent: agent.to_string(), path: source.display(&path), suggestion }.into()
        );
    };
    let shown = source.display(&path);
    let doc = model::parse_agent(&shown, &bytes).map_err(|d| first_error(&shown, d))?;
    let mut config = doc
        .root
        .to_json()
        .map_err(|e| Error::invalid(Diagnostic::error(&shown, e.line, e.message).with_col(e.col).with_hint(e.hint)))?;
    let mut files = Files::new();

    let mut tools = Vec::with_capacity(doc.tools.len());
    for tool in &doc.tools {
        match tool {
            ToolUse::Inline { node, .. } => tools.push(
                node.to_json()
                    .map_err(|e| Error::invalid(Diagnostic::error(&shown, e.line, e.message).with_hint(e.hint)))?,
            ),
            ToolUse::Named(reference) => {
                let tool_file = tool_path(&reference.name);
                let Some(tool_bytes) = source.read(&tool_file)? else {
                    let files = source.list("tools")?;
                    let known = files.iter().filter_map(|f| f.strip_suffix(".yaml"));
                    return Err(Error::invalid(missing_tool(&shown, reference, &source.display(&tool_file), known)));
                };
                let tool_shown = source.display(&tool_file);
                let node = model::parse_tool(&tool_shown, &reference.name, &tool_bytes)
                    .map_err(|d| first_error(&tool_shown, d))?;
                tools.push(node.to_json().map_err(|e| {
                    Error::invalid(Diagnostic::error(&tool_shown, e.line, e.message).with_hint(e.hint))
                })?);
                files.insert(tool_file, tool_bytes);
            }
        }
    }
    if !doc.tools.is_empty() {
        config["tools"] = Json::Array(tools);
    }

    if let Some(reference) = &doc.workflow {
        let workflow_file = workflow_path(&reference.name);
        let Some(workflow_bytes) = source.read(&workflow_file)? else {
            return Err(Error::invalid(missing_workflow(&shown, reference, &source.display(&workflow_file))));
        };
        let workflow_shown = source.display(&workflow_file);
        let graph =
            model::parse_workflow(&workflow_shown, &workflow_bytes).map_err(|d| first_error(&workflow_shown, d))?;
        config["workflow"] = json!({ "name": reference.name, "graph": graph });
        files.insert(workflow_file, workflow_bytes);
    }

    files.insert(path, bytes);
    Ok(Bundle { agent: agent.clone(), files, config, warnings: doc.warnings })
}

/// The ids of every draft in `agents/`, and the names there that are not valid drafts.
pub fn list_agents(source: &dyn Source) -> Result<(Vec<AgentId>, Vec<String>)> {
    let mut ids = Vec::new();
    let mut stray = Vec::new();
    for name in source.list("agents")? {
        match name.strip_suffix(".yaml").map(AgentId::new) {
            Some(Ok(id)) => ids.push(id),
            _ => stray.push(name),
        }
    }
    Ok((ids, stray))
}
