//! `log`: an agent's versions, newest first, with the draft's state on top.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::git::{self, TagData};
use crate::names::id::AgentId;
use crate::workspace::WorkspaceError;
use crate::workspace::bundle;
use crate::workspace::{DraftAt, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftState {
    /// A draft with no published version yet.
    New,
    /// The draft's tree equals the latest version's.
    Unchanged,
    Modified,
    /// Versions exist but the draft file does not.
    Deleted,
    /// The draft does not validate; its tree cannot be known.
    Invalid,
}

impl std::fmt::Display for DraftState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DraftState::New => "new",
            DraftState::Unchanged => "unchanged",
            DraftState::Modified => "modified",
            DraftState::Deleted => "deleted",
            DraftState::Invalid => "invalid",
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DraftInfo {
    pub state: DraftState,
    pub tree: Option<String>,
    /// `agentver test`'s results on the draft's tree, when a test ran on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<crate::format::test_notes::Summary>,
    /// Why the draft is invalid, for the human output.
    #[serde(skip)]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// One version as `log --json` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    pub version: u64,
    pub tag: String,
    pub label: String,
    pub notes: String,
    pub author: Person,
    pub date: String,
    pub commit: String,
    pub tree: String,
    pub source: Option<String>,
    pub rollback_of: Option<u64>,
    /// `agentver test`'s results on this version's tree, when a test ran on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<crate::format::test_notes::Summary>,
}

impl VersionInfo {
    /// `date` is `data.time` in RFC 3339, as the history cache keeps it.
    pub fn new(tag: String, version: u64, data: TagData, date: String) -> Self {
        VersionInfo {
            version,
            tag,
            label: data.message.label,
            notes: data.message.notes,
            author: Person { name: data.tagger_name, email: data.tagger_email },
            date,
            commit: data.commit.to_string(),
            tree: data.tree.to_string(),
            source: data.message.source,
            rollback_of: data.message.rollback_of,
            tests: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Log {
    pub agent: String,
    pub draft: DraftInfo,
    pub versions: Vec<VersionInfo>,
}

impl DraftInfo {
    /// The draft's state against the latest version's tree, from how loading the draft went:
    /// its tree, or the error. `None` when the error is not about the draft itself (git or the
    /// file system failed), which the caller reports.
    pub fn from_load(
        latest_tree: Option<crate::git::ObjectId>,
        draft: std::result::Result<crate::git::ObjectId, &Error>,
    ) -> Option<DraftInfo> {
        match draft {
            Ok(tree) => {
                let state = match latest_tree {
                    None => DraftState::New,
                    Some(t) if t == tree => DraftState::Unchanged,
                    Some(_) => DraftState::Modified,
                };
                Some(DraftInfo { state, tree: Some(tree.to_string()), tests: None, error: None })
            }
            Err(Error::Workspace(WorkspaceError::UnknownAgent { .. })) if latest_tree.is_some() => {
                Some(DraftInfo { state: DraftState::Deleted, tree: None, tests: None, error: None })
            }
            Err(e @ Error::Format(FormatError::Invalid(_))) => {
                Some(DraftInfo { state: DraftState::Invalid, tree: None, tests: None, error: Some(e.to_string()) })
            }
            Err(_) => None,
        }
    }
}

/// The draft's state against `latest_tree` (the latest version's tree, if any).
pub fn draft_info(
    ws: &Workspace,
    agent: &AgentId,
    latest_tree: Option<crate::git::ObjectId>,
    at: &DraftAt,
) -> Result<DraftInfo> {
    let source = ws.drafts(at)?;
    let loaded = bundle::load(source.as_ref(), agent).and_then(|b| Ok(git::tree_id(ws.repo(), &b.files, false)?));
    match DraftInfo::from_load(latest_tree, loaded.as_ref().map(|t| *t)) {
        Some(info) => Ok(info),
        None => Err(loaded.expect_err("only an error has no draft state")),
    }
}

/// An agent's versions as `log` lists them, newest first.
pub fn version_history(ws: &Workspace, agent: &AgentId) -> Result<Vec<VersionInfo>> {
    let refs = ws.versions(agent)?;
    let targets: Vec<crate::git::ObjectId> = refs.iter().rev().map(|v| v.target).collect();
    let data = crate::git::history_cache::read_tags(ws.repo(), ws.names(), agent, &targets, ws.writes_caches())?;
    Ok(refs
        .iter()
        .rev()
        .zip(data)
        .map(|(v, c)| VersionInfo::new(ws.names().short(agent, v.number), v.number, c.data, c.date))
        .collect())
}

pub fn log(ws: &Workspace, agent: &AgentId, at: &DraftAt) -> Result<Log> {
    let mut versions = version_history(ws, agent)?;
    let mut draft = draft_info(ws, agent, latest_tree(&versions), at)?;
    // The tests' notes, when any test ever ran here (one ref lookup otherwise).
    if crate::git::notes::has_notes(ws.repo(), crate::git::notes::TESTS)? {
        let summary = |tree: &str| -> Result<_> {
            Ok(ws.test_results(tree)?.map(|t| t.summary(agent.as_str())).filter(|s| s.total > 0))
        };
        for v in &mut versions {
            v.tests = summary(&v.tree)?;
        }
        if let Some(tree) = &draft.tree {
            draft.tests = summary(tree)?;
        }
    }
    Ok(Log { agent: agent.to_string(), draft, versions })
}

/// The tree of the newest of `versions` (newest first).
pub fn latest_tree(versions: &[VersionInfo]) -> Option<crate::git::ObjectId> {
    versions.first().map(|v| v.tree.parse().expect("a tree id we formatted"))
}
