//! `agentver publish`: snapshot drafts as new numbered versions.

use agentver::ops::publish::{PublishOptions, Selection};

use crate::cli::{CliError, CmdResult, Outcome, Ui, draft_at};

/// Publish drafts as immutable versions: a snapshot commit and an annotated tag
/// agent/<id>/v<N>. No branch, HEAD, index or work-tree file is touched.
///
/// A named agent whose draft equals its latest version is refused (exit 1); --all skips such
/// agents and says so.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Agents to publish
    #[arg(value_name = "ID", required_unless_present_any = ["all", "changed"], conflicts_with_all = ["all", "changed"])]
    ids: Vec<String>,
    /// Publish every agent whose draft changed
    #[arg(long, conflicts_with = "changed")]
    all: bool,
    /// Publish the agents whose draft at REV (default HEAD) differs from latest, from REV's
    /// objects whatever the work tree holds: for CI after a merge
    #[arg(long)]
    changed: bool,
    /// The version's label (default "<id> v<N>"; with --changed, the subject of the commit
    /// published from, and its body as the notes)
    #[arg(short = 'm', long = "message", value_name = "LABEL")]
    label: Option<String>,
    #[command(flatten)]
    signing: super::Signing,
    /// Snapshot the drafts as committed in REV, not the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Fetch the remote's agent tags first, then push the ones it lacks (default remote: origin)
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    push: Option<String>,
    /// Publish though [publish] require_tests finds no passing run of the draft's tests
    /// (recorded in the tag as the trailer Agentver-Tests: skipped)
    #[arg(long)]
    skip_tests: bool,
    /// Publish even when the latest version came from a commit this draft's commit does not
    /// contain (it would undo that version's changes)
    #[arg(long)]
    force: bool,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    // --changed reads committed drafts: REV, or HEAD.
    let rev = match (args.changed, args.rev) {
        (true, None) => Some("HEAD".to_owned()),
        (_, rev) => rev,
    };
    let selection = if args.all || args.changed {
        Selection::All
    } else {
        Selection::Named(args.ids.iter().map(|s| super::agent_id(s)).collect::<Result<_, CliError>>()?)
    };
    let ws = ui.workspace()?;
    let mut notes = args.signing.notes()?;
    let mut label = args.label;
    // After a merge, the merge or squash commit says what the change was: the pull request.
    if args.changed
        && label.is_none()
        && let Some(rev) = &rev
    {
        let (subject, body) = ws.commit_message(rev)?;
        let (subject, body) = (agentver::ops::publish::plain(&subject), body.replace('\0', ""));
        if !subject.trim().is_empty() {
            label = Some(subject);
            if notes.is_empty() {
                notes = body;
            }
        }
    }
    let options = PublishOptions {
        label,
        notes,
        author: args.signing.author,
        at: draft_at(&rev),
        force: args.force,
        skip_tests: args.skip_tests,
    };
    if let Some(remote) = &args.push {
        // Number from what the remote has, not from what this clone happens to hold.
        let fetched = agentver::ops::fetch::fetch(&ws, remote, &agentver::ops::fetch::FetchOptions::default())?;
        super::fetch::report(ui, &fetched, super::push::Render::Status)?;
    }
    let report = agentver::ops::publish::publish(&ws, &selection, &options)?;
    for w in &report.warnings {
        ui.warn(w);
    }
    for (id, n) in &report.unchanged {
        ui.status(&format!("{id} unchanged since v{n}, skipped"));
    }
    if ui.json {
        ui.print_json(&report.published)?;
    } else {
        for p in &report.published {
            writeln!(ui.out(), "published {} v{} ({})", p.agent, p.version, p.tag)?;
        }
        if report.published.is_empty() {
            ui.status("nothing to publish");
        }
    }
    if let Some(remote) = args.push {
        let options = agentver::ops::push::PushOptions { force: args.force, with_branch: false };
        let pushed = agentver::ops::push::push(&ws, &remote, options)?;
        // With --json, stdout holds the JSON above alone; the push is told on stderr.
        super::push::report(ui, &pushed, super::push::Render::Status)?;
    }
    Ok(Outcome::Success)
}
