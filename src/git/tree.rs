//! Reading trees and blobs for the file sources, and git's line-ending filters for the work tree.

use std::path::Path;

use super::error::{GitContext, GitError, Result, git};
use super::{ObjectId, Repository};

/// What a tree entry is, as far as agentver cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
    Link,
    Submodule,
}

/// The entry at `path` inside `tree`, if any.
pub fn entry(repo: &Repository, tree: ObjectId, path: &str) -> Result<Option<(EntryKind, ObjectId)>> {
    let tree = repo.find_object(tree).and_then(|o| o.peel_to_tree()).context(|| format!("reading tree {tree}"))?;
    let entry = tree.lookup_entry_by_path(path).context(|| format!("looking up {path}"))?;
    Ok(entry.map(|e| {
        let mode = e.mode();
        let kind = if mode.is_tree() {
            EntryKind::Tree
        } else if mode.is_commit() {
            EntryKind::Submodule
        } else if mode.is_link() {
            EntryKind::Link
        } else {
            EntryKind::Blob
        };
        (kind, e.object_id())
    }))
}

/// An object's size from its header, before reading it (`shown` names it in errors).
pub fn object_size(repo: &Repository, id: ObjectId, shown: &dyn Fn() -> String) -> Result<u64> {
    Ok(repo.find_header(id).context(|| format!("reading {}", shown()))?.size())
}

/// An object's bytes.
pub fn read_object(repo: &Repository, id: ObjectId, shown: &dyn Fn() -> String) -> Result<Vec<u8>> {
    Ok(repo.find_object(id).context(|| format!("reading {}", shown()))?.detach().data)
}

/// The names of the entries of tree `id` that are not folders, sorted (`dir` names it in errors).
pub fn file_names(repo: &Repository, id: ObjectId, dir: &str) -> Result<Vec<String>> {
    let tree = repo.find_object(id).and_then(|o| o.peel_to_tree()).map_err(git(format!("reading {dir}")))?;
    let decoded = tree.decode().map_err(git(format!("decoding {dir}")))?;
    let mut names: Vec<String> = decoded
        .entries
        .iter()
        .filter(|e| !e.mode.is_tree())
        .filter_map(|e| std::str::from_utf8(e.filename).ok().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// git's filter pipeline for one repository, made on first use (it reads the index and the
/// attribute files).
pub struct Filters<'r> {
    repo: &'r Repository,
    /// The workspace folder inside the repository: "" or "config/".
    prefix: String,
    pipeline: std::cell::RefCell<Option<(gix::filter::Pipeline<'r>, gix::worktree::IndexPersistedOrInMemory)>>,
}

impl<'r> Filters<'r> {
    /// The filters of `repo`, for a workspace at `prefix` inside it ("" or "config/").
    pub fn new(repo: &'r Repository, prefix: &str) -> Self {
        Filters { repo, prefix: prefix.to_owned(), pipeline: Default::default() }
    }

    fn with<T>(&self, f: impl FnOnce(&mut gix::filter::Pipeline<'r>, &gix::index::State) -> Result<T>) -> Result<T> {
        let mut slot = self.pipeline.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.repo.filter_pipeline(None).map_err(git("reading .gitattributes and the index"))?);
        }
        let (pipeline, index) = slot.as_mut().expect("just made");
        f(pipeline, index)
    }

    /// Worktree bytes → the bytes `git add` would store.
    pub fn to_git(&self, rel: &str, bytes: Vec<u8>) -> Result<Vec<u8>> {
        // Line-ending conversion only ever removes carriage returns on the way in.
        if !bytes.contains(&b'\r') {
            return Ok(bytes);
        }
        let path = format!("{}{rel}", self.prefix);
        self.with(|pipeline, index| {
            use gix::filter::plumbing::pipeline::convert::ToGitOutcome;
            let outcome = pipeline
                .convert_to_git(bytes.as_slice(), Path::new(&path), index)
                .map_err(git(format!("applying git's filters to {rel}")))?;
            Ok(match outcome {
                ToGitOutcome::Unchanged(_) => bytes.clone(),
                ToGitOutcome::Buffer(buf) => buf.to_vec(),
                ToGitOutcome::Process(mut read) => {
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(&mut read, &mut out).map_err(|e| GitError::io(rel, e))?;
                    out
                }
            })
        })
    }

    /// Stored bytes → what `git checkout` writes.
    pub fn to_worktree(&self, rel: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        let path = format!("{}{rel}", self.prefix);
        self.with(|pipeline, _| {
            use gix::filter::plumbing::pipeline::convert::ToWorktreeOutcome;
            let outcome = pipeline
                .convert_to_worktree(bytes, path.as_str().into(), Default::default())
                .map_err(git(format!("applying git's filters to {rel}")))?;
            Ok(match outcome {
                ToWorktreeOutcome::Unchanged(b) => b.to_vec(),
                ToWorktreeOutcome::Buffer(b) => b.to_vec(),
                ToWorktreeOutcome::Process(_) => bytes.to_vec(),
            })
        })
    }
}
