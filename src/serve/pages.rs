//! The console's pages in `serve`: read-only, from the served snapshot and the server's call
//! store, behind a login when a token is configured.

use std::sync::Arc;

use super::State;
use super::snapshot::Snapshot;
use crate::calls::report::{self, Replay, StatsReport, StatsRequest};
use crate::calls::store::Store;
use crate::console::view::{AgentRow, Job, Records, Shown, Source, View};
use crate::console::{Access, Console};
use crate::error::{Result, WorkspaceError};
use crate::names::id::{AgentId, RefSpec};
use crate::ops::log::Log;
use crate::routing::resolve::ChannelView;

/// The console over what this server serves.
pub fn console(state: Arc<State>, secure: bool, port: u16) -> Arc<Console> {
    let access = match state.token {
        Some(hash) => Access::Token(hash),
        None => Access::Open,
    };
    Arc::new(Console {
        source: Arc::new(ServedSource(state)),
        access,
        sessions: crate::console::session::Sessions::for_server("serve", port, secure),
        secure,
        editor: None,
        week: Default::default(),
        stats: Default::default(),
        logins: Default::default(),
    })
}

struct ServedSource(Arc<State>);

impl Source for ServedSource {
    fn view(&self) -> Result<Option<Arc<dyn View>>> {
        Ok(self.0.snapshot.load_full().map(|s| Arc::new(Loaded(s)) as Arc<dyn View>))
    }

    fn records(&self) -> Option<&dyn Records> {
        self.0.calls.as_ref().map(|c| c as &dyn Records)
    }
}

impl Records for Arc<super::calls::Calls> {
    fn read(&self, job: Job) -> bool {
        self.writer().read(job).is_ok()
    }
}

struct Loaded(Arc<Snapshot>);

impl View for Loaded {
    fn revision(&self) -> Option<&str> {
        Some(&self.0.revision)
    }

    fn agents(&self) -> Result<Vec<AgentRow>> {
        let rows = self.0.summaries.iter().filter_map(|s| {
            let log = self.0.histories.get(&AgentId::new(&s.agent).ok()?)?;
            Some(AgentRow {
                agent: s.agent.clone(),
                latest: s.latest,
                draft: log.draft.state,
                channels: s.channels.clone(),
            })
        });
        Ok(rows.collect())
    }

    fn log(&self, agent: &AgentId) -> Result<Arc<Log>> {
        self.0.histories.get(agent).cloned().ok_or_else(|| {
            WorkspaceError::UnknownAgent { agent: agent.to_string(), path: agent.draft_path(), suggestion: None }.into()
        })
    }

    fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Shown> {
        self.log(agent)?;
        Ok(Shown::from(self.0.resolver.configuration(agent, want)?.as_ref()))
    }

    fn channels(&self) -> Result<Arc<Vec<ChannelView>>> {
        Ok(self.0.listing.clone())
    }

    fn stats(&self, store: &mut Store, agent: &AgentId, request: &StatsRequest) -> Result<StatsReport> {
        let report = report::stats_report(store, self.0.as_ref(), agent, request);
        super::memory::give_back(store);
        report
    }

    fn replay(&self, store: &mut Store, call_id: &str) -> Result<Replay> {
        let snapshot = &self.0;
        report::replay(store, call_id, &|agent, tree| {
            snapshot.config_value(agent, tree).ok_or_else(|| {
                super::ServeError::TreeNotServed { tree: tree.to_owned(), revision: snapshot.revision.clone() }.into()
            })
        })
    }
}
