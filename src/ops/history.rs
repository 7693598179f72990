//! `log`: an agent's versions, newest first, with the draft's state on top.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::{self, TagData};
use crate::names::id::AgentId;
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
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Log {
    pub agent: String,
    pub draft: DraftInfo,
    pub versions: Vec<VersionInfo>,
}

impl Workspace {
    /// The draft's state against `latest_tree` (the latest version's tree, if any).
    pub fn draft_info(
        &self,
        agent: &AgentId,
        latest_tree: Option<crate::git::ObjectId>,
        at: &DraftAt,
    ) -> Result<DraftInfo> {
        let source = self.drafts(at)?;
        match bundle::load(source.as_ref(), agent) {
            Ok(b) => {
                let tree = git::tree_id(self.repo(), &b.files, false)?;
                let state = match latest_tree {
                    None => DraftState::New,
                    Some(t) if t == tree => DraftState::Unchanged,
                    Some(_) => DraftState::Modified,
                };
                Ok(DraftInfo { state, tree: Some(tree.to_string()), error: None })
            }
            Err(Error::UnknownAgent { .. }) if latest_tree.is_some() => {
                Ok(DraftInfo { state: DraftState::Deleted, tree: None, error: None })
            }
            Err(e @ Error::Invalid(_)) => {
                Ok(DraftInfo { state: DraftState::Invalid, tree: None, error: Some(e.to_string()) })
            }
            Err(e) => Err(e),
        }
    }

    pub fn log(&self, agent: &AgentId, at: &DraftAt) -> Result<Log> {
        let refs = self.versions(agent)?;
        let targets: Vec<crate::git::ObjectId> = refs.iter().rev().map(|v| v.target).collect();
        let data = crate::git::history_cache::read_tags(self.repo(), self.names(), agent, &targets)?;
        let versions: Vec<VersionInfo> = refs
            .iter()
            .rev()
            .zip(data)
            .map(|(v, c)| VersionInfo::new(self.names().short(agent, v.number), v.number, c.data, c.date))
            .collect();
        let latest_tree = versions.first().map(|v| v.tree.parse().expect("a tree id we formatted"));
        let draft = self.draft_info(agent, latest_tree, at)?;
        Ok(Log { agent: agent.to_string(), draft, versions })
    }
}
