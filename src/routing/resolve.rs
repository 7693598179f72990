//! Channel + call → the exact configuration that serves it.
//!
//! A [`Resolver`] reads channels.toml once. The first call that needs a version (or the draft)
//! loads it from git and keeps it; every later call is pure computation over that memory: a map
//! lookup, for splits one SHA-256, and an `Arc` clone. It is `Send + Sync`, so one resolver can
//! serve a whole runtime.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use crate::git::ObjectId;
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::format::channels::{Channel, Channels, Pin, Route, Sticky, Target};
use crate::names::id::{AgentId, RefSpec};
use crate::routing::bucket;
use crate::workspace::{DraftAt, Resolved, Workspace};

/// One configuration that can serve calls.
#[derive(Debug)]
pub struct Served {
    pub agent: AgentId,
    pub version: Resolved,
    /// `agent/sales/v3`; `None` for the draft.
    pub tag: Option<String>,
    /// The snapshot tree (for the draft, the tree its snapshot would have).
    pub tree: ObjectId,
    pub config: Json,
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
}

impl Serialize for Resolution<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            channel: &'a str,
            variant: Option<&'a str>,
            agent: &'a str,
            version: Resolved,
            tag: Option<&'a str>,
            tree: String,
            bucket: Option<Bucket>,
            config: &'a Json,
        }
        Out {
            channel: self.channel,
            variant: self.variant,
            agent: self.served.agent.as_str(),
            version: self.served.version,
            tag: self.served.tag.as_deref(),
            tree: self.served.tree.to_string(),
            bucket: self.bucket,
            config: &self.served.config,
        }
        .serialize(s)
    }
}

/// The configurations of one agent loaded so far.
#[derive(Default)]
struct AgentCache {
    versions: HashMap<u64, Arc<Served>>,
    latest: Option<Arc<Served>>,
    draft: Option<Arc<Served>>,
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
    /// Loaded configurations by agent: looked up with borrowed keys, so a warm call allocates
    /// nothing but the `Arc` clone it returns.
    served: RwLock<HashMap<AgentId, AgentCache>>,
    workspace: Mutex<Workspace>,
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
        let channels = Channels { channels: workspace.load_channel(&at, name)?.into_iter().collect() };
        Ok(Self::with_channels(workspace, at, channels))
    }

    fn with_channels(workspace: Workspace, at: DraftAt, channels: Channels) -> Self {
        let index = channels.channels.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        Resolver { channels, index, served: RwLock::default(), workspace: Mutex::new(workspace), at }
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    pub fn channel(&self, name: &str) -> Result<&Channel> {
        self.index.get(name).map(|i| &self.channels.channels[*i]).ok_or_else(|| Error::Usage {
            message: format!("unknown channel '{name}': it is not in channels.toml"),
            hint: Some("`agentver channels` lists the channels; `agentver pin` adds one".into()),
        })
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

    /// The configuration `want` names, from the cache or loaded once from git.
    fn load(&self, agent: &AgentId, want: RefSpec) -> Result<Arc<Served>> {
        if let Some(s) = self.served.read().expect("not poisoned").get(agent).and_then(|c| c.get(want)) {
            return Ok(s.clone());
        }
        let ws = self.workspace.lock().expect("not poisoned");
        let located = ws.locate(agent, want, &self.at)?;
        let served = Arc::new(Served {
            agent: located.agent,
            version: located.version,
            tag: located.tag,
            tree: located.tree,
            config: located.bundle.config,
        });
        let mut cache = self.served.write().expect("not poisoned");
        let entry = cache.entry(agent.clone()).or_default();
        match want {
            RefSpec::Version(n) => {
                entry.versions.insert(n, served.clone());
            }
            RefSpec::Latest => {
                if let Resolved::Version(n) = served.version {
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
        let pinned = target.tree.filter(|_| override_version.is_none());
        // The warm path: one read-locked lookup, borrowed keys, no allocation.
        let cached = self.served.read().expect("not poisoned").get(&target.agent).and_then(|c| c.get(want)).cloned();
        let actual_tree = match (&cached, pinned, want) {
            (Some(s), _, _) => Some(s.tree),
            (None, Some(_), RefSpec::Version(n)) => {
                Some(self.workspace.lock().expect("not poisoned").version(&target.agent, n)?.tree)
            }
            _ => None,
        };
        if let (Some(pinned), Some(actual), RefSpec::Version(n)) = (pinned, actual_tree, want)
            && actual != pinned
        {
            return Err(Error::refused(
                format!(
                    "channel '{}': {} holds tree {actual} but channels.toml pins tree {pinned}; the tag was moved or replaced, so the channel will not serve it",
                    channel.name,
                    self.workspace.lock().expect("not poisoned").names().short(&target.agent, n),
                ),
                Some("`agentver verify` audits the tags; re-pin only after checking what changed".into()),
            ));
        }
        match cached {
            Some(s) => Ok(s),
            None => self.load(&target.agent, want).map_err(|e| match (e, override_version) {
                // What the channel names does not exist: the fault is in channels.toml, at its line.
                (e @ (Error::VersionNotFound { .. } | Error::NoVersions { .. } | Error::UnknownAgent { .. }), None) => {
                    let file = match &self.at {
                        DraftAt::Rev(rev) => format!("{rev}:{}", crate::format::channels::FILE),
                        DraftAt::WorkTree => crate::format::channels::FILE.to_owned(),
                    };
                    Error::InChannel { file, line: target.line, channel: channel.name.clone(), source: Box::new(e) }
                }
                (e, _) => e,
            }),
        }
    }

    /// Which configuration serves this call on `channel`.
    pub fn resolve<'r>(&'r self, channel: &str, call: &Call<'_>) -> Result<Resolution<'r>> {
        let channel = self.channel(channel)?;
        let (variant, target, bucket) = match &channel.route {
            Route::Single(target) => (None, target, None),
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
                (Some(variants[i].name.as_str()), &variants[i].target, Some(Bucket { key, value: b }))
            }
        };
        let served = self.serve(channel, target, call.agent_version)?;
        Ok(Resolution { channel: &channel.name, variant, served, bucket })
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
    pub version: Option<Resolved>,
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
