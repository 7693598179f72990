//! `agentver diff`: what changed between two configurations of an agent.

use agentver::format::diff;
use agentver::names::id::{RefSpec, Spec};
use agentver::workspace::Located;

use crate::cli::render::{self, Format};
use crate::cli::{CliError, CmdResult, Outcome, Ui, draft_at};

/// Show what changed, field by field: `diff sales` latest → draft; `diff sales@v3` v3 → draft;
/// `diff sales@v3 sales@v5`. Named lists (tools, knowledge bases, analysis fields, workflow
/// nodes) are matched by name; long text gets a line diff with changed words marked.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The old side (<id> means its latest version)
    from: String,
    /// The new side (default: the draft)
    to: Option<String>,
    /// Output format (--json is the same as --format json)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 when there are differences, 0 when there are none
    #[arg(long)]
    exit_code: bool,
    /// Read drafts from this commit instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

/// `diff --json`: both sides, the changes, and whether only formatting differs.
#[derive(serde::Serialize)]
struct DiffOutput<'a> {
    agent: &'a str,
    from: Side<'a>,
    to: Side<'a>,
    changes: &'a [agentver::format::diff::Change],
    formatting_only: bool,
}

#[derive(serde::Serialize)]
struct Side<'a> {
    version: agentver::workspace::Version,
    tree: String,
    tag: Option<&'a str>,
}

fn side(located: &Located) -> Side<'_> {
    Side { version: located.version, tree: located.tree.to_string(), tag: located.tag.as_deref() }
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let from = super::spec(&args.from)?;
    let to = match &args.to {
        Some(s) => super::spec(s)?,
        None => Spec { agent: from.agent.clone(), reference: Some(RefSpec::Draft) },
    };
    if from.agent != to.agent {
        return Err(CliError::usage(
            format!("both sides must name the same agent, not {} and {}", from.agent, to.agent),
            None,
        ));
    }
    let ws = ui.workspace()?;
    let at = draft_at(&args.rev);
    let old = ws.locate(&from.agent, from.reference_or(RefSpec::Latest), &at)?;
    let new = ws.locate(&to.agent, to.reference_or(RefSpec::Draft), &at)?;
    let changes = diff::diff(&old.bundle.config, &new.bundle.config);
    // Different trees with the same configuration: only comments or layout changed. That is
    // still a change (status says modified, publish makes a version), so it is said, not hidden.
    let formatting_only = changes.is_empty() && old.tree != new.tree;
    const FORMATTING: &str = "formatting or comments only";
    let title = format!("{}: {} → {}", from.agent, old.version, new.version);
    let format = if ui.json { Format::Json } else { args.format };
    let color = ui.color;
    match format {
        Format::Json => ui.print_json(&DiffOutput {
            agent: from.agent.as_str(),
            from: side(&old),
            to: side(&new),
            changes: &changes,
            formatting_only,
        })?,
        Format::Markdown if formatting_only => writeln!(ui.out(), "### {title}\n\nThe files differ in {FORMATTING}.")?,
        Format::Markdown => render::markdown(ui.out(), Some(&title), &changes)?,
        Format::Text if formatting_only => writeln!(ui.out(), "{title}: {FORMATTING}")?,
        Format::Text => render::text(ui.out(), &title, &changes, color)?,
    }
    let differs = !changes.is_empty() || formatting_only;
    Ok(if args.exit_code && differs { Outcome::Negative } else { Outcome::Success })
}
