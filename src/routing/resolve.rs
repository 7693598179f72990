//! Channel + call → the exact configuration that serves it.
//!
//! A [`Resolver`] reads channels.toml once. The first call that needs a version (or the draft)
//! loads it from git and keeps it; every later call is pure computation over that memory: a map
//! lookup, for splits one SHA-256, and an `Arc` clone. It is `Send + Sync`, so one resolver can
//! serve a whole runtime. [`Resolver::load_everything`] then [`Resolver::freeze`] make it pure
//! over loaded data (what `agentver serve` holds in each snapshot): no git access after that.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::format::channels::{Channel, Channels, Pin, Route, Sticky, Target};
use crate::git::ObjectId;
use crate::names::id::{AgentId, RefSpec};
use crate::names::tagname::TagNames;
use crate::routing::RoutingError;
use crate::routing::bucket;
use crate::workspace::WorkspaceError;
use crate::workspace::{DraftAt, Version, Workspace};

/// One configuration that can serve calls.
#[derive(Debug)]
pub struct Served {
    pub agent: AgentId,
    pub version: Version,
    /// `agent/sales/v3`; `None` for the draft.
    pub tag: Option<String>,
    /// The snapshot tree (for the draft, the tree its snapshot would have).
    pub tree: ObjectId,
    /// `tree` and `version` as text, made once at load: a call's answer formats nothing.
    tree_hex: String,
    version_text: String,
    pub config: Json,
    /// `config` serialised once, on first use, so an answer copies bytes instead of walking the
    /// value (a server's snapshot fills it at build; a one-shot command never pays for it).
    config_json: std::sync::OnceLock<Box<RawValue>>,
}

impl Served {
    fn new(agent: AgentId, version: Version, tag: Option<String>, tree: ObjectId, config: Json) -> Served {
        Served {
            tree_hex: tree.to_string(),
            version_text: version.to_string().trim_start_matches('v').to_owned(),
            agent,
            version,
            tag,
            tree,
            config,
            config_json: std::sync::OnceLock::new(),
        }
    }

    /// The tree id as hex.
    pub fn tree_hex(&self) -> &str {
        &self.tree_hex
    }

    /// `config` as JSON bytes, serialised the first time they are asked for.
    pub fn config_json(&self) -> &RawValue {
        self.config_json
            .get_or_init(|| serde_json::value::to_raw_value(&self.config).expect("a JSON value always serialises"))
    }

    /// The `show --json` object of this configuration.
    pub fn shown(&self) -> crate::workspace::Shown<'_, RawValue> {
        crate::workspace::Shown {
            agent: self.agent.as_str(),
            version: self.version,
            tree: self.tree_hex.clone(),
            config: self.config_json(),
        }
    }
}

/// What the caller knows about one call.
#[derive(Clone, Copy, Debug, Default)]
pub struct Call<'a> {
    pub caller: Option<&'a str>,
    pub call_id: Option<&'a str>,
    /// Serve this version of the channel's agent instead of the pin (a per-call override).
    pub agent_version: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BucketKey {
    Caller,
    Call,
    Random,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub key: BucketKey,
    pub value: u64,
}

/// The answer for one call: the resolve JSON of DESIGN.md.
#[derive(Clone, Debug)]
pub struct Resolution<'r> {
    pub channel: &'r str,
    pub variant: Option<&'r str>,
    pub served: Arc<Served>,
    pub bucket: Option<Bucket>,
    /// Which of the channel's targets served: the variant's position, 0 without a split.
    pub target: usize,
    /// The call chose the version (`agent_version`): it belongs to no split arm.
    pub overridden: bool,
}

/// What a runtime passes on as call metadata (or dynamic variables) so the platform's call
/// record names what served it; all strings, as the platforms' metadata fields require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Attribution<'a> {
    pub agentver_agent: &'a str,
    pub agentver_version: &'a str,
    pub agentver_tree: &'a str,
    pub agentver_channel: &'a str,
    pub agentver_variant: &'a str,
    pub agentver_revision: &'a str,
}

/// The resolve JSON of DESIGN.md; `serve` adds the revision and the attribution.
/// `C` is the config's form: a value for the CLI's pretty output, raw bytes for a server.
#[derive(Serialize)]
pub struct Answer<'a, C: Serialize + ?Sized> {
    pub channel: &'a str,
    pub variant: Option<&'a str>,
    pub agent: &'a str,
    pub version: Version,
    pub tag: Option<&'a str>,
    pub tree: &'a str,
    pub bucket: Option<Bucket>,
    pub config: &'a C,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution<'a>>,
}

impl<'r> Resolution<'r> {
    /// The answer as `resolve` prints it; with a revision (a server's), also the attribution.
    /// Borrows everything: the config is the bytes serialised at load.
    pub fn answer<'a>(&'a self, revision: Option<&'a str>) -> Answer<'a, RawValue> {
        self.answer_with(self.served.config_json(), revision)
    }

    fn answer_with<'a, C: Serialize + ?Sized>(&'a self, config: &'a C, revision: Option<&'a str>) -> Answer<'a, C> {
        let s = &*self.served;
        Answer {
            channel: self.channel,
            variant: self.variant,
            agent: s.agent.as_str(),
            version: s.version,
            tag: s.tag.as_deref(),
            tree: &s.tree_hex,
            bucket: self.bucket,
            config,
            revision,
            attribution: revision.map(|revision| Attribution {
                agentver_agent: s.agent.as_str(),
                agentver_version: &s.version_text,
                agentver_tree: &s.tree_hex,
                agentver_channel: self.channel,
                agentver_variant: self.variant.unwrap_or_default(),
                agentver_revision: revision,
            }),
        }
    }
}

/// The CLI's form: the config as a value, so pretty printing indents it too.
impl Serialize for Resolution<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.answer_with(&self.served.config, None).serialize(s)
    }
}

/// The configurations of one agent loaded so far.
#[derive(Default)]
struct AgentCache {
    versions: BTreeMap<u64, Arc<Served>>,
    latest: Option<Arc<Served>>,
    draft: Option<Arc<Served>>,
    /// Why the draft cannot serve, once that was found out (kept for a frozen resolver).
    draft_error: Option<Arc<Error>>,
    /// Latest's number when that version is left out ([`Resolver::broken`]): `latest` then
    /// refuses as that version does, instead of reading as "no versions".
    latest_left_out: Option<u64>,
}

impl AgentCache {
    fn get(&self, want: RefSpec) -> Option<&Arc<Served>> {
        match want {
            RefSpec::Version(n) => self.versions.get(&n),
            RefSpec::Latest => self.latest.as_ref(),
            RefSpec::Draft => self.draft.as_ref(),
        }
    }
}

pub struct Resolver {
    channels: Channels,
    index: HashMap<String, usize>,
    /// Every numbered version some channel pins with a tree, and the first channel that does:
    /// the tree is checked whenever that version serves, also when a call asks for it by number.
    pins: HashMap<(AgentId, u64), (crate::names::treeid::TreeId, String)>,
    /// Versions that failed to load, with why (a server's snapshot leaves them out).
    broken: RwLock<HashMap<(AgentId, u64), String>>,
    /// Loaded configurations by agent: looked up with borrowed keys, so a warm call allocates
    /// nothing but the `Arc` clone it returns.
    served: RwLock<HashMap<AgentId, AgentCache>>,
    /// Where missing configurations are loaded from; `None` once frozen.
    workspace: Mutex<Option<Workspace>>,
    names: TagNames,
    at: DraftAt,
}

impl Resolver {
    /// Reads channels.toml from the work tree or the revision in `at`; drafts come from there too.
    /// Published versions always come from tags.
    pub fn new(workspace: Workspace, at: DraftAt) -> Result<Self> {
        let channels = workspace.load_channels(&at)?;
        Ok(Self::with_channels(workspace, at, channels))
    }

    /// A resolver for one channel only: reads just that channel's section of channels.toml when
    /// the file's layout allows (what a one-call process needs). Other channels are unknown to it.
    pub fn for_channel(workspace: Workspace, at: DraftAt, name: &str) -> Result<Self> {
        let channels = Channels::new(workspace.load_channel(&at, name)?.into_iter().collect());
        Ok(Self::with_channels(workspace, at, channels))
    }

    fn with_channels(workspace: Workspace, at: DraftAt, channels: Channels) -> Self {
        let index = channels.channels.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        let mut pins = HashMap::new();
        for channel in &channels.channels {
            for target in channel.targets() {
                if let (RefSpec::Version(n), Some(tree)) = (target.pin, target.tree) {
                    pins.entry((target.agent.clone(), n)).or_insert((tree, channel.name.clone()));
                }
            }
        }
        let names = workspace.names().clone();
        Resolver {
            channels,
            index,
            pins,
            broken: RwLock::default(),
            served: RwLock::default(),
            workspace: Mutex::new(Some(workspace)),
            names,
            at,
        }
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Where drafts and channels.toml were read from.
    pub fn at(&self) -> &DraftAt {
        &self.at
    }

    pub fn channel(&self, name: &str) -> Result<&Channel> {
        self.index
            .get(name)
            .map(|i| &self.channels.channels[*i])
            .ok_or_else(|| FormatError::UnknownChannel { channel: name.to_owned() }.into())
    }

    /// Loads every configuration any channel can serve now, so no call pays for the first load.
    pub fn preload(&self) -> Result<()> {
        for channel in &self.channels.channels {
            for target in channel.targets() {
                self.serve(channel, target, None)?;
            }
        }
        Ok(())
    }

    /// Loads every version of each agent, its latest and its draft: what a per-call version
    /// override or a replay by tree may ask for. A version or draft that does not load is
    /// remembered as unservable, with why ([`Resolver::broken`]), so one damaged tag fails only
    /// what asks for it. Agents are shared out over the machine's cores, each thread with its own
    /// repository handle.
    pub fn load_everything(&self, agents: &[AgentId]) -> Result<()> {
        let ws = self.with_workspace(|ws| Ok(ws.clone()))?;
        ws.in_parallel(agents, |ws, agent| self.load_agent(ws, agent)).map(drop)
    }

    /// Leaves version `n` of `agent` out before [`Resolver::load_everything`]: it is not loaded,
    /// and what asks for it (by number, a pin or `latest`) is refused with `why`.
    pub fn leave_out(&self, agent: &AgentId, n: u64, why: String) {
        self.broken.write().expect("not poisoned").insert((agent.clone(), n), why);
    }

    fn load_agent(&self, ws: &Workspace, agent: &AgentId) -> Result<()> {
        for version in ws.versions(agent)? {
            if self.broken.read().expect("not poisoned").contains_key(&(agent.clone(), version.number)) {
                continue;
            }
            if let Err(e) = self.load_with(ws, agent, RefSpec::Version(version.number)) {
                let mut broken = self.broken.write().expect("not poisoned");
                broken.insert((agent.clone(), version.number), e.to_string());
            }
        }
        // Latest at the revision is one of the versions just loaded.
        if let Some(n) = ws.latest_number(agent, &self.at)? {
            let latest = self.cached(agent, RefSpec::Version(n));
            let mut cache = self.served.write().expect("not poisoned");
            let entry = cache.entry(agent.clone()).or_default();
            entry.latest_left_out = latest.is_none().then_some(n);
            entry.latest = latest;
        }
        if let Err(e) = self.load_with(ws, agent, RefSpec::Draft) {
            let mut cache = self.served.write().expect("not poisoned");
            cache.entry(agent.clone()).or_default().draft_error = Some(Arc::new(e));
        }
        Ok(())
    }

    /// Drops the workspace: from now on the resolver answers from what it loaded, and a
    /// configuration it did not load is not found.
    pub fn freeze(&self) {
        self.workspace.lock().expect("not poisoned").take();
    }

    /// Every loaded configuration, agent by agent: versions oldest first, then the draft.
    pub fn loaded(&self) -> Vec<Arc<Served>> {
        let cache = self.served.read().expect("not poisoned");
        let mut agents: Vec<_> = cache.iter().collect();
        agents.sort_by(|a, b| a.0.cmp(b.0));
        agents.into_iter().flat_map(|(_, c)| c.versions.values().chain(c.draft.as_ref()).cloned()).collect()
    }

    /// How loading the agent's draft went, once [`Resolver::load_everything`] tried.
    pub fn draft(&self, agent: &AgentId) -> Option<std::result::Result<Arc<Served>, Arc<Error>>> {
        let cache = self.served.read().expect("not poisoned");
        let entry = cache.get(agent)?;
        match (&entry.draft, &entry.draft_error) {
            (Some(s), _) => Some(Ok(s.clone())),
            (None, Some(e)) => Some(Err(e.clone())),
            (None, None) => None,
        }
    }

    /// The versions that failed to load, as (agent, number, why), sorted.
    pub fn broken(&self) -> Vec<(AgentId, u64, String)> {
        let broken = self.broken.read().expect("not poisoned");
        let mut list: Vec<_> = broken.iter().map(|((a, n), why)| (a.clone(), *n, why.clone())).collect();
        list.sort();
        list
    }

    /// Why version `n` of `agent` may not serve: it failed to load, or a channel pins a tree
    /// its tag does not hold (checked however the version was asked for).
    fn refusal(&self, agent: &AgentId, n: u64, actual: Option<ObjectId>) -> Option<Error> {
        if let Some(why) = self.broken.read().expect("not poisoned").get(&(agent.clone(), n)) {
            return Some(
                RoutingError::VersionUnservable { tag: self.names.short(agent, n), reason: why.clone() }.into(),
            );
        }
        let (pinned, channel) = self.pins.get(&(agent.clone(), n))?;
        let actual = actual?;
        (actual != *pinned).then(|| {
            RoutingError::TreeMismatch {
                channel: channel.clone(),
                tag: self.names.short(agent, n),
                actual: actual.to_string(),
                pinned: pinned.to_string(),
            }
            .into()
        })
    }

    /// The loaded configuration `want` names, without loading anything.
    pub fn cached(&self, agent: &AgentId, want: RefSpec) -> Option<Arc<Served>> {
        self.served.read().expect("not poisoned").get(agent).and_then(|c| c.get(want)).cloned()
    }

    /// The configuration `want` names: loaded now if it was not, unless the resolver is frozen.
    /// A version a channel pins is refused when its tag no longer holds the pinned tree.
    pub fn configuration(&self, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>> {
        if let RefSpec::Version(n) = want
            && let Some(refused) = self.refusal(agent, n, None)
        {
            return Err(refused);
        }
        let served = self.load(agent, want)?;
        if let Version::Number(n) = served.version
            && let Some(refused) = self.refusal(agent, n, Some(served.tree))
        {
            return Err(refused);
        }
        Ok(served)
    }

    fn with_workspace<T>(&self, f: impl FnOnce(&Workspace) -> Result<T>) -> Result<T> {
        match self.workspace.lock().expect("not poisoned").as_ref() {
            Some(ws) => f(ws),
            None => Err(Error::Internal { what: "the resolver is frozen: it loads nothing more".into() }),
        }
    }

    /// Why a frozen resolver has no configuration for `want`.
    fn not_loaded(&self, agent: &AgentId, want: RefSpec) -> Error {
        let cache = self.served.read().expect("not poisoned");
        let entry = cache.get(agent);
        let latest = entry.and_then(|c| c.versions.keys().next_back().copied());
        match (want, entry) {
            (_, None) => {
                WorkspaceError::UnknownAgent { agent: agent.to_string(), path: agent.draft_path(), suggestion: None }
                    .into()
            }
            (RefSpec::Version(n), Some(_)) => {
                WorkspaceError::VersionNotFound { agent: agent.to_string(), version: n, latest }.into()
            }
            (RefSpec::Latest, Some(c)) => match c.latest_left_out.and_then(|n| self.refusal(agent, n, None)) {
                Some(refused) => refused,
                None => WorkspaceError::NoVersions { agent: agent.to_string(), suggestion: None }.into(),
            },
            (RefSpec::Draft, Some(c)) => RoutingError::DraftUnavailable {
                agent: agent.to_string(),
                reason: c.draft_error.as_ref().map_or_else(|| "there is no draft file".into(), |e| e.to_string()),
            }
            .into(),
        }
    }

    /// The configuration `want` names, from the cache or loaded once from git.
    fn load(&self, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>> {
        if let Some(s) = self.cached(agent, want) {
            return Ok(s);
        }
        let ws = self.workspace.lock().expect("not poisoned");
        match ws.as_ref() {
            Some(ws) => self.load_with(ws, agent, want),
            None => Err(self.not_loaded(agent, want)),
        }
    }

    fn load_with(&self, ws: &Workspace, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>> {
        if let Some(s) = self.cached(agent, want) {
            return Ok(s);
        }
        let located = ws.locate(agent, want, &self.at)?;
        // A version left out stays out, however it is asked for (`latest` included).
        if let Version::Number(n) = located.version
            && let Some(refused) = self.broken.read().expect("not poisoned").get(&(agent.clone(), n))
        {
            let tag = self.names.short(agent, n);
            return Err(RoutingError::VersionUnservable { tag, reason: refused.clone() }.into());
        }
        let served =
            Arc::new(Served::new(located.agent, located.version, located.tag, located.tree, located.bundle.config));
        let mut cache = self.served.write().expect("not poisoned");
        let entry = cache.entry(agent.clone()).or_default();
        match want {
            RefSpec::Version(n) => {
                entry.versions.insert(n, served.clone());
            }
            RefSpec::Latest => {
                if let Version::Number(n) = served.version {
                    entry.versions.entry(n).or_insert_with(|| served.clone());
                }
                entry.latest = Some(served.clone());
            }
            RefSpec::Draft => entry.draft = Some(served.clone()),
        }
        Ok(served)
    }

    /// The configuration a target serves, checking a pinned tree. The tree is checked before the
    /// snapshot is loaded, so a tag moved onto anything at all is refused with the same message.
    pub fn serve(&self, channel: &Channel, target: &Target, override_version: Option<u64>) -> Result<Arc<Served>> {
        let want = match (override_version, target.pin) {
            (Some(n), _) => RefSpec::Version(n),
            (None, pin) => pin,
        };
        // What this target pins, or (for a version asked for by number) what any channel pins.
        let pinned = match (override_version, target.tree) {
            (None, Some(tree)) => Some((tree, channel.name.as_str())),
            (None, None) => None,
            (Some(n), _) => self.pins.get(&(target.agent.clone(), n)).map(|(t, c)| (*t, c.as_str())),
        };
        // The warm path: one read-locked lookup, borrowed keys, no allocation.
        let cached = self.cached(&target.agent, want);
        if let RefSpec::Version(n) = want
            && let Some(why) = self.broken.read().expect("not poisoned").get(&(target.agent.clone(), n))
        {
            let tag = self.names.short(&target.agent, n);
            return Err(RoutingError::VersionUnservable { tag, reason: why.clone() }.into());
        }
        let actual_tree = match (&cached, pinned, want) {
            (Some(s), _, _) => Some(s.tree),
            (None, Some(_), RefSpec::Version(n)) => match self.with_workspace(|ws| ws.version(&target.agent, n)) {
                Ok(tag) => Some(tag.tree),
                Err(_) => None,
            },
            _ => None,
        };
        if let (Some((pinned, pinned_by)), Some(actual), RefSpec::Version(n)) = (pinned, actual_tree, want)
            && actual != pinned
        {
            return Err(RoutingError::TreeMismatch {
                channel: pinned_by.to_owned(),
                tag: self.names.short(&target.agent, n),
                actual: actual.to_string(),
                pinned: pinned.to_string(),
            }
            .into());
        }
        match cached {
            Some(s) => Ok(s),
            None => self.load(&target.agent, want).map_err(|e| match (e, override_version) {
                // Latest of an agent with none yet: that channel waits for the first publish.
                (Error::Workspace(WorkspaceError::NoVersions { .. }), None) if want == RefSpec::Latest => {
                    RoutingError::NotPublished { channel: channel.name.clone(), agent: target.agent.to_string() }.into()
                }
                // What the channel names does not exist: the fault is in channels.toml, at its line.
                (
                    e @ Error::Workspace(
                        WorkspaceError::VersionNotFound { .. }
                        | WorkspaceError::NoVersions { .. }
                        | WorkspaceError::UnknownAgent { .. },
                    ),
                    None,
                ) => {
                    let file = match &self.at {
                        DraftAt::Rev(rev) => format!("{rev}:{}", crate::format::channels::FILE),
                        DraftAt::WorkTree => crate::format::channels::FILE.to_owned(),
                    };
                    RoutingError::InChannel {
                        file,
                        line: target.line,
                        channel: channel.name.clone(),
                        source: Box::new(e),
                    }
                    .into()
                }
                (e, _) => e,
            }),
        }
    }

    /// Which configuration serves this call on `channel`.
    pub fn resolve<'r>(&'r self, channel: &str, call: &Call<'_>) -> Result<Resolution<'r>> {
        let channel = self.channel(channel)?;
        let (variant, index, target, bucket) = match &channel.route {
            Route::Single(target) => (None, 0, target, None),
            Route::Split { sticky, salt, variants } => {
                // The sticky key when the call has it, else the other one, else a random bucket.
                let (key, value) = match (sticky, call.caller, call.call_id) {
                    (Sticky::Caller, Some(caller), _) => (BucketKey::Caller, Some(caller)),
                    (Sticky::Call, _, Some(id)) => (BucketKey::Call, Some(id)),
                    (_, Some(caller), None) => (BucketKey::Caller, Some(caller)),
                    (_, None, Some(id)) => (BucketKey::Call, Some(id)),
                    (_, None, None) => (BucketKey::Random, None),
                };
                let total: u64 = variants.iter().map(|v| v.weight).sum();
                let b = match value {
                    Some(v) => bucket::bucket(salt, v, total),
                    None => std::collections::hash_map::RandomState::new().build_hasher().finish() % total,
                };
                let i =
                    bucket::pick(variants.iter().map(|v| v.weight), b).expect("weights sum to more than the bucket");
                (Some(variants[i].name.as_str()), i, &variants[i].target, Some(Bucket { key, value: b }))
            }
        };
        let served = self.serve(channel, target, call.agent_version)?;
        // A version the call chose itself is served outside the split's assignment: no variant.
        let (variant, bucket) = if call.agent_version.is_some() { (None, None) } else { (variant, bucket) };
        let overridden = call.agent_version.is_some();
        Ok(Resolution { channel: &channel.name, variant, served, bucket, target: index, overridden })
    }
}

/// One target of a channel as it resolves now (`channels`, and each side of `plan`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetView {
    pub variant: Option<String>,
    pub agent: String,
    /// As written: a number, "latest" or "draft".
    pub pin: Pin,
    pub weight: Option<u64>,
    /// weight / sum of weights, for splits.
    pub share: Option<f64>,
    /// What it resolves to now; `None` with `error` set when it cannot be served.
    pub version: Option<Version>,
    pub tag: Option<String>,
    pub tree: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelView {
    pub channel: String,
    pub sticky: Option<Sticky>,
    pub salt: Option<String>,
    pub targets: Vec<TargetView>,
}

impl Resolver {
    /// One channel as it resolves now, with the configuration each target serves (`None` where
    /// it cannot be served; the view's `error` says why).
    pub fn view(&self, channel: &Channel) -> (ChannelView, Vec<Option<Arc<Served>>>) {
        let mut served = Vec::new();
        let mut target_view = |target: &Target, variant: Option<&str>, weight: Option<u64>, total: u64| {
            let pin = target.pin;
            let mut v = TargetView {
                variant: variant.map(str::to_owned),
                agent: target.agent.to_string(),
                pin,
                weight,
                share: weight.map(|w| w as f64 / total as f64),
                version: None,
                tag: None,
                tree: None,
                error: None,
            };
            match self.serve(channel, target, None) {
                Ok(s) => {
                    v.version = Some(s.version);
                    v.tag = s.tag.clone();
                    v.tree = Some(s.tree.to_string());
                    served.push(Some(s));
                }
                Err(e) => {
                    v.error = Some(e.to_string());
                    served.push(None);
                }
            }
            v
        };
        let view = match &channel.route {
            Route::Single(t) => ChannelView {
                channel: channel.name.clone(),
                sticky: None,
                salt: None,
                targets: vec![target_view(t, None, None, 1)],
            },
            Route::Split { sticky, salt, variants } => {
                let total = variants.iter().map(|v| v.weight).sum();
                ChannelView {
                    channel: channel.name.clone(),
                    sticky: Some(*sticky),
                    salt: Some(salt.clone()),
                    targets: variants
                        .iter()
                        .map(|v| target_view(&v.target, Some(&v.name), Some(v.weight), total))
                        .collect(),
                }
            }
        };
        (view, served)
    }

    /// Every channel and what each of its targets resolves to now.
    pub fn listing(&self) -> Vec<ChannelView> {
        self.channels.channels.iter().map(|c| self.view(c).0).collect()
    }
}
