//! `agentver push [REMOTE]`: push the agent tags the remote lacks, renumbering after a lost race.

use agentver::ops::push::PushReport;

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Push the agent tags the remote lacks, through the git program. When another clone published
/// the same numbers first, its versions win: the local never-pushed versions get the next numbers
/// (new tags, parents re-chained, the old local tags replaced) and the push is tried again.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The remote
    #[arg(default_value = "origin")]
    remote: String,
    /// Renumber even when the remote's latest came from a commit your version's does not
    /// contain (your version would undo it)
    #[arg(long)]
    force: bool,
    /// Push the current branch too, in the same atomic push: versions published from its
    /// commits travel with them (a version whose commit no branch of the remote holds is refused)
    #[arg(long)]
    with_branch: bool,
}

/// How a push or fetch report is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Render {
    Json,
    Human,
    /// Everything on stderr: around `publish --json`, whose stdout is its JSON alone.
    Status,
}

/// The output of a push.
pub fn report(ui: &mut Ui, report: &PushReport, render: Render) -> Result<(), CliError> {
    if render == Render::Json {
        return ui.print_json(report);
    }
    for r in &report.renumbered {
        ui.status(&format!(
            "{} v{} was taken on {} by another clone; your version is now v{} ({})",
            r.agent, r.from, report.remote, r.to, r.tag
        ));
    }
    if report.pushed.is_empty() {
        ui.status(&format!("{} already has every agent tag", report.remote));
    }
    for tag in &report.pushed {
        let line = format!("pushed {tag} to {}", report.remote);
        match render {
            Render::Status => ui.status(&line),
            _ => writeln!(ui.out(), "{line}")?,
        }
    }
    if !report.renumbered.is_empty() {
        ui.status("note: pins in channels.toml that name a renumbered version now fail their tree check; re-pin them");
    }
    Ok(())
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let options = agentver::ops::push::PushOptions { force: args.force, with_branch: args.with_branch };
    let pushed = agentver::ops::push::push(&ui.workspace()?, &args.remote, options)?;
    let render = if ui.json { Render::Json } else { Render::Human };
    report(ui, &pushed, render)?;
    Ok(Outcome::Success)
}
