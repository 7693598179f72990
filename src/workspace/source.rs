//! Where configuration files are read from: the work tree, or a tree inside git (a commit for
//! `--rev`, a version's snapshot tree). One loader reads drafts and versions through this trait.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::diagnostic::Diagnostic;
use crate::format::text::MAX_FILE_BYTES;
use crate::git::ObjectId;
use crate::git::tree::EntryKind;

pub trait Source {
    /// The file's bytes, or `None` when there is no such file. `rel` is workspace-relative.
    /// Files larger than `limit` bytes are refused before they are read.
    fn read_limited(&self, rel: &str, limit: usize) -> Result<Option<Vec<u8>>>;
    /// [`Source::read_limited`] at the 1 MiB limit for agent, tool and workflow files.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        self.read_limited(rel, MAX_FILE_BYTES)
    }
    /// Names of the files directly inside folder `dir` (empty when it does not exist), sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// How to name a file from this source in messages: `agents/a.yaml` in the work tree,
    /// `agent/sales/v3:agents/sales.yaml` in a version.
    fn display(&self, rel: &str) -> String;
}

pub(crate) fn too_big(file: String, size: u64, limit: usize) -> Error {
    Error::invalid(
        Diagnostic::error(&file, None, format!("file is {size} bytes; the limit is {limit}"))
            .with_hint(Some("agent, tool and workflow files are limited to 1 MiB, channels.toml to 16 MiB".to_owned())),
    )
}

/// The files under the workspace folder on disk.
///
/// Read as git stores them: with a repository, bytes go through git's clean filters
/// (`core.autocrlf`, `.gitattributes` `text`/`eol`), so a Windows clone and a Linux clone agree on
/// every tree id; [`WorkTree::checkout_bytes`] is the other direction, what `git checkout` writes.
pub struct WorkTree<'r> {
    root: PathBuf,
    canonical_root: PathBuf,
    filters: Option<crate::git::tree::Filters<'r>>,
}

impl<'r> WorkTree<'r> {
    /// The work tree read byte for byte, with no repository's filters.
    pub fn new(root: &Path) -> Result<Self> {
        let canonical_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        Ok(WorkTree { root: root.to_owned(), canonical_root, filters: None })
    }

    /// The work tree of `repo` (the workspace at `prefix` inside it), read through git's filters.
    pub fn with_filters(root: &Path, repo: &'r crate::git::Repository, prefix: &str) -> Result<Self> {
        let mut tree = Self::new(root)?;
        tree.filters = Some(crate::git::tree::Filters::new(repo, prefix));
        Ok(tree)
    }

    /// What `git checkout` would write for stored `bytes` at `rel`.
    pub fn checkout_bytes(&self, rel: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        match &self.filters {
            Some(filters) => Ok(filters.to_worktree(rel, bytes)?),
            None => Ok(bytes.to_vec()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl WorkTree<'_> {
    /// The path of `rel` on disk, after checking that no folder or link on the way leads outside
    /// the workspace: a symlinked `agents/` or `tools/` must not read or write someone's home.
    pub fn checked_path(&self, rel: &str) -> Result<PathBuf> {
        let mut path = self.root.clone();
        for part in rel.split('/') {
            path.push(part);
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                // What does not exist yet cannot lead anywhere; `restore` creates real folders.
                Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => break,
                Err(e) => return Err(Error::io(rel, e)),
            };
            if meta.file_type().is_symlink() {
                let shown = path.strip_prefix(&self.root).unwrap_or(&path).display().to_string();
                let target = path.canonicalize().map_err(|e| Error::io(&shown, e))?;
                if !target.starts_with(&self.canonical_root) {
                    return Err(Error::invalid(
                        Diagnostic::error(
                            &shown,
                            None,
                            format!("is a symlink to {}, outside the workspace", target.display()),
                        )
                        .with_hint(Some("copy the files into the workspace instead of linking to them".to_owned())),
                    ));
                }
            }
        }
        Ok(self.root.join(rel))
    }
}

impl Source for WorkTree<'_> {
    fn read_limited(&self, rel: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        // Every link on the way was checked (a dangling one is an error there), so one stat that
        // follows links tells whether the file exists.
        let path = self.checked_path(rel)?;
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                return Ok(None);
            }
            Err(e) => return Err(Error::io(rel, e)),
        };
        if !meta.is_file() {
            return Err(Error::invalid(Diagnostic::error(rel, None, "is not a regular file")));
        }
        if meta.len() > limit as u64 {
            return Err(too_big(rel.to_owned(), meta.len(), limit));
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(rel, e))?;
        match &self.filters {
            Some(filters) => Ok(Some(filters.to_git(rel, bytes)?)),
            None => Ok(Some(bytes)),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.checked_path(dir)?) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn display(&self, rel: &str) -> String {
        rel.to_owned()
    }
}

/// The files of a tree in the object database, seen from a folder inside it.
pub struct GitTree<'r> {
    repo: &'r crate::git::Repository,
    tree: ObjectId,
    /// The workspace folder inside the tree: "" or "config/".
    prefix: String,
    /// Shown before file names: "HEAD:", "agent/sales/v3:".
    label: String,
}

impl<'r> GitTree<'r> {
    pub fn new(repo: &'r crate::git::Repository, tree: ObjectId, prefix: &str, label: &str) -> Self {
        GitTree { repo, tree, prefix: prefix.to_owned(), label: label.to_owned() }
    }

    /// The entry at `rel`: its kind and object id.
    fn entry(&self, rel: &str) -> Result<Option<(EntryKind, ObjectId)>> {
        Ok(crate::git::tree::entry(self.repo, self.tree, &format!("{}{}", self.prefix, rel))?)
    }
}

impl Source for GitTree<'_> {
    fn read_limited(&self, rel: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        let Some((kind, id)) = self.entry(rel)? else { return Ok(None) };
        let refuse = |what: &str| {
            Err(Error::invalid(Diagnostic::error(
                &self.display(rel),
                None,
                format!("is a {what}; agentver reads regular files only"),
            )))
        };
        match kind {
            EntryKind::Tree => return Ok(None),
            EntryKind::Submodule => return refuse("submodule entry"),
            EntryKind::Link => return refuse("symlink"),
            EntryKind::Blob => {}
        }
        let shown = || self.display(rel);
        let size = crate::git::tree::object_size(self.repo, id, &shown)?;
        if size > limit as u64 {
            return Err(too_big(self.display(rel), size, limit));
        }
        Ok(Some(crate::git::tree::read_object(self.repo, id, &shown)?))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        match self.entry(dir)? {
            Some((EntryKind::Tree, id)) => Ok(crate::git::tree::file_names(self.repo, id, dir)?),
            _ => Ok(Vec::new()),
        }
    }

    fn display(&self, rel: &str) -> String {
        format!("{}{}", self.label, rel)
    }
}
