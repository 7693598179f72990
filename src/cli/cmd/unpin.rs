//! `agentver unpin <channel>`: remove a channel from channels.toml.

use crate::cli::{CmdResult, Outcome, Ui};

/// Remove a channel from channels.toml, keeping the rest of the file as it was.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    channel: String,
}

/// `unpin --json`.
#[derive(serde::Serialize)]
struct Unpinned<'a> {
    channel: &'a str,
    removed: bool,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    agentver::ops::pin::unpin(&ui.workspace()?, &args.channel)?;
    if ui.json {
        ui.print_json(&Unpinned { channel: &args.channel, removed: true })?;
    } else {
        writeln!(ui.out(), "unpinned {}", args.channel)?;
    }
    Ok(Outcome::Success)
}
