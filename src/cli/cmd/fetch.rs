//! `agentver fetch [REMOTE] [--configure] [--reset]`: bring the remote's agent tags.

use agentver::ops::fetch::{FetchOptions, FetchReport};

use super::push::Render;
use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Fetch the remote's agent tags (agent/<id>/v<N>), which a plain `git fetch` or `git pull` never
/// brings: snapshot commits are on no branch. A local tag that differs from the remote's of the
/// same name is a version not pushed yet (kept; `agentver push` renumbers it), unless the remote
/// once had it: then the remote's tag moved, which is reported (exit 1) and never renumbered.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The remote
    #[arg(default_value = "origin")]
    remote: String,
    /// Also add the tag refspec to the remote, so plain `git fetch` and `git pull` bring the tags
    #[arg(long)]
    configure: bool,
    /// Make the local agent tags equal the remote's, saving every local tag dropped or replaced
    /// under refs/agentver/dropped/<time>/
    #[arg(long)]
    reset: bool,
}

pub fn report(ui: &mut Ui, report: &FetchReport, render: Render) -> Result<(), CliError> {
    if render == Render::Json {
        return ui.print_json(report);
    }
    for tag in &report.fetched {
        let line = format!("fetched {tag} from {}", report.remote);
        match render {
            Render::Status => ui.status(&line),
            _ => writeln!(ui.out(), "{line}")?,
        }
    }
    for tag in &report.diverged {
        ui.status(&format!(
            "{tag} differs on {}: yours is not pushed yet; `agentver push` gives it the next number",
            report.remote
        ));
    }
    for tag in &report.moved {
        ui.status(&format!(
            "warning: {tag} moved on {remote}: {remote} had yours and now names another object (a force-push or a forged tag); yours is kept and will not be pushed or renumbered",
            remote = report.remote
        ));
    }
    if !report.moved.is_empty() {
        ui.status(&format!(
            "hint: find out who moved it; if {remote}'s is the genuine one, `agentver fetch {remote} --reset` takes it, saving yours",
            remote = report.remote
        ));
    }
    for tag in &report.dropped {
        let saved = report.saved_under.as_deref().unwrap_or_default();
        if report.removed.contains(tag) {
            ui.status(&format!("removed {tag}: {} has no such version (yours is saved under {saved})", report.remote));
        } else {
            ui.status(&format!("reset {tag} to {}'s (yours is saved under {saved})", report.remote));
        }
    }
    if render == Render::Human && report.fetched.is_empty() && report.moved.is_empty() && report.dropped.is_empty() {
        if report.remote_versions == 0 {
            ui.status(&format!("no versions on {} yet", report.remote));
        } else {
            ui.status(&format!("already have every agent tag of {}", report.remote));
        }
    }
    if report.configured {
        ui.status(&format!("configured {}: plain `git fetch` now brings agent tags", report.remote));
    }
    Ok(())
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let options = FetchOptions { configure: args.configure, reset: args.reset };
    let fetched = agentver::ops::fetch::fetch(&ui.workspace()?, &args.remote, &options)?;
    let render = if ui.json { Render::Json } else { Render::Human };
    report(ui, &fetched, render)?;
    Ok(if fetched.moved.is_empty() { Outcome::Success } else { Outcome::Negative })
}
