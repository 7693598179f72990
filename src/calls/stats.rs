//! Per-version (or per-variant) call statistics and comparisons: Wilson intervals for rates, the
//! two-proportion z-test, Welch's t-test for means, a minimum-sample guard, and a chi-square test
//! for sample-ratio mismatch in splits. Distributions come from statrs.
//!
//! An arm is accumulated in one pass with bounded state, whatever its number of calls: counts,
//! streaming moments for means and variances, and a quantile [`Sketch`] for the median and p90
//! (within ±0.5 % of the exact values; see [`super::sketch`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::CostUnit;
use super::sketch::{Moments, Sketch};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

/// Fewer calls than this in an arm gives "not enough calls", not a verdict.
pub const MIN_CALLS: u64 = 30;
/// A split's arm counts are flagged as mismatched below this p-value.
pub const SRM_ALPHA: f64 = 0.001;
const Z95: f64 = 1.959_963_984_540_054;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rate {
    /// Calls with a known outcome.
    pub n: u64,
    pub successes: u64,
    pub rate: f64,
    pub ci95: [f64; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub n: u64,
    pub mean: f64,
    pub median: f64,
    pub p90: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Field {
    /// A boolean field: the share of true.
    Rate { n: u64, rate: f64 },
    /// A numeric field: the mean.
    Mean { n: u64, mean: f64 },
    /// Anything else: the share of each value.
    Shares { n: u64, shares: BTreeMap<String, f64> },
}

/// One version or variant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arm {
    /// `v3`, `draft`, or the variant's name.
    pub arm: String,
    pub calls: u64,
    pub success: Option<Rate>,
    pub duration_ms: Option<Spread>,
    /// Per unit (`usd`, `credits`): costs in different units are never averaged together.
    pub cost: BTreeMap<CostUnit, Spread>,
    pub sentiment: BTreeMap<String, f64>,
    pub fields: BTreeMap<String, Field>,
    #[serde(skip)]
    durations: Sketch,
    #[serde(skip)]
    costs: BTreeMap<CostUnit, Sketch>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Test {
    /// b − a.
    pub difference: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub p_value: Option<f64>,
    pub verdict: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub success_rate: Test,
    pub duration_ms: Test,
    /// Per cost unit both arms have.
    pub cost: BTreeMap<CostUnit, Test>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Srm {
    pub observed: BTreeMap<String, u64>,
    pub expected_share: BTreeMap<String, f64>,
    pub chi_square: f64,
    pub p_value: f64,
    pub mismatch: bool,
}

/// Wilson score interval for `k` successes in `n`, at 95%.
pub fn wilson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    [(center - half).max(0.0), (center + half).min(1.0)]
}

fn normal_two_sided(z: f64) -> f64 {
    let n = Normal::new(0.0, 1.0).expect("the standard normal");
    (2.0 * (1.0 - n.cdf(z.abs()))).clamp(0.0, 1.0)
}

/// Two-proportion z-test (pooled) of b against a: difference, its 95% interval (unpooled), p.
pub fn two_proportions(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, [f64; 2], f64) {
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1 + n2) as f64;
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    let diff = p2 - p1;
    let p = if se_pooled == 0.0 { if diff == 0.0 { 1.0 } else { 0.0 } } else { normal_two_sided(diff / se_pooled) };
    let se = (p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64).sqrt();
    (diff, [diff - Z95 * se, diff + Z95 * se], p)
}

/// Welch's t-test of b's mean against a's: difference, its 95% interval, p.
pub fn welch(a: &[f64], b: &[f64]) -> Option<(f64, [f64; 2], f64)> {
    welch_moments(&Moments::of(a), &Moments::of(b))
}

/// [`welch`] from each side's streaming moments.
pub fn welch_moments(a: &Moments, b: &Moments) -> Option<(f64, [f64; 2], f64)> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let ((m1, v1), (m2, v2)) = ((a.mean(), a.variance()), (b.mean(), b.variance()));
    let (n1, n2) = (a.n as f64, b.n as f64);
    let (s1, s2) = (v1 / n1, v2 / n2);
    let se = (s1 + s2).sqrt();
    let diff = m2 - m1;
    if se == 0.0 {
        return Some((diff, [diff, diff], if diff == 0.0 { 1.0 } else { 0.0 }));
    }
    let df = (s1 + s2).powi(2) / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * (1.0 - t.cdf((diff / se).abs()))).clamp(0.0, 1.0);
    let critical = t.inverse_cdf(0.975);
    Some((diff, [diff - critical * se, diff + critical * se], p))
}

/// Chi-square goodness of fit of `observed` counts against `weights`; arms with weight 0 are
/// left out. Returns (statistic, p).
pub fn chi_square(observed: &[u64], weights: &[f64]) -> Option<(f64, f64)> {
    let arms: Vec<(f64, f64)> =
        observed.iter().zip(weights).filter(|(_, w)| **w > 0.0).map(|(o, w)| (*o as f64, *w)).collect();
    let total: f64 = arms.iter().map(|(o, _)| o).sum();
    let weight: f64 = arms.iter().map(|(_, w)| w).sum();
    if arms.len() < 2 || total == 0.0 {
        return None;
    }
    let statistic: f64 = arms
        .iter()
        .map(|(o, w)| {
            let e = total * w / weight;
            (o - e).powi(2) / e
        })
        .sum();
    let dist = ChiSquared::new((arms.len() - 1) as f64).ok()?;
    Some((statistic, (1.0 - dist.cdf(statistic)).clamp(0.0, 1.0)))
}

/// Linear-interpolated percentile (as numpy's default) of sorted values: exact, for a sample at
/// hand (statistics over the store use [`Sketch::percentile`], within ±0.5 % of this).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// The mean (exact), median and p90 (within the sketch's accuracy) of a sketch's values.
fn spread(sketch: &Sketch) -> Option<Spread> {
    Some(Spread {
        n: sketch.count(),
        mean: sketch.moments().mean(),
        median: sketch.percentile(0.5)?,
        p90: sketch.percentile(0.9)?,
    })
}

/// Distinct values kept per "other" field; beyond this they count as "(other)".
const MAX_SHARES: usize = 1000;
/// Bytes of distinct values kept per field (a value may be 4 KiB); beyond, as "(other)".
const MAX_SHARE_BYTES: usize = 64 << 10;
/// Analysis fields summarised per arm: a record holds at most
/// [`MAX_FIELDS`](super::limits::MAX_FIELDS), but records may each name others; fields first seen
/// after this many are left out of the arm, so its state stays bounded whatever the store holds.
const MAX_FIELDS_PER_ARM: usize = 256;

/// One analysis field's values so far.
#[derive(Default)]
struct FieldAcc {
    n: u64,
    bools: u64,
    trues: u64,
    numbers: u64,
    sum: f64,
    shares: BTreeMap<String, u64>,
    /// Bytes of the values in `shares`.
    share_bytes: usize,
}

impl FieldAcc {
    fn add(&mut self, raw: &str) {
        let raw = raw.trim();
        let key: std::borrow::Cow<'_, str> = match raw.as_bytes().first() {
            None => return,
            Some(b'n') if raw == "null" => return,
            Some(b't' | b'f') if raw == "true" || raw == "false" => {
                self.bools += 1;
                self.trues += u64::from(raw == "true");
                raw.into()
            }
            Some(b'-' | b'0'..=b'9') => match raw.parse::<f64>() {
                Ok(x) => {
                    self.numbers += 1;
                    self.sum += x;
                    raw.into()
                }
                Err(_) => raw.into(),
            },
            Some(b'"') if !raw.contains('\\') => raw[1..raw.len() - 1].into(),
            Some(b'"') => serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned()).into(),
            Some(_) => raw.into(),
        };
        self.n += 1;
        if let Some(count) = self.shares.get_mut(key.as_ref()) {
            *count += 1;
        } else if self.shares.len() < MAX_SHARES && self.share_bytes + key.len() <= MAX_SHARE_BYTES {
            self.share_bytes += key.len();
            self.shares.insert(key.into_owned(), 1);
        } else {
            *self.shares.entry("(other)".into()).or_default() += 1;
        }
    }

    fn finish(self) -> Field {
        let n = self.n;
        if self.bools == n {
            Field::Rate { n, rate: self.trues as f64 / n as f64 }
        } else if self.numbers == n {
            Field::Mean { n, mean: self.sum / n as f64 }
        } else {
            Field::Shares { n, shares: self.shares.into_iter().map(|(k, c)| (k, c as f64 / n as f64)).collect() }
        }
    }
}

/// One call as `stats` reads it, borrowed from the store's row.
#[derive(Clone, Copy, Debug, Default)]
pub struct Row<'a> {
    pub version: Option<u64>,
    pub variant: Option<&'a str>,
    pub draft: bool,
    pub success: Option<bool>,
    pub duration_ms: Option<f64>,
    pub cost: Option<f64>,
    pub sentiment: Option<&'a str>,
    /// The analysis object's JSON text.
    pub analysis: Option<&'a str>,
    pub cost_unit: Option<CostUnit>,
    /// The runtime chose the version: the call belongs to no split arm.
    pub overridden: bool,
    /// `YYYY-MM-DD` of the call's time.
    pub day: Option<&'a str>,
}

/// An arm's calls, accumulated one row at a time (a million rows never become a million structs).
#[derive(Default)]
pub struct ArmBuilder {
    calls: u64,
    known: u64,
    successes: u64,
    durations: Sketch,
    costs: BTreeMap<CostUnit, Sketch>,
    sentiments: BTreeMap<String, u64>,
    fields: std::collections::HashMap<String, FieldAcc>,
}

impl ArmBuilder {
    pub fn add(&mut self, row: &Row<'_>) {
        self.calls += 1;
        if let Some(s) = row.success {
            self.known += 1;
            self.successes += u64::from(s);
        }
        if let Some(duration) = row.duration_ms {
            self.durations.add(duration);
        }
        if let Some(cost) = row.cost {
            self.costs.entry(row.cost_unit.unwrap_or(CostUnit::Usd)).or_default().add(cost);
        }
        if let Some(s) = row.sentiment {
            match self.sentiments.get_mut(s) {
                Some(c) => *c += 1,
                None => {
                    self.sentiments.insert(s.to_owned(), 1);
                }
            }
        }
        if let Some(text) = row.analysis {
            self.add_analysis(text);
        }
    }

    /// Zero-copy where the keys need no unescaping; else an owned parse.
    fn add_analysis(&mut self, text: &str) {
        let fields: std::collections::HashMap<&str, &serde_json::value::RawValue> = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(_) => {
                let Ok(owned) = serde_json::from_str::<serde_json::Map<String, Value>>(text) else { return };
                for (k, v) in owned {
                    if let Some(acc) = self.field(&k) {
                        acc.add(&v.to_string());
                    }
                }
                return;
            }
        };
        for (k, v) in fields {
            if let Some(acc) = self.field(k) {
                acc.add(v.get());
            }
        }
    }

    /// The field's accumulator, made at its first value while there is room for another.
    fn field(&mut self, name: &str) -> Option<&mut FieldAcc> {
        if !self.fields.contains_key(name) {
            if self.fields.len() >= MAX_FIELDS_PER_ARM {
                return None;
            }
            self.fields.insert(name.to_owned(), FieldAcc::default());
        }
        self.fields.get_mut(name)
    }

    pub fn finish(self, name: String) -> Arm {
        let success = (self.known > 0).then(|| Rate {
            n: self.known,
            successes: self.successes,
            rate: self.successes as f64 / self.known as f64,
            ci95: wilson(self.successes, self.known),
        });
        let with_sentiment: u64 = self.sentiments.values().sum();
        Arm {
            arm: name,
            calls: self.calls,
            success,
            duration_ms: spread(&self.durations),
            cost: self.costs.iter().filter_map(|(unit, sketch)| Some((*unit, spread(sketch)?))).collect(),
            sentiment: self.sentiments.into_iter().map(|(k, c)| (k, c as f64 / with_sentiment as f64)).collect(),
            fields: self.fields.into_iter().map(|(k, acc)| (k, acc.finish())).collect(),
            durations: self.durations,
            costs: self.costs,
        }
    }
}

impl Arm {
    /// The arm's call durations (ms) as a sketch, for a distribution.
    pub fn durations(&self) -> &Sketch {
        &self.durations
    }
}

/// An arm with no calls (a configured variant nobody reached, a version asked for by name).
pub fn empty_arm(name: String) -> Arm {
    ArmBuilder::default().finish(name)
}

fn not_enough(a: &Arm, b: &Arm) -> Option<Test> {
    (a.calls < MIN_CALLS || b.calls < MIN_CALLS).then(|| Test {
        difference: None,
        ci95: None,
        p_value: None,
        verdict: format!("not enough calls (fewer than {MIN_CALLS} in an arm: {} and {})", a.calls, b.calls),
    })
}

/// A p-value as people read it: `p = 0.042`, and `p < 0.001` below what three decimals show.
pub fn p_text(p: f64) -> String {
    if p < 0.001 { "p < 0.001".into() } else { format!("p = {p:.3}") }
}

fn verdict(p: f64, diff: f64, b: &str) -> String {
    if p < 0.05 {
        format!("{b} is {} ({})", if diff > 0.0 { "higher" } else { "lower" }, p_text(p))
    } else {
        format!("no significant difference ({})", p_text(p))
    }
}

fn test(result: Option<(f64, [f64; 2], f64)>, b: &str) -> Test {
    match result {
        Some((d, ci, p)) => Test { difference: Some(d), ci95: Some(ci), p_value: Some(p), verdict: verdict(p, d, b) },
        None => Test { difference: None, ci95: None, p_value: None, verdict: "no values to compare".into() },
    }
}

/// b against a: success rate (two-proportion z), duration and cost (Welch).
pub fn compare(a: &Arm, b: &Arm) -> Comparison {
    let guard = not_enough(a, b);
    let rates = match (&a.success, &b.success) {
        (Some(x), Some(y)) => Some(two_proportions(x.successes, x.n, y.successes, y.n)),
        _ => None,
    };
    Comparison {
        a: a.arm.clone(),
        b: b.arm.clone(),
        success_rate: guard.clone().unwrap_or_else(|| test(rates, &b.arm)),
        duration_ms: guard
            .clone()
            .unwrap_or_else(|| test(welch_moments(a.durations.moments(), b.durations.moments()), &b.arm)),
        cost: a
            .costs
            .iter()
            .filter_map(|(unit, xs)| Some((*unit, xs, b.costs.get(unit)?)))
            .map(|(unit, xa, xb)| {
                (unit, guard.clone().unwrap_or_else(|| test(welch_moments(xa.moments(), xb.moments()), &b.arm)))
            })
            .collect(),
    }
}

/// Sample-ratio mismatch of a split: arm counts against the configured weights.
pub fn srm(arms: &[(String, u64, u64)]) -> Option<Srm> {
    let observed: Vec<u64> = arms.iter().map(|a| a.1).collect();
    let weights: Vec<f64> = arms.iter().map(|a| a.2 as f64).collect();
    let total: f64 = weights.iter().sum();
    let (chi, p) = chi_square(&observed, &weights)?;
    Some(Srm {
        observed: arms.iter().map(|a| (a.0.clone(), a.1)).collect(),
        expected_share: arms.iter().map(|a| (a.0.clone(), a.2 as f64 / total)).collect(),
        chi_square: chi,
        p_value: p,
        mismatch: p < SRM_ALPHA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arm's state does not grow with its calls: durations in a bounded sketch, analysis
    /// fields and their distinct values capped in number and bytes.
    #[test]
    fn an_arms_state_is_bounded_whatever_its_calls_hold() {
        let mut arm = ArmBuilder::default();
        let long = "x".repeat(4000);
        for i in 0..20_000u32 {
            let analysis = format!(r#"{{"field_{i}": 1, "notes": "{long}{i}", "outcome": "o{}"}}"#, i % 7);
            arm.add(&Row { duration_ms: Some(f64::from(i)), analysis: Some(&analysis), ..Row::default() });
        }
        assert!(arm.fields.len() <= MAX_FIELDS_PER_ARM, "{} fields", arm.fields.len());
        let notes = &arm.fields["notes"];
        assert!(notes.share_bytes <= MAX_SHARE_BYTES && notes.shares.len() < 20, "{}", notes.shares.len());
        assert_eq!(notes.n, 20_000, "every value is counted, the rare ones as (other)");
        let finished = arm.finish("v1".into());
        let Field::Shares { shares, .. } = &finished.fields["notes"] else { panic!("shares") };
        assert!(shares["(other)"] > 0.99);
        assert_eq!(
            finished.fields["outcome"],
            Field::Shares {
                n: 20_000,
                shares: (0..7)
                    .map(|k| (format!("o{k}"), f64::from(if k < 20_000 % 7 { 2858 } else { 2857 }) / 20_000.0))
                    .collect()
            }
        );
        let duration = finished.duration_ms.unwrap();
        assert!((duration.median - 9999.5).abs() <= 9999.5 * crate::calls::sketch::ALPHA, "{duration:?}");
        assert_eq!(duration.mean, 9999.5);
    }
}
