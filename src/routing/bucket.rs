//! Sticky bucketing, exactly as published so any system can reproduce an assignment:
//! bucket = first 8 bytes of SHA-256(salt ‖ 0x00 ‖ key) as a big-endian u64, modulo the sum of
//! weights; the variant is the first, in declared order, whose running total exceeds the bucket.

use sha2::{Digest, Sha256};

/// The bucket of `key` under `salt` for weights summing to `total` (which must be positive).
pub fn bucket(salt: &str, key: &str, total: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0u8]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % total
}

/// The index of the variant that owns `bucket`: the first whose running total exceeds it.
pub fn pick(weights: impl IntoIterator<Item = u64>, bucket: u64) -> Option<usize> {
    let mut running = 0u64;
    for (i, w) in weights.into_iter().enumerate() {
        running += w;
        if running > bucket {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        salt: String,
        key: String,
        weights: Vec<(String, u64)>,
        bucket: u64,
        variant: String,
    }

    /// Every published vector (a copy of shared/vectors/bucketing.json lives in tests/data).
    #[test]
    fn published_vectors() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../tests/data/bucketing.json")).expect("the vectors parse");
        assert!(vectors.cases.len() >= 28);
        for c in &vectors.cases {
            let total: u64 = c.weights.iter().map(|(_, w)| w).sum();
            let b = bucket(&c.salt, &c.key, total);
            assert_eq!(b, c.bucket, "bucket of {:?} under {:?}", c.key, c.salt);
            let i = pick(c.weights.iter().map(|(_, w)| *w), b).unwrap();
            assert_eq!(c.weights[i].0, c.variant, "variant of {:?} under {:?}", c.key, c.salt);
        }
    }

    /// Over 100,000 keys each variant's share is within half a percentage point of its weight.
    #[test]
    fn distribution_matches_weights() {
        for weights in [vec![80u64, 20], vec![34, 33, 33], vec![0, 995, 5], vec![1, 1]] {
            let total: u64 = weights.iter().sum();
            let mut counts = vec![0u64; weights.len()];
            let n = 100_000;
            for i in 0..n {
                let key = format!("+1650{i:07}");
                counts[pick(weights.iter().copied(), bucket("dist-test", &key, total)).unwrap()] += 1;
            }
            for (w, c) in weights.iter().zip(&counts) {
                let want = *w as f64 / total as f64 * 100.0;
                let got = *c as f64 / n as f64 * 100.0;
                assert!(
                    (want - got).abs() <= 0.5,
                    "weights {weights:?}: share {got:.2}% for weight {w} (want {want:.2}%)"
                );
            }
        }
    }

    #[test]
    fn paused_variants_get_nothing() {
        for b in 0..100 {
            assert_ne!(pick([0, 60, 40], b), Some(0));
        }
        assert_eq!(pick([0, 0], 0), None);
    }
}
