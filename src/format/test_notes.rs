//! The note `agentver test` keeps on a version tree (`refs/notes/agentver/tests`): JSON of each
//! test's latest result on that tree. Read by `log`, `plan`, the console and publish's
//! `require_tests`; written by the test runner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One test's latest result on a tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub agent: String,
    pub runs: u32,
    pub passed: u32,
    pub pass: u32,
    pub ok: bool,
    /// `live`, `record` or `replay`.
    pub mode: String,
    /// When it ran (RFC 3339, the signer's clock).
    pub at: String,
}

/// Every test's latest result on one tree, by test name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeTests {
    pub tests: BTreeMap<String, Kept>,
}

/// A tree's tests in short: how many passed of how many (each test once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub total: usize,
}

impl TreeTests {
    /// The note's bytes as results; `None` when they are not agentver's JSON.
    pub fn parse(bytes: &[u8]) -> Option<TreeTests> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Two clones' notes on one tree as one: every test of either, the later result of a test
    /// both ran. Bytes that are not agentver's JSON lose to those that are.
    pub fn merge(ours: &[u8], theirs: &[u8]) -> Vec<u8> {
        let (Some(mut a), Some(b)) = (TreeTests::parse(ours), TreeTests::parse(theirs)) else {
            return if TreeTests::parse(ours).is_some() { ours.to_vec() } else { theirs.to_vec() };
        };
        let when = |k: &Kept| k.at.parse::<jiff::Timestamp>().ok();
        for (name, kept) in b.tests {
            let newer = a.tests.get(&name).is_none_or(|mine| when(&kept) > when(mine));
            if newer {
                a.tests.insert(name, kept);
            }
        }
        a.to_text().into_bytes()
    }

    /// The results of `agent`'s tests.
    pub fn summary(&self, agent: &str) -> Summary {
        let mine: Vec<&Kept> = self.tests.values().filter(|k| k.agent == agent).collect();
        Summary { passed: mine.iter().filter(|k| k.ok).count(), total: mine.len() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(entries: &[(&str, bool, &str)]) -> Vec<u8> {
        let mut t = TreeTests::default();
        for (name, ok, at) in entries {
            let kept = Kept {
                agent: "sales".into(),
                runs: 1,
                passed: u32::from(*ok),
                pass: 1,
                ok: *ok,
                mode: "replay".into(),
                at: (*at).into(),
            };
            t.tests.insert((*name).into(), kept);
        }
        t.to_text().into_bytes()
    }

    #[test]
    fn two_clones_notes_keep_every_test_and_the_later_result_of_each() {
        let ours = note(&[("a", true, "2026-12-01T10:00:00+00:00"), ("b", false, "2026-12-01T10:00:00+00:00")]);
        // 09:30 UTC is later than 10:00 at +01:00 (09:00 UTC): the offset counts, not the text.
        let theirs = note(&[("b", true, "2026-12-01T09:30:00+00:00"), ("c", true, "2026-12-01T08:00:00+00:00")]);
        let ours_b_earlier = note(&[("b", false, "2026-12-01T10:00:00+01:00")]);
        let merged = TreeTests::parse(&TreeTests::merge(&ours, &theirs)).unwrap();
        assert_eq!(merged.tests.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(!merged.tests["b"].ok, "ours ran b later (10:00 UTC)");
        let merged = TreeTests::parse(&TreeTests::merge(&ours_b_earlier, &theirs)).unwrap();
        assert!(merged.tests["b"].ok, "theirs ran b later (09:30 UTC)");
        assert_eq!(merged.summary("sales"), Summary { passed: 2, total: 2 });
        assert_eq!(TreeTests::merge(b"not json", &theirs), theirs, "agentver's JSON wins over anything else");
    }
}
