//! The stats page: the sample-ratio banner, the arms' figures, the forest plot, duration
//! histograms, calls per day per version (each chart with a summary and its data as a table),
//! the tests' verdicts, and the CSV of the figures.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use maud::{Markup, html};

use super::chart;
use super::html::{self, percent, seconds};
use crate::calls::CostUnit;
use crate::calls::report::StatsReport;
use crate::calls::stats::{Arm, Field, Test};
use crate::calls::store::Store;
use crate::error::Result;
use crate::names::id::AgentId;

/// The stats pages' last reports, each kept while its store has had no commit since it was made,
/// so a page reloaded over a million calls is not computed again while nothing changed. SQLite
/// says so by the file's data version (any other connection's commit moves it) and this
/// connection's own changes; PostgreSQL by the cluster's snapshot (any commit moves it).
#[derive(Default)]
pub struct StatsCache(Mutex<Vec<(String, String, Arc<StatsReport>)>>);

/// How many reports are kept (a few people comparing a few arms).
const KEPT: usize = 8;

impl StatsCache {
    /// The report under `key` made by `make`, or the one kept from a store with no commit since.
    pub fn get_or_make(
        &self,
        store: &mut Store,
        key: String,
        make: impl FnOnce(&mut Store) -> Result<StatsReport>,
    ) -> Result<Arc<StatsReport>> {
        let generation = generation(store);
        let kept = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(g) = &generation
            && let Some((_, _, hit)) = kept().iter().find(|(k, at, _)| *k == key && at == g)
        {
            return Ok(hit.clone());
        }
        let report = Arc::new(make(store)?);
        if let Some(g) = generation {
            let mut kept = kept();
            kept.retain(|(k, _, _)| *k != key);
            kept.push((key, g, report.clone()));
            if kept.len() > KEPT {
                kept.remove(0);
            }
        }
        Ok(report)
    }
}

/// What moves with every commit to the store; `None` when it cannot be read (nothing is kept).
fn generation(store: &mut Store) -> Option<String> {
    match store {
        Store::Sqlite(conn) => {
            let data: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()?;
            Some(format!("{data}:{}", conn.total_changes()))
        }
        Store::Postgres(client) => client.query_one("SELECT pg_current_snapshot()::text", &[]).ok()?.try_get(0).ok(),
    }
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> &'a str {
    q.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or_default()
}

/// `head`: the agent's head (title, tabs, what is only in the work tree).
pub fn page(
    agent: &AgentId,
    report: &StatsReport,
    kept: &[(&str, &str)],
    q: &[(String, String)],
    head: Markup,
) -> Markup {
    let csv = format!("/agents/{agent}/stats.csv?{}", html::query(kept));
    html! {
        (head)
        form.filters method="get" action={"/agents/" (agent) "/stats"} hx-get={"/agents/" (agent) "/stats"} hx-target="#main" hx-push-url="true" {
            label { "Compare" input name="compare" value=(param(q, "compare")) size="8" placeholder="v2,v3"; }
            label { "By" select name="by" {
                option value="version" selected[param(q, "by") != "variant"] { "version" }
                option value="variant" selected[param(q, "by") == "variant"] { "variant" }
            } }
            label { "Channel" input name="channel" value=(param(q, "channel")) size="14"; }
            label { "Since" input name="since" value=(param(q, "since")) size="10" placeholder="30d"; }
            label { "Until" input name="until" value=(param(q, "until")) size="10"; }
            button type="submit" { "Show" }
        }
        @if let Some(srm) = &report.sample_ratio {
            @if srm.mismatch {
                (html::notice("error", html! { strong { "Sample ratio mismatch" } ": the arms' call counts do not match the split's weights (χ² = "
                    (format!("{:.2}", srm.chi_square)) ", " (crate::calls::stats::p_text(srm.p_value)) "). Fix the assignment before reading the results." }))
            } @else {
                (html::notice("ok", html! { "The arms' call counts match the split's weights (" (crate::calls::stats::p_text(srm.p_value)) ")." }))
            }
        }
        @if report.arms.is_empty() { p { "No call of " (agent) " matches." } }
        @else {
            (arms_table(&report.arms))
            p { a href=(csv) download { "Download the figures (CSV)" } }
            h2 { "Success rate" }
            (success_figure(&report.arms))
            h2 { "Duration" }
            (duration_figure(&report.arms))
            h2 { "Calls per day" }
            (daily_figure(&report.daily, &report.arms, report.by))
            @if let Some(cmp) = &report.comparison {
                h2 { (cmp.b) " against " (cmp.a) }
                ul {
                    li { "Success rate: " (verdict(&cmp.success_rate, Unit::Points)) }
                    li { "Duration: " (verdict(&cmp.duration_ms, Unit::Seconds)) }
                    @for (unit, t) in &cmp.cost { li { "Mean cost: " (verdict(t, Unit::Cost(*unit))) } }
                }
            }
        }
        @if report.unattributed + report.invalid_attribution > 0 {
            p.muted { (report.unattributed) " calls were never attributed and " (report.invalid_attribution) " had an invalid attribution; they are in no arm." }
        }
    }
}

/// What a difference is counted in.
#[derive(Clone, Copy)]
enum Unit {
    /// A rate's difference, in percentage points.
    Points,
    /// A duration's, from milliseconds.
    Seconds,
    Cost(CostUnit),
}

impl Unit {
    fn show(self, x: f64) -> String {
        match self {
            Unit::Points => format!("{:+.1} points", x * 100.0),
            Unit::Seconds => format!("{:+.1} s", x / 1000.0),
            Unit::Cost(unit) => format!("{x:+.4} {}", unit.as_str()),
        }
    }
}

fn verdict(t: &Test, unit: Unit) -> Markup {
    let fmt = |x: f64| unit.show(x);
    html! {
        (t.verdict)
        @if let Some(d) = t.difference { " (difference " (fmt(d)) }
        @if let Some([lo, hi]) = t.ci95 { ", 95% CI " (fmt(lo)) " to " (fmt(hi)) }
        @if let Some(p) = t.p_value { ", " (crate::calls::stats::p_text(p)) }
        @if t.difference.is_some() { ")" }
    }
}

/// Every analysis field any arm has, in name order.
fn field_names(arms: &[Arm]) -> Vec<&str> {
    let mut names: Vec<&str> = arms.iter().flat_map(|a| a.fields.keys().map(String::as_str)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// An analysis field as a cell: a boolean's share of true, a number's mean, else each value's share.
fn field_text(f: &Field) -> String {
    match f {
        Field::Rate { rate, .. } => format!("{} true", percent(*rate)),
        Field::Mean { mean, .. } => format!("mean {mean:.2}"),
        Field::Shares { shares, .. } => {
            shares.iter().map(|(k, v)| format!("{k} {}", percent(*v))).collect::<Vec<_>>().join(", ")
        }
    }
}

/// Each cost unit's mean, as `0.2110 usd`.
fn cost_text(a: &Arm) -> String {
    let costs: Vec<String> = a.cost.iter().map(|(u, s)| format!("{:.4} {}", s.mean, u.as_str())).collect();
    if costs.is_empty() { "—".into() } else { costs.join("; ") }
}

fn sentiment_text(a: &Arm) -> String {
    let shares: Vec<String> = a.sentiment.iter().map(|(k, v)| format!("{k} {}", percent(*v))).collect();
    if shares.is_empty() { "—".into() } else { shares.join(", ") }
}

fn arms_table(arms: &[Arm]) -> Markup {
    let fields = field_names(arms);
    html! {
        // Wider than a narrow window: a region the keyboard can scroll.
        div.scroll tabindex="0" role="region" aria-label="Figures per arm" { table {
            caption.muted { "Figures per arm" }
            thead { tr { th scope="col" { "Arm" } th.num scope="col" { "Calls" } th.num scope="col" { "Success" } th.num scope="col" { "95% interval" }
                th.num scope="col" { "Mean duration" } th.num scope="col" { "Median" } th.num scope="col" { "p90" }
                th.num scope="col" { "Mean cost" } th scope="col" { "Sentiment" }
                @for f in &fields { th scope="col" { (f) } } } }
            tbody { @for a in arms { tr {
                th scope="row" { (a.arm) }
                td.num { (a.calls) }
                @match &a.success {
                    Some(s) => { td.num { (percent(s.rate)) " (" (s.successes) "/" (s.n) ")" } td.num { (percent(s.ci95[0])) "–" (percent(s.ci95[1])) } }
                    None => { td.num { "—" } td.num { "—" } }
                }
                @match &a.duration_ms {
                    Some(d) => { td.num { (seconds(d.mean)) } td.num { (seconds(d.median)) } td.num { (seconds(d.p90)) } }
                    None => { td.num { "—" } td.num { "—" } td.num { "—" } }
                }
                td.num { (cost_text(a)) }
                td { (sentiment_text(a)) }
                @for f in &fields { td { (a.fields.get(*f).map_or_else(|| "—".into(), field_text)) } }
            } } }
        } }
    }
}

fn success_figure(arms: &[Arm]) -> Markup {
    let summary: Vec<String> = arms
        .iter()
        .filter_map(|a| {
            a.success
                .as_ref()
                .map(|s| format!("{} {} ({}–{})", a.arm, percent(s.rate), percent(s.ci95[0]), percent(s.ci95[1])))
        })
        .collect();
    html! {
        figure {
            (chart::forest("forest", "Success rate per arm with its 95% Wilson interval", arms))
            figcaption { "Success rate with 95% interval: " (summary.join("; ")) "." }
        }
    }
}

fn duration_figure(arms: &[Arm]) -> Markup {
    let (edges, counts) = chart::bins(arms, 12);
    if edges.is_empty() {
        return html! { p { "No call has a duration yet." } };
    }
    html! {
        figure {
            (chart::durations("durations", "Call duration distribution per arm", arms, &edges, &counts))
            figcaption { "Calls per duration bin, each arm scaled to its own largest bin." }
        }
        details {
            summary { "Duration data" }
            div.scroll { table {
                thead { tr { th scope="col" { "Up to" } @for a in arms { th.num scope="col" { (a.arm) } } } }
                tbody { @for (b, edge) in edges.iter().enumerate() { tr {
                    th scope="row" { (seconds(*edge)) }
                    @for c in &counts { td.num { (c[b]) } }
                } } }
            } }
        }
    }
}

/// Calls per day per arm (version or variant, as the table's arms), in the arms' order.
fn daily_figure(daily: &[(String, String, u64)], arms: &[Arm], by: &str) -> Markup {
    let mut days: Vec<String> = daily.iter().map(|(d, _, _)| d.clone()).collect();
    days.dedup();
    let mut per_arm: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for (day, arm, n) in daily {
        *per_arm.entry(arm.as_str()).or_default().entry(day.as_str()).or_default() += n;
    }
    let names: Vec<String> = arms.iter().map(|a| a.arm.clone()).filter(|a| per_arm.contains_key(a.as_str())).collect();
    let counts: Vec<Vec<u64>> = names
        .iter()
        .map(|a| days.iter().map(|d| per_arm[a.as_str()].get(d.as_str()).copied().unwrap_or(0)).collect())
        .collect();
    if days.is_empty() {
        return html! { p { "No calls in this range." } };
    }
    let total: u64 = counts.iter().flatten().sum();
    html! {
        figure {
            (chart::daily("daily", &format!("Calls per day per {by}"), &days, &names, &counts))
            (chart::legend(&names))
            figcaption { (total) " calls over " (days.len()) " days, from " (days[0]) " to " (days[days.len() - 1]) "." }
        }
        details {
            summary { "Calls per day data" }
            div.scroll { table {
                thead { tr { th scope="col" { "Day" } @for n in &names { th.num scope="col" { (n) } } } }
                tbody { @for (d, day) in days.iter().enumerate() { tr {
                    th scope="row" { (day) }
                    @for row in &counts { td.num { (row[d]) } }
                } } }
            } }
        }
    }
}

/// A CSV field, quoted when it needs to be; a leading `=`, `+`, `-` or `@` is prefixed with `'`
/// so a spreadsheet does not run it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The arms' figures as CSV: the table's columns, then each cost unit's mean, each sentiment's
/// share and each analysis field (a boolean's share of true, a number's mean, else value=share
/// pairs), the names of the columns past the fixed ones made from what the arms hold.
pub fn csv(report: &StatsReport) -> String {
    let arms = &report.arms;
    let units: Vec<CostUnit> = {
        let mut u: Vec<CostUnit> = arms.iter().flat_map(|a| a.cost.keys().copied()).collect();
        u.sort();
        u.dedup();
        u
    };
    let mut moods: Vec<&str> = arms.iter().flat_map(|a| a.sentiment.keys().map(String::as_str)).collect();
    moods.sort_unstable();
    moods.dedup();
    let fields = field_names(arms);
    let mut out = String::from(
        "arm,calls,known_outcome,successes,success_rate,ci95_low,ci95_high,duration_mean_ms,duration_median_ms,duration_p90_ms",
    );
    for u in &units {
        out.push_str(&format!(",cost_mean_{}", u.as_str()));
    }
    for m in &moods {
        out.push(',');
        out.push_str(&field(&format!("sentiment_{m}")));
    }
    for f in &fields {
        out.push(',');
        out.push_str(&field(&format!("field_{f}")));
    }
    out.push('\n');
    let num = |x: Option<f64>| x.map(|x| format!("{x}")).unwrap_or_default();
    for a in arms {
        let s = a.success.as_ref();
        let d = a.duration_ms.as_ref();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}",
            field(&a.arm),
            a.calls,
            s.map(|s| s.n.to_string()).unwrap_or_default(),
            s.map(|s| s.successes.to_string()).unwrap_or_default(),
            num(s.map(|s| s.rate)),
            num(s.map(|s| s.ci95[0])),
            num(s.map(|s| s.ci95[1])),
            num(d.map(|d| d.mean)),
            num(d.map(|d| d.median)),
            num(d.map(|d| d.p90)),
        ));
        for u in &units {
            out.push(',');
            out.push_str(&num(a.cost.get(u).map(|c| c.mean)));
        }
        for m in &moods {
            out.push(',');
            out.push_str(&num(a.sentiment.get(*m).copied()));
        }
        for f in &fields {
            out.push(',');
            out.push_str(&field(&a.fields.get(*f).map(csv_field).unwrap_or_default()));
        }
        out.push('\n');
    }
    out
}

fn csv_field(f: &Field) -> String {
    match f {
        Field::Rate { rate, .. } => format!("{rate}"),
        Field::Mean { mean, .. } => format!("{mean}"),
        Field::Shares { shares, .. } => shares.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";"),
    }
}
