//! One servable state: everything `serve` answers for one revision and one set of tags, loaded
//! and serialised off the request path, then swapped in whole.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde::Serialize;

use crate::calls::attribution::Known;
use crate::calls::report::Catalog;
use crate::error::{Error, Result, WorkspaceError};
use crate::git::ObjectId;
use crate::names::id::{AgentId, RefSpec};
use crate::ops::log::{DraftInfo, Log, latest_tree};
use crate::platforms::Platform;
use crate::routing::RoutingError;
use crate::routing::resolve::{ChannelView, Resolver, Served};
use crate::workspace::{DraftAt, Version, Workspace};

/// What tells two servable states apart: the followed commit and a digest of the agent tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub commit: ObjectId,
    pub tags: u64,
    /// A digest of the version tags that moved on the fetched remote (left out while they do).
    pub moved: u64,
}

/// One entry of `GET /v1/agents`.
#[derive(Debug, Serialize)]
pub struct AgentSummary {
    pub agent: String,
    /// The latest version at the served revision.
    pub latest: Option<u64>,
    /// The tree the draft's snapshot would have; `None` when there is no valid draft.
    pub draft_tree: Option<String>,
    /// Channels with a target on this agent.
    pub channels: Vec<String>,
}

/// Every configuration one tree serves (rollbacks share trees; so may the draft).
pub struct TreeEntry {
    pub served: Arc<Served>,
    pub versions: Vec<Version>,
}

pub struct Snapshot {
    pub key: Key,
    /// The served commit, as hex: every answer carries it.
    pub revision: String,
    pub loaded_at: String,
    pub build_time: Duration,
    /// Frozen: answers from loaded data, never touches git.
    pub resolver: Resolver,
    pub agents_json: Bytes,
    pub channels_json: Bytes,
    /// `GET /v1/agents` and `/v1/channels` as data, for the console's pages.
    pub summaries: Vec<AgentSummary>,
    pub listing: Arc<Vec<ChannelView>>,
    /// `log --json` of each agent, with the revision.
    pub logs: HashMap<AgentId, Bytes>,
    /// The same logs as data, for the console's pages.
    pub histories: HashMap<AgentId, Arc<Log>>,
    pub trees: HashMap<ObjectId, TreeEntry>,
    /// A resolution counter per channel and target, shared with the metrics registry so counts
    /// survive reloads.
    pub counters: HashMap<String, Vec<Arc<AtomicU64>>>,
    /// Versions left out because they do not load (tag, why): only what needs them fails.
    pub broken: Vec<(String, String)>,
    /// Each configuration rendered for a platform, made on first use and kept with the snapshot:
    /// a call-start hook renders once per snapshot, not once per call.
    renders: std::sync::RwLock<HashMap<(ObjectId, Platform), Arc<serde_json::Value>>>,
    /// Each hook's whole answer per channel and target: it depends on nothing else (the
    /// attribution is the target's, the revision the snapshot's), so it is made once.
    answers: std::sync::RwLock<HashMap<String, Bytes>>,
}

/// `value` serialised as a JSON object with `"revision"` added as its last member.
pub fn with_revision(value: &impl Serialize, revision: &str) -> Result<Vec<u8>> {
    let mut bytes =
        serde_json::to_vec(value).map_err(|e| Error::Internal { what: format!("serialising an answer: {e}") })?;
    if bytes.last() != Some(&b'}') {
        return Err(Error::Internal { what: "serialising an answer: not a JSON object".into() });
    }
    bytes.pop();
    if bytes.len() > 1 {
        bytes.push(b',');
    }
    bytes.extend_from_slice(b"\"revision\":\"");
    bytes.extend_from_slice(revision.as_bytes());
    bytes.extend_from_slice(b"\"}");
    Ok(bytes)
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Internal { what: format!("serialising an answer: {e}") })
}

impl Snapshot {
    /// Loads everything the revision `key.commit` and the current tags can serve. Fails on what
    /// makes the revision unservable: an invalid channels.toml, a channel naming an agent or a
    /// version that does not exist, a version that does not load. A pinned tree its tag no
    /// longer holds is not a failure of the whole revision: that one channel answers 409.
    pub fn build(
        ws: Workspace,
        key: Key,
        moved: &[String],
        counter: &dyn Fn(&str) -> Arc<AtomicU64>,
        loaded_at: String,
    ) -> Result<Snapshot> {
        let started = Instant::now();
        let revision = key.commit.to_string();
        let at = DraftAt::Rev(revision.clone());
        let resolver = Resolver::new(ws.clone(), at.clone())?;
        for tag in moved {
            if let Some((agent, n)) = ws.names().parse(tag) {
                let why = "the remote's tag moved (a force-push or a forged tag): the remote no longer names the version this clone holds";
                resolver.leave_out(&agent, n, why.into());
            }
        }
        let mut agents = ws.agent_ids(&at)?;
        agents.extend(ws.published_agent_ids()?);
        agents.sort();
        agents.dedup();
        resolver.load_everything(&agents)?;
        let (counters, mut routes) = channel_counters(&resolver, counter)?;
        let histories = logs(&ws, &resolver, &agents)?;
        let logs = histories
            .iter()
            .map(|(agent, log)| Ok((agent.clone(), Bytes::from(with_revision(log.as_ref(), &revision)?))))
            .collect::<Result<HashMap<_, _>>>()?;
        let mut summaries = Vec::with_capacity(agents.len());
        for agent in &agents {
            summaries.push(AgentSummary {
                agent: agent.to_string(),
                latest: resolver.cached(agent, RefSpec::Latest).and_then(|s| match s.version {
                    Version::Number(n) => Some(n),
                    Version::Draft => None,
                }),
                draft_tree: resolver.cached(agent, RefSpec::Draft).map(|s| s.tree.to_string()),
                channels: routes.remove(agent.as_str()).unwrap_or_default(),
            });
        }
        let listing = resolver.listing();
        let channels_json = to_json(&listing)?.into();
        let names = ws.names().clone();
        let broken = resolver.broken().into_iter().map(|(agent, n, why)| (names.short(&agent, n), why)).collect();
        resolver.freeze();
        let mut trees: HashMap<ObjectId, TreeEntry> = HashMap::new();
        for served in resolver.loaded() {
            // Serialised now, off the request path.
            served.config_json();
            let entry =
                trees.entry(served.tree).or_insert_with(|| TreeEntry { served: served.clone(), versions: Vec::new() });
            entry.versions.push(served.version);
        }
        Ok(Snapshot {
            key,
            revision,
            loaded_at,
            build_time: started.elapsed(),
            agents_json: to_json(&summaries)?.into(),
            summaries,
            listing: Arc::new(listing),
            channels_json,
            logs,
            histories,
            trees,
            counters,
            broken,
            resolver,
            renders: std::sync::RwLock::default(),
            answers: std::sync::RwLock::default(),
        })
    }

    /// The answer cached under `key`, made by `make` the first time.
    pub fn answer(&self, key: &str, make: impl FnOnce() -> Bytes) -> Bytes {
        if let Some(found) = self.answers.read().expect("not poisoned").get(key) {
            return found.clone();
        }
        let made = make();
        self.answers.write().expect("not poisoned").entry(key.to_owned()).or_insert(made).clone()
    }

    /// `served` rendered for `platform`, from the cache.
    pub fn rendered(&self, platform: Platform, served: &Served) -> Arc<serde_json::Value> {
        let key = (served.tree, platform);
        if let Some(found) = self.renders.read().expect("not poisoned").get(&key) {
            return found.clone();
        }
        let made = Arc::new(crate::platforms::render(platform, &served.config).object);
        self.renders.write().expect("not poisoned").entry(key).or_insert(made).clone()
    }

    /// The configuration `tree` holds for `agent`, when some version (or the draft) served here
    /// holds it.
    pub fn config_value(&self, agent: &AgentId, tree: &str) -> Option<serde_json::Value> {
        let id = ObjectId::from_hex(tree.as_bytes()).ok()?;
        let entry = self.trees.get(&id).filter(|e| e.served.agent == *agent)?;
        Some(entry.served.config.clone())
    }

    /// `GET /v1/configs/{tree}`: `{"tree", "agent", "versions", "config"}` and the revision.
    pub fn config_by_tree(&self, tree: &ObjectId) -> Option<Result<Vec<u8>>> {
        #[derive(Serialize)]
        struct ByTree<'a> {
            tree: String,
            agent: &'a str,
            versions: &'a [Version],
            config: &'a serde_json::value::RawValue,
        }
        let entry = self.trees.get(tree)?;
        Some(with_revision(
            &ByTree {
                tree: tree.to_string(),
                agent: entry.served.agent.as_str(),
                versions: &entry.versions,
                config: entry.served.config_json(),
            },
            &self.revision,
        ))
    }
}

/// Each channel target's resolution counter (registered once per label set), and the channels
/// routing to each agent. A target whose pinned tree its tag no longer holds counts as "refused";
/// any other failure fails the snapshot.
#[allow(clippy::type_complexity)]
fn channel_counters<'r>(
    resolver: &'r Resolver,
    counter: &dyn Fn(&str) -> Arc<AtomicU64>,
) -> Result<(HashMap<String, Vec<Arc<AtomicU64>>>, HashMap<&'r str, Vec<String>>)> {
    let mut counters = HashMap::with_capacity(resolver.channels().channels.len());
    let mut routes: HashMap<&str, Vec<String>> = HashMap::new();
    for channel in &resolver.channels().channels {
        let mut per_target = Vec::new();
        for (i, target) in channel.targets().into_iter().enumerate() {
            let version = match resolver.serve(channel, target, None) {
                Ok(s) => s.version.to_string().trim_start_matches('v').to_owned(),
                Err(Error::Routing(
                    RoutingError::TreeMismatch { .. }
                    | RoutingError::VersionUnservable { .. }
                    | RoutingError::NotPublished { .. },
                )) => "refused".to_owned(),
                Err(e) => return Err(e),
            };
            let variant = channel.variant_name(i).unwrap_or_default();
            per_target.push(counter(&format!(
                "channel=\"{}\",agent=\"{}\",version=\"{version}\",variant=\"{}\"",
                escape_label(&channel.name),
                target.agent,
                escape_label(variant)
            )));
            let list = routes.entry(target.agent.as_str()).or_default();
            if list.last() != Some(&channel.name) {
                list.push(channel.name.clone());
            }
        }
        counters.insert(channel.name.clone(), per_target);
    }
    Ok((counters, routes))
}

/// `log --json` of each agent at the revision, its draft state from the draft already loaded.
fn logs(ws: &Workspace, resolver: &Resolver, agents: &[AgentId]) -> Result<HashMap<AgentId, Arc<Log>>> {
    let at = resolver.at();
    Ok(ws
        .in_parallel(agents, |ws, agent| {
            let versions = crate::ops::log::version_history(ws, agent)?;
            let latest = latest_tree(&versions);
            let draft = match resolver.draft(agent) {
                Some(Ok(served)) => DraftInfo::from_load(latest, Ok(served.tree)),
                Some(Err(e)) => DraftInfo::from_load(latest, Err(&e)),
                None => None,
            };
            let draft = match draft {
                Some(d) => d,
                None => crate::ops::log::draft_info(ws, agent, latest, at)?,
            };
            let log = Log { agent: agent.to_string(), draft, versions };
            Ok((agent.clone(), Arc::new(log)))
        })?
        .into_iter()
        .collect())
}

/// Echoed attribution is checked against what this snapshot serves.
impl Known for Snapshot {
    fn tree(&self, agent: &AgentId, version: Option<u64>, tree: Option<&str>) -> std::result::Result<String, String> {
        if !self.logs.contains_key(agent) {
            return Err(format!("there is no agent {agent} at revision {}", self.revision));
        }
        match version {
            Some(n) => match self.resolver.cached(agent, RefSpec::Version(n)) {
                Some(s) => Ok(s.tree_hex().to_owned()),
                None => Err(format!("{agent} has no version {n} that serves")),
            },
            None => {
                let claimed = tree.ok_or_else(|| format!("a draft of {agent} is named without its tree"))?;
                let known = ObjectId::from_hex(claimed.as_bytes()).ok().and_then(|id| self.trees.get(&id));
                match known {
                    Some(entry) if entry.served.agent == *agent => Ok(claimed.to_ascii_lowercase()),
                    _ => Err(format!("tree {claimed} is no configuration of {agent} served at {}", self.revision)),
                }
            }
        }
    }

    fn variants(&self, channel: &str) -> Option<Vec<(String, String)>> {
        crate::calls::report::split_variants(self.resolver.channels(), channel)
    }
}

/// Statistics over HTTP read versions, latest and weights from what is served.
impl Catalog for Snapshot {
    fn versions(&self, agent: &AgentId) -> Result<Vec<u64>> {
        if !self.logs.contains_key(agent) {
            return Err(WorkspaceError::UnknownAgent {
                agent: agent.to_string(),
                path: agent.draft_path(),
                suggestion: None,
            }
            .into());
        }
        let mut numbers: Vec<u64> = self
            .trees
            .values()
            .filter(|e| e.served.agent == *agent)
            .flat_map(|e| e.versions.iter())
            .filter_map(|v| match v {
                Version::Number(n) => Some(*n),
                Version::Draft => None,
            })
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    }

    fn latest(&self, agent: &AgentId) -> Result<Option<u64>> {
        Ok(self.resolver.cached(agent, RefSpec::Latest).and_then(|s| match s.version {
            Version::Number(n) => Some(n),
            Version::Draft => None,
        }))
    }

    fn weights(&self, channel: &str) -> Result<Vec<(String, u64)>> {
        crate::calls::report::split_weights(self.resolver.channels(), channel)
    }
}

/// A Prometheus label value: backslash, double quote and newline escaped.
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
