//! `agentver status`: every agent's latest version, draft state and channels.

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

/// Per agent: the latest version, whether the draft is new, unchanged or modified (by tree id,
/// tools and workflow included), and the channels that route to it.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Read drafts and channels.toml from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let ws = ui.workspace()?;
    let at = draft_at(&args.rev);
    let statuses = agentver::ops::status::status(&ws, &at)?;
    // Every agent "new" in a clone that never fetched the tags is a wrong answer: say why.
    if statuses.iter().any(|s| s.latest.is_none())
        && let Some(why) = agentver::ops::fetch::missing_tags(&ws, &[], &at)?
    {
        ui.status(&format!("warning: {why}, so versions published elsewhere are not shown"));
        ui.status("hint: fetch them: agentver fetch");
    }
    if ui.json {
        ui.print_json(&statuses)?;
        return Ok(Outcome::Success);
    }
    let width = statuses.iter().map(|s| s.agent.len()).max().unwrap_or(5).max(5);
    let out = ui.out();
    writeln!(out, "{:width$}  {:6}  {:9}  CHANNELS", "AGENT", "LATEST", "DRAFT")?;
    for s in &statuses {
        let latest = s.latest.map_or("-".to_owned(), |n| format!("v{n}"));
        let channels = if s.channels.is_empty() { "-".to_owned() } else { s.channels.join(", ") };
        writeln!(out, "{:width$}  {:6}  {:9}  {channels}", s.agent, latest, s.draft.to_string())?;
    }
    for s in statuses.iter().filter(|s| s.error.is_some()) {
        ui.status(&format!("warning: {}", s.error.as_deref().unwrap_or_default()));
    }
    Ok(Outcome::Success)
}
