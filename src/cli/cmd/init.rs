//! `agentver init`: create the workspace folders and a commented channels.toml.

use crate::cli::{CmdResult, Outcome, Ui};

/// Create agents/, tools/, workflows/, agentver.toml and a commented channels.toml (running git
/// init first when needed). Existing files are never overwritten.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Also add the example agents, tools, workflow and channels
    #[arg(long)]
    example: bool,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let report = agentver::ops::init::init(&ui.directory, args.example)?;
    if ui.json {
        ui.print_json(&report)?;
        return Ok(Outcome::Success);
    }
    if report.git_initialized {
        let dir = ui.directory.display().to_string();
        writeln!(ui.out(), "initialized a git repository in {dir}")?;
    }
    for path in &report.created {
        writeln!(ui.out(), "created {path}")?;
    }
    for path in &report.kept {
        writeln!(ui.out(), "kept    {path} (already exists)")?;
    }
    Ok(Outcome::Success)
}
