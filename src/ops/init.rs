//! `init` and `new`: create a workspace and agent drafts from templates, never overwriting.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil::create_new;
use crate::git::GitError;
use crate::names::id::AgentId;
use crate::ops::OpsError;
use crate::workspace::Workspace;

/// The bundled example repository (`agents.example/`), for `init --example`.
pub const EXAMPLE_FILES: &[(&str, &str)] = &[
    ("agents/sales.yaml", include_str!("../../agents.example/agents/sales.yaml")),
    ("agents/support.yaml", include_str!("../../agents.example/agents/support.yaml")),
    ("agents/intake.yaml", include_str!("../../agents.example/agents/intake.yaml")),
    ("tools/book_appointment.yaml", include_str!("../../agents.example/tools/book_appointment.yaml")),
    ("tools/lookup_order.yaml", include_str!("../../agents.example/tools/lookup_order.yaml")),
    ("tools/transfer_to_human.yaml", include_str!("../../agents.example/tools/transfer_to_human.yaml")),
    ("workflows/intake.json", include_str!("../../agents.example/workflows/intake.json")),
    ("tests/sales-no-prices.yaml", include_str!("../../agents.example/tests/sales-no-prices.yaml")),
    ("tests/sales-books-demo.yaml", include_str!("../../agents.example/tests/sales-books-demo.yaml")),
    ("tests/sales-simulated-caller.yaml", include_str!("../../agents.example/tests/sales-simulated-caller.yaml")),
    (
        "tests/.cassettes/sales-no-prices.jsonl",
        include_str!("../../agents.example/tests/.cassettes/sales-no-prices.jsonl"),
    ),
    (
        "tests/.cassettes/sales-books-demo.jsonl",
        include_str!("../../agents.example/tests/.cassettes/sales-books-demo.jsonl"),
    ),
    (
        "tests/.cassettes/sales-simulated-caller.jsonl",
        include_str!("../../agents.example/tests/.cassettes/sales-simulated-caller.jsonl"),
    ),
];

const EXAMPLE_CHANNELS: &str = include_str!("../../agents.example/channels.toml");
const EXAMPLE_CONFIG: &str = include_str!("../../agents.example/agentver.toml");

const EMPTY_CHANNELS: &str = r#"# Which configuration answers each channel (a phone number or any named entry point).
# Edit with `agentver pin`, `agentver ab` and `agentver unpin` (they keep these comments), or by hand.
#
# [channels."+14155550100"]
# agent = "sales"
# version = 3            # a number (frozen; `pin` adds its tree), "latest" or "draft"
#
# [channels."+14155550199"]
# sticky = "caller"      # or "call": who keeps the same variant
# variants = [
#   { name = "control", agent = "sales", version = 3, weight = 80 },
#   { name = "test",    agent = "sales", version = "draft", weight = 20 },
# ]
"#;

const CONFIG: &str = r#"# agentver.toml marks the workspace; agentver finds it from the current folder upwards.
# requires = ">=0.2"     # the agentver versions this repository works with (semver)
# tag_prefix = "agent"   # versions are tags <tag_prefix>/<agent>/v<N>
"#;

/// A draft that validates as written, with every section commented.
pub fn agent_template(id: &AgentId) -> String {
    format!(
        r#"# Agent "{id}". Publish with `agentver publish {id}`; `agentver schema` lists every field.
name: {id}
description: What this agent is for.

llm:
  provider: openai
  model: gpt-4o
  temperature: 0.3      # 0 to 2
  max_tokens: 400

prompt:
  system: |
    You are a helpful voice assistant. Keep answers short: callers are listening, not reading.
  welcome_message: "Hi {{{{first_name}}}}, how can I help?"

variables:
  first_name:
    default: there
    description: The caller's first name, when the platform knows it.

speech:
  language: en-US
  tts:
    provider: elevenlabs
    voice_id: rachel
  stt:
    provider: deepgram
    model: nova-2

turn_taking:
  interruption_sensitivity: 0.5   # 0 to 1
  silence_timeout_ms: 8000

# tools: [book_appointment]       # names of tools/<name>.yaml, or inline tool mappings
# knowledge_bases: [{{id: kb_faq, top_k: 4}}]
# analysis: {{prompt: Summarize the call., fields: [{{name: resolved, type: boolean}}]}}
"#
    )
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InitReport {
    /// True when `init` had to create the git repository.
    pub git_initialized: bool,
    pub created: Vec<String>,
    /// Files that already existed and were left as they were.
    pub kept: Vec<String>,
}

/// Creates the workspace folders and files in `dir` (a git repository is created first when `dir`
/// is in none). Existing files are never touched.
pub fn init(dir: &Path, example: bool) -> Result<InitReport> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut report = InitReport::default();
    // GIT_DIR (with GIT_WORK_TREE) may name a repository elsewhere, and a repository agentver
    // cannot read is still a repository: only where there is none is one made.
    let found = match crate::git::open_repository(dir) {
        Ok(_) => true,
        Err(GitError::NotARepository { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    if !found {
        crate::git::init_repository(dir)?;
        report.git_initialized = true;
    }
    for folder in ["agents", "tools", "workflows"] {
        let path = dir.join(folder);
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
    }
    let mut files: Vec<(&str, &str)> = vec![
        (crate::format::config::FILE, if example { EXAMPLE_CONFIG } else { CONFIG }),
        (crate::format::channels::FILE, if example { EXAMPLE_CHANNELS } else { EMPTY_CHANNELS }),
    ];
    if example {
        files.extend_from_slice(EXAMPLE_FILES);
    }
    for (path, text) in files {
        if create_new(&dir.join(path), text.as_bytes())? {
            report.created.push(path.to_owned());
        } else {
            report.kept.push(path.to_owned());
        }
    }
    Ok(report)
}

/// Writes `agents/<id>.yaml` from the template; refuses when it exists.
pub fn new_agent(ws: &Workspace, id: &AgentId) -> Result<String> {
    let path = id.draft_path();
    if !create_new(&ws.root().join(&path), agent_template(id).as_bytes())? {
        return Err(OpsError::DraftExists { path: path.to_string(), id: id.to_string() }.into());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_valid() {
        let id = AgentId::new("front-desk").unwrap();
        let doc = crate::format::model::parse_agent("agents/front-desk.yaml", agent_template(&id).as_bytes()).unwrap();
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn example_agents_are_valid() {
        for (path, text) in EXAMPLE_FILES.iter().filter(|(p, _)| p.starts_with("agents/")) {
            let doc =
                crate::format::model::parse_agent(path, text.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
            assert!(doc.warnings.is_empty(), "{path}: {:?}", doc.warnings);
        }
        for (path, text) in EXAMPLE_FILES.iter().filter(|(p, _)| p.starts_with("tools/")) {
            let stem = path.trim_start_matches("tools/").trim_end_matches(".yaml");
            crate::format::model::parse_tool(path, stem, text.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        }
        for (path, text) in EXAMPLE_FILES.iter().filter(|(p, _)| p.starts_with("tests/") && p.ends_with(".yaml")) {
            crate::format::model::test::parse_test(path, text.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        }
        crate::format::channels::parse(EXAMPLE_CHANNELS, "channels.toml").unwrap();
        crate::format::config::Config::parse(EXAMPLE_CONFIG, &crate::binary_version()).unwrap();
    }
}
