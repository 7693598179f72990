//! `restore`: bring a version's files back into the work tree without losing work.
//!
//! The rule: a file may be overwritten only when its current content can be found again, in HEAD,
//! in the index, or in a published version of the agent. Anything else is work that exists nowhere
//! else, and restoring over it needs `--force`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil::Staged;
use crate::git;
use crate::git::ObjectId;
use crate::names::id::{AgentId, RefSpec};
use crate::ops::OpsError;
use crate::workspace::bundle::{self, Files};
use crate::workspace::source::Source;
use crate::workspace::{Version, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    /// The file does not exist and will be created.
    Create,
    /// The file differs and will be replaced.
    Write,
    /// The file already holds the version's bytes.
    Unchanged,
}

#[derive(Clone, Debug, Serialize)]
pub struct FilePlan {
    pub path: String,
    pub action: FileAction,
    /// True when the current content exists nowhere else (HEAD, index, versions).
    pub unsaved: bool,
    /// The content the plan was made against, checked again right before the rename.
    #[serde(skip)]
    seen: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SharedFile {
    pub path: String,
    /// Other agents whose drafts use this file.
    pub agents: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RestorePlan {
    pub agent: String,
    pub version: u64,
    pub files: Vec<FilePlan>,
    pub shared: Vec<SharedFile>,
    /// False for `--dry-run` and refusals.
    pub written: bool,
    #[serde(skip)]
    pub(crate) contents: Files,
}

impl RestorePlan {
    pub fn unsaved(&self) -> Vec<&str> {
        self.files.iter().filter(|f| f.unsaved).map(|f| f.path.as_str()).collect()
    }

    /// A digest of what the files the plan would overwrite hold now (path and bytes, or their
    /// absence): an overwrite confirmed against one content is refused once it changed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(f.path.as_bytes());
            match &f.seen {
                Some(bytes) => {
                    h.update([1]);
                    h.update((bytes.len() as u64).to_be_bytes());
                    h.update(bytes);
                }
                None => h.update([0]),
            }
        }
        h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn changed_meanwhile(path: &str) -> Error {
    OpsError::ChangedDuringRestore { path: path.to_string() }.into()
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RestoreOptions {
    pub force: bool,
    pub dry_run: bool,
}

/// What restoring `agent` version `number` (snapshot `tree`) would do, without writing.
pub fn plan_restore(ws: &Workspace, agent: &AgentId, number: u64, tree: ObjectId) -> Result<RestorePlan> {
    let repo = ws.repo();
    // Only what the agent links, at paths built from validated names: a forged tree's other
    // entries (`../x`, `/etc/x`, `.git/hooks/x`) are never written; `verify` reports them.
    let contents = bundle::load(&ws.version_source(agent, number, tree), agent)?.files;
    let work_tree = ws.work_tree()?;

    // Content found here can be recovered, so overwriting it loses nothing.
    let head_tree = git::head_commit(repo)?.map(|c| git::commit_tree(repo, c)).transpose()?;
    let index = git::Index::read(repo)?;
    let targets: Vec<ObjectId> = ws.versions(agent)?.iter().map(|v| v.target).collect();
    let version_trees: Vec<ObjectId> =
        crate::git::history_cache::read_tags(repo, ws.names(), agent, &targets, ws.writes_caches())?
            .into_iter()
            .map(|c| c.data.tree)
            .collect();

    let mut files = Vec::new();
    for (path, bytes) in &contents {
        let current = work_tree.read(path)?;
        let action = match &current {
            None => FileAction::Create,
            Some(c) if c == bytes => FileAction::Unchanged,
            Some(_) => FileAction::Write,
        };
        let unsaved = match (&current, action) {
            (Some(c), FileAction::Write) => {
                let id = git::blob_id(repo, c)?;
                let repo_path = format!("{}{path}", ws.prefix());
                let in_head = match head_tree {
                    Some(t) => git::blob_at(repo, t, &repo_path)? == Some(id),
                    None => false,
                };
                let in_index = index.blob_at(&repo_path) == Some(id);
                let mut in_version = false;
                for t in &version_trees {
                    if git::blob_at(repo, *t, path)? == Some(id) {
                        in_version = true;
                        break;
                    }
                }
                !(in_head || in_index || in_version)
            }
            _ => false,
        };
        files.push(FilePlan { path: path.clone(), action, unsaved, seen: current });
    }

    // Shared files: tools and workflows that other agents' drafts use too.
    let mut shared = Vec::new();
    let own = agent.draft_path();
    let linked: BTreeSet<&str> = contents.keys().map(String::as_str).filter(|p| *p != own).collect();
    if !linked.is_empty() {
        let (ids, _) = bundle::list_agents(&work_tree)?;
        let mut users: Vec<(String, Vec<String>)> = linked.iter().map(|p| (p.to_string(), Vec::new())).collect();
        for other in ids.iter().filter(|id| *id != agent) {
            // An invalid draft cannot say what it links; it is left out of this note.
            if let Ok(b) = bundle::load(&work_tree, other) {
                for (path, agents) in users.iter_mut() {
                    if b.files.contains_key(path) {
                        agents.push(other.to_string());
                    }
                }
            }
        }
        shared = users
            .into_iter()
            .filter(|(_, a)| !a.is_empty())
            .map(|(path, agents)| SharedFile { path, agents })
            .collect();
    }
    Ok(RestorePlan { agent: agent.to_string(), version: number, files, shared, written: false, contents })
}

/// The refusal for a plan that would overwrite unsaved work, unless forced.
pub(crate) fn refuse_unsaved(plan: &RestorePlan, force: bool) -> Result<()> {
    let unsaved = plan.unsaved();
    if unsaved.is_empty() || force {
        return Ok(());
    }
    Err(OpsError::UnsavedWork { agent: plan.agent.clone(), files: unsaved.iter().map(ToString::to_string).collect() }
        .into())
}

/// Writes every file the plan changes to a temporary file beside it, renaming nothing yet.
pub(crate) fn stage(ws: &Workspace, plan: &RestorePlan) -> Result<Vec<Staged>> {
    let work_tree = ws.work_tree()?;
    let mut staged = Vec::new();
    for file in plan.files.iter().filter(|f| f.action != FileAction::Unchanged) {
        // What `git checkout` would write: line endings as the attributes and autocrlf say.
        let bytes = work_tree.checkout_bytes(&file.path, &plan.contents[&file.path])?;
        staged.push(Staged::write(&work_tree.checked_path(&file.path)?, &bytes)?);
    }
    Ok(staged)
}

/// Refuses when a file changed since the plan read it: an editor saving meanwhile must not
/// lose its write. Called right before the renames.
pub(crate) fn recheck(ws: &Workspace, plan: &RestorePlan) -> Result<()> {
    let work_tree = ws.work_tree()?;
    for file in plan.files.iter().filter(|f| f.action != FileAction::Unchanged) {
        if work_tree.read(&file.path)? != file.seen {
            return Err(changed_meanwhile(&file.path));
        }
    }
    Ok(())
}

/// Renames the staged files into place without losing an edit saved meanwhile.
///
/// Each file being replaced is first kept as a hard link. After the re-check and the renames,
/// the kept files are compared with what the re-check read: an editor whose save landed in
/// the replaced file in between (it opened the file before the rename) gets every file put
/// back as it was, and the restore is refused.
pub(crate) fn swap_in(ws: &Workspace, plan: &RestorePlan, staged: Vec<Staged>) -> Result<()> {
    let kept: Vec<Option<std::path::PathBuf>> = staged
        .iter()
        .map(|s| {
            let target = s.target();
            let name = target.file_name()?.to_string_lossy().into_owned();
            let backup = target.with_file_name(format!(".{name}.agentver-{}.bak", std::process::id()));
            let _ = std::fs::remove_file(&backup);
            std::fs::hard_link(target, &backup).ok().map(|()| backup)
        })
        .collect();
    let result = recheck(ws, plan).and_then(|()| {
        let before: Vec<Option<Vec<u8>>> = staged.iter().map(|s| std::fs::read(s.target()).ok()).collect();
        let targets: Vec<std::path::PathBuf> = staged.iter().map(|s| s.target().to_owned()).collect();
        for s in staged {
            s.commit()?;
        }
        let changed =
            kept.iter().zip(&before).position(|(k, b)| k.as_ref().is_some_and(|k| std::fs::read(k).ok() != *b));
        if let Some(i) = changed {
            // Put every file back: the kept ones by rename, the created ones removed.
            for (target, backup) in targets.iter().zip(&kept) {
                match backup {
                    Some(b) => std::fs::rename(b, target).map_err(|e| Error::io(target, e))?,
                    None => {
                        let _ = std::fs::remove_file(target);
                    }
                }
            }
            let path = targets[i].strip_prefix(ws.root()).unwrap_or(&targets[i]).display().to_string();
            return Err(changed_meanwhile(&path));
        }
        Ok(())
    });
    for backup in kept.iter().flatten() {
        let _ = std::fs::remove_file(backup);
    }
    result
}

/// Writes every staged file, then renames them into place.
fn write_plan(ws: &Workspace, plan: &mut RestorePlan) -> Result<()> {
    let staged = stage(ws, plan)?;
    swap_in(ws, plan, staged)?;
    plan.written = true;
    Ok(())
}

pub(crate) fn version_for(ws: &Workspace, agent: &AgentId, reference: RefSpec) -> Result<u64> {
    match ws.version_named(agent, reference, &crate::workspace::DraftAt::WorkTree)? {
        Version::Number(n) => Ok(n),
        Version::Draft => Err(OpsError::RestoreDraft { agent: agent.to_string() }.into()),
    }
}

/// Writes a version's files back into the work tree, byte for byte.
pub fn restore(ws: &Workspace, agent: &AgentId, reference: RefSpec, options: RestoreOptions) -> Result<RestorePlan> {
    let number = version_for(ws, agent, reference)?;
    let data = ws.version(agent, number)?;
    let mut plan = plan_restore(ws, agent, number, data.tree)?;
    if options.dry_run {
        return Ok(plan);
    }
    refuse_unsaved(&plan, options.force)?;
    write_plan(ws, &mut plan)?;
    Ok(plan)
}
