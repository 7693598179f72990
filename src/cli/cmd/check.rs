//! `agentver check`: validate everything; for CI and pre-commit hooks.

use agentver::format::diagnostic::Severity;

use crate::cli::{CmdResult, Outcome, Ui, draft_at};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    /// GitHub Actions annotations (::error file=…,line=…::…)
    Github,
}

/// Validate every agent, tool, workflow and channel, the references between them (tools and
/// workflows exist, pinned versions have tags, trees match, weights valid), stray files in
/// agents/, and literal secrets. Exit 0 when clean (warnings allowed), 1 when there are problems.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Check the config as committed in REV instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

/// GitHub's workflow-command escaping: data escapes % CR LF; properties also : and ,.
fn escape(s: &str, property: bool) -> String {
    let mut out = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// `check --format json`.
#[derive(serde::Serialize)]
struct CheckOutput<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    problems: &'a [agentver::format::diagnostic::Diagnostic],
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let ws = ui.workspace()?;
    let report = agentver::ops::check::check(&ws, &draft_at(&args.rev))?;
    let format = if ui.json { Format::Json } else { args.format };
    // Text says where a file was read ("HEAD:agents/x.yaml"); JSON and annotations carry the
    // path itself, which is what tools match against the checkout.
    let label = args.rev.as_ref().map(|r| format!("{r}:"));
    let path_of = |file: &str| label.as_deref().and_then(|l| file.strip_prefix(l)).unwrap_or(file).to_owned();
    match format {
        Format::Json => {
            let mut problems = report.problems.clone();
            for p in &mut problems {
                p.file = path_of(&p.file);
            }
            ui.print_json(&CheckOutput {
                ok: report.ok(),
                errors: report.errors,
                warnings: report.warnings,
                problems: &problems,
            })?
        }
        Format::Github => {
            for p in &report.problems {
                let level = if p.severity == Severity::Error { "error" } else { "warning" };
                let path = format!("{}{}", ws.prefix(), path_of(&p.file));
                let line = p.line.map(|l| format!(",line={l}")).unwrap_or_default();
                let hint = p.hint.as_deref().map(|h| format!(" (hint: {h})")).unwrap_or_default();
                writeln!(
                    ui.out(),
                    "::{level} file={}{line},title=agentver::{}",
                    escape(&path, true),
                    escape(&format!("{}{hint}", p.message), false)
                )?;
            }
        }
        Format::Text => {
            for p in &report.problems {
                let level = if p.severity == Severity::Error { "error" } else { "warning" };
                writeln!(ui.out(), "{level}: {p}")?;
                if let Some(hint) = &p.hint {
                    writeln!(ui.out(), "  hint: {hint}")?;
                }
            }
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    ui.status(&format!("check: {}, {}", plural(report.errors, "error"), plural(report.warnings, "warning")));
    Ok(if report.ok() { Outcome::Success } else { Outcome::Negative })
}
