//! Opening the repository as git would, revisions, and commit ancestry.

use super::error::{GitError, Result, chain, git};
use super::{ObjectId, Repository};

/// Opens the repository `start` is in, as git would: `GIT_DIR` and `GIT_WORK_TREE` are honoured,
/// and repositories whose refs or objects agentver cannot read correctly are refused by name
/// rather than answered wrongly.
pub fn open_repository(start: &std::path::Path) -> Result<gix::Repository> {
    let repo = match gix::discover_with_environment_overrides(start) {
        Ok(repo) => repo,
        Err(e) => {
            if let Some(dir) = sha256_repository_near(start) {
                return Err(GitError::Unsupported {
                    path: dir.display().to_string(),
                    what: "a SHA-256 repository (extensions.objectFormat = sha256)".into(),
                    hint: "use a SHA-1 repository: git init --object-format=sha1, then push your branches into it"
                        .into(),
                });
            }
            if std::env::var_os("GIT_DIR").is_some() {
                return Err(GitError::Git {
                    context: "opening the repository GIT_DIR names".into(),
                    message: chain(&e),
                    source: Some(Box::new(e)),
                });
            }
            return Err(GitError::NotARepository { path: start.to_owned() });
        }
    };
    let config = repo.config_snapshot();
    let setting = |key: &str| config.string(key).map(|v| v.to_string().to_ascii_lowercase());
    let path = repo.git_dir().display().to_string();
    if setting("extensions.refStorage").is_some_and(|v| v != "files") {
        return Err(GitError::Unsupported {
            path,
            what: "a reftable repository (extensions.refStorage = reftable)".into(),
            hint: "convert it to loose and packed refs: git refs migrate --ref-format=files".into(),
        });
    }
    let promisor =
        repo.remote_names().iter().any(|r| config.boolean(format!("remote.{r}.promisor").as_str()) == Some(true));
    if setting("extensions.partialClone").is_some() || promisor {
        return Err(GitError::Unsupported {
            path,
            what: "a partial clone, which lacks the objects of versions it has not checked out".into(),
            hint: "fetch every object: git config --unset remote.origin.partialclonefilter && git fetch --refetch origin && git config --unset extensions.partialClone".into(),
        });
    }
    Ok(repo)
}

/// The git folder of a SHA-256 repository at or above `start`, which gix cannot open here.
pub(super) fn sha256_repository_near(start: &std::path::Path) -> Option<std::path::PathBuf> {
    let candidates = std::env::var_os("GIT_DIR")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(start.ancestors().flat_map(|d| [d.join(".git"), d.to_owned()]));
    for dir in candidates {
        let Ok(text) = std::fs::read_to_string(dir.join("config")) else { continue };
        let lower = text.to_ascii_lowercase().replace([' ', '\t'], "");
        if lower.contains("objectformat=sha256") {
            return Some(dir);
        }
        if dir.join("HEAD").is_file() {
            return None;
        }
    }
    None
}

/// Whether commit `ancestor` is `descendant` or one of its ancestors; None when `ancestor` is not
/// in the repository (a shallow or partial clone), so containment cannot be proven.
pub fn contains(repo: &gix::Repository, ancestor: ObjectId, descendant: ObjectId) -> Result<Option<bool>> {
    if ancestor == descendant {
        return Ok(Some(true));
    }
    if !repo.has_object(ancestor) {
        return Ok(None);
    }
    let base = repo.merge_base(ancestor, descendant).map_err(|e| GitError::Git {
        context: format!("finding whether {descendant} contains {ancestor}"),
        message: e.to_string(),
        source: Some(Box::new(e)),
    });
    match base {
        Ok(base) => Ok(Some(base.is_some_and(|b| b.detach() == ancestor))),
        Err(_) if repo.is_shallow().unwrap_or(false) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates a git repository in `dir` (what `agentver init` does where there is none).
pub fn init_repository(dir: &std::path::Path) -> Result<()> {
    gix::init(dir).map_err(git(format!("creating a git repository in {}", dir.display())))?;
    Ok(())
}

/// The commit a revision names (`HEAD`, `main`, a tag, an id).
pub fn rev_commit(repo: &Repository, rev: &str) -> Result<ObjectId> {
    // A full commit id (what a server following a ref passes thousands of times) needs no
    // revision parsing, whose prefix disambiguation costs a search of every pack index.
    if rev.len() == 40
        && let Ok(id) = ObjectId::from_hex(rev.as_bytes())
        && let Ok(object) = repo.find_object(id)
    {
        let commit = object.peel_to_commit().map_err(|_| GitError::NotACommit { rev: rev.to_owned() })?;
        return Ok(commit.id);
    }
    let id = repo.rev_parse_single(rev).map_err(|_| GitError::UnknownRevision { rev: rev.to_owned() })?;
    let object = id.object().map_err(git(format!("reading {rev}")))?;
    let commit = object.peel_to_commit().map_err(|_| GitError::NotACommit { rev: rev.to_owned() })?;
    Ok(commit.id)
}

/// The id of HEAD's commit, or `None` on an unborn branch.
pub fn head_commit(repo: &gix::Repository) -> Result<Option<ObjectId>> {
    let head = repo.head().map_err(git("reading HEAD"))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let mut head = head;
    Ok(Some(head.peel_to_commit().map_err(git("reading HEAD"))?.id))
}

/// The branch HEAD is on (`main`), or `None` when HEAD is detached or unborn.
pub fn head_branch(repo: &gix::Repository) -> Result<Option<String>> {
    let head = repo.head_name().map_err(git("reading HEAD"))?;
    Ok(head.and_then(|name| name.as_bstr().to_string().strip_prefix("refs/heads/").map(str::to_owned)))
}

/// The parents of a commit.
pub fn commit_parents(repo: &gix::Repository, commit: ObjectId) -> Result<Vec<ObjectId>> {
    let c = repo.find_commit(commit).map_err(git(format!("reading commit {commit}")))?;
    Ok(c.parent_ids().map(|id| id.detach()).collect())
}

/// A commit's message as git shows it: the subject (its first paragraph, lines joined by
/// spaces) and the body (the rest, trimmed).
pub fn commit_message(repo: &gix::Repository, commit: ObjectId) -> Result<(String, String)> {
    let c = repo.find_commit(commit).map_err(git(format!("reading commit {commit}")))?;
    let text = c.message_raw_sloppy().to_string();
    let text = text.trim();
    let (subject, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let subject = subject.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    Ok((subject, body.trim().to_owned()))
}

/// The tree of a commit.
pub fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    let c = repo.find_commit(commit).map_err(git(format!("reading commit {commit}")))?;
    Ok(c.tree_id().map_err(git(format!("reading commit {commit}")))?.detach())
}
