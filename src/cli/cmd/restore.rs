//! `agentver restore <id>@<ref>`: write a version's files back into the work tree.

use agentver::names::id::RefSpec;
use agentver::ops::restore::{FileAction, RestoreOptions, RestorePlan};

use crate::cli::{CmdResult, Outcome, Ui};

/// Write a version's files (agent, tools, workflow) back into the work tree, byte for byte.
///
/// Refuses (exit 1, nothing written) when a file it would overwrite holds content found neither in
/// HEAD, the index, nor any published version of the agent, unless --force.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// <id>@<ref> (a bare <id> restores latest)
    spec: String,
    /// Overwrite changes that exist nowhere else
    #[arg(long)]
    force: bool,
    /// Say what would be written, and write nothing
    #[arg(long)]
    dry_run: bool,
}

pub fn render_plan(ui: &mut Ui, plan: &RestorePlan, dry_run: bool) -> std::io::Result<()> {
    let out = ui.out();
    for f in &plan.files {
        let verb = match (f.action, dry_run) {
            (FileAction::Unchanged, _) => "unchanged",
            (FileAction::Create, false) => "created",
            (FileAction::Create, true) => "would create",
            (FileAction::Write, false) => "wrote",
            (FileAction::Write, true) => "would write",
        };
        let unsaved = if f.unsaved { "  (holds changes found nowhere else)" } else { "" };
        writeln!(out, "{verb} {}{unsaved}", f.path)?;
    }
    for s in &plan.shared {
        ui.status(&format!("note: {} is shared with {}", s.path, s.agents.join(", ")));
    }
    Ok(())
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let options = RestoreOptions { force: args.force, dry_run: args.dry_run };
    let plan =
        agentver::ops::restore::restore(&ui.workspace()?, &spec.agent, spec.reference_or(RefSpec::Latest), options)?;
    if ui.json {
        ui.print_json(&plan)?;
    } else {
        render_plan(ui, &plan, args.dry_run)?;
        if !args.dry_run {
            ui.status(&format!("restored {} v{}", plan.agent, plan.version));
        }
    }
    // A dry run that would be refused answers 1, so scripts can ask first.
    let refused = args.dry_run && !args.force && !plan.unsaved().is_empty();
    Ok(if refused { Outcome::Negative } else { Outcome::Success })
}
