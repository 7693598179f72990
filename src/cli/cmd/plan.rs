//! `agentver plan`: what a change does to each channel's callers.

use std::io::Write;

use agentver::ops::plan::{ChannelChange, ChannelPlan, Plan};
use agentver::routing::resolve::{ChannelView, TargetView};

use crate::cli::render::{self, Format};
use crate::cli::{CliError, CmdResult, Outcome, Ui, draft_at};

/// Show what a change does to callers, channel by channel (like terraform plan): before → after,
/// the config diff callers will see, the share of callers that move; and for each changed draft,
/// its diff against latest and the channels that follow it (live on merge).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Compare from this revision (default: the merge base with the upstream of the default
    /// branch, else HEAD)
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Compare to this revision (default: the work tree)
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 0 when nothing changes, 2 when something does, 1 on error
    #[arg(long)]
    detailed_exitcode: bool,
}

fn target_line(state: &ChannelView) -> String {
    let one = |t: &TargetView| {
        let pin = t.pin.to_string();
        let version = match (&t.version, pin.as_str()) {
            (_, _) if t.error.is_some() => format!("{pin} (cannot serve)"),
            (Some(v), "latest") => format!("latest → {v}"),
            (Some(agentver::workspace::Version::Draft), _) => {
                format!("draft ({})", t.tree.as_deref().map_or("?", |tree| &tree[..7]))
            }
            (Some(v), _) => v.to_string(),
            (None, pin) => pin.to_owned(),
        };
        format!("{} {version}", t.agent)
    };
    match state.sticky {
        None => state.targets.first().map(one).unwrap_or_default(),
        Some(_) => state
            .targets
            .iter()
            .map(|t| {
                format!("{}: {} {:.0}%", t.variant.as_deref().unwrap_or("?"), one(t), t.share.unwrap_or(1.0) * 100.0)
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn side(state: &Option<ChannelView>) -> String {
    state.as_ref().map_or_else(|| "—".to_owned(), target_line)
}

fn moved(c: &ChannelPlan) -> String {
    c.moved_share.map_or_else(|| "unknown".to_owned(), |m| format!("{:.1}%", m * 100.0))
}

fn sign(c: &ChannelPlan) -> &'static str {
    match c.change {
        ChannelChange::Added => "+",
        ChannelChange::Removed => "-",
        ChannelChange::Changed => "~",
    }
}

/// `3/3 passed → 2/3 passed`, a side where no test ran said so.
fn tests_change(t: &agentver::ops::plan::TestsChange) -> String {
    let side = |s: Option<agentver::format::test_notes::Summary>| {
        s.map_or("not run".to_owned(), |s| format!("{}/{} passed", s.passed, s.total))
    };
    format!("{} → {}", side(t.before), side(t.after))
}

fn text(ui: &mut Ui, plan: &Plan) -> std::io::Result<()> {
    let color = ui.color;
    let base =
        plan.base.commit.as_deref().map_or("nothing".to_owned(), |c| format!("{} ({})", plan.base.rev, &c[..12]));
    writeln!(ui.out(), "plan: {base} → {}", plan.head.rev)?;
    if !plan.changed {
        writeln!(ui.out(), "no changes: every channel serves what it served before")?;
        return Ok(());
    }
    for c in &plan.channels {
        writeln!(
            ui.out(),
            "{} channel {}: {} → {} ({} of callers move)",
            sign(c),
            c.channel,
            side(&c.before),
            side(&c.after),
            moved(c)
        )?;
        for d in &c.diffs {
            let title = format!(
                "  {}: {} → {}",
                d.agent,
                d.from.as_ref().map_or("nothing".to_owned(), |f| f.version.to_string()),
                d.to.version
            );
            render::text(ui.out(), &title, &d.changes, color)?;
            if let Some(h) = &d.headline {
                writeln!(ui.out(), "{title}")?;
                render::headline_text(ui.out(), "    ", h)?;
            }
        }
    }
    for d in &plan.drafts {
        let latest = d.latest.map_or("never published".to_owned(), |n| format!("latest v{n}"));
        let live =
            if d.channels.is_empty() { String::new() } else { format!("; live on merge on {}", d.channels.join(", ")) };
        writeln!(ui.out(), "~ draft {} {} ({latest}){live}", d.agent, d.change)?;
        if let Some(n) = d.publishes {
            writeln!(ui.out(), "  {}", publish_on_merge(d, n))?;
        }
        if let Some(t) = &d.tests {
            writeln!(ui.out(), "  tests: {}", tests_change(t))?;
        }
        if let Some(e) = &d.error {
            writeln!(ui.out(), "  cannot be read: {e}")?;
        }
        if d.changes.is_empty() && d.latest.is_some() {
            writeln!(ui.out(), "  identical to {latest}")?;
        }
        render::text(ui.out(), &format!("  {} against {}:", d.agent, latest), &d.changes, color)?;
    }
    Ok(())
}

/// `publish on merge: sales v3`, and the channels following latest that serve it then.
fn publish_on_merge(d: &agentver::ops::plan::DraftPlan, n: u64) -> String {
    let serves = if d.latest_channels.is_empty() {
        String::new()
    } else {
        format!(" (then served on {}, which follow latest)", d.latest_channels.join(", "))
    };
    format!("publish on merge: {} v{n}{serves}", d.agent)
}

/// The comment's heading, summary table and the channels live on merge.
fn markdown_head(plan: &Plan) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let n = plan.channels.len();
    let m = plan.drafts.len();
    writeln!(
        head,
        "## agentver plan: {n} channel{} change{}, {m} draft{} change{}\n",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
        if m == 1 { "" } else { "s" },
        if m == 1 { "s" } else { "" }
    )?;
    if !plan.changed {
        writeln!(head, "No changes: every channel serves what it served before.")?;
        return Ok(head);
    }
    if !plan.channels.is_empty() {
        writeln!(head, "| | channel | before | after | callers moving |\n|---|---|---|---|---|")?;
        for c in &plan.channels {
            writeln!(
                head,
                "| {} | {} | {} | {} | {} |",
                sign(c),
                render::md_code(&c.channel),
                side(&c.before),
                side(&c.after),
                moved(c)
            )?;
        }
        writeln!(head)?;
    }
    let live: Vec<String> = plan
        .drafts
        .iter()
        .flat_map(|d| d.channels.iter().map(move |c| format!("{} ({})", render::md_code(c), d.agent)))
        .collect();
    if !live.is_empty() {
        writeln!(head, "**Live on merge** (these channels follow a draft that changes): {}\n", live.join(", "))?;
    }
    for d in &plan.drafts {
        if let Some(n) = d.publishes {
            let serves: Vec<String> = d.latest_channels.iter().map(|c| render::md_code(c)).collect();
            let serves = if serves.is_empty() {
                String::new()
            } else {
                format!(", then served on {} (latest)", serves.join(", "))
            };
            writeln!(head, "**Publish on merge**: `{}` v{n}{serves}", d.agent)?;
        }
        if let Some(t) = &d.tests {
            writeln!(head, "**Tests** of `{}`: {}", d.agent, tests_change(t))?;
        }
    }
    if plan.drafts.iter().any(|d| d.publishes.is_some() || d.tests.is_some()) {
        writeln!(head)?;
    }
    Ok(head)
}

/// The folded details, each a section; a diff two channels share is shown once.
fn markdown_sections(plan: &Plan) -> std::io::Result<Vec<Vec<u8>>> {
    let mut sections: Vec<Vec<u8>> = Vec::new();
    let mut shown: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for c in &plan.channels {
        for d in &c.diffs {
            let from = d.from.as_ref().map_or("nothing".to_owned(), |f| format!("{} {}", f.agent, f.version));
            let mut section = Vec::new();
            let summary = format!("{from} → {} {}", d.agent, d.to.version);
            writeln!(section, "<details><summary>{}: {summary}</summary>\n", render::md_code(&c.channel))?;
            match shown.get(&summary) {
                Some(first) => writeln!(section, "The same change as {}.\n", render::md_code(first.as_str()))?,
                None => {
                    match &d.headline {
                        Some(h) => render::headline_markdown(&mut section, h)?,
                        None => render::markdown(&mut section, None, &d.changes)?,
                    }
                    shown.insert(summary, c.channel.clone());
                }
            }
            writeln!(section, "</details>\n")?;
            sections.push(section);
        }
    }
    for d in &plan.drafts {
        let latest = d.latest.map_or("never published".to_owned(), |n| format!("v{n}"));
        let mut section = Vec::new();
        writeln!(
            section,
            "<details><summary>draft <code>{}</code> {} (against {latest})</summary>\n",
            d.agent, d.change
        )?;
        if d.changes.is_empty() && d.latest.is_some() {
            writeln!(section, "Identical to {latest}.\n")?;
        } else {
            render::markdown(&mut section, None, &d.changes)?;
        }
        writeln!(section, "</details>\n")?;
        sections.push(section);
    }
    Ok(sections)
}

/// A pull-request comment: the head, then as many sections as fit under GitHub's limit.
fn markdown(ui: &mut Ui, plan: &Plan) -> std::io::Result<()> {
    let head = markdown_head(plan)?;
    let sections = if plan.changed { markdown_sections(plan)? } else { Vec::new() };
    // Stay under GitHub's comment limit, saying what was left out rather than failing to post.
    const NOTE_ROOM: usize = 300;
    let mut used = String::from_utf8_lossy(&head).chars().count();
    let out = ui.out();
    out.write_all(&head)?;
    let mut folded = 0;
    for section in &sections {
        let size = String::from_utf8_lossy(section).chars().count();
        if folded == 0 && used + size + NOTE_ROOM <= render::COMMENT_LIMIT {
            out.write_all(section)?;
            used += size;
        } else {
            folded += 1;
        }
    }
    if folded > 0 {
        writeln!(
            out,
            "_{folded} more section{} folded away to stay under GitHub's {}-character comment limit; \
             run `agentver plan` to see every change._",
            if folded == 1 { "" } else { "s" },
            render::COMMENT_LIMIT
        )?;
    }
    Ok(())
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let result =
        ui.workspace().and_then(|ws| Ok(agentver::ops::plan::plan(&ws, args.base.as_deref(), &draft_at(&args.head))?));
    let plan = match result {
        Ok(plan) => plan,
        // terraform's convention: with --detailed-exitcode an error is 1, a change is 2.
        Err(e) if args.detailed_exitcode => {
            crate::cli::error::print(&e, ui.json);
            return Ok(Outcome::Code(1));
        }
        Err(e) => return Err(e),
    };
    let format = if ui.json { Format::Json } else { args.format };
    match format {
        Format::Json => ui.print_json(&plan)?,
        Format::Markdown => markdown(ui, &plan).map_err(CliError::Io)?,
        Format::Text => text(ui, &plan).map_err(CliError::Io)?,
    }
    Ok(match (args.detailed_exitcode, plan.changed) {
        (true, true) => Outcome::Code(2),
        _ => Outcome::Success,
    })
}
