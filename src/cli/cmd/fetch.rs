//! `agentver fetch [REMOTE] [--configure]`: bring the remote's agent tags.

use agentver::ops::fetch::FetchReport;

use super::push::Render;
use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Fetch the remote's agent tags (agent/<id>/v<N>), which a plain `git fetch` or `git pull` never
/// brings: snapshot commits are on no branch. A local tag that differs from the remote's of the
/// same name is a version not pushed yet; it is kept, and `agentver push` renumbers it.
#[derive(clap::Args)]
pub struct Args {
    /// The remote (default: origin)
    #[arg(default_value = "origin")]
    remote: String,
    /// Also add the tag refspec to the remote, so plain `git fetch` and `git pull` bring the tags
    #[arg(long)]
    configure: bool,
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
    if render == Render::Human && report.fetched.is_empty() {
        ui.status(&format!("already have every agent tag of {}", report.remote));
    }
    if report.configured {
        ui.status(&format!("configured {}: plain `git fetch` now brings agent tags", report.remote));
    }
    Ok(())
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let fetched = agentver::ops::fetch::fetch(&ui.workspace()?, &args.remote, args.configure)?;
    let render = if ui.json { Render::Json } else { Render::Human };
    report(ui, &fetched, render)?;
    Ok(Outcome::Success)
}
