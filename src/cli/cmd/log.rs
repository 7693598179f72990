//! `agentver log <id>` (alias `versions`): an agent's versions, newest first.

use crate::cli::{CmdResult, Outcome, Ui, draft_at, render};

/// List an agent's versions newest first, with the draft's state on top.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The agent's id
    id: String,
    /// Compare the draft as committed in REV instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let id = super::agent_id(&args.id)?;
    let ws = ui.workspace()?;
    let at = draft_at(&args.rev);
    let log = agentver::ops::log::log(&ws, &id, &at)?;
    if log.versions.is_empty()
        && let Some(why) = agentver::ops::fetch::missing_tags(&ws, std::slice::from_ref(&id), &at)?
    {
        ui.status(&format!("warning: {why}, so versions published elsewhere are not shown"));
        ui.status("hint: fetch them: agentver fetch");
    }
    if ui.json {
        ui.print_json(&log)?;
        return Ok(Outcome::Success);
    }
    let color = ui.color;
    let out = ui.out();
    let tree = log.draft.tree.as_deref().map(|t| format!(" (tree {})", &t[..12])).unwrap_or_default();
    let tests = |s: &Option<agentver::format::test_notes::Summary>| {
        s.map(|s| format!("  tests {}/{} passed", s.passed, s.total)).unwrap_or_default()
    };
    writeln!(
        out,
        "{} {}{tree}{}",
        render::paint(color, render::BOLD, "draft"),
        log.draft.state,
        tests(&log.draft.tests)
    )?;
    for v in &log.versions {
        let rollback = v.rollback_of.map(|r| format!(" (rollback to v{r})")).unwrap_or_default();
        let shown = render::paint(color, render::YELLOW, &format!("v{}", v.version));
        writeln!(out, "{shown} {}{rollback}{}", v.label, tests(&v.tests))?;
        writeln!(out, "    {} <{}>  {}  {}  tree {}", v.author.name, v.author.email, v.date, v.tag, &v.tree[..12])?;
        for line in v.notes.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    if let Some(e) = &log.draft.error {
        ui.status(&format!("warning: the draft does not validate: {e}"));
    }
    Ok(Outcome::Success)
}
