//! agentver's git notes (`refs/notes/agentver/*`: the tests' results) travel with the tags:
//! `fetch` brings the remote's and merges them into this clone's, `push` merges the remote's
//! first and then pushes them, a fast-forward on the remote (never forced).

use crate::error::Result;
use crate::format::test_notes::TreeTests;
use crate::git;
use crate::ops::OpsError;
use crate::workspace::Workspace;

/// Where a fetch leaves the remote's notes before they are merged.
const SCRATCH: &str = "refs/agentver/notes-remote/";

/// The refspec that brings the remote's agentver notes to the scratch refs (none there: none).
pub fn refspec() -> String {
    format!("+refs/notes/agentver/*:{SCRATCH}*")
}

/// Merges the notes a fetch with [`refspec`] brought into this clone's; returns the notes that
/// moved (`tests`). The scratch refs are removed.
pub fn merge_fetched(ws: &Workspace) -> Result<Vec<String>> {
    let repo = ws.repo();
    let fetched = git::list_refs(repo, SCRATCH)?;
    if fetched.is_empty() {
        return Ok(Vec::new());
    }
    let signer = git::Identity::resolve_or(repo, "agentver", "agentver@localhost")?.0;
    let mut moved = Vec::new();
    let mut scratch = Vec::new();
    for (name, id) in fetched {
        let Some(id) = id else { continue };
        let short = name.strip_prefix(SCRATCH).unwrap_or(&name).to_owned();
        // The tests' notes merge test by test; any other agentver notes keep this clone's.
        let merge: &git::notes::MergeNote =
            if short == git::notes::TESTS { &TreeTests::merge } else { &|ours: &[u8], _: &[u8]| ours.to_vec() };
        if git::notes::merge_notes(repo, &git::notes::notes_ref(&short), id, &signer, merge)? {
            moved.push(short);
        }
        scratch.push(git::RefChange { name, from: Some(id), to: None });
    }
    let _guard = git::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
    git::apply_atomically_as(repo, scratch, "agentver: fetched notes merged", Some(&signer))?;
    Ok(moved)
}

/// Pushes this clone's agentver notes to `remote`, merged with the remote's first; returns the
/// notes pushed. Another clone pushing meanwhile is merged in and pushed again.
pub fn push(ws: &Workspace, remote: &str) -> Result<Vec<String>> {
    let local = git::list_refs(ws.repo(), "refs/notes/agentver/")?;
    if local.is_empty() {
        return Ok(Vec::new());
    }
    const ATTEMPTS: u32 = 5;
    for _ in 0..ATTEMPTS {
        let out =
            git::remote::run(ws.root(), &["fetch", "--quiet", "--no-tags", "--refmap=", "--", remote, &refspec()])?;
        if !out.status.success() {
            return Err(git::remote::failed(&format!("fetching the notes of '{remote}'"), &out).into());
        }
        merge_fetched(ws)?;
        let names: Vec<String> =
            git::list_refs(ws.repo(), "refs/notes/agentver/")?.into_iter().map(|(n, _)| n).collect();
        let mut args = vec!["push".to_owned(), "--porcelain".to_owned(), "--".to_owned(), remote.to_owned()];
        args.extend(names.iter().map(|n| format!("{n}:{n}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = git::remote::run(ws.root(), &args)?;
        if out.status.success() {
            return Ok(names.iter().map(|n| n.trim_start_matches("refs/notes/agentver/").to_owned()).collect());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        if !(text.contains("rejected") || text.contains("fetch first") || text.contains("non-fast-forward")) {
            return Err(git::remote::failed(&format!("pushing the notes to '{remote}'"), &out).into());
        }
    }
    Err(OpsError::PushRaces { remote: remote.to_owned(), attempts: ATTEMPTS }.into())
}
