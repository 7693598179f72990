//! Where configuration files are read from: the work tree, or a tree inside git (a commit for
//! `--rev`, a version's snapshot tree). One loader reads drafts and versions through this trait.

use std::path::{Path, PathBuf};

use gix::ObjectId;

use crate::diagnostic::Diagnostic;
use crate::error::{Error, GitContext, Result, git};
use crate::yaml::MAX_FILE_BYTES;

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

fn too_big(file: String, size: u64, limit: usize) -> Error {
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
    filters: Option<Filters<'r>>,
}

/// git's filter pipeline for one repository, made on first use (it reads the index and the
/// attribute files).
struct Filters<'r> {
    repo: &'r gix::Repository,
    /// The workspace folder inside the repository: "" or "config/".
    prefix: String,
    pipeline: std::cell::RefCell<Option<(gix::filter::Pipeline<'r>, gix::worktree::IndexPersistedOrInMemory)>>,
}

impl<'r> Filters<'r> {
    fn with<T>(&self, f: impl FnOnce(&mut gix::filter::Pipeline<'r>, &gix::index::State) -> Result<T>) -> Result<T> {
        let mut slot = self.pipeline.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.repo.filter_pipeline(None).map_err(git("reading .gitattributes and the index"))?);
        }
        let (pipeline, index) = slot.as_mut().expect("just made");
        f(pipeline, index)
    }

    /// Worktree bytes → the bytes `git add` would store.
    fn to_git(&self, rel: &str, bytes: Vec<u8>) -> Result<Vec<u8>> {
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
                    std::io::Read::read_to_end(&mut read, &mut out).map_err(|e| Error::io(rel, e))?;
                    out
                }
            })
        })
    }

    /// Stored bytes → what `git checkout` writes.
    fn to_worktree(&self, rel: &str, bytes: &[u8]) -> Result<Vec<u8>> {
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

impl<'r> WorkTree<'r> {
    /// The work tree read byte for byte, with no repository's filters.
    pub fn new(root: &Path) -> Result<Self> {
        let canonical_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        Ok(WorkTree { root: root.to_owned(), canonical_root, filters: None })
    }

    /// The work tree of `repo` (the workspace at `prefix` inside it), read through git's filters.
    pub fn with_filters(root: &Path, repo: &'r gix::Repository, prefix: &str) -> Result<Self> {
        let mut tree = Self::new(root)?;
        tree.filters = Some(Filters { repo, prefix: prefix.to_owned(), pipeline: Default::default() });
        Ok(tree)
    }

    /// What `git checkout` would write for stored `bytes` at `rel`.
    pub fn checkout_bytes(&self, rel: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        match &self.filters {
            Some(filters) => filters.to_worktree(rel, bytes),
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
        let path = self.checked_path(rel)?;
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                return Ok(None);
            }
            Err(e) => return Err(Error::io(rel, e)),
        }
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(rel, e))?;
        if !meta.is_file() {
            return Err(Error::invalid(Diagnostic::error(rel, None, "is not a regular file")));
        }
        if meta.len() > limit as u64 {
            return Err(too_big(rel.to_owned(), meta.len(), limit));
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(rel, e))?;
        match &self.filters {
            Some(filters) => filters.to_git(rel, bytes).map(Some),
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
    repo: &'r gix::Repository,
    tree: ObjectId,
    /// The workspace folder inside the tree: "" or "config/".
    prefix: String,
    /// Shown before file names: "HEAD:", "agent/sales/v3:".
    label: String,
}

impl<'r> GitTree<'r> {
    pub fn new(repo: &'r gix::Repository, tree: ObjectId, prefix: &str, label: &str) -> Self {
        GitTree { repo, tree, prefix: prefix.to_owned(), label: label.to_owned() }
    }

    /// The entry at `rel`: its mode and object id.
    fn entry(&self, rel: &str) -> Result<Option<(gix::objs::tree::EntryMode, ObjectId)>> {
        let path = format!("{}{}", self.prefix, rel);
        let tree = self
            .repo
            .find_object(self.tree)
            .and_then(|o| o.peel_to_tree())
            .context(|| format!("reading tree {}", self.tree))?;
        let entry = tree.lookup_entry_by_path(&path).context(|| format!("looking up {path}"))?;
        Ok(entry.map(|e| (e.mode(), e.object_id())))
    }
}

impl Source for GitTree<'_> {
    fn read_limited(&self, rel: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        let Some((mode, id)) = self.entry(rel)? else { return Ok(None) };
        if mode.is_tree() {
            return Ok(None);
        }
        if mode.is_commit() {
            return Err(Error::invalid(Diagnostic::error(
                &self.display(rel),
                None,
                "is a submodule entry; agentver reads regular files only",
            )));
        }
        if mode.is_link() {
            return Err(Error::invalid(Diagnostic::error(
                &self.display(rel),
                None,
                "is a symlink; agentver reads regular files only",
            )));
        }
        let header = self.repo.find_header(id).context(|| format!("reading {}", self.display(rel)))?;
        if header.size() > limit as u64 {
            return Err(too_big(self.display(rel), header.size(), limit));
        }
        let object = self.repo.find_object(id).context(|| format!("reading {}", self.display(rel)))?;
        Ok(Some(object.detach().data))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let Some((mode, id)) = self.entry(dir)? else { return Ok(Vec::new()) };
        if !mode.is_tree() {
            return Ok(Vec::new());
        }
        let tree = self.repo.find_object(id).and_then(|o| o.peel_to_tree()).map_err(git(format!("reading {dir}")))?;
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

    fn display(&self, rel: &str) -> String {
        format!("{}{}", self.label, rel)
    }
}
