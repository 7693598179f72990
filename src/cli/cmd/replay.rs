//! `agentver replay <call-id>`: a call's record and the exact configuration that served it.

use agentver::calls::report;

use crate::cli::render::printable;
use crate::cli::{CmdResult, Outcome, Ui};

/// Print the exact configuration a recorded call was served with, found by its snapshot tree id
/// (so moving or deleting tags since changes nothing). With --json: the record too.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The call's id
    call_id: String,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.calls.as_deref())?;
    let replay = report::replay(&mut store, &args.call_id, &|agent, tree| ws.config_in_tree(agent, tree))?;
    if let Some(why) = report::unreplayable(&replay) {
        return Err(agentver::Error::from(why).into());
    }
    if ui.json {
        ui.print_json(&replay)?;
        return Ok(Outcome::Success);
    }
    let c = &replay.call;
    let version = c.version.map_or_else(|| "draft".to_owned(), |v| format!("v{v}"));
    ui.status(&format!(
        "call {}: {} {version}, tree {}",
        printable(&c.call_id),
        c.agent.as_deref().unwrap_or_default(),
        c.tree.as_deref().unwrap_or_default()
    ));
    ui.print_json(&replay.config)?;
    Ok(Outcome::Success)
}
