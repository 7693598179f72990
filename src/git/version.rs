//! Creating the next version of an agent: its objects and its one tag ref, racing other publishers.

use std::hash::{BuildHasher, Hasher};

use gix::refs::transaction::RefEdit;

use super::error::{GitError, Result, chain, git};
use super::identity::Identity;
use super::objects::{TagData, read_tag, write_version_objects};
use super::refs::{
    LOCK_PATIENCE, RefChange, clear_stale_locks, find_version, highest_seen, latest_version, lock_error, record_seen,
    recover_killed_transaction, refresh_packed_refs,
};
use super::{ObjectId, Repository};
use crate::names::id::AgentId;
use crate::names::tagmessage::TagMessage;
use crate::names::tagname::TagNames;

/// A version just created.
#[derive(Clone, Debug)]
pub struct Created {
    pub number: u64,
    pub tag: String,
    /// The label written (the default `<id> v<N>` when none was given).
    pub label: String,
    pub commit: ObjectId,
    pub tree: ObjectId,
}

/// What to write for a new version; the number is chosen by [`create_version`].
pub struct NewVersion<'a> {
    pub agent: &'a AgentId,
    pub tree: ObjectId,
    pub label: Option<&'a str>,
    pub notes: &'a str,
    pub source: String,
    pub rollback_of: Option<u64>,
    /// Published past `require_tests` (the `Agentver-Tests: skipped` trailer).
    pub tests_skipped: bool,
    pub identity: &'a Identity,
}

/// Most attempts at taking the next number before giving up.
pub(super) const MAX_ATTEMPTS: u32 = 200;

/// Creates the next version of an agent: snapshot commit (parent = previous version's commit) and
/// annotated tag. The tag ref is created with "must not exist", the one atomic step; when another
/// publisher takes the number first, the numbers are read again and the next one is tried.
///
/// `still_wanted` is asked before each attempt with the current latest version (number and tree),
/// so a publish whose content became latest meanwhile can stop with "nothing to publish".
///
/// `latest` is the agent's latest version as the caller has just read it; after a lost race it is
/// read again here.
pub fn create_version<E: From<GitError>>(
    repo: &gix::Repository,
    names: &TagNames,
    new: &NewVersion<'_>,
    mut latest: Option<(u64, TagData)>,
    mut still_wanted: impl FnMut(Option<(u64, ObjectId)>) -> Result<(), E>,
) -> Result<Created, E> {
    let mut attempt = 0;
    let mut locked_since: Option<std::time::Instant> = None;
    loop {
        attempt += 1;
        if attempt > 1 {
            latest = match latest_version(repo, names, new.agent)? {
                Some(v) => Some((v.number, read_tag(repo, v.target)?)),
                None => None,
            };
        }
        still_wanted(latest.as_ref().map(|(n, t)| (*n, t.tree)))?;
        // One more than the highest number ever seen, so a deleted tag's number is not reused.
        let latest_number = latest.as_ref().map(|(n, _)| *n);
        let seen = highest_seen(repo, names, new.agent);
        let number = latest_number.unwrap_or(0).max(seen) + 1;
        let signature = new.identity.0.clone();
        let label = new
            .label
            .map(str::to_owned)
            .unwrap_or_else(|| crate::names::tagmessage::default_label(new.agent.as_str(), number));

        let short = names.short(new.agent, number);
        let message = TagMessage {
            label: label.clone(),
            notes: new.notes.to_owned(),
            agent: Some(new.agent.to_string()),
            version: Some(number),
            source: Some(new.source.clone()),
            rollback_of: new.rollback_of,
            tests_skipped: new.tests_skipped,
        };
        let parent = latest.as_ref().map(|(_, t)| t.commit);
        let (commit_id, tag_id) =
            write_version_objects(repo, new.tree, parent, [&signature, &signature, &signature], &short, &message)?;

        let full = names.full(new.agent, number);
        let edit = RefChange { name: full.clone(), from: None, to: Some(tag_id) }.edit("agentver: publish")?;
        let Some(result) = claim_number(repo, names, new, number, (latest_number, seen), edit)? else {
            if attempt < MAX_ATTEMPTS {
                continue;
            }
            return Err(GitError::git(format!("creating {full}"), "every attempt lost its race").into());
        };
        match result {
            Ok(_) => {
                record_seen(repo, names, new.agent, number)?;
                return Ok(Created { number, tag: short, label, commit: commit_id, tree: new.tree });
            }
            // Another publisher took this number: read the numbers again and take the next.
            Err(e) if e.is_conflict() && attempt < MAX_ATTEMPTS => continue,
            // A lock held by a concurrent writer (another publisher, `git pack-refs`): wait a little.
            // ...but not for minutes: a lock git left behind fails fast, naming the file.
            Err(e)
                if chain(&e).contains("lock")
                    && locked_since.get_or_insert_with(std::time::Instant::now).elapsed() > LOCK_PATIENCE =>
            {
                return Err(lock_error(repo, &format!("creating {full}"), &chain(&e)).into());
            }
            Err(e) if chain(&e).contains("lock") && attempt < MAX_ATTEMPTS => {
                let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish() % 20;
                std::thread::sleep(std::time::Duration::from_millis(2 + jitter));
            }
            Err(e) => return Err(git(format!("creating {full}"))(e).into()),
        }
    }
}

/// Creates the version ref for `number` under agentver's lock, unless another publisher moved on
/// since `reading` (latest's number and the highest-seen mark): then `None`, and the caller reads
/// again. The inner result is the ref transaction's own.
pub(super) fn claim_number(
    repo: &Repository,
    names: &TagNames,
    new: &NewVersion<'_>,
    number: u64,
    reading: (Option<u64>, u64),
    edit: RefEdit,
) -> Result<Option<std::result::Result<(), gix::Error>>> {
    let (latest_number, seen) = reading;
    // Only agentver processes take this lock, and only around the ref transaction. Holding it,
    // nobody else can create a version ref: `git pack-refs` may move refs, never create them.
    let _guard = crate::git::lock::exclusive(&repo.common_dir().join("agentver.lock"))?;
    // The parent and number were chosen from a reading taken before the lock, and gix re-reads
    // packed-refs only when its mtime grows (mtimes tick coarsely: a `pack-refs` just after our
    // reading can look unchanged). So packed-refs is re-read, then: every publisher numbers
    // max(latest, seen) + 1 under this lock, so one that moved on took latest + 1 or our number,
    // or raised the mark. Two exact lookups tell.
    let next = latest_number.unwrap_or(0) + 1;
    let moved = !refresh_packed_refs(repo)
        || find_version(repo, names, new.agent, number)?.is_some()
        || (next != number && find_version(repo, names, new.agent, next)?.is_some())
        || highest_seen(repo, names, new.agent) != seen;
    if moved {
        return Ok(None);
    }
    // A killed publish leaves at most this ref's lock and an empty packed-refs.lock, which
    // clear_stale_locks recognises; a journal (as multi-ref transactions keep) would cost two file
    // writes on every publish for nothing more.
    clear_stale_locks(repo, &names.full(new.agent, number))?;
    recover_killed_transaction(repo);
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let committer = Some(new.identity.0.to_ref(&mut time_buf));
    Ok(Some(repo.edit_references_as([edit], committer).map(|_| ())))
}
