//! `agentver import <platform> FILE`: a platform's agent as a draft and its tool files.

use agentver::names::id::{AgentId, slug};
use agentver::ops::import as write;
use agentver::platforms::{self, Platform};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Turn a platform's exported agent into agents/<id>.yaml and tools/<name>.yaml. Typed fields go
/// to their places, everything else under provider_options.<platform>; read-only fields are
/// dropped and listed. Existing files with other content are refused unless --force.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// vapi, retell or elevenlabs
    #[arg(value_parser = ["vapi", "retell", "elevenlabs"])]
    platform: String,
    /// The agent as the platform's API returns it (JSON); - for standard input
    file: String,
    /// Retell: the agent's Retell LLM (JSON)
    #[arg(long, value_name = "FILE")]
    llm: Option<String>,
    /// The agent id (default: the slug of its name)
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// Show what would be written, write nothing
    #[arg(long)]
    dry_run: bool,
    /// Replace existing files
    #[arg(long)]
    force: bool,
}

fn read_json(path: &str) -> Result<Value, CliError> {
    let bytes = if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        std::fs::read(path).map_err(|e| CliError::usage(format!("{path}: {e}"), None))?
    };
    serde_json::from_slice(&bytes).map_err(|e| CliError::usage(format!("{path}: not JSON: {e}"), None))
}

#[derive(Serialize)]
struct Report<'a> {
    agent: &'a str,
    platform: &'a str,
    dry_run: bool,
    files: &'a [write::Written],
    read_only: &'a [String],
    filled: &'a [String],
    notes: &'a [String],
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let platform = Platform::parse(&args.platform).expect("clap checked the name");
    let mut object = read_json(&args.file)?;
    match (platform, &args.llm) {
        (Platform::Retell, Some(llm)) => object = json!({ "agent": object, "llm": read_json(llm)? }),
        (Platform::Retell, None) if object.get("agent").is_none() => object = json!({ "agent": object }),
        (_, Some(_)) => return Err(CliError::usage("--llm is for Retell, whose agents name a Retell LLM", None)),
        _ => {}
    }
    let name = ["name", "agent_name"]
        .iter()
        .find_map(|k| object.get(k).or_else(|| object.get("agent")?.get(k))?.as_str())
        .map(str::to_owned);
    let id = match (&args.id, name.as_deref().and_then(slug)) {
        (Some(id), _) => super::agent_id(id)?,
        (None, Some(s)) => AgentId::new(&s).map_err(|e| CliError::usage(e, None))?,
        (None, None) => {
            return Err(CliError::usage(
                format!("{}: the agent has no name to take an id from", args.file),
                Some("give one: --id <id>".into()),
            ));
        }
    };
    let ws = ui.workspace()?;
    // A tool file that holds another tool keeps its name; the import picks another (--force
    // replaces it instead).
    let taken = |tool: &Value| {
        let name = tool["name"].as_str().unwrap_or_default();
        let path = ws.root().join(agentver::workspace::bundle::tool_path(name));
        !args.force && std::fs::read(path).is_ok_and(|bytes| bytes != agentver::format::yaml::emit(tool).as_bytes())
    };
    let imported =
        platforms::import(platform, &object, &args.file, id.as_str(), &taken).map_err(agentver::Error::from)?;
    let files = write::files(&id, &imported.draft, &imported.tools)?;
    let written = write::write(&ws, &files, args.force, args.dry_run)?;
    if ui.json {
        ui.print_json(&Report {
            agent: id.as_str(),
            platform: platform.name(),
            dry_run: args.dry_run,
            files: &written,
            read_only: &imported.read_only,
            filled: &imported.filled,
            notes: &imported.notes,
        })?;
        return Ok(Outcome::Success);
    }
    let verb = if args.dry_run { "would import" } else { "imported" };
    let states: Vec<String> = written.iter().map(|w| format!("{} ({})", w.path, state(w.state))).collect();
    writeln!(ui.out(), "{verb} {id} from {}: {}", platform.title(), states.join(", "))?;
    if !imported.read_only.is_empty() {
        writeln!(ui.out(), "dropped read-only fields: {}", imported.read_only.join(", "))?;
    }
    for filled in &imported.filled {
        writeln!(ui.out(), "filled in (the object has none): {filled}")?;
    }
    for note in &imported.notes {
        ui.status(&format!("warning: {note}"));
    }
    Ok(Outcome::Success)
}

fn state(s: write::FileState) -> &'static str {
    match s {
        write::FileState::Created => "new",
        write::FileState::Overwritten => "replaced",
        write::FileState::Unchanged => "unchanged",
    }
}
