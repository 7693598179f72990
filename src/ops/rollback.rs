//! `rollback`: publish an old version's tree again as the next version (history is kept, nothing
//! is rewritten), then bring its files back into the work tree under `restore`'s rules.

use crate::error::{Error, Result};
use crate::git::{self, Identity, NewVersion, ObjectId};
use crate::names::id::{AgentId, RefSpec};
use crate::ops::OpsError;
use crate::ops::publish::{Published, check_message};
use crate::ops::restore::{RestorePlan, plan_restore, recheck, refuse_unsaved, stage, swap_in, version_for};
use crate::workspace::Workspace;

#[derive(Clone, Debug, Default)]
pub struct RollbackOptions {
    pub label: Option<String>,
    pub notes: String,
    pub author: Option<String>,
    pub force: bool,
}

/// A new version whose tree is exactly an old version's, then a restore of its files.
pub fn rollback(
    ws: &Workspace,
    agent: &AgentId,
    reference: RefSpec,
    options: &RollbackOptions,
) -> Result<(Published, RestorePlan)> {
    check_message(options.label.as_deref(), &options.notes)?;
    let identity = Identity::resolve(ws.repo(), options.author.as_deref())?;
    let target = version_for(ws, agent, reference)?;
    let old = ws.version(agent, target)?;
    let mut plan = plan_restore(ws, agent, target, old.tree)?;
    // A rollback re-signs the old tree as it is: never one that holds more than the agent's files.
    let extras = ws.snapshot_extras(old.tree, &plan.contents)?;
    if !extras.is_empty() {
        return Err(OpsError::ForeignEntries {
            tag: ws.names().short(agent, target),
            agent: agent.to_string(),
            extras,
        }
        .into());
    }
    refuse_unsaved(&plan, options.force)?;

    // Stage the files first, so a write failure publishes nothing.
    let staged = stage(ws, &plan)?;
    recheck(ws, &plan)?;
    let source = match git::head_commit(ws.repo())? {
        Some(head) => head.to_string(),
        None => ObjectId::null(ws.repo().object_hash()).to_string(),
    };
    let label = options.label.clone().unwrap_or_else(|| format!("Rollback to v{target}"));
    let new = NewVersion {
        agent,
        tree: old.tree,
        label: Some(&label),
        notes: &options.notes,
        source,
        rollback_of: Some(target),
        tests_skipped: false,
        identity: &identity,
    };
    let created = git::create_version(ws.repo(), ws.names(), &new, ws.latest(agent)?, |latest| match latest {
        Some((n, tree)) if tree == old.tree => {
            Err(Error::from(OpsError::NothingToRollBack { agent: agent.to_string(), latest: n, target }))
        }
        _ => Ok(()),
    })?;
    swap_in(ws, &plan, staged)
        .map_err(|_| OpsError::RolledBackNotRestored { agent: agent.to_string(), number: created.number })?;
    plan.written = true;
    let published = Published {
        agent: agent.to_string(),
        version: created.number,
        tag: created.tag,
        commit: created.commit.to_string(),
        tree: created.tree.to_string(),
        label: created.label,
    };
    Ok((published, plan))
}
