//! `agentver rollback <id>@<ref>`: publish an old version again as the newest, and restore it.

use agentver::ops::rollback::RollbackOptions;

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Publish a new version whose content is exactly an old version's (equal tree ids; parent =
/// latest; trailer Agentver-Rollback-Of), then restore its files into the work tree under the
/// same rule as `restore`. A refused restore publishes nothing.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// <id>@<ref>: the version to roll back to
    spec: String,
    /// The new version's label (default "Rollback to vM")
    #[arg(short = 'm', long = "message", value_name = "LABEL")]
    label: Option<String>,
    #[command(flatten)]
    signing: super::Signing,
    /// Overwrite draft changes that exist nowhere else
    #[arg(long)]
    force: bool,
}

/// `rollback --json`: the version published and the restore that followed.
#[derive(serde::Serialize)]
struct RolledBack<'a> {
    published: &'a agentver::ops::publish::Published,
    restore: &'a agentver::ops::restore::RestorePlan,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let spec = super::spec(&args.spec)?;
    let Some(reference) = spec.reference else {
        return Err(CliError::usage(
            "name the version to roll back to",
            Some(format!("agentver rollback {}@v<N>; `agentver log {}` lists them", spec.agent, spec.agent)),
        ));
    };
    let options = RollbackOptions {
        label: args.label,
        notes: args.signing.notes()?,
        author: args.signing.author,
        force: args.force,
    };
    let (published, plan) = agentver::ops::rollback::rollback(&ui.workspace()?, &spec.agent, reference, &options)?;
    if ui.json {
        ui.print_json(&RolledBack { published: &published, restore: &plan })?;
    } else {
        writeln!(
            ui.out(),
            "published {} v{} ({}), a rollback to v{}",
            published.agent,
            published.version,
            published.tag,
            plan.version
        )?;
        super::restore::render_plan(ui, &plan, false)?;
    }
    Ok(Outcome::Success)
}
