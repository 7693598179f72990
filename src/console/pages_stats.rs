//! The stats page: the sample-ratio banner, the arms' figures, the forest plot, duration
//! histograms, calls per day per version (each chart with a summary and its data as a table),
//! the tests' verdicts, and the CSV of the figures.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::chart;
use super::html::{self, percent, seconds};
use crate::calls::report::StatsReport;
use crate::calls::stats::{Arm, Test};
use crate::names::id::AgentId;

fn param<'a>(q: &'a [(String, String)], key: &str) -> &'a str {
    q.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or_default()
}

pub fn page(agent: &AgentId, report: &StatsReport, kept: &[(&str, &str)], q: &[(String, String)]) -> Markup {
    let csv = format!("/agents/{agent}/stats.csv?{}", html::query(kept));
    html! {
        h1 { (agent) ": stats by " (report.by) }
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
            (daily_figure(&report.daily))
            @if let Some(cmp) = &report.comparison {
                h2 { (cmp.b) " against " (cmp.a) }
                ul {
                    li { "Success rate: " (verdict(&cmp.success_rate, true)) }
                    li { "Duration: " (verdict(&cmp.duration_ms, false)) }
                    @for (unit, t) in &cmp.cost { li { "Cost (" (unit.as_str()) "): " (verdict(t, false)) } }
                }
            }
        }
        @if report.unattributed + report.invalid_attribution > 0 {
            p.muted { (report.unattributed) " calls were never attributed and " (report.invalid_attribution) " had an invalid attribution; they are in no arm." }
        }
    }
}

fn verdict(t: &Test, rate: bool) -> Markup {
    let fmt = |x: f64| if rate { format!("{:+.1} points", x * 100.0) } else { format!("{:+.0} ms", x) };
    html! {
        (t.verdict)
        @if let Some(d) = t.difference { " (difference " (fmt(d)) }
        @if let Some([lo, hi]) = t.ci95 { ", 95% CI " (fmt(lo)) " to " (fmt(hi)) }
        @if let Some(p) = t.p_value { ", " (crate::calls::stats::p_text(p)) }
        @if t.difference.is_some() { ")" }
    }
}

fn arms_table(arms: &[Arm]) -> Markup {
    html! {
        div.scroll { table {
            caption.muted { "Figures per arm" }
            thead { tr { th scope="col" { "Arm" } th.num scope="col" { "Calls" } th.num scope="col" { "Success" } th.num scope="col" { "95% interval" }
                th.num scope="col" { "Mean duration" } th.num scope="col" { "Median" } th.num scope="col" { "p90" } } }
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

fn daily_figure(daily: &[(String, Option<u64>, u64)]) -> Markup {
    let mut days: Vec<String> = daily.iter().map(|(d, _, _)| d.clone()).collect();
    days.dedup();
    let mut by_version: BTreeMap<(u8, u64), BTreeMap<&str, u64>> = BTreeMap::new();
    for (day, version, n) in daily {
        let key = version.map_or((1, 0), |v| (0, v));
        *by_version.entry(key).or_default().entry(day.as_str()).or_default() += n;
    }
    let names: Vec<String> =
        by_version.keys().map(|(rank, v)| if *rank == 0 { format!("v{v}") } else { "draft".into() }).collect();
    let counts: Vec<Vec<u64>> = by_version
        .values()
        .map(|per| days.iter().map(|d| per.get(d.as_str()).copied().unwrap_or(0)).collect())
        .collect();
    if days.is_empty() {
        return html! { p { "No calls in this range." } };
    }
    let total: u64 = counts.iter().flatten().sum();
    html! {
        figure {
            (chart::daily("daily", "Calls per day per version", &days, &names, &counts))
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

pub fn csv(report: &StatsReport) -> String {
    let mut out = String::from(
        "arm,calls,known_outcome,successes,success_rate,ci95_low,ci95_high,duration_mean_ms,duration_median_ms,duration_p90_ms\n",
    );
    let num = |x: Option<f64>| x.map(|x| format!("{x}")).unwrap_or_default();
    for a in &report.arms {
        let s = a.success.as_ref();
        let d = a.duration_ms.as_ref();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
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
    }
    out
}
