//! `status`: per agent, the latest version, the draft's state and the channels routing to it.

use serde::Serialize;

use crate::error::{Error, Result, WorkspaceError};
use crate::ops::log::DraftState;
use crate::workspace::{DraftAt, Workspace};

#[derive(Clone, Debug, Serialize)]
pub struct AgentStatus {
    pub agent: String,
    pub latest: Option<u64>,
    pub draft: DraftState,
    pub tree: Option<String>,
    /// Channels whose target (or one of whose variants) is this agent.
    pub channels: Vec<String>,
    #[serde(skip)]
    pub error: Option<String>,
}

pub fn status(ws: &Workspace, at: &DraftAt) -> Result<Vec<AgentStatus>> {
    status_with_routes(ws, at, ws.channel_routes(at)?)
}

/// `status` with no channels named: what a page shows while channels.toml does not load, beside
/// the reason.
pub fn status_without_channels(ws: &Workspace, at: &DraftAt) -> Result<Vec<AgentStatus>> {
    status_with_routes(ws, at, Vec::new())
}

fn status_with_routes(ws: &Workspace, at: &DraftAt, channel_routes: Vec<(String, String)>) -> Result<Vec<AgentStatus>> {
    let mut ids = ws.agent_ids(at)?;
    for id in ws.published_agent_ids()? {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.sort();
    let mut routes: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (channel, agent) in channel_routes {
        routes.entry(agent).or_default().push(channel);
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let latest = ws.latest(&id)?;
        let draft = match crate::ops::log::draft_info(ws, &id, latest.as_ref().map(|(_, d)| d.tree), at) {
            // A tag folder with no version in it and no draft: nothing to report.
            Err(Error::Workspace(WorkspaceError::UnknownAgent { .. })) => continue,
            other => other?,
        };
        let channels = routes.remove(id.as_str()).unwrap_or_default();
        out.push(AgentStatus {
            agent: id.to_string(),
            latest: latest.map(|(n, _)| n),
            draft: draft.state,
            tree: draft.tree,
            channels,
            error: draft.error,
        });
    }
    Ok(out)
}
