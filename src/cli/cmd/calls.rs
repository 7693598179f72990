//! `agentver calls`: the call list filtered by version (and the rest); `calls import FILE|-`,
//! `calls forget ID...` and `calls prune --before T`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use agentver::calls::report::{self, Progress};
use agentver::calls::store::Filter;
use agentver::calls::{Record, Source, limits};
use agentver::{DraftAt, Workspace};

use crate::cli::render::printable;
use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// List recorded calls, newest first, filtered by agent, version, variant, channel, time and
/// outcome; import calls from JSON Lines; forget calls; prune old ones.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Only successful (true) or failed (false) calls
    #[arg(long, value_name = "BOOL")]
    success: Option<bool>,
    /// Read `--version latest` as at this revision (the commit a server serves; default: the
    /// highest version published)
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// At most this many calls (0: all of them, streamed: memory stays flat)
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u64,
    /// Skip this many calls first (the next page: --offset 100 after --limit 100)
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u64,
    /// How to print them: a table, one JSON array (as --json), or one JSON record per line
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "jsonl"])]
    format: String,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Backfill from JSON Lines (a file, or - for standard input): one webhook body, platform call
    /// object or record per line; every line is checked before any is stored
    Import(ImportArgs),
    /// Erase calls and every event about them (a deletion request); a late webhook for a
    /// forgotten call is not stored
    Forget(ForgetArgs),
    /// Erase the calls that started before a time (retention)
    Prune(PruneArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    json_flag: super::Json,
    /// The JSON Lines file, or - for standard input
    file: PathBuf,
    /// What each line is: a record (generic) or a platform's webhook body or call object
    #[arg(long, value_name = "SOURCE", default_value = "generic")]
    source: String,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

#[derive(clap::Args)]
struct ForgetArgs {
    #[command(flatten)]
    json_flag: super::Json,
    /// The calls' ids
    #[arg(required = true, value_name = "CALL_ID")]
    ids: Vec<String>,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

#[derive(clap::Args)]
struct PruneArgs {
    #[command(flatten)]
    json_flag: super::Json,
    /// Erase calls that started before T (RFC 3339, or a duration back: 90d)
    #[arg(long, value_name = "T", required = true)]
    before: String,
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    calls: Option<String>,
}

impl Args {
    /// Whether `--json` was given, to `calls` or to its subcommand.
    pub(crate) fn json(&self) -> bool {
        match &self.action {
            Some(Action::Import(a)) => a.json_flag.json,
            Some(Action::Forget(a)) => a.json_flag.json,
            Some(Action::Prune(a)) => a.json_flag.json,
            None => self.json_flag.json,
        }
    }
}

/// `--version latest`: the agent's latest version at `--rev` (without it, the highest published).
fn latest(ws: &Workspace, args: &Args) -> Result<u64, CliError> {
    let Some(id) = args.filter.agent.as_deref() else {
        return Err(CliError::usage("--version latest needs --agent", Some("name the agent: --agent sales".into())));
    };
    let agent = super::agent_id(id)?;
    let at = match &args.rev {
        Some(rev) => {
            ws.rev_commit(rev)?;
            DraftAt::Rev(rev.clone())
        }
        None => DraftAt::WorkTree,
    };
    ws.latest_number(&agent, &at)?.ok_or_else(|| {
        CliError::usage(
            format!("{id} has no published version"),
            Some(format!("publish one first (agentver publish {id}); `agentver status` lists each agent's latest")),
        )
    })
}

/// The filters `calls` and `stats` share.
#[derive(clap::Args, Default)]
pub struct FilterArgs {
    /// Only this agent's calls
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Only calls served by version N (or the draft; with `calls`, also latest)
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
    /// The call store (sqlite:PATH or postgres://...)
    #[arg(long, value_name = "STORE")]
    pub calls: Option<String>,
}

impl FilterArgs {
    pub fn filter(&self) -> Result<Filter, CliError> {
        let version = match self.version.as_deref() {
            None => None,
            Some(v) => Some(report::version_filter(v).ok_or_else(|| {
                CliError::usage(
                    format!("--version: '{}' is not a version", printable(v)),
                    Some("give N, vN or draft".into()),
                )
            })?),
        };
        let present = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        Ok(Filter {
            agent: present(&self.agent),
            version,
            variant: present(&self.variant),
            channel: present(&self.channel),
            since: self.since.as_deref().map(report::parse_since).transpose()?,
            until: self.until.as_deref().map(report::parse_since).transpose()?,
            success: None,
            limit: None,
            offset: None,
        })
    }
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    match args.action {
        Some(Action::Import(import)) => return run_import(ui, import),
        Some(Action::Forget(forget)) => return run_forget(ui, forget),
        Some(Action::Prune(prune)) => return run_prune(ui, prune),
        None => {}
    }
    let ws = ui.workspace()?;
    let mut args = args;
    if args.filter.version.as_deref() == Some("latest") {
        args.filter.version = Some(latest(&ws, &args)?.to_string());
    }
    let mut store = report::open(&ws, args.filter.calls.as_deref())?;
    let limit = (args.limit > 0).then_some(args.limit);
    let filter = Filter { limit, offset: Some(args.offset), success: args.success, ..args.filter.filter()? };
    let format = if ui.json { "json" } else { args.format.as_str() };
    let mut printed = 0u64;
    let mut broken = None;
    let mut out = Listing::new(format);
    let read = store.for_each_record(&filter, |record| {
        printed += 1;
        out.add(ui, record).map_err(|e| {
            let stop = agentver::Error::io("standard output", std::io::Error::new(e.kind(), e.to_string()));
            broken = Some(e);
            stop
        })
    });
    if let Some(e) = broken {
        return Err(CliError::Io(e));
    }
    read?;
    out.finish(ui)?;
    if printed == 0 && format == "text" {
        ui.status("no calls match");
    }
    Ok(Outcome::Success)
}

/// Rows a table keeps to size its columns; the rest of a long list is printed at those widths.
const TABLE_ROWS: usize = 10_000;

/// The calls as they are written: a table (aligned on its first rows), a JSON array, or JSON Lines.
enum Listing {
    Table { rows: Vec<[String; 6]>, widths: Option<Vec<usize>> },
    Json(Option<JsonArray>),
    Lines,
}

/// An open pretty JSON array: `[`, then each element as `serde_json::to_writer_pretty` would.
struct JsonArray {
    first: bool,
}

impl Listing {
    fn new(format: &str) -> Listing {
        match format {
            "json" => Listing::Json(None),
            "jsonl" => Listing::Lines,
            _ => Listing::Table {
                rows: vec![["STARTED", "CALL", "SERVED", "CHANNEL", "OUTCOME", "DURATION"].map(str::to_owned)],
                widths: None,
            },
        }
    }

    fn add(&mut self, ui: &mut Ui, record: Record) -> std::io::Result<()> {
        match self {
            Listing::Table { rows, widths: None } => {
                rows.push(row(&record));
                if rows.len() > TABLE_ROWS {
                    let sized = column_widths(rows);
                    print_rows(ui, rows, &sized)?;
                    rows.clear();
                    *self = Listing::Table { rows: Vec::new(), widths: Some(sized) };
                }
                Ok(())
            }
            Listing::Table { widths: Some(w), .. } => print_rows(ui, &[row(&record)], w),
            Listing::Json(open) => {
                let array = open.get_or_insert_with(|| JsonArray { first: true });
                let text = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
                let out = ui.out();
                out.write_all(if array.first { b"[\n" } else { b",\n" })?;
                array.first = false;
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        out.write_all(b"\n")?;
                    }
                    out.write_all(b"  ")?;
                    out.write_all(line.as_bytes())?;
                }
                Ok(())
            }
            Listing::Lines => {
                let out = ui.out();
                serde_json::to_writer(&mut *out, &record).map_err(std::io::Error::other)?;
                out.write_all(b"\n")
            }
        }
    }

    fn finish(self, ui: &mut Ui) -> std::io::Result<()> {
        match self {
            Listing::Table { rows, widths: None } if rows.len() > 1 => print_rows(ui, &rows, &column_widths(&rows)),
            Listing::Json(None) => ui.out().write_all(b"[]\n"),
            Listing::Json(Some(_)) => ui.out().write_all(b"\n]\n"),
            _ => Ok(()),
        }
    }
}

/// A cell for a terminal: control characters escaped, cut to `max` characters.
fn cell(text: &str, max: usize) -> String {
    let shown = printable(text);
    if shown.chars().count() <= max {
        return shown.into_owned();
    }
    format!("{}…", shown.chars().take(max - 1).collect::<String>())
}

fn row(c: &Record) -> [String; 6] {
    let served = match (&c.agent, c.version, &c.tree) {
        (Some(a), Some(v), _) => format!("{a} v{v}"),
        (Some(a), None, Some(_)) => format!("{a} draft"),
        _ if c.attribution == Some(agentver::calls::Attribution::Invalid) => "(invalid attribution)".into(),
        _ if c.attribution == Some(agentver::calls::Attribution::NotDeployed) => "(not deployed)".into(),
        _ => "(unattributed)".into(),
    };
    let variant = c.variant.as_deref().map(|v| format!(" [{}]", cell(v, 24))).unwrap_or_default();
    let mark = if c.overridden { " (override)" } else { "" };
    let outcome = match c.success {
        Some(true) => "success",
        Some(false) => "failure",
        None => "-",
    };
    [
        c.started_at.as_deref().or(c.resolved_at.as_deref()).unwrap_or("-").to_owned(),
        cell(&c.call_id, 40),
        format!("{served}{variant}{mark}"),
        c.channel.as_deref().map_or_else(|| "-".into(), |ch| cell(ch, 24)),
        outcome.to_owned(),
        c.duration_ms.map_or_else(|| "-".into(), |d| format!("{:.1}s", d as f64 / 1000.0)),
    ]
}

fn column_widths(rows: &[[String; 6]]) -> Vec<usize> {
    (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect()
}

/// Rows in aligned columns (padded by hand: cells are already cut to a few dozen characters).
fn print_rows(ui: &mut Ui, rows: &[[String; 6]], widths: &[usize]) -> std::io::Result<()> {
    for r in rows {
        let mut line = String::new();
        for (i, (text, width)) in r.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(text);
            line.extend(std::iter::repeat_n(' ', width.saturating_sub(text.chars().count())));
        }
        writeln!(ui.out(), "{}", line.trim_end())?;
    }
    Ok(())
}

fn run_import(ui: &mut Ui, args: ImportArgs) -> CmdResult {
    let source = Source::parse(&args.source).filter(|s| *s != Source::Agentver).ok_or_else(|| {
        CliError::usage(
            format!("--source: '{}' is not a source", printable(&args.source)),
            Some("generic, vapi, retell or elevenlabs".into()),
        )
    })?;
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.calls.as_deref())?;
    // Standard input is read twice (checked, then written) from a private copy.
    let (path, shown, _copy) = if args.file.as_os_str() == "-" {
        let mut copy =
            tempfile::NamedTempFile::new().map_err(|e| CliError::usage(format!("standard input: {e}"), None))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut copy)
            .map_err(|e| CliError::usage(format!("standard input: {e}"), None))?;
        (copy.path().to_owned(), "standard input".to_owned(), Some(copy))
    } else {
        (args.file.clone(), args.file.display().to_string(), None)
    };
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal() && !ui.json;
    let mut last = Instant::now();
    let mut progress = |p: Progress| {
        use std::io::Write as _;
        if terminal && (last.elapsed().as_millis() >= 200 || p.done == p.total) {
            last = Instant::now();
            let rate = p.done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            let end = if p.done == p.total { "\n" } else { "" };
            let _ = write!(
                std::io::stderr(),
                "\rimporting: {}/{} records ({rate:.0} records/s)\x1b[K{end}",
                p.done,
                p.total
            );
        }
    };
    let imported = report::import(&ws, &mut store, &path, &shown, source, agentver::platforms::parse, &mut progress)?;
    if ui.json {
        ui.print_json(&imported)?;
    } else {
        let ignored = if imported.ignored > 0 { format!(" ({} ignored)", imported.ignored) } else { String::new() };
        let refused = if imported.refused > 0 {
            format!(
                ", {} refused (their calls already held {} reports from one source)",
                imported.refused,
                limits::MAX_EVENTS_PER_SOURCE
            )
        } else {
            String::new()
        };
        writeln!(
            ui.out(),
            "imported {} {}: {} new, {} unchanged{refused}{ignored}",
            imported.records,
            if imported.records == 1 { "record" } else { "records" },
            imported.new,
            imported.unchanged
        )?;
    }
    Ok(Outcome::Success)
}

fn run_forget(ui: &mut Ui, args: ForgetArgs) -> CmdResult {
    for id in &args.ids {
        limits::call_id(id, "CALL_ID").map_err(|e| CliError::usage(printable(&e.0).into_owned(), None))?;
    }
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.calls.as_deref())?;
    let found = store.forget(&args.ids, &agentver::calls::now())?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "forgotten": found, "asked": args.ids.len() }))?;
    } else {
        let n = args.ids.len();
        writeln!(ui.out(), "forgot {found} of {n} {}", if n == 1 { "call" } else { "calls" })?;
        if found < n {
            ui.status("note: a call that was not in the store is not stored if a report for it arrives later");
        }
    }
    Ok(Outcome::Success)
}

fn run_prune(ui: &mut Ui, args: PruneArgs) -> CmdResult {
    let before = report::parse_since(&args.before)?;
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.calls.as_deref())?;
    let pruned = store.prune(&before)?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "pruned": pruned, "before": before }))?;
    } else {
        writeln!(
            ui.out(),
            "pruned {pruned} {} that started before {before}",
            if pruned == 1 { "call" } else { "calls" }
        )?;
    }
    Ok(Outcome::Success)
}
