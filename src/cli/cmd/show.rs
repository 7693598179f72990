//! `agentver show <spec>`: the agent file as published, or the draft.

use agentver::names::id::RefSpec;
use agentver::workspace::Version;

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

/// Print the agent file of a version byte for byte (default: latest), or the draft with
/// <id>@draft. With --json: the resolved configuration, tools and workflow inlined.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// <id> or <id>@<ref>, ref = vN | N | draft | latest
    spec: String,
    /// Read the draft from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let ws = ui.workspace()?;
    let reference = spec.reference_or(RefSpec::Latest);
    // A published file is printed as stored: no need to parse what was validated at publish.
    if !ui.json
        && let Version::Number(n) = ws.version_named(&spec.agent, reference, &draft_at(&args.rev))?
    {
        let bytes = ws.published_file(&spec.agent, n)?;
        ui.out().write_all(&bytes)?;
        return Ok(Outcome::Success);
    }
    let located = ws.locate(&spec.agent, reference, &draft_at(&args.rev))?;
    if ui.json {
        ui.print_json(&located.shown())?;
    } else {
        if located.version == Version::Draft {
            for w in &located.bundle.warnings {
                ui.warn(w);
            }
        }
        ui.out().write_all(&located.bundle.files[&spec.agent.draft_path()])?;
    }
    Ok(Outcome::Success)
}
