//! `agentver stats <id>`: each version (or split variant) of an agent, compared with statistics.

use agentver::calls::report::{self, StatsRequest};
use agentver::calls::stats::{Field, Test};

use crate::cli::{CliError, CmdResult, Outcome, Ui};

/// Calls, success rate (95% Wilson interval), duration, cost, sentiment and each analysis field
/// per version or split variant, with a comparison (two-proportion z-test, Welch's t-test) and,
/// for splits, a sample-ratio-mismatch check.
#[derive(clap::Args)]
pub struct Args {
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
}

fn version(v: &str) -> Result<u64, CliError> {
    v.trim_start_matches('v').parse().map_err(|_| CliError::usage(format!("--compare: '{v}' is not a version"), None))
}

fn line(test: &Test) -> String {
    match (test.difference, test.ci95) {
        (Some(d), Some([lo, hi])) => format!("{d:+.4} (95% CI {lo:+.4} to {hi:+.4}): {}", test.verdict),
        _ => test.verdict.clone(),
    }
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
    let report = report::stats_report(&ws, &mut store, &agent, &request)?;
    if ui.json {
        ui.print_json(&report)?;
        return Ok(Outcome::Success);
    }
    let out = ui.out();
    writeln!(out, "{} by {}: {} arms", report.agent, report.by, report.arms.len())?;
    for a in &report.arms {
        let success = a.success.as_ref().map_or("success -".into(), |r| {
            format!("success {:.1}% [{:.1}–{:.1}] of {}", r.rate * 100.0, r.ci95[0] * 100.0, r.ci95[1] * 100.0, r.n)
        });
        let duration = a.duration_ms.as_ref().map_or(String::new(), |d| {
            format!("  duration median {:.1}s p90 {:.1}s", d.median / 1000.0, d.p90 / 1000.0)
        });
        let cost = a.cost.as_ref().map_or(String::new(), |c| format!("  cost mean {:.3}", c.mean));
        writeln!(out, "  {:8} {:6} calls  {success}{duration}{cost}", a.arm, a.calls)?;
        if !a.sentiment.is_empty() {
            let shares: Vec<String> = a.sentiment.iter().map(|(k, v)| format!("{k} {:.0}%", v * 100.0)).collect();
            writeln!(out, "           sentiment {}", shares.join(", "))?;
        }
        for (name, f) in &a.fields {
            let summary = match f {
                Field::Rate { rate, n } => format!("{:.1}% true of {n}", rate * 100.0),
                Field::Mean { mean, n } => format!("mean {mean:.3} of {n}"),
                Field::Shares { shares, n } => {
                    let parts: Vec<String> = shares.iter().map(|(k, v)| format!("{k} {:.0}%", v * 100.0)).collect();
                    format!("{} of {n}", parts.join(", "))
                }
            };
            writeln!(out, "           {name}: {summary}")?;
        }
    }
    if let Some(c) = &report.comparison {
        writeln!(out, "{} → {}", c.a, c.b)?;
        writeln!(out, "  success rate  {}", line(&c.success_rate))?;
        writeln!(out, "  duration (ms) {}", line(&c.duration_ms))?;
        writeln!(out, "  cost          {}", line(&c.cost))?;
    }
    if let Some(s) = &report.sample_ratio {
        let verdict =
            if s.mismatch { "MISMATCH: the split is not assigning calls as configured" } else { "as configured" };
        writeln!(out, "sample ratio: chi-square {:.2}, p = {:.4}: {verdict}", s.chi_square, s.p_value)?;
    }
    if report.unattributed > 0 {
        ui.status(&format!("note: {} calls in the store could not be attributed to an agent", report.unattributed));
    }
    Ok(Outcome::Success)
}
