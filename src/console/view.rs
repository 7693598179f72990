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
use crate::workspace::{DraftAt, Workspace};

/// One row of the agents page.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AgentRow {
    pub agent: String,
    pub latest: Option<u64>,
    pub draft: DraftState,
    /// Channels with a target on this agent.
    pub channels: Vec<String>,
}

/// One state of the repository, read by every page of one request.
pub trait View: Send + Sync {
    /// The served commit; `None` for the work tree.
    fn revision(&self) -> Option<&str>;
    fn agents(&self) -> Result<Vec<AgentRow>>;
    /// `log --json` of one agent.
    fn log(&self, agent: &AgentId) -> Result<Arc<Log>>;
    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>>;
    /// `channels --json`.
    fn channels(&self) -> Arc<Vec<ChannelView>>;
    /// The channels with a target on `agent`.
    fn channels_of(&self, agent: &AgentId) -> Vec<ChannelView> {
        self.channels().iter().filter(|c| c.targets.iter().any(|t| t.agent == agent.as_str())).cloned().collect()
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
        let resolver = Resolver::new(ws.clone(), DraftAt::WorkTree)?;
        Ok(Some(Arc::new(WorkTreeView { ws: Mutex::new(ws), resolver })))
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
    resolver: Resolver,
}

impl WorkTreeView {
    fn ws(&self) -> std::sync::MutexGuard<'_, Workspace> {
        self.ws.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>> {
        self.resolver.configuration(agent, want)
    }

    fn channels(&self) -> Arc<Vec<ChannelView>> {
        Arc::new(self.resolver.listing())
    }

    /// Resolves only the channels that route to `agent` (the others' agents are not loaded).
    fn channels_of(&self, agent: &AgentId) -> Vec<ChannelView> {
        let channels = self.resolver.channels().channels.iter();
        channels.filter(|c| c.targets().iter().any(|t| t.agent == *agent)).map(|c| self.resolver.view(c).0).collect()
    }

    fn stats(&self, store: &mut Store, agent: &AgentId, request: &StatsRequest) -> Result<StatsReport> {
        report::stats_report(store, &report::RepoCatalog::new(&self.ws()), agent, request)
    }

    fn replay(&self, store: &mut Store, call_id: &str) -> Result<Replay> {
        report::replay(store, call_id, &|agent, tree| self.ws().config_in_tree(agent, tree))
    }
}
