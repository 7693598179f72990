//! What the `calls`, `stats` and `replay` commands (and the server's routes for them) answer,
//! built once here so the CLI and the server give the same JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::platforms::{self, Parsed};
use super::stats::{self, Arm, Comparison, Srm};
use super::store::{Filter, Location, Store};
use super::{Callers, Event, Record, Source};
use crate::calls::CallsError;
use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::format::channels::Route;
use crate::names::id::AgentId;
use crate::workspace::{DraftAt, Workspace};

/// The store a workspace uses: `--calls` if given, else `[calls] store`, else SQLite in the git
/// directory.
pub fn location(ws: &Workspace, flag: Option<&str>) -> Result<Location> {
    match flag.or(ws.config().calls.store.as_deref()) {
        Some(spec) => Location::parse(spec, ws.root()),
        None => Ok(Location::Sqlite(ws.repo().common_dir().join("agentver/calls.sqlite"))),
    }
}

/// How callers' numbers are kept: as given with `keep_caller_numbers = true`, else hashed with
/// the key in `AGENTVER_CALLER_KEY` (what several servers sharing a store must agree on) or in
/// `.git/agentver/caller-key` (created once, 32 random bytes).
pub fn callers(ws: &Workspace) -> Result<Callers> {
    use sha2::{Digest, Sha256};
    if ws.config().calls.keep_caller_numbers {
        return Ok(Callers::Keep);
    }
    if let Some(key) = std::env::var_os("AGENTVER_CALLER_KEY").filter(|k| !k.is_empty()) {
        return Ok(Callers::Hash(Sha256::digest(key.as_encoded_bytes()).into()));
    }
    let path = ws.repo().common_dir().join("agentver/caller-key");
    if let Ok(bytes) = std::fs::read(&path)
        && bytes.len() == 32
    {
        return Ok(Callers::Hash(bytes.try_into().expect("32 bytes")));
    }
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
        .map_err(|e| Error::io("/dev/urandom", e))?;
    // Created once; if another process won the race, its key is the key.
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    match crate::fsutil::create_new(&path, &key)? {
        true => Ok(Callers::Hash(key)),
        false => {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| Error::BadValue {
                what: "the caller key".into(),
                value: path.display().to_string(),
                expected: "a file of 32 bytes".into(),
            })?;
            Ok(Callers::Hash(key))
        }
    }
}

/// `stats <id>`: every arm, the comparison, and (by variant) the sample-ratio check.
#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub agent: String,
    /// `version` or `variant`.
    pub by: &'static str,
    pub arms: Vec<Arm>,
    pub comparison: Option<Comparison>,
    pub sample_ratio: Option<Srm>,
    /// Calls in the store no agent could be attributed to (kept, never dropped).
    pub unattributed: u64,
}

/// How `stats` groups and compares.
#[derive(Clone, Debug, Default)]
pub struct StatsRequest {
    pub filter: Filter,
    /// `Some((a, b))`: compare these versions; `None`: latest against the previous with calls.
    pub compare: Option<(u64, u64)>,
    pub by_variant: bool,
}

fn arm_name(version: Option<u64>, draft: bool) -> String {
    match version {
        Some(v) => format!("v{v}"),
        None if draft => "draft".into(),
        None => "unknown".into(),
    }
}

/// The split weights of `channel` as channels.toml at `at` configures them.
fn weights(ws: &Workspace, at: &DraftAt, channel: &str) -> Result<Vec<(String, u64)>> {
    let channels = ws.load_channels(at)?;
    let channel = channels.get(channel).ok_or_else(|| FormatError::UnknownChannel { channel: channel.to_owned() })?;
    match &channel.route {
        Route::Split { variants, .. } => Ok(variants.iter().map(|v| (v.name.clone(), v.weight)).collect()),
        Route::Single(_) => Err(CallsError::NoSplit { channel: channel.name.clone() }.into()),
    }
}

pub fn stats_report(ws: &Workspace, store: &mut Store, agent: &AgentId, request: &StatsRequest) -> Result<StatsReport> {
    let mut filter = request.filter.clone();
    filter.agent = Some(agent.to_string());
    let mut groups: BTreeMap<(u8, u64, String), stats::ArmBuilder> = BTreeMap::new();
    store.for_each_outcome(&filter, |row| {
        let key = if request.by_variant {
            (0, 0, row.variant.unwrap_or("(none)").to_owned())
        } else {
            match row.version {
                Some(v) => (0, v, String::new()),
                None => (1, 0, arm_name(None, row.draft)),
            }
        };
        // Looked up before inserting, so the common case allocates no key.
        match groups.get_mut(&key) {
            Some(builder) => builder.add(row),
            None => groups.entry(key).or_default().add(row),
        }
    })?;
    let mut arms: Vec<Arm> = groups
        .into_iter()
        .map(|((rank, v, name), builder)| {
            builder.finish(if rank == 0 && name.is_empty() { format!("v{v}") } else { name })
        })
        .collect();
    let sample_ratio = match (request.by_variant, &request.filter.channel) {
        (true, Some(channel)) => {
            let configured = weights(ws, &DraftAt::Rev("HEAD".into()), channel)?;
            for (name, _) in &configured {
                if !arms.iter().any(|a| &a.arm == name) {
                    arms.push(stats::empty_arm(name.clone()));
                }
            }
            let counts: Vec<(String, u64, u64)> = configured
                .iter()
                .map(|(name, w)| (name.clone(), arms.iter().find(|a| &a.arm == name).map_or(0, |a| a.calls), *w))
                .collect();
            stats::srm(&counts)
        }
        (true, None) => return Err(CallsError::VariantsNeedChannel.into()),
        _ => None,
    };
    let comparison = comparison(ws, agent, &arms, request)?;
    Ok(StatsReport {
        agent: agent.to_string(),
        by: if request.by_variant { "variant" } else { "version" },
        arms,
        comparison,
        sample_ratio,
        unattributed: store.unattributed()?,
    })
}

fn comparison(ws: &Workspace, agent: &AgentId, arms: &[Arm], request: &StatsRequest) -> Result<Option<Comparison>> {
    let find = |name: &str| arms.iter().find(|a| a.arm == name);
    if request.by_variant {
        return Ok(match arms {
            [a, b, ..] => Some(stats::compare(a, b)),
            _ => None,
        });
    }
    if let Some((a, b)) = request.compare {
        let (na, nb) = (format!("v{a}"), format!("v{b}"));
        let empty_a = stats::empty_arm(na.clone());
        let empty_b = stats::empty_arm(nb.clone());
        return Ok(Some(stats::compare(find(&na).unwrap_or(&empty_a), find(&nb).unwrap_or(&empty_b))));
    }
    // Latest (as published) against the previous version that has calls.
    let latest = ws.latest_number(agent, &DraftAt::WorkTree)?;
    let numbered: Vec<(u64, &Arm)> =
        arms.iter().filter_map(|a| a.arm.strip_prefix('v').and_then(|n| n.parse().ok()).map(|n| (n, a))).collect();
    let b = match latest {
        Some(l) => numbered.iter().find(|(n, _)| *n == l).or(numbered.last()),
        None => numbered.last(),
    };
    let Some(&(nb, b)) = b else { return Ok(None) };
    let a = numbered.iter().rev().find(|(n, _)| *n < nb);
    Ok(a.map(|(_, a)| stats::compare(a, b)))
}

/// `replay <call-id>`: the record and the exact configuration that served it, by tree id.
#[derive(Debug, Serialize)]
pub struct Replay {
    pub call: Record,
    pub config: serde_json::Value,
}

pub fn replay(ws: &Workspace, store: &mut Store, call_id: &str) -> Result<Replay> {
    let call = store.get(call_id)?.ok_or_else(|| CallsError::UnknownCall { call_id: call_id.to_owned() })?;
    let (Some(agent), Some(tree)) = (&call.agent, &call.tree) else {
        return Err(CallsError::Unattributed { call_id: call_id.to_owned() }.into());
    };
    let agent = AgentId::new(agent).map_err(|e| Error::BadValue {
        what: format!("call '{call_id}'"),
        value: agent.clone(),
        expected: format!("an agent id ({e})"),
    })?;
    let config = ws.config_in_tree(&agent, tree)?;
    Ok(Replay { call, config })
}

/// What `calls import` stored.
#[derive(Clone, Debug, Serialize)]
pub struct Imported {
    pub events: usize,
    pub calls: usize,
    pub ignored: usize,
}

/// Imports a JSON Lines file of `source`'s payloads (`file` names it in errors) into the store
/// for `ws`. Every line is checked before anything is stored: a bad line stores nothing.
pub fn import(ws: &Workspace, flag: Option<&str>, file: &str, text: &str, source: Source) -> Result<Imported> {
    let callers = callers(ws)?;
    let mut events: Vec<(Event, Option<String>)> = Vec::new();
    let mut ignored = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |problem: String| CallsError::BadRecord { file: file.to_owned(), line: i + 1, problem };
        let body: serde_json::Value = serde_json::from_str(line).map_err(|e| at(format!("not JSON: {e}")))?;
        match platforms::parse(source, &body, &callers).map_err(|e| at(e.0))? {
            Parsed::Event(e) => events.push((*e, Some(line.to_owned()))),
            Parsed::Ignored(_) => ignored += 1,
        }
    }
    let merged = open(ws, flag)?.merge(&events, &super::now())?;
    Ok(Imported { events: events.len(), calls: merged.len(), ignored })
}

/// Opens the store for `ws` (the default, or `flag`).
pub fn open(ws: &Workspace, flag: Option<&str>) -> Result<Store> {
    Store::open(&location(ws, flag)?)
}

/// `--since`/`--until`: an RFC 3339 time, or a duration back from now (`7d`, `24h`, `30m`).
pub fn parse_since(text: &str) -> Result<String> {
    if let Some(t) = super::normal_time(text) {
        return Ok(t);
    }
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = number.parse().map_err(|_| bad_time(text))?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(bad_time(text)),
    };
    let then = jiff::Timestamp::now().as_second() - n * seconds;
    Ok(super::fmt_time(jiff::Timestamp::from_second(then).map_err(|_| bad_time(text))?))
}

fn bad_time(text: &str) -> Error {
    CallsError::BadTime { text: text.to_owned() }.into()
}
