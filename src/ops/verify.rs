//! `verify`: audit every version tag, so a moved, forged or damaged version is found.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result, WorkspaceError};
use crate::format::channels::Pin;
use crate::git::ObjectId;
use crate::git::{self, TagData};
use crate::names::id::AgentId;
use crate::workspace::bundle;
use crate::workspace::{DraftAt, Workspace};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The tag (short name) the problem is about.
    pub tag: String,
    pub problem: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub agents: usize,
    pub tags: usize,
    pub findings: Vec<Finding>,
}

/// Every tag under the prefix: annotated, named as its trailers say, a commit whose tree holds a
/// valid agent, chained to the previous version, numbered without gaps, rollbacks pointing at
/// equal trees; and every tree pinned in channels.toml (from `at`) matching its tag.
pub fn verify(ws: &Workspace, at: &DraftAt) -> Result<Audit> {
    let repo = ws.repo();
    let names = ws.names();
    let (mut findings, by_agent, tags) = audit_versions(ws)?;

    // Pinned trees: a moved or replaced tag must not serve calls.
    let channels = ws.load_channels(at)?;
    for channel in &channels.channels {
        for target in channel.targets() {
            if let (Pin::Version(n), Some(tree)) = (target.pin, target.tree) {
                let tag = names.short(&target.agent, n);
                match by_agent.get(&target.agent).and_then(|v| v.get(&n)) {
                    None => findings.push(Finding {
                        tag,
                        problem: format!("is pinned by channel '{}' but does not exist", channel.name),
                    }),
                    Some(&id) => {
                        let actual = git::read_tag(repo, id)?.tree;
                        if actual != tree {
                            findings.push(Finding {
                                tag,
                                problem: format!(
                                    "holds tree {actual}, but channel '{}' pins tree {tree}",
                                    channel.name
                                ),
                            });
                        }
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| a.tag.cmp(&b.tag).then(a.problem.cmp(&b.problem)));
    Ok(Audit { agents: by_agent.len(), tags, findings })
}

/// Each agent's version tags: number → the object its ref points at.
pub type TagsByAgent = BTreeMap<AgentId, BTreeMap<u64, ObjectId>>;

/// Every finding about the version tags themselves (no channels), with the tags by agent and
/// the number of tags read: what `verify` reports and what `push` refuses to send.
pub fn audit_versions(ws: &Workspace) -> Result<(Vec<Finding>, TagsByAgent, usize)> {
    let repo = ws.repo();
    let names = ws.names();
    let prefix = names.all_ref_prefix();
    let mut findings = Vec::new();
    let mut by_agent: TagsByAgent = BTreeMap::new();
    let mut tags = 0;
    for (full, target) in git::list_refs(repo, &prefix)? {
        tags += 1;
        let short = full.trim_start_matches("refs/tags/").to_owned();
        match (names.parse(&full), target) {
            (Some((agent, n)), Some(id)) => {
                by_agent.entry(agent).or_default().insert(n, id);
            }
            (Some(_), None) => findings.push(Finding { tag: short, problem: "is a symbolic ref, not a tag".into() }),
            (None, _) => findings.push(Finding {
                tag: short,
                problem: format!("is not a version tag name ({}/<id>/v<N>)", names.prefix()),
            }),
        }
    }

    for (agent, versions) in &by_agent {
        let data = audit_tag_objects(ws, agent, versions, &mut findings)?;
        let max = versions.keys().max().copied().unwrap_or(0);
        for n in (1..=max).filter(|n| !versions.contains_key(n)) {
            findings.push(Finding {
                tag: names.short(agent, n),
                problem: format!("is missing: {agent}'s versions run to v{max}"),
            });
        }
        audit_chain(ws, agent, &data, &mut findings)?;
    }

    Ok((findings, by_agent, tags))
}

/// [`audit_versions`]' findings alone.
pub fn audit_tags(ws: &Workspace) -> Result<Vec<Finding>> {
    Ok(audit_versions(ws)?.0)
}

/// Each tag object of one agent: annotated, trailers and name agreeing with the ref, and a
/// snapshot that validates and holds nothing but the agent's files. Returns what was read.
fn audit_tag_objects(
    ws: &Workspace,
    agent: &AgentId,
    versions: &BTreeMap<u64, ObjectId>,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<u64, TagData>> {
    let (repo, names) = (ws.repo(), ws.names());
    let mut data = BTreeMap::new();
    for (&n, &target) in versions {
        let tag = names.short(agent, n);
        let mut problem = |p: String| findings.push(Finding { tag: tag.clone(), problem: p });
        let d = match git::read_tag(repo, target) {
            Ok(d) => d,
            Err(e) => {
                problem(format!("cannot be read: {e}"));
                continue;
            }
        };
        if !d.annotated {
            problem("is a lightweight tag, not an annotated one".into());
        } else {
            if d.message.agent.as_deref() != Some(agent.as_str()) {
                problem(format!(
                    "Agentver-Agent trailer is {:?}, not {agent}",
                    d.message.agent.as_deref().unwrap_or("missing")
                ));
            }
            if d.message.version != Some(n) {
                let found = d.message.version.map_or("missing".to_owned(), |v| v.to_string());
                problem(format!("Agentver-Version trailer is {found}, not {n}"));
            }
            if let Some(name) = git::tag_object_name(repo, target)
                && name != tag
            {
                problem(format!("the tag object is named {name}"));
            }
        }
        match bundle::load(&ws.version_source(agent, n, d.tree), agent) {
            Ok(b) => {
                let extras = ws.snapshot_extras(d.tree, &b.files)?;
                if !extras.is_empty() {
                    problem(format!(
                        "its tree holds entries that are not the agent's files: {}",
                        extras.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            Err(Error::Workspace(WorkspaceError::UnknownAgent { .. })) => {
                problem(format!("its tree holds no {}", agent.draft_path()))
            }
            Err(e) => problem(format!("its snapshot does not validate: {e}")),
        }
        data.insert(n, d);
    }
    Ok(data)
}

/// The chain of one agent's versions: parents, rollback targets, no version equal to its
/// predecessor unless it is a rollback.
fn audit_chain(
    ws: &Workspace,
    agent: &AgentId,
    data: &BTreeMap<u64, TagData>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let names = ws.names();
    for (&n, d) in data {
        let tag = names.short(agent, n);
        let mut problem = |p: String| findings.push(Finding { tag: tag.clone(), problem: p });
        let parents = git::commit_parents(ws.repo(), d.commit)?;
        let expected: Vec<ObjectId> = data.get(&(n - 1)).map(|p| p.commit).into_iter().collect();
        if n == 1 && !parents.is_empty() {
            problem("v1's commit has a parent".into());
        } else if n > 1 && data.contains_key(&(n - 1)) && parents != expected {
            problem(format!("its commit's parent is not v{}'s commit", n - 1));
        }
        match d.message.rollback_of {
            Some(m) if m >= n => problem(format!("is a rollback to v{m}, which is not an earlier version")),
            Some(m) => match data.get(&m) {
                Some(old) if old.tree == d.tree => {}
                Some(_) => problem(format!("is a rollback to v{m} but its tree differs from v{m}'s")),
                None => problem(format!("is a rollback to v{m}, which does not exist")),
            },
            // publish never makes a version equal to its predecessor; only a rollback may.
            None if data.get(&(n.wrapping_sub(1))).is_some_and(|previous| previous.tree == d.tree) => {
                problem(format!("holds the same tree as v{} and is not a rollback", n - 1))
            }
            None => {}
        }
    }
    Ok(())
}
