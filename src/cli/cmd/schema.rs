//! `agentver schema`: the JSON Schema of the agent format, for editors.

use crate::cli::{CmdResult, Outcome, Ui};

/// Print a JSON Schema (draft 2020-12) of agents/<id>.yaml, for editor completion and checks.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(ui: &mut Ui, _args: Args) -> CmdResult {
    ui.print_json(&agentver::format::model::schema::json_schema())?;
    Ok(Outcome::Success)
}
