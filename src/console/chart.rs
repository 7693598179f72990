//! Charts as SVG made on the server: a forest plot of success rates with their 95% intervals,
//! duration histograms per arm, and calls per day per version. Each is an `img` with a
//! `<title>`; the page puts a text summary and the data as a table beside it. Colours come
//! from the stylesheet's series classes (`s0`…`s3`), so light and dark both read.

use maud::{Markup, html};

use crate::calls::stats::Arm;

const WIDTH: f64 = 640.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 20.0;

fn series(i: usize) -> String {
    format!("s{}", i % 4)
}

/// Per arm, the success rate as a dot with its Wilson interval as whiskers, on 0–100%.
pub fn forest(id: &str, title: &str, arms: &[Arm]) -> Markup {
    let rows: Vec<(usize, &Arm)> = arms.iter().enumerate().filter(|(_, a)| a.success.is_some()).collect();
    let height = 40.0 + 30.0 * rows.len().max(1) as f64;
    let x = |rate: f64| LEFT + rate.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT);
    html! {
        svg.chart role="img" aria-labelledby=(format!("{id}-t")) viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) {
            title id=(format!("{id}-t")) { (title) }
            @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                line.grid x1=(x(tick)) x2=(x(tick)) y1="10" y2=(height - 25.0) {}
                text x=(x(tick)) y=(height - 8.0) text-anchor="middle" { (format!("{:.0}%", tick * 100.0)) }
            }
            @for (row, (i, arm)) in rows.iter().enumerate() {
                @let y = 25.0 + 30.0 * row as f64;
                @let rate = arm.success.as_ref().expect("filtered");
                text x=(LEFT - 8.0) y=(y + 4.0) text-anchor="end" { (arm.arm) }
                line class={"whisker " (series(*i))} x1=(x(rate.ci95[0])) x2=(x(rate.ci95[1])) y1=(y) y2=(y) {}
                line class={"whisker " (series(*i))} x1=(x(rate.ci95[0])) x2=(x(rate.ci95[0])) y1=(y - 6.0) y2=(y + 6.0) {}
                line class={"whisker " (series(*i))} x1=(x(rate.ci95[1])) x2=(x(rate.ci95[1])) y1=(y - 6.0) y2=(y + 6.0) {}
                circle class=(series(*i)) cx=(x(rate.rate)) cy=(y) r="5" {}
            }
        }
    }
}

/// Bins of equal width over every arm's durations: (upper edges in ms, counts per arm). Counted
/// from each arm's sketch, whose buckets are 1 % wide: a call within 0.5 % of an edge may be
/// counted in the bin beside its own.
pub fn bins(arms: &[Arm], count: usize) -> (Vec<f64>, Vec<Vec<u64>>) {
    let max = arms.iter().filter_map(|a| a.durations().max()).fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return (Vec::new(), Vec::new());
    }
    let width = (max / count as f64).max(1.0);
    let edges: Vec<f64> = (1..=count).map(|i| width * i as f64).collect();
    let counts = arms
        .iter()
        .map(|a| {
            let mut c = vec![0u64; count];
            for (d, n) in a.durations().buckets() {
                c[((d.max(0.0) / width) as usize).min(count - 1)] += n;
            }
            c
        })
        .collect();
    (edges, counts)
}

/// Duration histograms, one row of bars per arm, each scaled to its own largest bin (shares,
/// so arms of different sizes compare).
pub fn durations(id: &str, title: &str, arms: &[Arm], edges: &[f64], counts: &[Vec<u64>]) -> Markup {
    let band = 70.0;
    let height = 30.0 + band * arms.len().max(1) as f64;
    let slot = (WIDTH - LEFT - RIGHT) / edges.len().max(1) as f64;
    html! {
        svg.chart role="img" aria-labelledby=(format!("{id}-t")) viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) {
            title id=(format!("{id}-t")) { (title) }
            @for (i, arm) in arms.iter().enumerate() {
                @let base = 10.0 + band * (i as f64 + 1.0);
                @let top = counts[i].iter().copied().max().unwrap_or(0).max(1) as f64;
                text x=(LEFT - 8.0) y=(base - 4.0) text-anchor="end" { (arm.arm) }
                line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(base) y2=(base) {}
                @for (b, n) in counts[i].iter().enumerate() {
                    @let h = (band - 14.0) * *n as f64 / top;
                    rect class=(series(i)) x=(LEFT + slot * b as f64 + 1.0) y=(base - h) width=((slot - 2.0).max(1.0)) height=(h) {}
                }
            }
            text x=(LEFT) y=(height - 4.0) { "0 s" }
            text x=(WIDTH - RIGHT) y=(height - 4.0) text-anchor="end" {
                (format!("{:.0} s", edges.last().copied().unwrap_or(0.0) / 1000.0))
            }
        }
    }
}

/// Calls per day, one bar group per day, one bar per version (series in `names`' order).
pub fn daily(id: &str, title: &str, days: &[String], names: &[String], counts: &[Vec<u64>]) -> Markup {
    let height = 220.0;
    let plot = height - 40.0;
    let top = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let slot = (WIDTH - LEFT - RIGHT) / days.len().max(1) as f64;
    let bar = (slot - 4.0).max(1.0) / names.len().max(1) as f64;
    let label_every = (days.len() / 8).max(1);
    html! {
        svg.chart role="img" aria-labelledby=(format!("{id}-t")) viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) {
            title id=(format!("{id}-t")) { (title) }
            line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(plot + 10.0) y2=(plot + 10.0) {}
            text x=(LEFT - 8.0) y="18" text-anchor="end" { (top as u64) }
            text x=(LEFT - 8.0) y=(plot + 10.0) text-anchor="end" { "0" }
            @for (d, day) in days.iter().enumerate() {
                @for (s, row) in counts.iter().enumerate() {
                    @let h = plot * row[d] as f64 / top;
                    rect class=(series(s)) x=(LEFT + slot * d as f64 + 2.0 + bar * s as f64) y=(plot + 10.0 - h) width=(bar) height=(h) {}
                }
                @if d % label_every == 0 {
                    text x=(LEFT + slot * d as f64 + slot / 2.0) y=(height - 12.0) text-anchor="middle" { (day.get(5..).unwrap_or(day)) }
                }
            }
        }
    }
}

/// The colour key for series named `names`.
pub fn legend(names: &[String]) -> Markup {
    html! {
        p.legend aria-hidden="true" {
            @for (i, n) in names.iter().enumerate() { span { span class={"sw " (series(i))} {} (n) } }
        }
    }
}
