//! `fetch`: bring the remote's agent tags, which plain `git fetch` never does (snapshot commits are
//! on no branch), and "No blind numbering": a clone that lacks them must not publish v1 again.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::git;
use crate::git::ObjectId;
use crate::git::RefChange;
use crate::ops::OpsError;
use crate::workspace::{DraftAt, Workspace};

#[derive(Clone, Debug, Default, Serialize)]
pub struct FetchReport {
    pub remote: String,
    /// How many version tags the remote has (0: no versions there yet, which is no error).
    pub remote_versions: usize,
    /// Tags created locally (short names).
    pub fetched: Vec<String>,
    /// Local tags that differ from the remote's of the same name, which the remote never had:
    /// versions not pushed yet, kept; `push` renumbers them.
    pub diverged: Vec<String>,
    /// Local tags the remote once had, whose remote tag now names another object: moved on the
    /// remote (tampering or a force-push), kept, never renumbered or pushed as new.
    pub moved: Vec<String>,
    /// With `--reset`: local tags dropped or replaced to match the remote, each saved first
    /// under `saved_under`.
    pub dropped: Vec<String>,
    /// Of `dropped`, the tags the remote has no version of at all (deleted here, not replaced).
    pub removed: Vec<String>,
    pub saved_under: Option<String>,
    /// True when `--configure` added the tag refspec to the remote.
    pub configured: bool,
    /// agentver's notes (the tests' results) the remote's moved here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The marker that this clone has fetched agent tags at least once.
fn marker(ws: &Workspace) -> std::path::PathBuf {
    ws.repo().common_dir().join("agentver/fetched")
}

/// The refspec that makes a plain `git fetch` bring agent tags. Not forced: a plain `git fetch`
/// or `git pull` brings new versions but never overwrites a local tag (an unpushed version, or
/// one the remote moved).
pub fn tag_refspec(ws: &Workspace) -> String {
    let prefix = ws.names().all_ref_prefix();
    format!("{prefix}*:{prefix}*")
}

/// Whether a configured fetch refspec brings the agent tags (the forced form earlier releases
/// wrote counts too).
fn brings_tags(ws: &Workspace, refspec: &str) -> bool {
    let wanted = tag_refspec(ws);
    refspec == wanted || refspec.strip_prefix('+') == Some(wanted.as_str())
}

/// `serve --fetch`: brings `branch` of `remote` (a branch name, `REMOTE/name`, a full ref, or
/// `HEAD`) into a private ref, then the agent tags as [`fetch`] does. Returns the
/// ref to serve. No branch of this clone is moved.
/// Fetches `branch` of `remote` into a private ref and the agent tags; gives the ref and the
/// version tags that moved on the remote (kept here as they were, named as `agent/sales/v2`).
pub fn fetch_followed(ws: &Workspace, remote: &str, branch: &str) -> Result<(String, Vec<String>)> {
    git::remote::check_remote(remote)?;
    let branch = branch.strip_prefix(&format!("{remote}/")).unwrap_or(branch);
    if branch.is_empty()
        || branch.starts_with('-')
        || branch.contains(['\0', '\n', ':', ' ', '~', '^', '?', '*', '['])
        || branch.contains("..")
    {
        return Err(OpsError::BadBranch { branch: branch.escape_debug().to_string() }.into());
    }
    let source = match branch {
        "HEAD" => "HEAD".to_owned(),
        b if b.starts_with("refs/") => b.to_owned(),
        b => format!("refs/heads/{b}"),
    };
    let followed = "refs/agentver/serve/followed";
    let refspec = format!("+{source}:{followed}");
    let out = git::remote::run(ws.root(), &["fetch", "--quiet", "--no-tags", "--refmap=", "--", remote, &refspec])?;
    if !out.status.success() {
        return Err(git::remote::failed(&format!("fetching {source} of '{remote}'"), &out).into());
    }
    let report = fetch(ws, remote, &FetchOptions::default())?;
    Ok((followed.to_owned(), report.moved))
}

/// What `fetch` does besides bringing the tags.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchOptions {
    /// Add the tag refspec to the remote's configuration.
    pub configure: bool,
    /// Make the local agent tags equal the remote's, saving every local tag dropped or replaced.
    pub reset: bool,
}

/// A shallow clone also gets its history: "latest at a revision" and "no silent revert" ask
/// which commits contain which, and a cut-off history cannot answer. Deepened on its own (with
/// the remote's configured refspecs), since `git fetch --unshallow` with a tag refspec that
/// matches nothing fails, and a remote without versions yet is the first run of every CI.
fn unshallow(ws: &Workspace, remote: &str) -> Result<()> {
    if !ws.repo().is_shallow().unwrap_or(false) {
        return Ok(());
    }
    let out = git::remote::run(ws.root(), &["fetch", "--quiet", "--no-tags", "--unshallow", "--", remote])?;
    // A configured refspec may refuse to clobber a local tag (the tag refspec is not forced, and
    // an unpushed version differs): the history still came, which is all this asks.
    if !out.status.success() && ws.repo().is_shallow().unwrap_or(true) {
        return Err(
            git::remote::failed(&format!("fetching the history of this shallow clone from '{remote}'"), &out).into()
        );
    }
    Ok(())
}

/// Brings the remote's agent tags to `scratch` refs, and its agentver notes to theirs.
fn fetch_to_scratch(ws: &Workspace, remote: &str, scratch: &str) -> Result<()> {
    let refspec = format!("+{}*:{scratch}*", ws.names().all_ref_prefix());
    // `--refmap=`: no configured refspec rides along (a non-forced tag refspec would refuse to
    // clobber an unpushed version and fail the fetch); the tags land in scratch refs only.
    let notes = crate::ops::notes::refspec();
    let args = ["fetch", "--quiet", "--no-tags", "--refmap=", "--prune", "--", remote, &refspec, &notes];
    let out = git::remote::run(ws.root(), &args)?;
    if !out.status.success() {
        return Err(git::remote::failed(&format!("fetching the agent tags of '{remote}'"), &out).into());
    }
    Ok(())
}

pub fn fetch(ws: &Workspace, remote: &str, options: &FetchOptions) -> Result<FetchReport> {
    git::remote::check_remote(remote)?;
    let repo = ws.repo();
    let names = ws.names();
    unshallow(ws, remote)?;
    let scratch = format!("refs/agentver/fetch/{}/", names.prefix());
    fetch_to_scratch(ws, remote, &scratch)?;
    let fetched = git::list_refs(repo, &scratch)?;
    let theirs: BTreeMap<String, ObjectId> = fetched
        .iter()
        .filter_map(|(name, id)| Some((format!("{}{}", names.all_ref_prefix(), name.strip_prefix(&scratch)?), (*id)?)))
        .filter(|(name, _)| names.parse(name).is_some())
        .collect();
    let mut report = FetchReport { remote: remote.to_owned(), remote_versions: theirs.len(), ..FetchReport::default() };
    let remembered = git::remembered::remembered(repo, remote)?;
    let mut edits = Vec::new();
    let mut seen = Vec::new();
    let mut highest: BTreeMap<crate::names::id::AgentId, u64> = BTreeMap::new();
    for (name, id) in &theirs {
        let Some((agent, number)) = names.parse(name) else { continue };
        let entry = highest.entry(agent.clone()).or_default();
        *entry = (*entry).max(number);
        let short = names.short(&agent, number);
        match git::find_version(repo, names, &agent, number)? {
            None => {
                edits.push(RefChange { name: name.clone(), from: None, to: Some(*id) });
                report.fetched.push(short);
                seen.push((name, *id));
            }
            Some(local) if local == *id => seen.push((name, *id)),
            // The remote showed ours once: its tag moved. What it showed stays remembered.
            Some(local) if remembered.get(name) == Some(&local) && !options.reset => report.moved.push(short),
            Some(_) if !options.reset => report.diverged.push(short),
            Some(local) => {
                edits.push(RefChange { name: name.clone(), from: Some(local), to: Some(*id) });
                report.dropped.push(short);
                seen.push((name, *id));
            }
        }
    }
    if options.reset {
        edits.extend(reset_changes(ws, &theirs, &mut report)?);
    }
    edits.extend(git::remembered::remember(remote, &remembered, &seen));
    // The scratch refs go in the same transaction.
    for (name, id) in fetched {
        if let Some(id) = id {
            edits.push(RefChange { name, from: Some(id), to: None });
        }
    }
    if !edits.is_empty() {
        let _guard = crate::git::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
        git::apply_atomically(repo, edits, "creating the fetched tags")?;
    }
    for (agent, n) in &highest {
        git::record_seen(repo, names, agent, *n)?;
    }
    crate::fsutil::write_atomic(&marker(ws), format!("{remote}\n").as_bytes())?;
    report.notes = crate::ops::notes::merge_fetched(ws)?;
    if options.configure {
        report.configured = configure_refspec(ws, remote)?;
    }
    Ok(report)
}

/// `fetch --reset`: every local agent tag the remote does not have as it is here is dropped (the
/// ones it has otherwise are replaced by the caller's changes); each dropped or replaced tag is
/// saved first under `refs/agentver/dropped/<time>/`, named in the report.
fn reset_changes(
    ws: &Workspace,
    theirs: &BTreeMap<String, ObjectId>,
    report: &mut FetchReport,
) -> Result<Vec<RefChange>> {
    let names = ws.names();
    let local = git::list_refs(ws.repo(), &names.all_ref_prefix())?;
    let mut changes = Vec::new();
    for (name, id) in &local {
        let (Some(id), Some((agent, number))) = (id, names.parse(name)) else { continue };
        if !theirs.contains_key(name) {
            changes.push(RefChange { name: name.clone(), from: Some(*id), to: None });
            report.dropped.push(names.short(&agent, number));
            report.removed.push(names.short(&agent, number));
        }
    }
    if report.dropped.is_empty() {
        return Ok(changes);
    }
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let saved = format!("refs/agentver/dropped/{stamp}/");
    for (name, id) in &local {
        let (Some(id), Some((agent, number))) = (id, names.parse(name)) else { continue };
        if report.dropped.contains(&names.short(&agent, number)) {
            let keep = format!("{saved}{}", name.strip_prefix("refs/").unwrap_or(name));
            changes.push(RefChange { name: keep, from: None, to: Some(*id) });
        }
    }
    report.saved_under = Some(saved);
    Ok(changes)
}

/// Adds the tag refspec to `remote.<remote>.fetch` unless it is there; true when added.
fn configure_refspec(ws: &Workspace, remote: &str) -> Result<bool> {
    let key = format!("remote.{remote}.fetch");
    let refspec = tag_refspec(ws);
    let out = git::remote::run(ws.root(), &["config", "--get-all", "--", &key])?;
    let lines = String::from_utf8_lossy(&out.stdout).to_string();
    if lines.lines().any(|l| l.trim() == refspec) {
        return Ok(false);
    }
    // An earlier release wrote it forced, which lets a plain `git pull` replace an unpushed
    // version: made plain.
    let forced = format!("+{refspec}");
    if lines.lines().any(|l| l.trim() == forced) {
        let out =
            git::remote::run(ws.root(), &["config", "--fixed-value", "--replace-all", "--", &key, &refspec, &forced])?;
        if !out.status.success() {
            return Err(git::remote::failed(&format!("replacing {forced} in {key}"), &out).into());
        }
        return Ok(true);
    }
    if !out.status.success() && out.status.code() != Some(1) {
        return Err(git::remote::failed(&format!("reading {key}"), &out).into());
    }
    let url = git::remote::run(ws.root(), &["config", "--get", "--", &format!("remote.{remote}.url")])?;
    if !url.status.success() {
        return Err(OpsError::UnnamedRemote { remote: remote.to_owned() }.into());
    }
    let out = git::remote::run(ws.root(), &["config", "--add", "--", &key, &refspec])?;
    if !out.status.success() {
        return Err(git::remote::failed(&format!("adding {refspec} to {key}"), &out).into());
    }
    Ok(true)
}

/// "No blind numbering": refuses to publish `agents` when this clone plainly lacks the version
/// tags, so v1 is never made a second time.
pub fn check_numbering(ws: &Workspace, agents: &[crate::names::id::AgentId], at: &DraftAt) -> Result<()> {
    match missing_tags(ws, agents, at)? {
        None => Ok(()),
        Some(why) => Err(OpsError::TagsMissing { why }.into()),
    }
}

/// Why this clone plainly lacks version tags of `agents` (all agents when empty): a shallow
/// or `--no-tags` clone, tags never fetched, or channels.toml pinning versions not here.
/// `status` and `log` say it as a hint; `publish` refuses on it.
pub fn missing_tags(ws: &Workspace, agents: &[crate::names::id::AgentId], at: &DraftAt) -> Result<Option<String>> {
    let repo = ws.repo();
    let prefix = ws.names().prefix();
    if !git::any_version_tags(repo, ws.names())? {
        if repo.is_shallow().unwrap_or(false) {
            return Ok(Some(format!("this shallow clone has no version tags ({prefix}/…)")));
        }
        let config = repo.config_snapshot();
        let configured = repo.remote_names().iter().any(|r| {
            config
                .strings(format!("remote.{r}.fetch").as_str())
                .is_some_and(|v| v.iter().any(|s| brings_tags(ws, &s.to_string())))
        });
        let tracking = git::any_ref_under(repo, "refs/remotes/")?;
        if tracking && !marker(ws).exists() && !configured {
            return Ok(Some(format!("this clone has never fetched version tags ({prefix}/…) from its remote")));
        }
    }
    // Pins matter only for agents with no versions here: skip reading channels.toml otherwise.
    let mut lacking = Vec::new();
    for agent in agents {
        if !git::has_versions(repo, ws.names(), agent)? {
            lacking.push(agent.clone());
        }
    }
    if !agents.is_empty() && lacking.is_empty() {
        return Ok(None);
    }
    if let Ok(channels) = ws.load_channels(at) {
        for channel in &channels.channels {
            for target in channel.targets() {
                // A pinned tree (written by `pin` from an existing tag) or a number past 1
                // means versions exist somewhere; v1 pinned by hand may be a first publish.
                let published_elsewhere =
                    target.tree.is_some() || matches!(target.pin, crate::format::channels::Pin::Version(n) if n > 1);
                if published_elsewhere
                    && (agents.is_empty() || lacking.contains(&target.agent))
                    && git::latest_version(repo, ws.names(), &target.agent)?.is_none()
                {
                    return Ok(Some(format!(
                        "channels.toml: channel '{}' serves a published version of {}, but this clone has none of its tags",
                        channel.name, target.agent
                    )));
                }
            }
        }
    }
    Ok(None)
}
