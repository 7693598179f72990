//! What the pages read: one consistent state per request (`View`), from the served snapshot in
//! `serve` or from the work tree in `agentver console`, and the call store behind it (`Records`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::calls::report::{self, Replay, StatsReport, StatsRequest};
use crate::calls::store::Store;
use crate::error::Result;
use crate::names::id::{AgentId, RefSpec};
use crate::ops::log::{DraftState, Log};
use crate::routing::resolve::{ChannelView, Resolver, Served};
use crate::workspace::{DraftAt, Version, Workspace};

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

/// `agentver console`: the work tree as it is on disk, read afresh for each request.
pub struct WorkTree {
    pub root: PathBuf,
    store: Option<Arc<Mutex<Store>>>,
}

impl WorkTree {
    /// The work tree at `root` and its call store (when one opens).
    pub fn open(root: PathBuf) -> Result<WorkTree> {
        let ws = Workspace::discover(&root)?;
        let store = report::open(&ws, None).ok().map(|s| Arc::new(Mutex::new(s)));
        Ok(WorkTree { root, store })
    }

    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::discover(&self.root)
    }
}

impl Source for WorkTree {
    fn view(&self) -> Result<Option<Arc<dyn View>>> {
        let ws = self.workspace()?;
        Ok(Some(Arc::new(WorkTreeView { ws: Mutex::new(ws), resolver: Mutex::default() })))
    }

    fn records(&self) -> Option<&dyn Records> {
        self.store.as_ref().map(|s| s as &dyn Records)
    }
}

impl Records for Arc<Mutex<Store>> {
    fn read(&self, job: Job) -> bool {
        let store = self.clone();
        std::thread::spawn(move || {
            let mut store = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            job(&mut store);
        });
        true
    }
}

struct WorkTreeView {
    /// A repository handle is not shared between threads: one request's jobs take turns.
    ws: Mutex<Workspace>,
    /// Made when a page needs channels (channels.toml read once per request at most).
    resolver: Mutex<Option<Arc<Resolver>>>,
}

impl WorkTreeView {
    fn ws(&self) -> std::sync::MutexGuard<'_, Workspace> {
        self.ws.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn resolver(&self) -> Result<Arc<Resolver>> {
        let mut slot = self.resolver.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = slot.as_ref() {
            return Ok(r.clone());
        }
        let made = Arc::new(Resolver::new(self.ws().clone(), DraftAt::WorkTree)?);
        *slot = Some(made.clone());
        Ok(made)
    }
}

impl View for WorkTreeView {
    fn revision(&self) -> Option<&str> {
        None
    }

    /// `status` of the work tree: the same figures, made the way the command makes them.
    fn agents(&self) -> Result<Vec<AgentRow>> {
        let rows = crate::ops::status::status(&self.ws(), &DraftAt::WorkTree)?;
        Ok(rows
            .into_iter()
            .map(|r| AgentRow { agent: r.agent, latest: r.latest, draft: r.draft, channels: r.channels })
            .collect())
    }

    fn log(&self, agent: &AgentId) -> Result<Arc<Log>> {
        let log = crate::ops::log::log(&self.ws(), agent, &DraftAt::WorkTree)?;
        if log.versions.is_empty() && log.draft.state == DraftState::Deleted {
            self.ws().locate(agent, RefSpec::Draft, &DraftAt::WorkTree)?;
        }
        Ok(Arc::new(log))
    }

    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Shown> {
        let found = self.ws().locate(agent, want, &DraftAt::WorkTree)?;
        Ok(Shown { version: found.version, tag: found.tag, tree: found.tree.to_string(), config: found.bundle.config })
    }

    fn channels(&self) -> Result<Arc<Vec<ChannelView>>> {
        Ok(Arc::new(self.resolver()?.listing()))
    }

    /// Resolves only the channels that route to `agent` (the others' agents are not loaded).
    fn channels_of(&self, agent: &AgentId) -> Result<Vec<ChannelView>> {
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
}
