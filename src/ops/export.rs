//! `export`: the deployment bundle. Every channel's resolved targets and the full config of every
//! version any channel can serve, at one revision, as JSON a runtime loads with no git. The same
//! revision (and tags) always gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Result;
use crate::format::channels::{Pin, Route, Sticky};
use crate::routing::resolve::{Resolver, Served};
use crate::workspace::{DraftAt, Version, Workspace};

/// Bumped when the bundle's shape changes.
pub const FORMAT: u32 = 1;

#[derive(Serialize)]
pub struct Bundle {
    pub format: u32,
    /// The commit whose channels.toml and drafts the bundle holds.
    pub revision: String,
    /// How a runtime assigns a caller to a variant, so it can do it without agentver.
    pub bucketing: &'static str,
    pub channels: Vec<ChannelEntry>,
    /// Keyed `<agent>@v<N>` or `<agent>@draft`, sorted.
    pub configs: BTreeMap<String, ConfigEntry>,
}

#[derive(Serialize)]
pub struct ChannelEntry {
    pub channel: String,
    pub sticky: Option<Sticky>,
    pub salt: Option<String>,
    pub targets: Vec<TargetEntry>,
}

#[derive(Serialize)]
pub struct TargetEntry {
    pub variant: Option<String>,
    /// As pinned: a number, "latest" or "draft".
    pub pin: Pin,
    pub weight: Option<u64>,
    /// The key into `configs`.
    pub config: String,
    pub agent: String,
    pub version: Version,
    pub tag: Option<String>,
    pub tree: String,
}

#[derive(Serialize)]
pub struct ConfigEntry {
    pub agent: String,
    pub version: Version,
    pub tag: Option<String>,
    pub tree: String,
    pub config: Json,
}

fn key(s: &Served) -> String {
    format!("{}@{}", s.agent, s.version)
}

/// The bundle for the commit `rev` names. Any channel that cannot be served is an error:
/// a deployment must not ship a half-resolvable bundle.
pub fn export(ws: &Workspace, rev: &str) -> Result<Bundle> {
    let commit = ws.rev_commit(rev)?.to_string();
    let resolver = Resolver::new(ws.clone(), DraftAt::Rev(commit.clone()))?;
    let mut configs = BTreeMap::new();
    let mut channels = Vec::new();
    for channel in &resolver.channels().channels {
        let (sticky, salt, targets) = match &channel.route {
            Route::Single(t) => (None, None, vec![(None, t, None)]),
            Route::Split { sticky, salt, variants } => (
                Some(*sticky),
                Some(salt.clone()),
                variants.iter().map(|v| (Some(v.name.clone()), &v.target, Some(v.weight))).collect(),
            ),
        };
        let mut entries = Vec::new();
        for (variant, target, weight) in targets {
            let served = resolver.serve(channel, target, None)?;
            let k = key(&served);
            configs.entry(k.clone()).or_insert_with(|| ConfigEntry {
                agent: served.agent.to_string(),
                version: served.version,
                tag: served.tag.clone(),
                tree: served.tree.to_string(),
                config: served.config.clone(),
            });
            entries.push(TargetEntry {
                variant,
                pin: target.pin,
                weight,
                config: k,
                agent: served.agent.to_string(),
                version: served.version,
                tag: served.tag.clone(),
                tree: served.tree.to_string(),
            });
        }
        channels.push(ChannelEntry { channel: channel.name.clone(), sticky, salt, targets: entries });
    }
    Ok(Bundle {
        format: FORMAT,
        revision: commit,
        bucketing: "bucket = u64_be(sha256(salt || 0x00 || key)[0..8]) % sum(weights); the variant is the first, in order, whose running total of weights exceeds the bucket; key = the caller's number for sticky \"caller\", the call id for \"call\" (the other when absent, random with neither)",
        channels,
        configs,
    })
}
