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

/// What of the work tree is only here: files changed since the last commit, and versions the
/// remote has not shown (pushed or fetched) — the console's reminder that a change is local
/// until it is committed and pushed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LocalState {
    /// Configuration files (agents/, tools/, workflows/, channels.toml, agentver.toml) whose
    /// content differs from HEAD's, or that one of the two lacks.
    pub changed: Vec<String>,
    /// The remote compared with (`origin`), when this clone has ever fetched or pushed its tags.
    pub remote: Option<String>,
    /// Version tags that remote has not shown, as `agent/sales/v3`.
    pub unpushed: Vec<String>,
}

/// [`LocalState`] of the work tree, against `remote`.
pub fn local_state(ws: &Workspace, remote: &str) -> Result<LocalState> {
    let work = ws.drafts(&DraftAt::WorkTree)?;
    let head = match crate::git::head_commit(ws.repo())? {
        Some(_) => Some(ws.drafts(&DraftAt::Rev("HEAD".into()))?),
        None => None,
    };
    let mut changed = Vec::new();
    let mut compare = |rel: String| -> Result<()> {
        let theirs = match &head {
            Some(h) => h.read_limited(&rel, crate::format::channels::MAX_FILE_BYTES)?,
            None => None,
        };
        if work.read_limited(&rel, crate::format::channels::MAX_FILE_BYTES)? != theirs {
            changed.push(rel);
        }
        Ok(())
    };
    for dir in ["agents", "tools", "workflows"] {
        let mut names = work.list(dir)?;
        if let Some(h) = &head {
            names.extend(h.list(dir)?);
        }
        names.sort();
        names.dedup();
        for name in names {
            compare(format!("{dir}/{name}"))?;
        }
    }
    compare(crate::format::channels::FILE.to_owned())?;
    compare("agentver.toml".to_owned())?;
    let shown = crate::git::remembered::remembered(ws.repo(), remote)?;
    let (remote, unpushed) = if shown.is_empty() {
        (None, Vec::new())
    } else {
        let names = ws.names();
        let local = crate::git::list_refs(ws.repo(), &names.all_ref_prefix())?;
        let unpushed = local
            .into_iter()
            .filter(|(name, id)| id.is_some() && shown.get(name) != id.as_ref())
            .filter_map(|(name, _)| names.parse(&name).map(|(a, n)| names.short(&a, n)))
            .collect();
        (Some(remote.to_owned()), unpushed)
    };
    Ok(LocalState { changed, remote, unpushed })
}
