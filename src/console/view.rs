//! What the pages read: one consistent state per request (`View`), from the served snapshot in
//! `serve` or from the work tree in `agentver console`, and the call store behind it (`Records`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::calls::report::{self, Replay, StatsReport, StatsRequest};
use crate::calls::store::Store;
use crate::calls::writer::Readers;
use crate::error::Result;
use crate::names::id::{AgentId, RefSpec};
use crate::ops::log::{DraftState, Log};
use crate::routing::resolve::{ChannelView, Resolver, Served};
use crate::workspace::{DraftAt, Version, Workspace};

use super::watch::Changes;

/// One row of the agents page.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AgentRow {
    pub agent: String,
    pub latest: Option<u64>,
    pub draft: DraftState,
    /// Channels with a target on this agent.
    pub channels: Vec<String>,
}

/// One configuration of an agent, as a page shows it.
pub struct Shown {
    pub version: Version,
    pub tag: Option<String>,
    /// The snapshot tree, as hex.
    pub tree: String,
    pub config: serde_json::Value,
}

impl From<&Served> for Shown {
    fn from(s: &Served) -> Shown {
        Shown { version: s.version, tag: s.tag.clone(), tree: s.tree.to_string(), config: s.config.clone() }
    }
}

/// One state of the repository, read by every page of one request.
pub trait View: Send + Sync {
    /// The served commit; `None` for the work tree.
    fn revision(&self) -> Option<&str>;
    fn agents(&self) -> Result<Vec<AgentRow>>;
    /// `log --json` of one agent.
    fn log(&self, agent: &AgentId) -> Result<Arc<Log>>;
    /// One configuration, as `show` finds it.
    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Shown>;
    /// `channels --json`.
    fn channels(&self) -> Result<Arc<Vec<ChannelView>>>;
    /// The channels with a target on `agent`.
    fn channels_of(&self, agent: &AgentId) -> Result<Vec<ChannelView>> {
        Ok(self.channels()?.iter().filter(|c| c.targets.iter().any(|t| t.agent == agent.as_str())).cloned().collect())
    }
    /// `stats` against this state's versions and weights.
    fn stats(&self, store: &mut Store, agent: &AgentId, request: &StatsRequest) -> Result<StatsReport>;
    /// Why channels.toml does not load, when it does not: the pages still show agents and
    /// histories, with this as a banner, and list no channel (never a 400 page for one bad line).
    fn channels_problem(&self) -> Option<String> {
        None
    }
    /// What is only in this work tree (uncommitted files, unpushed versions); `None` where the
    /// view is not a work tree.
    fn local_state(&self) -> Option<crate::ops::status::LocalState> {
        None
    }
    /// `replay`, the configuration read from what this state serves.
    fn replay(&self, store: &mut Store, call_id: &str) -> Result<Replay>;
}

/// A job on the call store, run off the async threads.
pub type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// The call store the pages read.
pub trait Records: Send + Sync {
    /// Queues `job`; false when the store cannot take it now.
    fn read(&self, job: Job) -> bool;
}

/// Where a console's pages come from.
pub trait Source: Send + Sync {
    /// The state for one request; `None` while a server has nothing loaded yet.
    fn view(&self) -> Result<Option<Arc<dyn View>>>;
    fn records(&self) -> Option<&dyn Records>;
}

/// `agentver console`: the work tree as it is on disk. What a page makes from it (the agents'
/// states, histories, channels) is kept until the files it came from change ([`Changes`]);
/// anything else is read afresh for each request.
pub struct WorkTree {
    pub root: PathBuf,
    store: Option<Readers>,
    kept: Mutex<Kept>,
}

/// What was made from the work tree, and how its changes are learnt.
struct Kept {
    changes: Changes,
    memo: Option<Arc<Memo>>,
}

impl WorkTree {
    /// The work tree at `root` and its call store: `calls` (`--calls`), which must open, or
    /// agentver.toml's, when one opens.
    pub fn open(root: PathBuf, calls: Option<&str>) -> Result<WorkTree> {
        let ws = Workspace::discover(&root)?;
        let open =
            |spec| report::location(&ws, spec).and_then(|location| Readers::start(&location, &report::privacy(&ws)?));
        let store = match calls {
            Some(spec) => Some(open(Some(spec))?),
            None => open(None).ok(),
        };
        let kept = Mutex::new(Kept { changes: Changes::start(&ws), memo: None });
        Ok(WorkTree { root, store, kept })
    }

    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::discover(&self.root)
    }
}

impl Source for WorkTree {
    fn view(&self) -> Result<Option<Arc<dyn View>>> {
        let ws = self.workspace()?;
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let unchanged = kept.changes.unchanged(&ws);
        let memo = match &kept.memo {
            Some(memo) if unchanged => memo.clone(),
            _ => kept.memo.insert(Arc::new(Memo::default())).clone(),
        };
        drop(kept);
        Ok(Some(Arc::new(WorkTreeView { ws: Mutex::new(ws), memo })))
    }

    fn records(&self) -> Option<&dyn Records> {
        self.store.as_ref().map(|s| s as &dyn Records)
    }
}

impl Records for Readers {
    fn read(&self, job: Job) -> bool {
        Readers::read(self, job).is_ok()
    }
}

/// What was made from one state of the work tree, each part when a page first needs it.
#[derive(Default)]
struct Memo {
    agents: OnceLock<Vec<AgentRow>>,
    logs: Mutex<HashMap<AgentId, Arc<Log>>>,
    resolver: OnceLock<Arc<Resolver>>,
    listing: OnceLock<Arc<Vec<ChannelView>>>,
    local: OnceLock<Option<crate::ops::status::LocalState>>,
}

struct WorkTreeView {
    /// A repository handle is not shared between threads: one request's jobs take turns.
    ws: Mutex<Workspace>,
    memo: Arc<Memo>,
}

impl WorkTreeView {
    fn ws(&self) -> std::sync::MutexGuard<'_, Workspace> {
        self.ws.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn resolver(&self) -> Result<Arc<Resolver>> {
        if let Some(r) = self.memo.resolver.get() {
            return Ok(r.clone());
        }
        let made = Arc::new(Resolver::new(self.ws().clone(), DraftAt::WorkTree)?);
        Ok(self.memo.resolver.get_or_init(|| made).clone())
    }
}

impl View for WorkTreeView {
    fn revision(&self) -> Option<&str> {
        None
    }

    /// `status` of the work tree: the same figures, made the way the command makes them.
    fn agents(&self) -> Result<Vec<AgentRow>> {
        if let Some(rows) = self.memo.agents.get() {
            return Ok(rows.clone());
        }
        let rows = match self.channels_problem() {
            None => crate::ops::status::status(&self.ws(), &DraftAt::WorkTree)?,
            Some(_) => crate::ops::status::status_without_channels(&self.ws(), &DraftAt::WorkTree)?,
        };
        let rows = rows
            .into_iter()
            .map(|r| AgentRow { agent: r.agent, latest: r.latest, draft: r.draft, channels: r.channels })
            .collect();
        Ok(self.memo.agents.get_or_init(|| rows).clone())
    }

    fn log(&self, agent: &AgentId) -> Result<Arc<Log>> {
        let logs = || self.memo.logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(log) = logs().get(agent) {
            return Ok(log.clone());
        }
        let log = crate::ops::log::log(&self.ws(), agent, &DraftAt::WorkTree)?;
        if log.versions.is_empty() && log.draft.state == DraftState::Deleted {
            self.ws().locate(agent, RefSpec::Draft, &DraftAt::WorkTree)?;
        }
        let log = Arc::new(log);
        logs().insert(agent.clone(), log.clone());
        Ok(log)
    }

    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Shown> {
        let found = self.ws().locate(agent, want, &DraftAt::WorkTree)?;
        Ok(Shown { version: found.version, tag: found.tag, tree: found.tree.to_string(), config: found.bundle.config })
    }

    fn channels(&self) -> Result<Arc<Vec<ChannelView>>> {
        if let Some(listing) = self.memo.listing.get() {
            return Ok(listing.clone());
        }
        if self.channels_problem().is_some() {
            return Ok(Arc::default());
        }
        let listing = Arc::new(self.resolver()?.listing());
        Ok(self.memo.listing.get_or_init(|| listing).clone())
    }

    /// Resolves only the channels that route to `agent` (the others' agents are not loaded).
    fn channels_of(&self, agent: &AgentId) -> Result<Vec<ChannelView>> {
        if self.channels_problem().is_some() {
            return Ok(Vec::new());
        }
        let resolver = self.resolver()?;
        let channels = resolver.channels().channels.iter();
        Ok(channels.filter(|c| c.targets().iter().any(|t| t.agent == *agent)).map(|c| resolver.view(c).0).collect())
    }

    fn stats(&self, store: &mut Store, agent: &AgentId, request: &StatsRequest) -> Result<StatsReport> {
        report::stats_report(store, &report::RepoCatalog::new(&self.ws()), agent, request)
    }

    fn replay(&self, store: &mut Store, call_id: &str) -> Result<Replay> {
        report::replay(store, call_id, &|agent, tree| self.ws().config_in_tree(agent, tree))
    }

    fn channels_problem(&self) -> Option<String> {
        self.resolver().err().map(|e| e.to_string())
    }

    fn local_state(&self) -> Option<crate::ops::status::LocalState> {
        self.memo.local.get_or_init(|| crate::ops::status::local_state(&self.ws(), "origin").ok()).clone()
    }
}
