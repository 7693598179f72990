//! `agentver stats <id>`: each version (or split variant) of an agent, compared with statistics.

use agentver::calls::report::{self, StatsRequest};
use agentver::calls::stats::{self, Field, Test};

use crate::cli::render::printable;
use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Calls, success rate (95% Wilson interval), duration, cost, sentiment and each analysis field
/// per version or split variant, with a comparison (two-proportion z-test, Welch's t-test) and,
/// for splits, a sample-ratio-mismatch check.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) json_flag: super::Json,
    /// The agent's id
    id: String,
    #[command(flatten)]
    filter: super::calls::FilterArgs,
    /// Compare these two versions (default: latest against the previous version with calls)
    #[arg(long, num_args = 2, value_names = ["vA", "vB"])]
    compare: Option<Vec<String>>,
    /// Group by split variant instead of version (needs --channel)
    #[arg(long, value_name = "variant", value_parser = ["variant", "version"])]
    by: Option<String>,
    /// Read channels.toml (a split's weights) and `latest` as at REV, the commit a server
    /// serves (default HEAD, with latest the highest version)
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
}

fn version(v: &str) -> Result<u64, CliError> {
    v.strip_prefix('v').unwrap_or(v).parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        CliError::usage(
            format!("--compare: '{}' is not a version", printable(v)),
            Some("give two versions: --compare v2 v3".into()),
        )
    })
}

/// One figure of a comparison: the difference and its interval, in the figure's own unit.
fn line(test: &Test, unit: Unit) -> String {
    match (test.difference, test.ci95) {
        (Some(d), Some([lo, hi])) => {
            let (d, lo, hi) = (unit.shown(d), unit.shown(lo), unit.shown(hi));
            format!("{d} (95% CI {lo} to {hi}): {}", printable(&test.verdict))
        }
        _ => printable(&test.verdict).into_owned(),
    }
}

#[derive(Clone, Copy)]
enum Unit {
    /// A difference of shares, in percentage points.
    Points,
    /// Milliseconds, shown in seconds.
    Seconds,
    /// A cost in its unit.
    Cost,
}

impl Unit {
    fn shown(self, x: f64) -> String {
        match self {
            Unit::Points => format!("{:+.1} pts", x * 100.0),
            Unit::Seconds => format!("{:+.1} s", x / 1000.0),
            Unit::Cost => format!("{x:+.4}"),
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn run(ui: &mut Ui, args: Args) -> CmdResult {
    let agent = super::agent_id(&args.id)?;
    let compare = match &args.compare {
        Some(v) => Some((version(&v[0])?, version(&v[1])?)),
        None => None,
    };
    let request =
        StatsRequest { filter: args.filter.filter()?, compare, by_variant: args.by.as_deref() == Some("variant") };
    let ws = ui.workspace()?;
    let mut store = report::open(&ws, args.filter.calls.as_deref())?;
    if let Some(rev) = &args.rev {
        ws.rev_commit(rev)?;
    }
    let catalog = report::RepoCatalog::at(&ws, args.rev.as_deref());
    let report = report::stats_report(&mut store, &catalog, &agent, &request)?;
    if ui.json {
        ui.print_json(&report)?;
        return Ok(Outcome::Success);
    }
    let calls: u64 = report.arms.iter().map(|a| a.calls).sum();
    writeln!(
        ui.out(),
        "{} by {}: {}, {}",
        report.agent,
        report.by,
        plural(report.arms.len() as u64, "arm", "arms"),
        plural(calls, "call", "calls")
    )?;
    for a in &report.arms {
        arm(ui.out(), a)?;
    }
    if let Some(c) = &report.comparison {
        let out = ui.out();
        writeln!(out, "{} → {}", printable(&c.a), printable(&c.b))?;
        writeln!(out, "  success rate  {}", line(&c.success_rate, Unit::Points))?;
        writeln!(out, "  duration      {}", line(&c.duration_ms, Unit::Seconds))?;
        for (unit, test) in &c.cost {
            writeln!(out, "  {:<14}{}", format!("cost ({})", unit.as_str()), line(test, Unit::Cost))?;
        }
    }
    if let Some(s) = &report.sample_ratio {
        let verdict =
            if s.mismatch { "MISMATCH: the split is not assigning calls as configured" } else { "as configured" };
        writeln!(ui.out(), "sample ratio: chi-square {:.2}, {}: {verdict}", s.chi_square, stats::p_text(s.p_value))?;
    }
    if calls == 0 {
        ui.status(&format!(
            "note: no calls of {agent} are recorded{}",
            if request.filter.channel.is_some() || request.filter.since.is_some() { " that match" } else { "" }
        ));
        ui.status(
            "hint: resolve with a call id (/v1/resolve?...&call_id=ID) or import reports: agentver calls import FILE",
        );
    }
    let (unattributed, invalid) = (report.unattributed, report.invalid_attribution);
    if unattributed > 0 || invalid > 0 {
        ui.status(&format!(
            "note: {} in the store are no arm: {unattributed} never attributed, {invalid} with an invalid attribution",
            plural(unattributed + invalid, "call", "calls")
        ));
    }
    Ok(Outcome::Success)
}

/// One arm: its calls and figures, then sentiment and each analysis field.
fn arm(out: &mut dyn std::io::Write, a: &agentver::calls::stats::Arm) -> std::io::Result<()> {
    let success = a.success.as_ref().map_or("success -".into(), |r| {
        format!("success {:.1}% [{:.1}–{:.1}] of {}", r.rate * 100.0, r.ci95[0] * 100.0, r.ci95[1] * 100.0, r.n)
    });
    let duration = a
        .duration_ms
        .as_ref()
        .map_or(String::new(), |d| format!("  duration median {:.1}s p90 {:.1}s", d.median / 1000.0, d.p90 / 1000.0));
    let cost: String = a.cost.iter().map(|(unit, c)| format!("  cost mean {:.3} {}", c.mean, unit.as_str())).collect();
    writeln!(out, "  {:8} {:>11}  {success}{duration}{cost}", printable(&a.arm), plural(a.calls, "call", "calls"))?;
    if !a.sentiment.is_empty() {
        let shares: Vec<String> =
            a.sentiment.iter().map(|(k, v)| format!("{} {:.0}%", printable(k), v * 100.0)).collect();
        writeln!(out, "           sentiment {}", shares.join(", "))?;
    }
    for (name, f) in &a.fields {
        let summary = match f {
            Field::Rate { rate, n } => format!("{:.1}% true of {n}", rate * 100.0),
            Field::Mean { mean, n } => format!("mean {mean:.3} of {n}"),
            Field::Shares { shares, n } => {
                let parts: Vec<String> =
                    shares.iter().map(|(k, v)| format!("{} {:.0}%", printable(k), v * 100.0)).collect();
                format!("{} of {n}", parts.join(", "))
            }
        };
        writeln!(out, "           {}: {summary}", printable(name))?;
    }
    Ok(())
}
