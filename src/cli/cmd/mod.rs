//! One file per subcommand.

pub mod ab;
pub mod calls;
pub mod channels;
pub mod check;
pub mod console;
pub mod diff;
pub mod export;
pub mod fetch;
pub mod import;
pub mod init;
pub mod log;
pub mod new;
pub mod pin;
pub mod plan;
pub mod publish;
pub mod push;
pub mod render;
pub mod replay;
pub mod resolve;
pub mod restore;
pub mod rollback;
pub mod schema;
pub mod serve;
pub mod show;
pub mod stats;
pub mod status;
pub mod test;
pub mod unpin;
pub mod verify;

use agentver::names::id::{AgentId, Spec};

use super::CliError;

/// Parses a spec argument, turning a bad one into a usage error (exit 2).
pub fn spec(s: &str) -> Result<Spec, CliError> {
    Spec::parse(s)
        .map_err(|e| CliError::usage(e, Some("a spec is <id> or <id>@<ref>, ref = vN | N | draft | latest".into())))
}

pub fn agent_id(s: &str) -> Result<AgentId, CliError> {
    AgentId::new(s).map_err(|e| CliError::usage(e, Some("agent ids match [a-z0-9][a-z0-9_-]{0,62}".into())))
}

/// How a new version is described and signed: the options publish and rollback share.
#[derive(clap::Args)]
pub struct Signing {
    /// Notes stored with the version
    #[arg(long, value_name = "TEXT", conflicts_with = "notes_file")]
    notes: Option<String>,
    /// Read the notes from a file
    #[arg(long, value_name = "FILE")]
    notes_file: Option<std::path::PathBuf>,
    /// Sign the tag as "Name <email>" instead of the git identity
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,
}

impl Signing {
    /// `--notes` or `--notes-file` (one of them, or neither).
    pub fn notes(&self) -> Result<String, CliError> {
        notes(&self.notes, &self.notes_file)
    }
}

/// Reads `--notes` or `--notes-file` (one of them, or neither).
fn notes(notes: &Option<String>, file: &Option<std::path::PathBuf>) -> Result<String, CliError> {
    match (notes, file) {
        (Some(n), None) => Ok(n.clone()),
        (None, Some(f)) => {
            std::fs::read_to_string(f).map_err(|e| CliError::usage(format!("--notes-file {}: {e}", f.display()), None))
        }
        (None, None) => Ok(String::new()),
        (Some(_), Some(_)) => Err(CliError::usage("give --notes or --notes-file, not both", None)),
    }
}

/// `--json`, on the commands that report data (not `export`, whose output is JSON already, nor
/// the servers).
#[derive(clap::Args, Clone, Copy, Default)]
pub struct Json {
    /// Print machine-readable JSON on stdout
    #[arg(long)]
    pub json: bool,
}
