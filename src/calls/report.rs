//! What the `calls`, `stats` and `replay` commands (and the server's routes for them) answer,
//! built once here so the CLI and the server give the same JSON; and `calls import`.
//!
//! What the answers need to know about agents (their versions, latest, a split's weights, which
//! trees served) comes through [`Catalog`] and [`Known`]: the repository for a command
//! ([`RepoCatalog`]), the served snapshot for the server.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::attribution::Known;
use super::ingest::{self, Outcome};
use super::stats::{self, Arm, Comparison, Srm};
use super::store::{Counts, Filter, Location, Store};
use super::{Attribution, Callers, CallsError, Event, Privacy, Record, Source};
use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::format::channels::{Channels, Route};
use crate::names::id::{AgentId, RefSpec};
use crate::workspace::{DraftAt, Workspace, WorkspaceError};

/// The store a workspace uses: `--calls` if given, else `[calls] store`, else SQLite in the git
/// directory.
pub fn location(ws: &Workspace, flag: Option<&str>) -> Result<Location> {
    match flag.or(ws.config().calls.store.as_deref()) {
        Some(spec) => Location::parse(spec, ws.root()),
        None => Ok(Location::Sqlite(ws.repo().common_dir().join("agentver/calls.sqlite"))),
    }
}

/// Where a server spools its decisions: beside the default store, in the git directory.
pub fn spool_dir(ws: &Workspace) -> std::path::PathBuf {
    ws.repo().common_dir().join("agentver/spool")
}

/// How callers' numbers are kept: as given with `keep_caller_numbers = true`, else hashed with
/// the key in `AGENTVER_CALLER_KEY` (what several servers sharing a store must agree on) or in
/// `.git/agentver/caller-key` (created once, 32 random bytes, readable by its owner alone).
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
    if let Some(dir) = path.parent() {
        crate::fsutil::create_private_dir(dir)?;
    }
    // Created once; if another process won the race, its key is the key.
    match crate::fsutil::create_new_private(&path, &key)? {
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

/// What the store may keep, as the workspace configures it.
pub fn privacy(ws: &Workspace) -> Result<Privacy> {
    Ok(Privacy { callers: callers(ws)?, keep_transcripts: ws.config().calls.keep_transcripts })
}

/// Opens the store for `ws` (the default, or `flag`).
pub fn open(ws: &Workspace, flag: Option<&str>) -> Result<Store> {
    Store::open(&location(ws, flag)?, &privacy(ws)?)
}

/// What statistics need to know about agents and channels.
pub trait Catalog {
    /// The agent's published version numbers, oldest first; `UnknownAgent` when it has neither a
    /// draft nor a version.
    fn versions(&self, agent: &AgentId) -> Result<Vec<u64>>;
    /// Its latest version as served.
    fn latest(&self, agent: &AgentId) -> Result<Option<u64>>;
    /// The split weights of `channel`.
    fn weights(&self, channel: &str) -> Result<Vec<(String, u64)>>;
}

/// The split weights of `channel` in `channels`.
pub fn split_weights(channels: &Channels, channel: &str) -> Result<Vec<(String, u64)>> {
    let found = channels.get(channel).ok_or_else(|| FormatError::UnknownChannel { channel: channel.to_owned() })?;
    match &found.route {
        Route::Split { variants, .. } => Ok(variants.iter().map(|v| (v.name.clone(), v.weight)).collect()),
        Route::Single(_) => Err(CallsError::NoSplit { channel: found.name.clone() }.into()),
    }
}

/// The variants of `channel` as (name, agent), for attribution checks.
pub fn split_variants(channels: &Channels, channel: &str) -> Option<Vec<(String, String)>> {
    Some(match &channels.get(channel)?.route {
        Route::Split { variants, .. } => {
            variants.iter().map(|v| (v.name.clone(), v.target.agent.to_string())).collect()
        }
        Route::Single(_) => Vec::new(),
    })
}

/// The repository as a command sees it: versions from tags, drafts and channels at HEAD.
pub struct RepoCatalog<'w> {
    ws: &'w Workspace,
    /// Where channels.toml, the drafts and `latest` are read: HEAD (a work tree's state is no
    /// server's), or the revision a server serves.
    at: DraftAt,
    /// `latest` as at `at` (with a revision given), else the highest version.
    latest_at_rev: bool,
    agents: RefCell<HashMap<AgentId, AgentFacts>>,
    channels: Option<Channels>,
}

#[derive(Clone)]
struct AgentFacts {
    exists: bool,
    versions: BTreeMap<u64, String>,
    draft: Option<String>,
}

impl<'w> RepoCatalog<'w> {
    pub fn new(ws: &'w Workspace) -> Self {
        Self::at(ws, None)
    }

    /// Reading channels.toml, the drafts and `latest` as at `rev` (default HEAD, with `latest`
    /// the highest version).
    pub fn at(ws: &'w Workspace, rev: Option<&str>) -> Self {
        let at = DraftAt::Rev(rev.unwrap_or("HEAD").to_owned());
        let channels = ws.load_channels(&at).ok();
        RepoCatalog { ws, at, latest_at_rev: rev.is_some(), agents: RefCell::default(), channels }
    }

    fn facts(&self, agent: &AgentId) -> Result<AgentFacts> {
        if let Some(f) = self.agents.borrow().get(agent) {
            return Ok(f.clone());
        }
        let mut versions = BTreeMap::new();
        for v in self.ws.versions(agent)? {
            versions.insert(v.number, self.ws.version(agent, v.number)?.tree.to_string());
        }
        let draft = self.ws.locate(agent, RefSpec::Draft, &self.at).ok().map(|l| l.tree.to_string());
        let facts = AgentFacts { exists: !versions.is_empty() || draft.is_some(), versions, draft };
        self.agents.borrow_mut().insert(agent.clone(), facts.clone());
        Ok(facts)
    }
}

impl Catalog for RepoCatalog<'_> {
    fn versions(&self, agent: &AgentId) -> Result<Vec<u64>> {
        let facts = self.facts(agent)?;
        if !facts.exists {
            return Err(WorkspaceError::UnknownAgent {
                agent: agent.to_string(),
                path: agent.draft_path(),
                suggestion: None,
            }
            .into());
        }
        Ok(facts.versions.keys().copied().collect())
    }

    fn latest(&self, agent: &AgentId) -> Result<Option<u64>> {
        self.ws.latest_number(agent, if self.latest_at_rev { &self.at } else { &DraftAt::WorkTree })
    }

    fn weights(&self, channel: &str) -> Result<Vec<(String, u64)>> {
        split_weights(&self.ws.load_channels(&self.at)?, channel)
    }
}

impl Known for RepoCatalog<'_> {
    fn tree(&self, agent: &AgentId, version: Option<u64>, tree: Option<&str>) -> Result<String, String> {
        let facts = self.facts(agent).map_err(|e| e.to_string())?;
        if !facts.exists {
            return Err(format!("there is no agent {agent}"));
        }
        match (version, tree) {
            (Some(n), _) => facts.versions.get(&n).cloned().ok_or_else(|| format!("{agent} has no version {n}")),
            (None, None) => Err(format!("a draft of {agent} is named without its tree")),
            (None, Some(t)) => {
                let t = t.to_ascii_lowercase();
                // A draft that served: HEAD's, one a version took, or a snapshot tree of the agent.
                if facts.draft.as_deref() == Some(&t) || facts.versions.values().any(|v| *v == t) {
                    return Ok(t);
                }
                self.ws.config_in_tree(agent, &t).map(|_| t).map_err(|e| format!("the draft's tree: {e}"))
            }
        }
    }

    fn variants(&self, channel: &str) -> Option<Vec<(String, String)>> {
        split_variants(self.channels.as_ref()?, channel)
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
    /// Calls in the store that are no arm: never attributed, or with an invalid attribution.
    pub unattributed: u64,
    pub invalid_attribution: u64,
    /// Calls per day and arm (its name, as in `arms`), oldest day first, arms in `arms`' order:
    /// counted in the same pass, for the console's chart; not part of `stats --json`.
    #[serde(skip)]
    pub daily: Vec<(String, String, u64)>,
}

/// How `stats` groups and compares.
#[derive(Clone, Debug, Default)]
pub struct StatsRequest {
    pub filter: Filter,
    /// `Some((a, b))`: compare these versions; `None`: latest against the previous with calls.
    pub compare: Option<(u64, u64)>,
    pub by_variant: bool,
}

impl StatsRequest {
    /// Refuses what compares nothing: an agent filter naming another agent, a variant kept with
    /// `--by variant`, a version compared with itself or one the agent never had.
    fn check(&self, agent: &AgentId, catalog: &dyn Catalog) -> Result<()> {
        if let Some(other) = self.filter.agent.as_deref().filter(|a| *a != agent.as_str()) {
            return Err(CallsError::OtherAgent { agent: agent.to_string(), other: other.to_owned() }.into());
        }
        if let (true, Some(variant)) = (self.by_variant, &self.filter.variant) {
            return Err(CallsError::VariantAndByVariant { variant: variant.clone() }.into());
        }
        let versions = catalog.versions(agent)?;
        if let Some((a, b)) = self.compare {
            if a == b {
                return Err(CallsError::SameVersion { version: a }.into());
            }
            for n in [a, b] {
                if !versions.contains(&n) {
                    let latest = versions.last().copied();
                    return Err(WorkspaceError::VersionNotFound { agent: agent.to_string(), version: n, latest }.into());
                }
            }
        }
        Ok(())
    }
}

pub fn stats_report(
    store: &mut Store,
    catalog: &dyn Catalog,
    agent: &AgentId,
    request: &StatsRequest,
) -> Result<StatsReport> {
    request.check(agent, catalog)?;
    let mut filter = request.filter.clone();
    filter.agent = Some(agent.to_string());
    let mut groups = Groups::default();
    let mut days = Days::default();
    store.for_each_outcome(&filter, |row| {
        let key = if request.by_variant {
            // A call outside the split's assignment (no variant, or an override) is no arm.
            match row.variant {
                Some(v) if !row.overridden => (0, 0, v),
                _ => return,
            }
        } else {
            match row.version {
                Some(v) => (0, v, ""),
                None => (1, 0, if row.draft { "draft" } else { "unknown" }),
            }
        };
        if let Some(day) = row.day {
            days.add(key, day);
        }
        groups.get(key).add(row);
    })?;
    let mut arms: Vec<Arm> = groups
        .into_sorted()
        .into_iter()
        .map(|((rank, v, name), builder)| builder.finish(arm_name(rank, v, name)))
        .collect();
    let sample_ratio = match (request.by_variant, &request.filter.channel) {
        (true, Some(channel)) => {
            let configured = catalog.weights(channel)?;
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
    let comparison = comparison(catalog, agent, &arms, request)?;
    let Counts { unattributed, invalid } = store.counts()?;
    Ok(StatsReport {
        agent: agent.to_string(),
        by: if request.by_variant { "variant" } else { "version" },
        arms,
        comparison,
        sample_ratio,
        unattributed,
        invalid_attribution: invalid,
        daily: daily(days),
    })
}

/// The arms being counted, found by their key; a million rows mostly hit the arm of the row
/// before, so that one is tried first (no map lookup, no key made).
#[derive(Default)]
struct Groups {
    arms: Vec<((u8, u64, String), stats::ArmBuilder)>,
    last: usize,
}

impl Groups {
    fn get(&mut self, (rank, version, name): (u8, u64, &str)) -> &mut stats::ArmBuilder {
        let hit = |k: &(u8, u64, String)| k.0 == rank && k.1 == version && k.2 == name;
        if !self.arms.get(self.last).is_some_and(|(k, _)| hit(k)) {
            self.last = match self.arms.iter().position(|(k, _)| hit(k)) {
                Some(i) => i,
                None => {
                    self.arms.push(((rank, version, name.to_owned()), stats::ArmBuilder::default()));
                    self.arms.len() - 1
                }
            };
        }
        &mut self.arms[self.last].1
    }

    /// The arms in order: versions by number, then the draft and the unknown; variants by name.
    fn into_sorted(mut self) -> Vec<((u8, u64, String), stats::ArmBuilder)> {
        self.arms.sort_by(|a, b| a.0.cmp(&b.0));
        self.arms
    }
}

/// Calls per day per arm, counted in runs (rows come in the order they were stored, so a day's
/// calls of one arm mostly follow each other: the key is made only when the run changes).
#[derive(Default)]
struct Days {
    counts: HashMap<DayKey, u64>,
    run: Option<(DayKey, u64)>,
}

/// An arm's key (as [`Groups`] has it) and a `YYYY-MM-DD`.
type DayKey = ((u8, u64, String), [u8; 10]);

impl Days {
    fn add(&mut self, arm: (u8, u64, &str), day: &str) {
        let Ok(day) = <[u8; 10]>::try_from(day.as_bytes()) else { return };
        match &mut self.run {
            Some(((k, d), n)) if k.0 == arm.0 && k.1 == arm.1 && k.2 == arm.2 && *d == day => *n += 1,
            run => {
                if let Some((k, n)) = run.replace((((arm.0, arm.1, arm.2.to_owned()), day), 1)) {
                    *self.counts.entry(k).or_default() += n;
                }
            }
        }
    }
}

/// (day, arm name, calls), by day, then in the arms' order.
fn daily(mut days: Days) -> Vec<(String, String, u64)> {
    if let Some((k, n)) = days.run.take() {
        *days.counts.entry(k).or_default() += n;
    }
    let mut out: Vec<(String, (u8, u64, String), u64)> =
        days.counts.into_iter().map(|((arm, d), n)| (String::from_utf8_lossy(&d).into_owned(), arm, n)).collect();
    out.sort();
    out.into_iter().map(|(day, (rank, v, name), n)| (day, arm_name(rank, v, name), n)).collect()
}

/// An arm's name from its key: `v3`, or the draft's, the unknown's or a variant's name.
fn arm_name(rank: u8, version: u64, name: String) -> String {
    if rank == 0 && name.is_empty() { format!("v{version}") } else { name }
}

fn comparison(
    catalog: &dyn Catalog,
    agent: &AgentId,
    arms: &[Arm],
    request: &StatsRequest,
) -> Result<Option<Comparison>> {
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
    let latest = catalog.latest(agent)?;
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
    /// `None` when the call cannot be replayed (never attributed, or attributed invalidly).
    pub config: Option<serde_json::Value>,
}

/// The record of `call_id` and, when it names what served it, that configuration as `config`
/// finds it by agent and snapshot tree.
pub fn replay(
    store: &mut Store,
    call_id: &str,
    config: &dyn Fn(&AgentId, &str) -> Result<serde_json::Value>,
) -> Result<Replay> {
    let call = store.get(call_id)?.ok_or_else(|| CallsError::UnknownCall { call_id: call_id.to_owned() })?;
    let served = match (&call.attribution, &call.agent, &call.tree) {
        (Some(Attribution::Decided | Attribution::Echoed), Some(agent), Some(tree)) => {
            Some((agent.clone(), tree.clone()))
        }
        _ => None,
    };
    let Some((agent, tree)) = served else { return Ok(Replay { call, config: None }) };
    let agent = AgentId::new(&agent).map_err(|e| Error::BadValue {
        what: format!("call '{call_id}'"),
        value: agent.clone(),
        expected: format!("an agent id ({e})"),
    })?;
    let config = config(&agent, &tree)?;
    Ok(Replay { call, config: Some(config) })
}

/// Why a replay has no configuration, as an error (for a command, which has nothing to print).
pub fn unreplayable(replay: &Replay) -> Option<CallsError> {
    if replay.config.is_some() {
        return None;
    }
    let call_id = replay.call.call_id.clone();
    Some(match (&replay.call.attribution, &replay.call.attribution_reason) {
        (Some(Attribution::NotDeployed), reason) => {
            CallsError::NotDeployed { call_id, reason: reason.clone().unwrap_or_default() }
        }
        (Some(Attribution::Invalid), reason) => {
            CallsError::InvalidAttribution { call_id, reason: reason.clone().unwrap_or_default() }
        }
        _ => CallsError::Unattributed { call_id },
    })
}

/// What `calls import` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Imported {
    /// Lines that are call reports.
    pub records: usize,
    /// Of those, events the store did not hold before, and ones it held already.
    pub new: usize,
    pub unchanged: usize,
    /// Lines that carry no call outcome (other webhook types).
    pub ignored: usize,
    /// Reports refused: their call already held
    /// [`MAX_EVENTS_PER_SOURCE`](super::limits::MAX_EVENTS_PER_SOURCE) from their source.
    pub refused: usize,
}

/// How far an import is: records written of all.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// Records written per transaction. Each commit rewrites every index page it touched, so large
/// transactions import several times faster; but while a server shares the store its writer
/// waits for each one, so then they are kept short (tens of milliseconds).
const IMPORT_BATCH: usize = 20_000;
const IMPORT_BATCH_SHARED: usize = 1_000;

/// Every report line of a JSON Lines file (`f` gets the 1-based line and its outcome).
fn each_line(path: &Path, shown: &str, mut f: impl FnMut(usize, &str) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(shown, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(shown, e))?;
        if !line.trim().is_empty() {
            f(i + 1, &line)?;
        }
    }
    Ok(())
}

/// Imports a JSON Lines file of `source`'s payloads into `store`, streaming it twice: first
/// every line is checked (a bad line stores nothing), then the reports are written in batches.
/// A file in which no line is a call is an error.
pub fn import(
    ws: &Workspace,
    store: &mut Store,
    path: &Path,
    shown: &str,
    source: Source,
    parse: super::read::Parse,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported> {
    let privacy = privacy(ws)?;
    let catalog = RepoCatalog::new(ws);
    store.for_bulk_writes()?;
    let mut summary = Imported::default();
    let mut first_ignored = None;
    each_line(path, shown, |line, text| {
        let at = |problem: String| CallsError::BadRecord { file: shown.to_owned(), line, problem };
        let body = ingest::json(text.as_bytes()).map_err(|e| at(e.0))?;
        match parse(source, &body, &privacy).map_err(|e| at(e.0))? {
            super::read::Parsed::Event(_) => summary.records += 1,
            super::read::Parsed::Ignored(why) => {
                summary.ignored += 1;
                first_ignored.get_or_insert(why);
            }
        }
        Ok(())
    })?;
    if summary.records == 0 {
        let why = match first_ignored {
            Some(why) => format!("as --source {}: {why}", source.as_str()),
            None => "the file is empty".into(),
        };
        return Err(CallsError::NoCalls { file: shown.to_owned(), lines: summary.ignored, why }.into());
    }
    let size =
        if store.is_sqlite() && super::spool::in_use(&spool_dir(ws)) { IMPORT_BATCH_SHARED } else { IMPORT_BATCH };
    let mut batch: Vec<(Event, Option<String>)> = Vec::with_capacity(size);
    let mut write = |batch: &mut Vec<(Event, Option<String>)>, summary: &mut Imported| -> Result<()> {
        let merged = store.merge(batch, &super::now(), false).map_err(|e| CallsError::ImportInterrupted {
            file: shown.to_owned(),
            stored: summary.new + summary.unchanged + summary.refused,
            total: summary.records,
            cause: Box::new(e),
        })?;
        summary.new += merged.new;
        summary.unchanged += merged.unchanged;
        summary.refused += merged.refused;
        batch.clear();
        progress(Progress { done: summary.new + summary.unchanged + summary.refused, total: summary.records });
        Ok(())
    };
    let mut written = Imported { records: summary.records, ignored: summary.ignored, ..Imported::default() };
    // The file was checked line by line above; a line that fails now was changed since.
    each_line(path, shown, |line, text| {
        let at = |problem: String| CallsError::BadRecord { file: shown.to_owned(), line, problem };
        let body = ingest::json(text.as_bytes()).map_err(|e| at(e.0))?;
        if let Outcome::Report(p) = ingest::prepare(parse, source, body, &privacy, &catalog).map_err(|e| at(e.0))? {
            batch.push((p.event, p.raw));
        }
        if batch.len() == size { write(&mut batch, &mut written) } else { Ok(()) }
    })?;
    if !batch.is_empty() {
        write(&mut batch, &mut written)?;
    }
    Ok(written)
}

/// `compare=v2,v3` (over HTTP and in the console): the two versions, `v` optional.
pub fn parse_compare(pair: &str) -> std::result::Result<(u64, u64), &'static str> {
    let parse = |v: &str| v.trim().trim_start_matches('v').parse::<u64>().ok();
    match pair.split_once(',').map(|(a, b)| (parse(a), parse(b))) {
        Some((Some(a), Some(b))) => Ok((a, b)),
        _ => Err("compare must be two versions: compare=v2,v3"),
    }
}

/// `by=version|variant`: whether the arms are variants.
pub fn parse_by(by: Option<&str>) -> std::result::Result<bool, String> {
    match by {
        None | Some("version") => Ok(false),
        Some("variant") => Ok(true),
        Some(other) => Err(format!("by must be version or variant, not '{}'", other.escape_debug())),
    }
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
    let then = n.checked_mul(seconds).and_then(|back| jiff::Timestamp::now().as_second().checked_sub(back));
    let then = then.and_then(|t| jiff::Timestamp::from_second(t).ok()).ok_or_else(|| bad_time(text))?;
    Ok(super::fmt_time(then))
}

fn bad_time(text: &str) -> Error {
    CallsError::BadTime { text: text.to_owned() }.into()
}

/// Parses the version a filter names: `N`, `vN` or `draft`.
pub fn version_filter(text: &str) -> Option<Option<u64>> {
    match text {
        "draft" => Some(None),
        v => v.strip_prefix('v').unwrap_or(v).parse::<u64>().ok().filter(|n| *n >= 1).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_are_found_by_key_and_come_out_versions_first_then_draft_then_unknown() {
        let mut groups = Groups::default();
        for key in [(0, 2, ""), (1, 0, "unknown"), (0, 2, ""), (0, 1, ""), (1, 0, "draft"), (0, 2, ""), (0, 1, "")] {
            let _ = groups.get(key);
        }
        let keys: Vec<(u8, u64, String)> = groups.into_sorted().into_iter().map(|(k, _)| k).collect();
        let want = [(0, 1, ""), (0, 2, ""), (1, 0, "draft"), (1, 0, "unknown")];
        assert_eq!(keys, want.map(|(r, v, n)| (r, v, n.to_owned())));
    }

    #[test]
    fn days_are_counted_per_arm_across_interleaved_runs() {
        let mut days = Days::default();
        for (arm, d) in [
            ((0, 1, ""), "2026-11-01"),
            ((0, 1, ""), "2026-11-01"),
            ((0, 2, ""), "2026-11-01"),
            ((0, 1, ""), "2026-11-01"),
            ((1, 0, "draft"), "2026-11-02"),
            ((0, 0, "control"), "2026-11-02"),
            ((0, 1, ""), "2026-11-02"),
            ((0, 1, ""), "bad"),
        ] {
            days.add(arm, d);
        }
        let want = [
            ("2026-11-01", "v1", 3),
            ("2026-11-01", "v2", 1),
            ("2026-11-02", "control", 1),
            ("2026-11-02", "v1", 1),
            ("2026-11-02", "draft", 1),
        ];
        assert_eq!(daily(days), want.map(|(d, a, n)| (d.to_owned(), a.to_owned(), n)));
    }
}
