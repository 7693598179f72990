//! Writing what `import` made: the agent's draft and its tool files, checked as `check` checks
//! them, all or nothing, refusing to replace a file that holds something else unless forced.

use serde::Serialize;
use serde_json::Value;

use super::OpsError;
use crate::error::{Error, Result};
use crate::format::model::{parse_agent, parse_tool};
use crate::format::yaml;
use crate::fsutil::Staged;
use crate::names::id::AgentId;
use crate::workspace::Workspace;
use crate::workspace::bundle::tool_path;

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    Created,
    Overwritten,
    /// The file already holds exactly these bytes.
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Written {
    pub path: String,
    pub state: FileState,
}

/// The files for a draft and its tools, as YAML: (path, bytes), the draft first.
pub fn files(id: &AgentId, draft: &Value, tools: &[Value]) -> Result<Vec<(String, String)>> {
    let header = "# Imported by agentver. Fields with no typed place are kept under provider_options.\n";
    let mut out = vec![(id.draft_path(), format!("{header}{}", yaml::emit(draft)))];
    for tool in tools {
        let name = tool["name"].as_str().unwrap_or_default();
        out.push((tool_path(name), yaml::emit(tool)));
    }
    let invalid = |ds: Vec<crate::format::diagnostic::Diagnostic>| OpsError::ImportInvalid {
        problem: ds.iter().find(|d| d.is_error()).map(ToString::to_string).unwrap_or_default(),
    };
    parse_agent(&out[0].0, out[0].1.as_bytes()).map_err(invalid)?;
    for ((path, text), tool) in out[1..].iter().zip(tools) {
        parse_tool(path, tool["name"].as_str().unwrap_or_default(), text.as_bytes()).map_err(invalid)?;
    }
    Ok(out)
}

/// Writes `files` into the work tree (nothing with `dry_run`). A file that exists with other
/// bytes is refused, every such file named and nothing written, unless `force`.
pub fn write(ws: &Workspace, files: &[(String, String)], force: bool, dry_run: bool) -> Result<Vec<Written>> {
    let mut plan = Vec::new();
    let mut clashes = Vec::new();
    for (path, text) in files {
        let target = ws.root().join(path);
        let state = match std::fs::read(&target) {
            Ok(bytes) if bytes == text.as_bytes() => FileState::Unchanged,
            Ok(_) => {
                clashes.push(path.clone());
                FileState::Overwritten
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Created,
            Err(e) => return Err(Error::io(&target, e)),
        };
        plan.push(Written { path: path.clone(), state });
    }
    if !clashes.is_empty() && !force {
        return Err(OpsError::ImportOverwrites { paths: clashes }.into());
    }
    if dry_run {
        return Ok(plan);
    }
    let mut staged = Vec::new();
    for ((path, text), written) in files.iter().zip(&plan) {
        if written.state != FileState::Unchanged {
            staged.push(Staged::write(&ws.root().join(path), text.as_bytes())?);
        }
    }
    for stage in staged {
        stage.commit()?;
    }
    Ok(plan)
}
