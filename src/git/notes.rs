//! Git notes under `refs/notes/agentver/<name>`, as `git notes --ref` keeps them: a commit whose
//! tree names each annotated object by its hex id (or, as git fans them out past many notes,
//! `ab/cdef…`), the note being that blob. `git notes --ref agentver/tests show <tree>` reads
//! what agentver writes, and agentver reads both layouts; it writes the flat one, replacing a
//! fanned-out entry of the same object. Two clones' notes are merged as `git notes merge` would,
//! a note on the same object in both by the caller's rule.

use gix::bstr::BString;
use gix::objs::tree::{Entry, EntryKind};

use super::error::{GitContext, Result, git};
use super::refs::{RefChange, apply_atomically_as, find_exact};
use super::tree::{self, EntryKind as Kind};
use super::{ObjectId, Repository};

/// The notes of `agentver test`'s results.
pub const TESTS: &str = "tests";

/// The full ref of the notes named `name` (`tests` → `refs/notes/agentver/tests`).
pub fn notes_ref(name: &str) -> String {
    format!("refs/notes/agentver/{name}")
}

/// Whether the notes named `name` exist at all.
pub fn has_notes(repo: &Repository, name: &str) -> Result<bool> {
    Ok(find_exact(repo, &notes_ref(name))?.is_some())
}

/// The note attached to `object` in `notes` (a full ref), if any.
pub fn read_note(repo: &Repository, notes: &str, object: ObjectId) -> Result<Option<Vec<u8>>> {
    let Some(commit) = find_exact(repo, notes)? else { return Ok(None) };
    let tree = notes_tree(repo, commit)?;
    let hex = object.to_hex().to_string();
    for path in [hex.clone(), format!("{}/{}", &hex[..2], &hex[2..])] {
        if let Some((Kind::Blob, blob)) = tree::entry(repo, tree, &path)? {
            return Ok(Some(tree::read_object(repo, blob, &|| format!("note {path} in {notes}"))?));
        }
    }
    Ok(None)
}

fn notes_tree(repo: &Repository, commit: ObjectId) -> Result<ObjectId> {
    let found = repo.find_commit(commit).context(|| format!("reading notes commit {commit}"))?;
    Ok(found.tree_id().context(|| format!("reading notes commit {commit}"))?.detach())
}

/// Attaches `bytes` to `object` in `notes`, replacing its note, as one new notes commit by
/// `signer`. Concurrent writers do not lose each other's notes: the ref moves only from the
/// commit this one was made on, and a lost race is made again on the new one.
pub fn write_note(
    repo: &Repository,
    notes: &str,
    object: ObjectId,
    bytes: &[u8],
    signer: &gix::actor::Signature,
    message: &str,
) -> Result<()> {
    let _guard = super::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
    let parent = find_exact(repo, notes)?;
    let mut entries = match parent {
        Some(commit) => {
            let tree = repo.find_tree(notes_tree(repo, commit)?).context(|| format!("reading {notes}"))?;
            tree.decode().context(|| format!("reading {notes}"))?.entries.iter().map(|e| Entry::from(*e)).collect()
        }
        None => Vec::new(),
    };
    let hex = object.to_hex().to_string();
    entries.retain(|e: &Entry| e.filename != hex.as_str());
    // A fanned-out entry of the same object is dropped from its folder.
    if let Some(at) = entries.iter().position(|e| e.filename == hex[..2] && e.mode.is_tree()) {
        let sub = repo.find_tree(entries[at].oid).context(|| format!("reading {notes}"))?;
        let mut inner: Vec<Entry> =
            sub.decode().context(|| format!("reading {notes}"))?.entries.iter().map(|e| Entry::from(*e)).collect();
        inner.retain(|e| e.filename != hex[2..]);
        entries[at].oid = write_tree(repo, inner)?;
    }
    let blob = repo.write_blob(bytes).map_err(git("writing a note"))?.detach();
    entries.push(Entry { mode: EntryKind::Blob.into(), filename: BString::from(hex), oid: blob });
    let tree = write_tree(repo, entries)?;
    let commit = gix::objs::Commit {
        tree,
        parents: parent.into_iter().collect(),
        author: signer.clone(),
        committer: signer.clone(),
        encoding: None,
        message: format!("{message}\n").into(),
        extra_headers: Vec::new(),
    };
    let id = repo.write_object(&commit).map_err(git("writing a notes commit"))?.detach();
    apply_atomically_as(
        repo,
        vec![RefChange { name: notes.to_owned(), from: parent, to: Some(id) }],
        message,
        Some(signer),
    )
}

fn write_tree(repo: &Repository, mut entries: Vec<Entry>) -> Result<ObjectId> {
    entries.sort();
    let tree = gix::objs::Tree { entries };
    Ok(repo.write_object(&tree).map_err(git("writing a notes tree"))?.detach())
}

/// Every note of a notes commit's tree: hex id → blob (flat and fanned-out entries alike).
fn all_notes(repo: &Repository, commit: ObjectId) -> Result<std::collections::BTreeMap<String, ObjectId>> {
    let mut out = std::collections::BTreeMap::new();
    let tree = repo.find_tree(notes_tree(repo, commit)?).context(|| format!("reading notes commit {commit}"))?;
    for e in tree.decode().context(|| format!("reading notes commit {commit}"))?.entries.iter() {
        let name = e.filename.to_string();
        if e.mode.is_tree() && name.len() == 2 {
            let sub = repo.find_tree(e.oid.to_owned()).context(|| format!("reading notes commit {commit}"))?;
            for inner in sub.decode().context(|| format!("reading notes commit {commit}"))?.entries.iter() {
                out.insert(format!("{name}{}", inner.filename), inner.oid.to_owned());
            }
        } else if e.mode.is_blob() {
            out.insert(name, e.oid.to_owned());
        }
    }
    Ok(out)
}

/// How two clones' notes on one object become one: `merge(ours, theirs)`.
pub type MergeNote = dyn Fn(&[u8], &[u8]) -> Vec<u8>;

/// Brings notes commit `theirs` (another clone's, fetched) into `notes`: taken as it is when
/// there are none here or ours is behind it, kept as ours when ours already holds it, else a
/// merge commit with both as parents whose notes are every object's, a note on the same object
/// in both made by `merge(ours, theirs)`. Returns whether `notes` moved.
pub fn merge_notes(
    repo: &Repository,
    notes: &str,
    theirs: ObjectId,
    signer: &gix::actor::Signature,
    merge: &MergeNote,
) -> Result<bool> {
    let _guard = super::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
    let ours = find_exact(repo, notes)?;
    let to = match ours {
        Some(o) if super::repo::contains(repo, theirs, o)? == Some(true) => return Ok(false),
        Some(o) if super::repo::contains(repo, o, theirs)? != Some(true) => {
            let mut all = all_notes(repo, o)?;
            for (hex, blob) in all_notes(repo, theirs)? {
                let merged = match all.get(&hex) {
                    Some(mine) if *mine != blob => {
                        let read = |id: ObjectId| tree::read_object(repo, id, &|| format!("note {hex} in {notes}"));
                        repo.write_blob(merge(&read(*mine)?, &read(blob)?)).map_err(git("writing a note"))?.detach()
                    }
                    _ => blob,
                };
                all.insert(hex, merged);
            }
            let entries = all
                .into_iter()
                .map(|(hex, oid)| Entry { mode: EntryKind::Blob.into(), filename: BString::from(hex), oid })
                .collect();
            let commit = gix::objs::Commit {
                tree: write_tree(repo, entries)?,
                parents: [o, theirs].into_iter().collect(),
                author: signer.clone(),
                committer: signer.clone(),
                encoding: None,
                message: "agentver: notes merged from another clone\n".into(),
                extra_headers: Vec::new(),
            };
            repo.write_object(&commit).map_err(git("writing a notes merge"))?.detach()
        }
        _ => theirs,
    };
    let change = RefChange { name: notes.to_owned(), from: ours, to: Some(to) };
    apply_atomically_as(repo, vec![change], "agentver: notes merged", Some(signer))?;
    Ok(true)
}
