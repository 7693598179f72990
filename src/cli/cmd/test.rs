//! `agentver test`: run the conversation tests in tests/ and report them as text, JSON or JUnit.

use agentver::testing::{self, Options, Outcome as Ran, Report, TestResult};

use crate::cli::{CliError, CmdResult, Outcome, Ui, draft_at};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    /// JUnit XML, for CI screens
    Junit,
}

/// Run the conversation tests in tests/ against the agents' drafts (or the versions named):
/// each agent speaks with its own prompt, model and tools through an OpenAI-compatible Chat
/// Completions API ([test] in agentver.toml), tools answer from the tests' mocks, and results
/// are kept per version tree in git notes (refs/notes/agentver/tests).
///
/// Replays from tests/.cassettes/ in CI or without an API key; --record keeps each exchange.
/// Exit 0 when every test passes, 1 when one fails, 2 on bad input.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// Tests to run, by name (tests/<name>.yaml), or agents whose tests run, as ID or ID@VERSION
    /// (default: every test, against the drafts)
    #[arg(value_name = "SPEC")]
    specs: Vec<String>,
    /// The drafts and tests as committed in REV instead of the work tree
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Runs of each test instead of its own repeat (every run must pass)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    repeat: Option<u32>,
    /// Send the requests and keep every exchange in tests/.cassettes/<test>.jsonl
    #[arg(long, conflicts_with = "replay")]
    record: bool,
    /// Answer every request from the cassettes; nothing is sent
    #[arg(long)]
    replay: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Runs at the same time
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let ws = ui.workspace()?;
    let options = Options {
        specs: args.specs.clone(),
        at: draft_at(&args.rev),
        repeat: args.repeat,
        record: if args.record {
            Some(true)
        } else if args.replay {
            Some(false)
        } else {
            None
        },
        jobs: args.jobs as usize,
        notes: true,
    };
    let report = match testing::run(&ws, &options)? {
        Ran::Ran(report) => report,
        Ran::Invalid(problems) => {
            for p in &problems {
                ui.status(&format!("error: {p}"));
                if let Some(hint) = &p.hint {
                    ui.status(&format!("hint: {hint}"));
                }
            }
            return Ok(Outcome::Code(2));
        }
    };
    if report.tests.is_empty() && args.specs.is_empty() {
        // A repository without tests is no failure: CI templates run this step everywhere.
        ui.status("no test in tests/: nothing to run (`agentver schema --for test` describes the format)");
        return Ok(Outcome::Success);
    }
    if report.tests.is_empty() {
        let named = if args.specs.is_empty() {
            "tests/ holds no test".to_owned()
        } else {
            format!("no test in tests/ is named {} or tests them", args.specs.join(", "))
        };
        return Err(CliError::usage(
            format!("no test ran: {named}"),
            Some(
                "a test is tests/<name>.yaml with agent: <id>; `agentver schema --for test` describes the format"
                    .into(),
            ),
        ));
    }
    match if ui.json { Format::Json } else { args.format } {
        Format::Json => ui.print_json(&report)?,
        Format::Junit => write!(ui.out(), "{}", junit(&report))?,
        Format::Text => text(ui, &report)?,
    }
    Ok(if report.ok { Outcome::Success } else { Outcome::Negative })
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn text(ui: &mut Ui, report: &Report) -> Result<(), CliError> {
    let width = report.tests.iter().map(|t| t.test.len()).max().unwrap_or(0);
    for t in &report.tests {
        let verdict = if t.ok { "ok" } else { "FAILED" };
        let needs = if t.pass < t.runs { format!(", needs {}", t.pass) } else { String::new() };
        writeln!(
            ui.out(),
            "{:width$}  {}@{}  {}/{} passed{needs} (95% CI {}–{})  {verdict}",
            t.test,
            t.subject.agent,
            t.subject.version,
            t.passed,
            t.runs,
            percent(t.interval.0),
            percent(t.interval.1),
        )?;
        for r in t.results.iter().filter(|r| r.failure.is_some()) {
            let f = r.failure.as_ref().expect("filtered");
            let at = match (f.turn, f.line) {
                (Some(turn), Some(line)) => format!("turn {turn} ({}:{line})", t.file),
                (None, Some(line)) => format!("evaluate ({}:{line})", t.file),
                (Some(turn), None) => format!("turn {turn} ({})", t.file),
                (None, None) => t.file.clone(),
            };
            writeln!(ui.out(), "  run {}, {at}: {}", r.run, f.message)?;
        }
    }
    let failed = report.tests.iter().filter(|t| !t.ok).count();
    let u = &report.usage;
    let cost = match report.cost {
        Some(c) if report.mode != agentver::testing::conversation::Mode::Replay => format!(", cost {c:.4}"),
        _ => String::new(),
    };
    let how = match report.mode {
        agentver::testing::conversation::Mode::Replay => "replayed from tests/.cassettes",
        agentver::testing::conversation::Mode::Record => "recorded in tests/.cassettes",
        agentver::testing::conversation::Mode::Live => "live",
    };
    writeln!(
        ui.out(),
        "{}: {} passed, {failed} failed · {} ({how}), {} tokens in, {} out{cost}",
        plural(report.tests.len(), "test"),
        report.tests.len() - failed,
        plural(u.requests as usize, "request"),
        u.input_tokens,
        u.output_tokens,
    )?;
    Ok(())
}

/// XML's five escapes, and control characters dropped (XML 1.0 cannot hold them).
fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn junit(report: &Report) -> String {
    let failures = report.tests.iter().filter(|t| !t.ok).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"agentver test\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"agentver test\" tests=\"{}\" failures=\"{failures}\">\n",
        report.tests.len(),
        report.tests.len()
    );
    for t in &report.tests {
        out.push_str(&testcase(t));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(t: &TestResult) -> String {
    let name = format!("{} ({}@{})", t.test, t.subject.agent, t.subject.version);
    let mut out = format!(
        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">\n",
        xml(&t.subject.agent),
        xml(&name),
        xml(&t.file)
    );
    if !t.ok {
        let lines: Vec<String> = t
            .results
            .iter()
            .filter_map(|r| r.failure.as_ref().map(|f| format!("run {}: {}", r.run, f.message)))
            .collect();
        let message = format!("{}/{} runs passed, {} needed", t.passed, t.runs, t.pass);
        out.push_str(&format!("      <failure message=\"{}\">{}</failure>\n", xml(&message), xml(&lines.join("\n"))));
    }
    out.push_str("    </testcase>\n");
    out
}
