//! `agentver new <id>`: scaffold a valid, commented draft.

use crate::cli::{CmdResult, Outcome, Ui};

/// Write agents/<id>.yaml from a commented template that validates as written.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The new agent's id: [a-z0-9][a-z0-9_-]{0,62}
    id: String,
}

/// `new --json`: the draft created.
#[derive(serde::Serialize)]
struct Created<'a> {
    agent: &'a str,
    path: &'a str,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let id = super::agent_id(&args.id)?;
    let path = agentver::ops::init::new_agent(&ui.workspace()?, &id)?;
    if ui.json {
        ui.print_json(&Created { agent: id.as_str(), path: &path })?;
    } else {
        writeln!(ui.out(), "created {path}")?;
    }
    Ok(Outcome::Success)
}
