//! `agentver calls`: the call list filtered by version (and the rest); `calls import FILE`.

use std::path::PathBuf;

use agentver::calls::Source;
use agentver::calls::report;
use agentver::calls::store::Filter;

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// List recorded calls, newest first, filtered by agent, version, variant, channel, time and
/// outcome; or import calls from JSON Lines.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many calls
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u64,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Backfill from JSON Lines: one webhook body or record per line; all lines or none
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The JSON Lines file
    file: PathBuf,
    /// What each line is: a record (generic) or a platform's webhook body
    #[arg(long, value_name = "SOURCE", default_value = "generic")]
    source: String,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

/// The filters `calls` and `stats` share.
#[derive(clap::Args, Default)]
pub struct FilterArgs {
    /// Only this agent's calls
    #[arg(long, value_name = "ID")]
    agent: Option<String>,
    /// Only calls served by version N (or the draft)
    #[arg(long, value_name = "N|draft")]
    version: Option<String>,
    /// Only calls of this split variant
    #[arg(long, value_name = "NAME")]
    variant: Option<String>,
    /// Only calls on this channel
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// Calls since T (RFC 3339, or a duration back: 7d, 24h)
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Calls before T
    #[arg(long, value_name = "T")]
    until: Option<String>,
    /// Only successful (true) or failed (false) calls
    #[arg(long, value_name = "BOOL")]
    success: Option<bool>,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    pub calls: Option<String>,
}

impl FilterArgs {
    pub fn filter(&self) -> Result<Filter, CliError> {
        let version = match self.version.as_deref() {
            None => None,
            Some("draft") => Some(None),
            Some(v) => Some(Some(v.trim_start_matches('v').parse::<u64>().map_err(|_| {
                CliError::usage(format!("--version: '{v}' is not a version"), Some("give N, vN or draft".into()))
            })?)),
        };
        Ok(Filter {
            agent: self.agent.clone(),
            version,
            variant: self.variant.clone(),
            channel: self.channel.clone(),
            since: self.since.as_deref().map(report::parse_since).transpose()?,
            until: self.until.as_deref().map(report::parse_since).transpose()?,
            success: self.success,
            limit: None,
        })
    }
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    if let Some(Action::Import(import)) = args.action {
        return run_import(ui, import);
    }
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.filter.calls.as_deref())?;
    let filter = Filter { limit: Some(args.limit), ..args.filter.filter()? };
    let calls = store.list(&filter)?;
    if ui.json {
        ui.print_json(&calls)?;
        return Ok(Outcome::Success);
    }
    let mut rows = vec![["STARTED", "CALL", "SERVED", "CHANNEL", "OUTCOME", "DURATION"].map(str::to_owned)];
    for c in &calls {
        let served = match (&c.agent, c.version, &c.tree) {
            (Some(a), Some(v), _) => format!("{a} v{v}"),
            (Some(a), None, Some(_)) => format!("{a} draft"),
            _ => "(unattributed)".into(),
        };
        let variant = c.variant.as_deref().map(|v| format!(" [{v}]")).unwrap_or_default();
        let outcome = match c.success {
            Some(true) => "success",
            Some(false) => "failure",
            None => "-",
        };
        rows.push([
            c.started_at.as_deref().or(c.resolved_at.as_deref()).unwrap_or("-").to_owned(),
            c.call_id.clone(),
            format!("{served}{variant}"),
            c.channel.clone().unwrap_or_else(|| "-".into()),
            outcome.to_owned(),
            c.duration_ms.map_or_else(|| "-".into(), |d| format!("{:.1}s", d as f64 / 1000.0)),
        ]);
    }
    if calls.is_empty() {
        ui.status("no calls match");
        return Ok(Outcome::Success);
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:w$}")).collect();
        writeln!(ui.out(), "{}", cells.join("  ").trim_end())?;
    }
    Ok(Outcome::Success)
}

fn run_import(ui: &mut Ui, args: ImportArgs) -> CmdResult {
    let source = Source::parse(&args.source).filter(|s| *s != Source::Agentver).ok_or_else(|| {
        CliError::usage(
            format!("--source: '{}' is not a source", args.source),
            Some("generic, vapi, retell or elevenlabs".into()),
        )
    })?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::usage(format!("{}: {e}", args.file.display()), None))?;
    let file = args.file.display().to_string();
    let imported = report::import(&ui.workspace()?, args.calls.as_deref(), &file, &text, source)?;
    if ui.json {
        ui.print_json(&imported)?;
    } else {
        let (events, calls, ignored) = (imported.events, imported.calls, imported.ignored);
        writeln!(ui.out(), "imported {events} events into {calls} calls ({ignored} ignored)")?;
    }
    Ok(Outcome::Success)
}
