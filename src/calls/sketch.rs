//! Quantiles in bounded memory: a log-bucketed histogram with relative accuracy (the DDSketch
//! of Masson, Rim and Lee, VLDB 2019), beside streaming moments (Welford's mean and variance).
//!
//! `stats` over a million calls cannot keep every duration to sort it: memory would grow with the
//! store. A value `x > 0` is counted in bucket `i = ⌈log_γ x⌉`, which holds `(γ^(i−1), γ^i]`, with
//! `γ = (1 + α)/(1 − α)`; the bucket's representative `2γ^i/(γ + 1)` is within `α` of every value
//! in it, relatively. So the value of any rank read back is within ±α (0.5 %) of the exact value of
//! that rank, and [`Sketch::percentile`], interpolating between the two ranks around `q·(n − 1)`
//! as numpy's default does, is within ±0.5 % of numpy's exact answer for values of one sign (both
//! ranks' errors are bounded by the same share of each value). Answers are also clamped to the
//! exact minimum and maximum, so a single value, or an arm where every call lasted the same, reads
//! back exactly.
//!
//! Memory: at most [`MAX_BUCKETS`] counters per sign, 2,048 spanning a factor of 7·10⁸ (1 ms to
//! eight days), whatever the number of values. Values spread wider than that have their lowest
//! buckets folded together: the guarantee then holds for every rank above the folded ones (the
//! low tail loses accuracy first; medians and p90 of durations never get near it). Values of
//! magnitude below [`MIN_MAGNITUDE`] count as zero. Two sketches of the same accuracy merge into
//! the one their values would have made together ([`Sketch::merge`]).

/// The relative accuracy of every quantile: ±0.5 %.
pub const ALPHA: f64 = 0.005;
/// Buckets kept per sign; beyond, the lowest are folded into one.
pub const MAX_BUCKETS: usize = 2048;
/// Magnitudes below this are counted as zero (a bucket index of a denormal would be meaningless).
pub const MIN_MAGNITUDE: f64 = 1e-9;

/// Counts of consecutive bucket indexes, from `offset` up: dense, since the values of one
/// statistic crowd together, and never more than [`MAX_BUCKETS`].
#[derive(Clone, Debug, Default, PartialEq)]
struct Buckets {
    offset: i32,
    counts: Vec<u64>,
}

impl Buckets {
    fn add(&mut self, index: i32, count: u64) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(count);
            return;
        }
        let top = self.offset + self.counts.len() as i32 - 1;
        if index > top {
            // The lowest buckets that would leave more than the cap are folded first, so a far
            // jump never allocates the gap.
            let lowest = (index - MAX_BUCKETS as i32 + 1).max(self.offset);
            if lowest > self.offset {
                let cut = ((lowest - self.offset) as usize).min(self.counts.len());
                let folded: u64 = self.counts.drain(..cut).sum();
                self.offset = lowest;
                match self.counts.first_mut() {
                    Some(first) => *first += folded,
                    None => self.counts.push(folded),
                }
            }
            self.counts.resize((index - self.offset + 1) as usize, 0);
        } else if index < self.offset {
            // Below the lowest bucket: grow downwards as far as the cap allows; what lies beyond
            // it goes into the lowest bucket kept.
            let room = (MAX_BUCKETS - self.counts.len()) as i32;
            let grow = (self.offset - index).min(room);
            if grow > 0 {
                self.counts.splice(0..0, std::iter::repeat_n(0, grow as usize));
                self.offset -= grow;
            }
        }
        let at = (index.max(self.offset) - self.offset) as usize;
        self.counts[at] += count;
    }

    /// (bucket index, count) of every non-empty bucket, lowest first.
    fn iter(&self) -> impl DoubleEndedIterator<Item = (i32, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (self.offset + i as i32, *c))
    }
}

/// Streaming moments: count, sum, Welford's running mean and sum of squared deviations.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Chan's combination of two sets' moments.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = (self.n + other.n) as f64;
        let delta = other.mean - self.mean;
        self.mean += delta * other.n as f64 / n;
        self.m2 += other.m2 + delta * delta * self.n as f64 * other.n as f64 / n;
        self.n += other.n;
        self.sum += other.sum;
    }

    /// The mean, as the sum over the count (the figure reports show).
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The sample variance (n − 1); `NaN` below two values.
    pub fn variance(&self) -> f64 {
        if self.n < 2 { f64::NAN } else { self.m2.max(0.0) / (self.n - 1) as f64 }
    }

    /// The moments of `xs`.
    pub fn of(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        xs.iter().for_each(|x| m.add(*x));
        m
    }
}

/// Values seen so far, as buckets of relative width (see the module's comment) and moments.
#[derive(Clone, Debug, PartialEq)]
pub struct Sketch {
    /// `γ = (1 + α)/(1 − α)`, and `1/ln γ`.
    gamma: f64,
    inverse_ln_gamma: f64,
    positive: Buckets,
    /// Negative values by the bucket of their magnitude.
    negative: Buckets,
    zeros: u64,
    min: f64,
    max: f64,
    moments: Moments,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch::with_accuracy(ALPHA)
    }
}

impl Sketch {
    /// A sketch whose quantiles are within `alpha` (0 < α < 1) of the exact ones, relatively:
    /// [`ALPHA`] for every statistic agentver reports.
    pub fn with_accuracy(alpha: f64) -> Sketch {
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        Sketch {
            gamma,
            inverse_ln_gamma: 1.0 / gamma.ln(),
            positive: Buckets::default(),
            negative: Buckets::default(),
            zeros: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            moments: Moments::default(),
        }
    }

    /// Counts `x` (a value that is not a number is left out).
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.moments.add(x);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let magnitude = x.abs();
        if magnitude < MIN_MAGNITUDE {
            self.zeros += 1;
            return;
        }
        // |ln x| ≤ 710 for a finite f64: the index fits an i32 for any α above 10⁻⁵.
        let index = (magnitude.ln() * self.inverse_ln_gamma).ceil() as i32;
        if x > 0.0 { self.positive.add(index, 1) } else { self.negative.add(index, 1) }
    }

    /// Adds everything `other` counted (a sketch of the same accuracy).
    pub fn merge(&mut self, other: &Sketch) {
        debug_assert_eq!(self.gamma, other.gamma, "sketches of one accuracy");
        for (i, c) in other.positive.iter() {
            self.positive.add(i, c);
        }
        for (i, c) in other.negative.iter() {
            self.negative.add(i, c);
        }
        self.zeros += other.zeros;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.moments.merge(&other.moments);
    }

    pub fn count(&self) -> u64 {
        self.moments.n
    }

    pub fn moments(&self) -> &Moments {
        &self.moments
    }

    /// The largest value; `None` when empty.
    pub fn max(&self) -> Option<f64> {
        (self.count() > 0).then_some(self.max)
    }

    /// A bucket's representative value: within [`ALPHA`] of every value it holds.
    fn value(&self, index: i32) -> f64 {
        2.0 * self.gamma.powi(index) / (self.gamma + 1.0)
    }

    /// (value, count) of every occupied bucket, smallest value first: the distribution at the
    /// sketch's resolution, for a histogram.
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let negative = self.negative.iter().rev().map(|(i, c)| (-self.value(i), c));
        let zeros = (self.zeros > 0).then_some((0.0, self.zeros));
        let positive = self.positive.iter().map(|(i, c)| (self.value(i), c));
        negative.chain(zeros).chain(positive).map(|(v, c)| (v.clamp(self.min, self.max), c))
    }

    /// The value of rank `rank` (0-based, below the count), within [`ALPHA`] of the exact one.
    fn at_rank(&self, rank: u64) -> f64 {
        let mut seen = 0;
        for (value, count) in self.buckets() {
            seen += count;
            if seen > rank {
                return value;
            }
        }
        self.max
    }

    /// The `q` quantile (0 ≤ q ≤ 1), interpolated between ranks as numpy's default; `None` when
    /// empty.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.count() == 0 {
            return None;
        }
        let position = q.clamp(0.0, 1.0) * (self.count() - 1) as f64;
        let (low, high) = (position.floor(), position.ceil());
        let (a, b) = (self.at_rank(low as u64), self.at_rank(high as u64));
        Some(a + (b - a) * (position - low))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// numpy's default percentile of `xs`, exactly (sorted, interpolated).
    fn exact(xs: &[f64], q: f64) -> f64 {
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        crate::calls::stats::percentile(&sorted, q)
    }

    fn sketch(xs: &[f64]) -> Sketch {
        let mut s = Sketch::default();
        xs.iter().for_each(|x| s.add(*x));
        s
    }

    /// The sketch's answer against the exact one, relative to the exact one's magnitude.
    fn error(xs: &[f64], q: f64) -> f64 {
        let (got, want) = (sketch(xs).percentile(q).unwrap(), exact(xs, q));
        if want == 0.0 { got.abs() } else { (got - want).abs() / want.abs() }
    }

    const QS: [f64; 7] = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0];

    proptest! {
        #[test]
        /// Values spanning eight orders of magnitude (what 2,048 buckets hold without folding),
        /// and zeros.
        fn every_quantile_is_within_alpha_of_the_exact_one(
            xs in prop::collection::vec(prop_oneof![0.01..1e3f64, 1.0..3e6f64, 0.01..1.0f64, Just(0.0)], 1..400),
        ) {
            for q in QS {
                let e = error(&xs, q);
                prop_assert!(e <= ALPHA + 1e-12, "q {q}: relative error {e} over {} values", xs.len());
            }
        }

        #[test]
        fn negative_values_keep_the_bound(xs in prop::collection::vec(-1e6..-1e-1f64, 1..200)) {
            for q in QS {
                prop_assert!(error(&xs, q) <= ALPHA + 1e-12);
            }
        }

        #[test]
        fn merged_sketches_answer_as_one(a in prop::collection::vec(0.0..1e5f64, 0..200), b in prop::collection::vec(0.0..1e5f64, 1..200)) {
            let mut merged = sketch(&a);
            merged.merge(&sketch(&b));
            let whole = sketch(&[a.clone(), b.clone()].concat());
            prop_assert_eq!(merged.buckets().collect::<Vec<_>>(), whole.buckets().collect::<Vec<_>>());
            let (m, w) = (merged.moments(), whole.moments());
            prop_assert_eq!(m.n, w.n);
            prop_assert!((m.mean() - w.mean()).abs() <= 1e-9 * w.mean().abs().max(1.0));
            if w.n > 1 {
                prop_assert!((m.variance() - w.variance()).abs() <= 1e-6 * w.variance().max(1.0));
            }
        }
    }

    /// Call lengths drawn at random (log-normal, as call lengths are), a million of them.
    fn durations() -> Vec<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..1_000_000)
            .map(|_| {
                let normal = (-2.0 * uniform().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                (11.0 + 0.8 * normal).exp().round()
            })
            .collect()
    }

    /// The worst relative error of `s`'s percentiles against the exact ones of `sorted`.
    fn worst(s: &Sketch, sorted: &[f64]) -> f64 {
        let qs = [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999];
        qs.iter()
            .map(|&q| {
                let want = crate::calls::stats::percentile(sorted, q);
                (s.percentile(q).unwrap() - want).abs() / want
            })
            .fold(0.0, f64::max)
    }

    /// Against the sorted exact percentiles of a million values, the sketch is within its bound;
    /// and the comparison can fail: a sketch ten times coarser than it should be is caught.
    #[test]
    fn a_million_random_durations_are_within_the_bound_and_a_coarser_sketch_is_caught() {
        let xs = durations();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let (mut fine, mut coarse) = (Sketch::default(), Sketch::with_accuracy(10.0 * ALPHA));
        for x in &xs {
            fine.add(*x);
            coarse.add(*x);
        }
        assert!(fine.positive.counts.len() <= MAX_BUCKETS);
        let (error, coarse_error) = (worst(&fine, &sorted), worst(&coarse, &sorted));
        assert!(error <= ALPHA, "worst relative error {error}");
        assert!(error > 0.0, "answers exact to the last bit: the sketch is not what was measured");
        assert!(coarse_error > ALPHA, "a 5 % sketch passed the 0.5 % check ({coarse_error})");
        assert!(coarse_error <= 10.0 * ALPHA, "{coarse_error}");
        let direct = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((fine.moments().mean() - direct).abs() < 1e-6 * direct);
    }

    #[test]
    fn single_values_and_constant_arms_read_back_exactly() {
        assert_eq!(sketch(&[1000.0]).percentile(0.5), Some(1000.0));
        assert_eq!(sketch(&[60_000.0; 40]).percentile(0.9), Some(60_000.0));
        assert_eq!(Sketch::default().percentile(0.5), None);
        let s = sketch(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]);
        assert!((s.percentile(0.5).unwrap() - 3.5).abs() <= 3.5 * ALPHA);
        assert!((s.percentile(0.9).unwrap() - 6.9).abs() <= 6.9 * ALPHA);
        assert_eq!((s.moments().mean(), s.max()), (31.0 / 8.0, Some(9.0)));
    }

    #[test]
    fn memory_is_bounded_by_the_bucket_cap_and_the_lowest_buckets_fold() {
        let mut s = Sketch::default();
        // Twenty orders of magnitude: far more buckets than the cap, each visited.
        let mut x = 1e-3;
        while x < 1e17 {
            s.add(x);
            x *= 1.001;
        }
        assert_eq!(s.positive.counts.len(), MAX_BUCKETS);
        // The top of the range keeps its accuracy; the folded bottom answers its lowest kept
        // bucket, far above the true minimum.
        let (p99, exact99) = (s.percentile(0.99).unwrap(), {
            let n = s.count() as f64;
            1e-3 * 1.001f64.powf(0.99 * (n - 1.0))
        });
        assert!((p99 - exact99).abs() / exact99 <= ALPHA + 1e-9, "{p99} {exact99}");
        assert!(s.percentile(0.01).unwrap() > 1e-3 * 100.0);
    }

    #[test]
    fn moments_match_the_two_pass_formulas() {
        let xs = [120.0, 135.5, 128.0, 141.2, 119.9, 150.3, 133.3, 127.7];
        let m = Moments::of(&xs);
        let mean = xs.iter().sum::<f64>() / 8.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 7.0;
        assert_eq!(m.mean(), mean);
        assert!((m.variance() - var).abs() < 1e-9, "{} {var}", m.variance());
        assert!(Moments::of(&[1.0]).variance().is_nan());
    }
}
