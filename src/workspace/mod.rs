//! A workspace: the folder holding `agentver.toml` (or the git work tree's root), its repository,
//! and reading any agent's configuration as a draft, at a revision, or as a published version.

pub mod bundle;
mod channels;
mod error;
pub mod source;

pub use error::WorkspaceError;

use std::path::{Path, PathBuf};

use crate::git::GitError;
use crate::git::ObjectId;
use serde::Serialize;

use self::bundle::Bundle;
use crate::error::{Error, Result};
use crate::format::config::{self, Config};
use crate::git;
use crate::names::id::{AgentId, RefSpec};
use crate::names::tagname::TagNames;
use crate::workspace::source::{GitTree, Source, WorkTree};

/// Most commits the no-silent-revert check walks looking for latest's content.
const CONTENT_WALK: usize = 1000;

/// Cloning is cheap: the repository handle shares its object database and caches, so a
/// [`Resolver`](crate::routing::resolve::Resolver) can own one without discovering the workspace again.
#[derive(Clone)]
pub struct Workspace {
    root: PathBuf,
    repo: crate::git::Repository,
    /// The workspace folder relative to the repository's work tree: "" or "config/".
    prefix: String,
    config: Config,
    names: TagNames,
    /// Whether reads may write the history cache (a one-shot command: yes; a server that keeps
    /// what it read in memory: no, a thousand file writes would double its first load).
    write_caches: bool,
}

/// Where drafts are read from: the work tree, or a commit (`--rev`).
#[derive(Clone, Debug, Default)]
pub enum DraftAt {
    #[default]
    WorkTree,
    Rev(String),
}

/// Exactly which configuration of an agent a spec names once located: the draft or a numbered
/// version (`latest` already turned into its number). Serialised as "draft" or the number.
///
/// Vocabulary: a spec (`RefSpec`: draft, latest, vN) is *located* ([`Workspace::locate`],
/// [`Workspace::version_named`]); a call is *resolved* (`routing::resolve::Resolver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Draft,
    Number(u64),
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Version::Draft => s.serialize_str("draft"),
            Version::Number(n) => s.serialize_u64(*n),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Version::Draft => f.write_str("draft"),
            Version::Number(n) => write!(f, "v{n}"),
        }
    }
}

/// A configuration located exactly: what `show --json` and `resolve` report.
#[derive(Clone, Debug)]
pub struct Located {
    pub agent: AgentId,
    pub version: Version,
    /// The snapshot tree: for the draft, the tree its snapshot would have.
    pub tree: ObjectId,
    pub tag: Option<String>,
    pub bundle: Bundle,
}

/// `show --json`: one configuration exactly, as `resolve` and `serve` report it too.
#[derive(Serialize)]
pub struct Shown<'a, C: Serialize + ?Sized> {
    pub agent: &'a str,
    pub version: Version,
    pub tree: String,
    pub config: &'a C,
}

impl Located {
    pub fn shown(&self) -> Shown<'_, serde_json::Value> {
        Shown {
            agent: self.agent.as_str(),
            version: self.version,
            tree: self.tree.to_string(),
            config: &self.bundle.config,
        }
    }
}

impl Workspace {
    /// Finds the workspace from `start` as cargo finds Cargo.toml: the nearest folder up to the git
    /// work tree's root holding agentver.toml, else that root.
    pub fn discover(start: &Path) -> Result<Self> {
        let start = start.canonicalize().map_err(|e| Error::io(start, e))?;
        let mut repo = git::open_repository(&start)?;
        // Snapshot trees are read repeatedly (root, then each file's folder); a small object cache
        // keeps them decoded. 8 MiB bounds it.
        repo.object_cache_size_if_unset(8 * 1024 * 1024);
        let workdir =
            repo.workdir().ok_or(GitError::BareRepository)?.canonicalize().map_err(|e| Error::io(&start, e))?;
        let mut root = workdir.clone();
        for dir in start.ancestors() {
            if dir.join(config::FILE).is_file() {
                root = dir.to_owned();
                break;
            }
            if dir == workdir {
                break;
            }
        }
        let prefix = root
            .strip_prefix(&workdir)
            .ok()
            .and_then(|p| p.to_str())
            .map(|p| if p.is_empty() { String::new() } else { format!("{}/", p.replace('\\', "/")) })
            .unwrap_or_default();
        let config = match std::fs::read(root.join(config::FILE)) {
            Ok(bytes) => {
                let text =
                    crate::format::text::check_text(&bytes).map_err(|e| Error::invalid(e.diagnostic(config::FILE)))?;
                Config::parse(text, &crate::binary_version())?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => return Err(Error::io(root.join(config::FILE), e)),
        };
        let names = TagNames::new(&config.tag_prefix);
        Ok(Workspace { root, repo, prefix, config, names, write_caches: true })
    }

    /// This workspace, reading caches but never writing them.
    pub fn without_cache_writes(mut self) -> Self {
        self.write_caches = false;
        self
    }

    pub fn writes_caches(&self) -> bool {
        self.write_caches
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn repo(&self) -> &crate::git::Repository {
        &self.repo
    }

    pub fn names(&self) -> &TagNames {
        &self.names
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The workspace folder inside the repository: "" or "config/".
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The drafts on disk, read as git stores them (after its clean filters).
    pub fn work_tree(&self) -> Result<WorkTree<'_>> {
        WorkTree::with_filters(&self.root, &self.repo, &self.prefix)
    }

    /// The commit a revision names (`HEAD`, `main`, a tag, an id).
    pub fn rev_commit(&self, rev: &str) -> Result<ObjectId> {
        Ok(git::rev_commit(&self.repo, rev)?)
    }

    /// The branch HEAD is on, if any.
    pub fn current_branch(&self) -> Result<Option<String>> {
        Ok(git::head_branch(&self.repo)?)
    }

    /// Whether commit `ancestor` is `descendant` or one of its ancestors (`None`: this clone
    /// lacks the history to say).
    pub fn commit_contains(&self, ancestor: ObjectId, descendant: ObjectId) -> Result<Option<bool>> {
        Ok(git::contains(&self.repo, ancestor, descendant)?)
    }

    /// The subject and body of the commit `rev` names (a merge's or a squash's: the pull
    /// request's title and description).
    pub fn commit_message(&self, rev: &str) -> Result<(String, String)> {
        Ok(git::commit_message(&self.repo, self.rev_commit(rev)?)?)
    }

    /// The drafts as of `at`: the work tree, or the workspace folder inside a commit.
    pub fn drafts(&self, at: &DraftAt) -> Result<Box<dyn Source + '_>> {
        Ok(match at {
            DraftAt::WorkTree => Box::new(self.work_tree()?),
            DraftAt::Rev(rev) => {
                let tree = git::commit_tree(&self.repo, self.rev_commit(rev)?)?;
                Box::new(GitTree::new(&self.repo, tree, &self.prefix, &format!("{rev}:")))
            }
        })
    }

    /// A version's snapshot as a source of files.
    pub fn version_source(&self, agent: &AgentId, number: u64, tree: ObjectId) -> GitTree<'_> {
        GitTree::new(&self.repo, tree, "", &format!("{}:", self.names.short(agent, number)))
    }

    /// Every version of an agent, oldest first.
    pub fn versions(&self, agent: &AgentId) -> Result<Vec<git::VersionRef>> {
        Ok(git::list_versions(&self.repo, &self.names, agent)?)
    }

    /// The tag data of one version, or `VersionNotFound`.
    pub fn version(&self, agent: &AgentId, number: u64) -> Result<git::TagData> {
        match git::find_version(&self.repo, &self.names, agent, number)? {
            Some(target) => Ok(git::read_tag(&self.repo, target)?),
            None => match git::latest_version(&self.repo, &self.names, agent)? {
                Some(latest) => Err(WorkspaceError::VersionNotFound {
                    agent: agent.to_string(),
                    version: number,
                    latest: Some(latest.number),
                }
                .into()),
                None => Err(self.no_versions(agent)?),
            },
        }
    }

    /// "has no published version", with the published agent whose id is closest, if any.
    fn no_versions(&self, agent: &AgentId) -> Result<Error> {
        let known = self.published_agent_ids()?;
        let suggestion =
            crate::format::diagnostic::closest(agent.as_str(), known.iter().map(AgentId::as_str)).map(str::to_owned);
        Ok(WorkspaceError::NoVersions { agent: agent.to_string(), suggestion }.into())
    }

    /// The highest version and its tag data.
    pub fn latest(&self, agent: &AgentId) -> Result<Option<(u64, git::TagData)>> {
        match git::latest_version(&self.repo, &self.names, agent)? {
            Some(v) => Ok(Some((v.number, git::read_tag(&self.repo, v.target)?))),
            None => Ok(None),
        }
    }

    /// The version a spec names: `latest` becomes its number; `Draft` stays the draft. `latest` is
    /// the highest version (in the work tree) or the highest published from `at`'s history.
    pub fn version_named(&self, agent: &AgentId, reference: RefSpec, at: &DraftAt) -> Result<Version> {
        match reference {
            RefSpec::Draft => Ok(Version::Draft),
            RefSpec::Version(n) => Ok(Version::Number(n)),
            RefSpec::Latest => match self.latest_number(agent, at)? {
                Some(n) => Ok(Version::Number(n)),
                None => Err(self.no_versions(agent)?),
            },
        }
    }

    /// "Latest at a revision": without `--rev`, the highest version; with it, the highest whose
    /// `Agentver-Source` commit is that revision or one of its ancestors, so the same revision
    /// always serves the same versions and an unmerged publish never reaches production.
    pub fn latest_number(&self, agent: &AgentId, at: &DraftAt) -> Result<Option<u64>> {
        let DraftAt::Rev(rev) = at else {
            return Ok(git::latest_version(&self.repo, &self.names, agent)?.map(|v| v.number));
        };
        let commit = self.rev_commit(rev)?;
        for version in git::list_versions(&self.repo, &self.names, agent)?.iter().rev() {
            let data = git::read_tag(&self.repo, version.target)?;
            let contained = match data.message.source_commit().and_then(|hex| ObjectId::from_hex(hex.as_bytes()).ok()) {
                None => true,
                Some(source) => git::contains(&self.repo, source, commit)? == Some(true),
            };
            if contained {
                return Ok(Some(version.number));
            }
        }
        Ok(None)
    }

    /// Refuses a new version of `agent` that would undo its latest: latest's source commit must
    /// be contained in `commit`, the one the draft comes from, or a commit of `commit`'s history
    /// must hold exactly latest's snapshot of the agent (the branch that published it was squash-
    /// or rebase-merged, its commits rewritten) ("No silent revert").
    pub fn check_no_revert(&self, agent: &AgentId, latest: &git::TagData, commit: Option<ObjectId>) -> Result<()> {
        let Some(source) = latest.message.source_commit() else { return Ok(()) };
        let number = latest.message.version.unwrap_or_default();
        let short = &source[..source.len().min(12)];
        let contained = match (ObjectId::from_hex(source.as_bytes()), commit) {
            (Ok(source), Some(commit)) => git::contains(&self.repo, source, commit)?,
            _ => Some(false),
        };
        let contained = match (contained, commit) {
            (Some(true), _) => Some(true),
            (_, Some(commit)) if self.history_holds(agent, latest, commit)? => Some(true),
            (other, _) => other,
        };
        match contained {
            Some(true) => Ok(()),
            Some(false) => Err(WorkspaceError::SilentRevert {
                agent: agent.to_string(),
                version: number,
                commit: short.into(),
                missing: false,
            }
            .into()),
            None => Err(WorkspaceError::SilentRevert {
                agent: agent.to_string(),
                version: number,
                commit: short.into(),
                missing: true,
            }
            .into()),
        }
    }

    /// Whether a commit on `commit`'s first-parent history (at most [`CONTENT_WALK`] of them, as
    /// far as this clone has them) holds exactly `latest`'s snapshot of `agent`: the content a
    /// squash or rebase merge brought, whatever its commit ids. The agent file's blob is compared
    /// first, so only a commit holding that very file is loaded whole.
    fn history_holds(&self, agent: &AgentId, latest: &git::TagData, commit: ObjectId) -> Result<bool> {
        let path = agent.draft_path();
        let Some(wanted) = git::blob_at(&self.repo, latest.tree, &path)? else { return Ok(false) };
        let in_workspace = format!("{}{path}", self.prefix);
        let mut at = Some(commit);
        for _ in 0..CONTENT_WALK {
            let Some(c) = at.filter(|c| self.repo.has_object(*c)) else { break };
            let tree = git::commit_tree(&self.repo, c)?;
            if git::blob_at(&self.repo, tree, &in_workspace)? == Some(wanted) {
                let source = GitTree::new(&self.repo, tree, &self.prefix, "");
                if bundle::load(&source, agent)
                    .is_ok_and(|b| git::tree_id(&self.repo, &b.files, false).is_ok_and(|t| t == latest.tree))
                {
                    return Ok(true);
                }
            }
            at = git::commit_parents(&self.repo, c)?.first().copied();
        }
        Ok(false)
    }

    /// Loads one agent's configuration exactly: the draft (from `at`) or a published version.
    pub fn locate(&self, agent: &AgentId, reference: RefSpec, at: &DraftAt) -> Result<Located> {
        match self.version_named(agent, reference, at)? {
            Version::Draft => {
                let source = self.drafts(at)?;
                let bundle = bundle::load(source.as_ref(), agent)?;
                let tree = git::tree_id(&self.repo, &bundle.files, false)?;
                Ok(Located { agent: agent.clone(), version: Version::Draft, tree, tag: None, bundle })
            }
            Version::Number(n) => {
                let data = self.version(agent, n)?;
                let tag = self.names.short(agent, n);
                let bundle = match bundle::load(&self.version_source(agent, n, data.tree), agent) {
                    Err(Error::Workspace(WorkspaceError::UnknownAgent { .. })) => {
                        return Err(Error::invalid(
                            crate::format::diagnostic::Diagnostic::error(
                                &tag,
                                None,
                                format!(
                                    "the tag's snapshot holds no {}: it is not a version of {agent}",
                                    agent.draft_path()
                                ),
                            )
                            .with_hint(Some("`agentver verify` audits the tags".into())),
                        ));
                    }
                    other => other?,
                };
                Ok(Located {
                    agent: agent.clone(),
                    version: Version::Number(n),
                    tree: data.tree,
                    tag: Some(tag),
                    bundle,
                })
            }
        }
    }

    /// The configuration a snapshot tree holds for `agent`, found by content id alone (replay
    /// after tags moved). The id must name a tree object in this repository that is a snapshot of
    /// the agent: its file and what it links, nothing else (a commit, a branch's tree or a tree
    /// holding other files is not one, so a forged record cannot make replay read them).
    pub fn config_in_tree(&self, agent: &AgentId, tree: &str) -> Result<serde_json::Value> {
        let id = ObjectId::from_hex(tree.as_bytes()).map_err(|_| Error::BadValue {
            what: "tree".into(),
            value: tree.escape_debug().to_string(),
            expected: "a tree id (40 hex digits)".into(),
        })?;
        if !git::is_tree(&self.repo, id)
            || git::tree::entry(&self.repo, id, &agent.draft_path()).ok().flatten().is_none()
        {
            return Err(WorkspaceError::TreeNotFound { tree: tree.to_owned() }.into());
        }
        let source = GitTree::new(&self.repo, id, "", &format!("{}:", &tree[..12.min(tree.len())]));
        let bundle = bundle::load(&source, agent)?;
        if !self.snapshot_extras(id, &bundle.files)?.is_empty() {
            return Err(WorkspaceError::NotASnapshot { tree: tree.to_owned(), agent: agent.to_string() }.into());
        }
        Ok(bundle.config)
    }

    /// What `agentver test` kept on `tree` (`None`: no test ran on it, or its note is not agentver's).
    pub fn test_results(&self, tree: &str) -> Result<Option<crate::format::test_notes::TreeTests>> {
        let Ok(id) = ObjectId::from_hex(tree.as_bytes()) else { return Ok(None) };
        let bytes = git::notes::read_note(&self.repo, &git::notes::notes_ref(git::notes::TESTS), id)?;
        Ok(bytes.and_then(|b| crate::format::test_notes::TreeTests::parse(&b)))
    }

    /// A published version's agent file, byte for byte, without parsing it (what `show` prints).
    pub fn published_file(&self, agent: &AgentId, number: u64) -> Result<Vec<u8>> {
        let data = self.version(agent, number)?;
        let path = agent.draft_path();
        self.version_source(agent, number, data.tree).read(&path)?.ok_or_else(|| {
            Error::invalid(
                crate::format::diagnostic::Diagnostic::error(
                    &self.names.short(agent, number),
                    None,
                    format!("the tag's snapshot holds no {path}: it is not a version of {agent}"),
                )
                .with_hint(Some("`agentver verify` audits the tags".into())),
            )
        })
    }

    /// Entries of a snapshot tree beyond the agent's own files (`files`, as its bundle loaded them).
    pub fn snapshot_extras(&self, tree: ObjectId, files: &bundle::Files) -> Result<Vec<String>> {
        Ok(git::tree_paths(&self.repo, tree)?.into_iter().filter(|p| !files.contains_key(p)).collect())
    }

    /// Every agent id that has a draft in `at`, sorted.
    pub fn agent_ids(&self, at: &DraftAt) -> Result<Vec<AgentId>> {
        Ok(bundle::list_agents(self.drafts(at)?.as_ref())?.0)
    }

    /// `f` over `items`, shared out over the machine's cores (up to 4), each thread with its own
    /// clone of this workspace (and so its own repository handle); the results in the items'
    /// order, or the first error.
    pub fn in_parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&Workspace, &T) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        let chunk = items.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = items
                .chunks(chunk)
                .map(|part| {
                    let (ws, f) = (self.clone(), &f);
                    scope.spawn(move || part.iter().map(|item| f(&ws, item)).collect::<Result<Vec<R>>>())
                })
                .collect();
            let mut out = Vec::with_capacity(items.len());
            for worker in workers {
                out.extend(worker.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?);
            }
            Ok(out)
        })
    }

    /// A digest of every agent tag's name and target: it changes when a tag is created, moved or
    /// deleted (what a server following the repository must notice).
    pub fn tags_digest(&self) -> Result<u64> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (name, target) in git::list_refs(&self.repo, &self.names.all_ref_prefix())? {
            hash.update(name.as_bytes());
            hash.update(target.map(|t| t.to_string()).unwrap_or_default().as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        Ok(u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")))
    }

    /// Whether the repository has no commit yet (HEAD names an unborn branch).
    pub fn has_no_commits(&self) -> bool {
        matches!(git::head_commit(&self.repo), Ok(None))
    }

    /// The local and remote-tracking branch names (`main`, `origin/main`), for suggestions.
    pub fn branch_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for (prefix, keep) in [("refs/heads/", ""), ("refs/remotes/", "")] {
            for (name, _) in git::list_refs(&self.repo, prefix)? {
                names.push(format!("{keep}{}", name.strip_prefix(prefix).unwrap_or(&name)));
            }
        }
        Ok(names)
    }

    /// Agent ids that have published versions (from ref names alone).
    pub fn published_agent_ids(&self) -> Result<Vec<AgentId>> {
        Ok(git::published_agent_ids(&self.repo, &self.names)?)
    }
}
