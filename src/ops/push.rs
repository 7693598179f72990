//! `push`: send agent tags the remote lacks, through the git program (gix cannot push).
//!
//! When another clone took a number first, its versions win: the local never-pushed versions are
//! re-created on top of the remote's latest (same trees, same tagger and date, new numbers,
//! parents re-chained), the old local tags are replaced, and the push is tried again, a bounded
//! number of times. The old tag objects stay in the object database; nothing is lost.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::git::ObjectId;
use crate::git::RefChange;
use crate::git::{self, TagData};
use crate::names::id::AgentId;
use crate::names::tagmessage::{TagMessage, default_label};
use crate::ops::OpsError;
use crate::workspace::Workspace;

/// Most push attempts before giving up on a busy remote.
const MAX_ATTEMPTS: u32 = 5;

#[derive(Clone, Debug, Serialize)]
pub struct Renumbered {
    pub agent: String,
    pub from: u64,
    pub to: u64,
    pub tag: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PushReport {
    pub remote: String,
    pub pushed: Vec<String>,
    pub renumbered: Vec<Renumbered>,
    /// agentver's notes (the tests' results) pushed with the tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How `push` goes about it.
#[derive(Clone, Copy, Debug, Default)]
pub struct PushOptions {
    /// Renumber even a version that would undo the remote's latest (see "No silent revert").
    pub force: bool,
    /// Push the current branch in the same atomic push, so versions published from its commits
    /// travel with them.
    pub with_branch: bool,
}

/// Pushes the agent tags `remote` lacks, then agentver's notes.
pub fn push(ws: &Workspace, remote: &str, options: PushOptions) -> Result<PushReport> {
    let mut report = push_tags(ws, remote, options)?;
    report.notes = crate::ops::notes::push(ws, remote)?;
    Ok(report)
}

fn push_tags(ws: &Workspace, remote: &str, options: PushOptions) -> Result<PushReport> {
    git::remote::check_remote(remote)?;
    let force = options.force;
    let branch = match options.with_branch {
        true => Some(ws.current_branch()?.ok_or(OpsError::DetachedHead)?),
        false => None,
    };
    let mut report = PushReport { remote: remote.to_owned(), ..PushReport::default() };
    for _attempt in 0..MAX_ATTEMPTS {
        let remote_refs = git::remote::tags(ws.root(), remote, &ws.names().all_ref_prefix())?;
        let local: BTreeMap<String, ObjectId> = git::list_refs(ws.repo(), &ws.names().all_ref_prefix())?
            .into_iter()
            .filter_map(|(name, id)| Some((name, id?)))
            .filter(|(name, _)| ws.names().parse(name).is_some())
            .collect();
        refuse_moved(ws, remote, &local, &remote_refs)?;
        // Agents where another clone published a number first.
        let mut lost: Vec<AgentId> = local
            .iter()
            .filter(|(name, id)| remote_refs.get(*name).is_some_and(|r| r != *id))
            .filter_map(|(name, _)| Some(ws.names().parse(name)?.0))
            .collect();
        lost.dedup();
        if !lost.is_empty() {
            for agent in &lost {
                report.renumbered.extend(renumber(ws, remote, agent, force)?);
            }
            continue;
        }
        let missing: Vec<&String> = local.keys().filter(|name| !remote_refs.contains_key(*name)).collect();
        if missing.is_empty() {
            return Ok(report);
        }
        check_chains(ws, &missing)?;
        let pushing: Vec<(&String, ObjectId)> = missing.iter().map(|n| (*n, local[*n])).collect();
        check_sources(ws, remote, &pushing, branch.is_some())?;
        let mut args = ["push", "--atomic", "--porcelain", "--", remote].map(str::to_owned).to_vec();
        if let Some(branch) = &branch {
            args.push(format!("HEAD:refs/heads/{branch}"));
        }
        args.extend(missing.iter().map(|name| format!("{name}:{name}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = git::remote::run(ws.root(), &args)?;
        if out.status.success() {
            report.pushed.extend(missing.iter().map(|n| n.trim_start_matches("refs/tags/").to_owned()));
            // The remote now has these as they are here: remembered, so a later move shows.
            let seen: Vec<(&String, ObjectId)> = missing.iter().map(|n| (*n, local[*n])).collect();
            let now = git::remembered::remembered(ws.repo(), remote)?;
            git::apply_atomically(
                ws.repo(),
                git::remembered::remember(remote, &now, &seen),
                "remembering the pushed tags",
            )?;
            return Ok(report);
        }
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        // Another clone pushed the same names meanwhile: look again.
        if !(text.contains("already exists") || text.contains("rejected") || text.contains("atomic push failed")) {
            return Err(git::remote::failed(&format!("pushing to '{remote}'"), &out).into());
        }
    }
    Err(OpsError::PushRaces { remote: remote.to_owned(), attempts: MAX_ATTEMPTS }.into())
}

/// "A version travels with its source": each version to push must come from a commit a branch of
/// the remote holds (or HEAD, pushed in the same run with `--with-branch`), else every other
/// clone's next publish would be refused as undoing it until that commit is shared. A source this
/// clone does not have (a version fetched from elsewhere) is not judged.
fn check_sources(ws: &Workspace, remote: &str, to_push: &[(&String, ObjectId)], with_head: bool) -> Result<()> {
    let heads = git::remote::heads(ws.root(), remote)?;
    let mut holders: Vec<ObjectId> = heads.values().copied().collect();
    if with_head && let Ok(head) = ws.rev_commit("HEAD") {
        holders.push(head);
    }
    let (mut tags, mut commits) = (Vec::new(), Vec::new());
    for (name, id) in to_push {
        let data = git::read_tag(ws.repo(), *id)?;
        let Some(source) = data.message.source_commit().and_then(|s| ObjectId::from_hex(s.as_bytes()).ok()) else {
            continue;
        };
        let found: Vec<Option<bool>> = holders.iter().map(|h| ws.commit_contains(source, *h).ok().flatten()).collect();
        // Not here to judge (a version fetched from elsewhere), or held by a branch: fine.
        if found.iter().all(Option::is_none) || found.contains(&Some(true)) {
            continue;
        }
        {
            tags.push(name.trim_start_matches("refs/tags/").to_owned());
            commits.push(source.to_string()[..12].to_owned());
        }
    }
    if tags.is_empty() {
        return Ok(());
    }
    Err(OpsError::SourceNotShared { remote: remote.to_owned(), tags, commits }.into())
}

/// A tag the remote once had as it is here, naming another object there now, was moved on the
/// remote: renumbering ours would publish the genuine content again under a new number.
fn refuse_moved(
    ws: &Workspace,
    remote: &str,
    local: &BTreeMap<String, ObjectId>,
    remote_refs: &BTreeMap<String, ObjectId>,
) -> Result<()> {
    let remembered = git::remembered::remembered(ws.repo(), remote)?;
    let moved: Vec<String> = local
        .iter()
        .filter(|(name, id)| remote_refs.get(*name).is_some_and(|r| r != *id) && remembered.get(*name) == Some(*id))
        .map(|(name, _)| name.trim_start_matches("refs/tags/").to_owned())
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    Err(OpsError::MovedOnRemote { remote: remote.to_owned(), tags: moved }.into())
}

/// Refuses to push a version chain that `verify` would fault: the remote keeps tags forever.
fn check_chains(ws: &Workspace, to_push: &[&String]) -> Result<()> {
    let tags: std::collections::BTreeSet<String> =
        to_push.iter().map(|n| n.trim_start_matches("refs/tags/").to_owned()).collect();
    let agents: std::collections::BTreeSet<String> =
        to_push.iter().filter_map(|n| ws.names().parse(n)).map(|(a, _)| a.to_string()).collect();
    let audit = crate::ops::verify::audit_tags(ws)?;
    let bad: Vec<String> = audit
        .into_iter()
        .filter(|f| {
            tags.contains(&f.tag)
                || ws.names().parse(&format!("refs/tags/{}", f.tag)).is_some_and(|(a, _)| agents.contains(a.as_str()))
        })
        .map(|f| format!("{} {}", f.tag, f.problem))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(OpsError::PushUnverified { findings: bad }.into())
}

/// Fetches `agent`'s tags from `remote` and re-creates the local never-pushed versions on top
/// of the remote's latest. A version whose content the remote's chain already ends with is
/// dropped rather than published twice.
fn renumber(ws: &Workspace, remote: &str, agent: &AgentId, force: bool) -> Result<Vec<Renumbered>> {
    let repo = ws.repo();
    let names = ws.names();
    let scratch = format!("refs/agentver/remote/{}/{agent}/", names.prefix());
    let refspec = format!("+{}*:{scratch}*", names.agent_ref_prefix(agent));
    let out = git::remote::run(ws.root(), &["fetch", "--quiet", "--no-tags", "--refmap=", "--", remote, &refspec])?;
    if !out.status.success() {
        return Err(git::remote::failed(&format!("fetching {agent}'s tags from '{remote}'"), &out).into());
    }
    let theirs: BTreeMap<u64, ObjectId> = git::list_refs(repo, &scratch)?
        .into_iter()
        .filter_map(|(name, id)| {
            let n = name.strip_prefix(&scratch)?.strip_prefix('v')?.parse().ok()?;
            Some((n, id?))
        })
        .collect();
    let ours: BTreeMap<u64, ObjectId> =
        git::list_versions(repo, names, agent)?.into_iter().map(|v| (v.number, v.target)).collect();
    let their_ids: Vec<ObjectId> = theirs.values().copied().collect();
    let never_pushed: Vec<(u64, ObjectId)> =
        ours.iter().filter(|(_, id)| !their_ids.contains(id)).map(|(n, id)| (*n, *id)).collect();
    let (desired, renumbered) = rechain(ws, agent, &theirs, &never_pushed, force)?;

    // One transaction moves every local ref of this agent to the desired state.
    let mut changes = Vec::new();
    let all: std::collections::BTreeSet<u64> = ours.keys().chain(desired.keys()).copied().collect();
    for n in all {
        let (from, to) = (ours.get(&n).copied(), desired.get(&n).copied());
        if from != to {
            changes.push(RefChange { name: names.full(agent, n), from, to });
        }
    }
    for (n, id) in &theirs {
        changes.push(RefChange { name: format!("{scratch}v{n}"), from: Some(*id), to: None });
    }
    let _guard = crate::git::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
    git::apply_atomically(repo, changes, &format!("renumbering {agent}'s local versions"))?;
    if let Some(highest) = desired.keys().max() {
        git::record_seen(repo, names, agent, *highest)?;
    }
    Ok(renumbered)
}

/// Writes the never-pushed versions again on top of the remote's chain `theirs`: new numbers,
/// parents re-chained, rollback targets mapped, a version the chain already ends with dropped.
/// Returns every version ref as it should be (theirs and the rewritten) and what moved.
fn rechain(
    ws: &Workspace,
    agent: &AgentId,
    theirs: &BTreeMap<u64, ObjectId>,
    never_pushed: &[(u64, ObjectId)],
    force: bool,
) -> Result<(BTreeMap<u64, ObjectId>, Vec<Renumbered>)> {
    let (repo, names) = (ws.repo(), ws.names());
    let their_latest = theirs.keys().max().copied().unwrap_or(0);
    let their_latest_data = match theirs.get(&their_latest) {
        Some(id) => Some(git::read_tag(repo, *id)?),
        None => None,
    };
    let mut parent = their_latest_data.as_ref().map(|d| d.commit);
    let mut tip_tree = their_latest_data.as_ref().map(|d| d.tree);
    let mut mapping: BTreeMap<u64, u64> = BTreeMap::new();
    let mut desired = theirs.clone();
    let mut renumbered = Vec::new();
    let mut next = their_latest + 1;
    for (old_number, old_id) in never_pushed {
        let old: TagData = git::read_tag(repo, *old_id)?;
        // No silent revert: the remote's latest must be in the history this version came from.
        if let Some(theirs) = &their_latest_data
            && !force
        {
            let commit = old.message.source_commit().and_then(|h| ObjectId::from_hex(h.as_bytes()).ok());
            ws.check_no_revert(agent, theirs, commit)?;
        }
        if tip_tree == Some(old.tree) && old.message.rollback_of.is_none() {
            // The remote's chain already ends with this content: keep theirs, drop ours.
            mapping.insert(*old_number, next - 1);
            continue;
        }
        let new_number = next;
        next += 1;
        mapping.insert(*old_number, new_number);
        let label = if old.message.label == default_label(agent.as_str(), *old_number) {
            default_label(agent.as_str(), new_number)
        } else {
            old.message.label.clone()
        };
        let message = TagMessage {
            label,
            version: Some(new_number),
            rollback_of: old.message.rollback_of.map(|r| mapping.get(&r).copied().unwrap_or(r)),
            ..old.message.clone()
        };
        let tag = names.short(agent, new_number);
        let (commit_id, tag_id) = git::rewrite_version(repo, &old, parent, &tag, &message)?;
        desired.insert(new_number, tag_id);
        parent = Some(commit_id);
        tip_tree = Some(old.tree);
        renumbered.push(Renumbered { agent: agent.to_string(), from: *old_number, to: new_number, tag });
    }
    Ok((desired, renumbered))
}
