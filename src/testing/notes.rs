//! The tests' results kept per version tree in `refs/notes/agentver/tests`: the note on a tree is
//! a JSON object of the latest result of each test run against it. A draft's tree is the tree its
//! version will have, so results recorded before publishing belong to the version after.

use std::collections::BTreeMap;

use super::Report;
use crate::error::Result;
use crate::format::test_notes::Kept;
use crate::git::{self, ObjectId};
use crate::workspace::Workspace;

/// Adds `report`'s results to the notes of the trees they ran on.
pub fn keep(ws: &Workspace, report: &Report) -> Result<()> {
    // Notes are agentver's bookkeeping: a machine with no git identity (a CI runner) still keeps them.
    let signer = git::Identity::resolve_or(ws.repo(), "agentver", "agentver@localhost")?.0;
    let at = git::rfc3339(signer.time);
    let mut by_tree: BTreeMap<&str, Vec<&super::TestResult>> = BTreeMap::new();
    for result in &report.tests {
        by_tree.entry(result.subject.tree.as_str()).or_default().push(result);
    }
    let mode = match report.mode {
        super::conversation::Mode::Live => "live",
        super::conversation::Mode::Record => "record",
        super::conversation::Mode::Replay => "replay",
    };
    for (tree, results) in by_tree {
        let mut kept = ws.test_results(tree)?.unwrap_or_default();
        for r in &results {
            let entry = Kept {
                agent: r.subject.agent.clone(),
                runs: r.runs,
                passed: r.passed,
                pass: r.pass,
                ok: r.ok,
                mode: mode.to_owned(),
                at: at.clone(),
            };
            kept.tests.insert(r.test.clone(), entry);
        }
        let id = ObjectId::from_hex(tree.as_bytes())
            .map_err(|_| crate::error::Error::Internal { what: format!("tree id {tree}") })?;
        let text = kept.to_text();
        let agent = &results[0].subject.agent;
        let s = kept.summary(agent);
        let message = format!("agentver test: {agent} {}/{} passed", s.passed, s.total);
        git::notes::write_note(
            ws.repo(),
            &git::notes::notes_ref(git::notes::TESTS),
            id,
            text.as_bytes(),
            &signer,
            &message,
        )?;
    }
    Ok(())
}
