//! `publish`: snapshot drafts as new numbered versions (annotated tags over snapshot commits).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::diagnostic::Diagnostic;
use crate::git::ObjectId;
use crate::git::{self, Identity, NewVersion};
use crate::names::id::AgentId;
use crate::ops::OpsError;
use crate::workspace::bundle::{self, Bundle};
use crate::workspace::{DraftAt, Workspace};

/// Which agents to publish.
#[derive(Clone, Debug)]
pub enum Selection {
    /// These agents; an unchanged one refuses the whole command.
    Named(Vec<AgentId>),
    /// Every agent with a draft; unchanged ones are skipped.
    All,
}

#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    pub label: Option<String>,
    pub notes: String,
    /// `Name <email>`, overriding the git identity.
    pub author: Option<String>,
    pub at: DraftAt,
    /// Publish even when latest came from a commit the draft's commit does not contain.
    pub force: bool,
    /// Publish past `[publish] require_tests` (recorded as the `Agentver-Tests: skipped` trailer).
    pub skip_tests: bool,
}

/// One version just published: the `--json` shape.
#[derive(Clone, Debug, Serialize)]
pub struct Published {
    pub agent: String,
    pub version: u64,
    pub tag: String,
    pub commit: String,
    pub tree: String,
    pub label: String,
}

#[derive(Clone, Debug, Default)]
pub struct PublishReport {
    pub published: Vec<Published>,
    /// Agents skipped because their draft equals their latest version.
    pub unchanged: Vec<(AgentId, u64)>,
    pub warnings: Vec<Diagnostic>,
}

/// The most a version's label and notes may hold together: a tag message is read on every
/// `log`, and a pasted file is not what notes are for.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Refuses a label and notes over [`MAX_MESSAGE_BYTES`] together, and a bad label.
pub fn check_message(label: Option<&str>, notes: &str) -> Result<()> {
    let size = label.map_or(0, str::len) + notes.len();
    if size > MAX_MESSAGE_BYTES {
        return Err(OpsError::MessageTooLong { size, limit: MAX_MESSAGE_BYTES }.into());
    }
    if notes.chars().any(|c| hidden(c) && !matches!(c, '\n' | '\t')) {
        return Err(OpsError::BadNotes.into());
    }
    label.map_or(Ok(()), check_label)
}

/// Characters no label or note may hold: control characters (a NUL makes a commit `git fsck
/// --strict` rejects and a remote with `receive.fsckObjects` refuses) and the bidirectional
/// overrides and isolates that make text read other than it is.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `text` without the characters a label may not hold (a commit subject taken as a label).
pub fn plain(text: &str) -> String {
    text.chars().filter(|c| !hidden(*c)).collect()
}

/// Refuses labels git would mangle or that would break the message format.
pub fn check_label(label: &str) -> Result<()> {
    if label.trim().is_empty() || label.chars().any(hidden) {
        return Err(OpsError::BadLabel.into());
    }
    Ok(())
}

/// `Agentver-Source`: HEAD's commit, with `+dirty` when the draft's files differ from HEAD's.
pub fn source_trailer(ws: &Workspace, bundle: &Bundle, at: &DraftAt) -> Result<String> {
    if let DraftAt::Rev(rev) = at {
        return Ok(ws.rev_commit(rev)?.to_string());
    }
    let repo = ws.repo();
    let Some(head) = git::head_commit(repo)? else {
        return Ok(format!("{}+dirty", ObjectId::null(repo.object_hash())));
    };
    let head_tree = git::commit_tree(repo, head)?;
    for (path, bytes) in &bundle.files {
        let in_head = git::blob_at(repo, head_tree, &format!("{}{path}", ws.prefix()))?;
        if in_head != Some(git::blob_id(repo, bytes)?) {
            return Ok(format!("{head}+dirty"));
        }
    }
    Ok(head.to_string())
}

/// The commit the drafts are read from (`None`: the work tree of a repository with no commit).
fn draft_commit(ws: &Workspace, at: &DraftAt) -> Result<Option<git::ObjectId>> {
    Ok(match at {
        DraftAt::Rev(rev) => Some(ws.rev_commit(rev)?),
        DraftAt::WorkTree => git::head_commit(ws.repo())?,
    })
}

/// `[publish] require_tests`: the tree's tests (`agentver test`'s notes) ran and all passed.
fn tests_passed(ws: &Workspace, agent: &AgentId, tree: git::ObjectId) -> Result<()> {
    let summary = ws.test_results(&tree.to_string())?.map(|t| t.summary(agent.as_str()));
    let why = match summary {
        None => "no test has run on this draft".to_owned(),
        Some(s) if s.total == 0 => "no test of it has run on this draft".to_owned(),
        Some(s) if s.passed < s.total => {
            format!("{} of its {} tests failed on this draft", s.total - s.passed, s.total)
        }
        Some(_) => return Ok(()),
    };
    Err(OpsError::TestsRequired { agent: agent.to_string(), why }.into())
}

pub fn publish(ws: &Workspace, selection: &Selection, options: &PublishOptions) -> Result<PublishReport> {
    check_message(options.label.as_deref(), &options.notes)?;
    let identity = Identity::resolve(ws.repo(), options.author.as_deref())?;
    let source = ws.drafts(&options.at)?;
    let (ids, named) = match selection {
        Selection::Named(ids) => (ids.clone(), true),
        Selection::All => (bundle::list_agents(source.as_ref())?.0, false),
    };

    // Validate everything before writing anything.
    crate::ops::fetch::check_numbering(ws, &ids, &options.at)?;
    let draft_commit = draft_commit(ws, &options.at)?;
    let mut report = PublishReport::default();
    let mut pending = Vec::new();
    for id in &ids {
        let bundle = bundle::load(source.as_ref(), id)?;
        // A tag is immutable and pushed: a literal secret must never reach one.
        for (path, bytes) in &bundle.files {
            if let Some(found) = crate::format::secrets::diagnostics(&source.display(path), bytes).into_iter().next() {
                return Err(Error::invalid(found));
            }
        }
        let tree = git::tree_id(ws.repo(), &bundle.files, false)?;
        report.warnings.extend(bundle.warnings.iter().cloned());
        match ws.latest(id)? {
            Some((n, data)) if data.tree == tree => report.unchanged.push((id.clone(), n)),
            latest => {
                if let Some((_, data)) = &latest
                    && !options.force
                {
                    ws.check_no_revert(id, data, draft_commit)?;
                }
                if ws.config().publish.require_tests && !options.skip_tests {
                    tests_passed(ws, id, tree)?;
                }
                pending.push((bundle, tree, latest))
            }
        }
    }
    if named && !report.unchanged.is_empty() {
        return Err(OpsError::NothingToPublish {
            unchanged: report.unchanged.iter().map(|(id, n)| (id.to_string(), *n)).collect(),
        }
        .into());
    }

    for (bundle, tree, latest) in pending {
        let written = git::tree_id(ws.repo(), &bundle.files, true)?;
        debug_assert_eq!(written, tree);
        let source = source_trailer(ws, &bundle, &options.at)?;
        let new = NewVersion {
            agent: &bundle.agent,
            tree,
            label: options.label.as_deref(),
            notes: &options.notes,
            source,
            rollback_of: None,
            tests_skipped: options.skip_tests && ws.config().publish.require_tests,
            identity: &identity,
        };
        let agent = bundle.agent.to_string();
        let created = git::create_version(ws.repo(), ws.names(), &new, latest, |latest| match latest {
            // Someone published this very content while we were preparing.
            Some((n, latest_tree)) if latest_tree == tree => {
                Err(Error::from(OpsError::NothingToPublish { unchanged: vec![(agent.clone(), n)] }))
            }
            _ => Ok(()),
        })?;
        report.published.push(Published {
            agent,
            version: created.number,
            tag: created.tag,
            commit: created.commit.to_string(),
            tree: created.tree.to_string(),
            label: created.label,
        });
    }
    Ok(report)
}
