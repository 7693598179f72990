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

    /// The results of `agent`'s tests.
    pub fn summary(&self, agent: &str) -> Summary {
        let mine: Vec<&Kept> = self.tests.values().filter(|k| k.agent == agent).collect();
        Summary { passed: mine.iter().filter(|k| k.ok).count(), total: mine.len() }
    }
}
