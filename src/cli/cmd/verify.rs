//! `agentver verify`: audit every version tag.

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

/// Audit every tag under the prefix: annotated, named as its trailers say, a commit whose tree
/// holds a valid agent, parent = the previous version's commit, no gaps in the numbers, rollbacks
/// pointing at versions with equal trees, and every tree pinned in channels.toml matching its tag.
/// Exit 1 with findings naming the tag.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Read channels.toml from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let audit = agentver::ops::verify::verify(&ui.workspace()?, &draft_at(&args.rev))?;
    if ui.json {
        ui.print_json(&audit)?;
    } else {
        for f in &audit.findings {
            writeln!(ui.out(), "{}: {}", f.tag, f.problem)?;
        }
        let summary = format!(
            "{} tag{} of {} agent{} checked, {} problem{}",
            audit.tags,
            if audit.tags == 1 { "" } else { "s" },
            audit.agents,
            if audit.agents == 1 { "" } else { "s" },
            audit.findings.len(),
            if audit.findings.len() == 1 { "" } else { "s" }
        );
        ui.status(&summary);
    }
    Ok(if audit.findings.is_empty() { Outcome::Success } else { Outcome::Negative })
}
