//! Version refs: listing and exact lookup, the highest number ever seen, and all-or-nothing
//! ref transactions that survive a kill.

use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::error::{GitContext, GitError, Result, chain, git};
use super::{ObjectId, Repository};
use crate::names::id::AgentId;
use crate::names::tagname::TagNames;

/// One version tag as found among the refs: its number and the object the ref points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRef {
    pub number: u64,
    pub target: ObjectId,
}

/// Every ref under `prefix` (a full ref path ending in `/`): name and direct target, if any.
///
/// A concurrent `git pack-refs` moves loose refs into packed-refs while we walk the folder, so a
/// file can vanish between being listed and being read. That is not corruption: the listing is
/// taken again, a bounded number of times.
pub fn list_refs(repo: &gix::Repository, prefix: &str) -> Result<Vec<(String, Option<ObjectId>)>> {
    const ATTEMPTS: u32 = 50;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut out = Vec::new();
        let mut failed = None;
        let platform = repo.references().map_err(git("listing tags"))?;
        match platform.prefixed(prefix) {
            Err(e) => failed = Some(chain(&e)),
            Ok(iter) => {
                for reference in iter {
                    match reference {
                        Ok(r) => out.push((r.name().as_bstr().to_string(), r.target().try_id().map(ToOwned::to_owned))),
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                }
            }
        }
        match failed {
            None => return Ok(out),
            Some(_) if attempt < ATTEMPTS => {
                std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt.min(10))));
            }
            Some(message) => return Err(GitError::git(format!("listing {prefix}"), message)),
        }
    }
}

/// Every version of `agent`, oldest first. Reads only refs under the agent's own prefix, so the
/// cost follows this agent's versions, not the repository's tag count.
pub fn list_versions(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> Result<Vec<VersionRef>> {
    let mut versions: Vec<VersionRef> = list_refs(repo, &names.agent_ref_prefix(agent))?
        .into_iter()
        .filter_map(|(name, target)| Some(VersionRef { number: names.parse(&name)?.1, target: target? }))
        .collect();
    versions.sort_by_key(|v| v.number);
    Ok(versions)
}

/// The highest version of `agent` and its ref's target.
///
/// Found from ref *names* — the agent's loose ref folder and its packed-refs entries — then one
/// exact lookup: probing numbers would stop at a gap a deleted tag leaves (`git tag -d
/// agent/sales/v2`), and reading every loose ref file costs ~10 µs each. When the highest name
/// does not hold a version (a stray file, a ref moved by a concurrent pack-refs), every ref is
/// listed instead.
pub fn latest_version(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> Result<Option<VersionRef>> {
    let Some(highest) = version_numbers(repo, names, agent)?.pop() else { return Ok(None) };
    match find_version(repo, names, agent, highest)? {
        Some(target) => Ok(Some(VersionRef { number: highest, target })),
        None => Ok(list_versions(repo, names, agent)?.pop()),
    }
}

/// The numbers of `agent`'s version refs, sorted, read from ref names alone (the loose folder's
/// entries and packed-refs' lines), without opening a ref file.
pub fn version_numbers(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> Result<Vec<u64>> {
    let prefix = names.agent_ref_prefix(agent);
    let mut numbers: Vec<u64> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(repo.common_dir().join(&prefix)) {
        numbers.extend(entries.flatten().filter_map(|e| TagNames::parse_version(e.file_name().to_str()?)));
    }
    if let Some(packed) = repo.refs.cached_packed_buffer().context(|| "reading packed-refs".into())? {
        let iter = packed.iter_prefixed(prefix.clone().into()).context(|| "reading packed-refs".into())?;
        numbers.extend(iter.flatten().filter_map(|r| {
            let last = r.name.as_bstr().strip_prefix(prefix.as_bytes())?;
            TagNames::parse_version(std::str::from_utf8(last).ok()?)
        }));
    }
    numbers.sort_unstable();
    numbers.dedup();
    Ok(numbers)
}

/// Whether any ref exists under `prefix` (a full ref path ending in `/`), without reading one:
/// a non-empty loose folder, or a packed-refs line under it.
pub fn any_ref_under(repo: &Repository, prefix: &str) -> Result<bool> {
    if std::fs::read_dir(repo.common_dir().join(prefix)).is_ok_and(|mut entries| entries.next().is_some()) {
        return Ok(true);
    }
    match repo.refs.cached_packed_buffer().context(|| "reading packed-refs".into())? {
        Some(packed) => {
            Ok(packed.iter_prefixed(prefix.into()).context(|| "reading packed-refs".into())?.next().is_some())
        }
        None => Ok(false),
    }
}

/// Whether `agent` has any version ref here.
pub fn has_versions(repo: &Repository, names: &TagNames, agent: &AgentId) -> Result<bool> {
    any_ref_under(repo, &names.agent_ref_prefix(agent))
}

/// Whether the repository holds any version tag at all (of any agent).
pub fn any_version_tags(repo: &Repository, names: &TagNames) -> Result<bool> {
    any_ref_under(repo, &names.all_ref_prefix())
}

/// Where the highest number ever seen for each agent is kept, so a deleted tag's number is never
/// given out again: `<git dir>/agentver/numbers/<prefix>/<agent>`.
pub(super) fn seen_path(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> std::path::PathBuf {
    repo.common_dir().join("agentver/numbers").join(names.prefix()).join(agent.as_str())
}

/// The highest version number this repository has ever seen for `agent` (0 for none).
pub fn highest_seen(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> u64 {
    std::fs::read_to_string(seen_path(repo, names, agent)).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// Records that `number` exists (or existed) for `agent`; never lowers the mark.
pub fn record_seen(repo: &gix::Repository, names: &TagNames, agent: &AgentId, number: u64) -> Result<()> {
    if highest_seen(repo, names, agent) >= number {
        return Ok(());
    }
    Ok(crate::fsutil::write_quick(&seen_path(repo, names, agent), format!("{number}\n").as_bytes())?)
}

/// The object one version's ref points at, looked up by its exact name.
///
/// gix's reference lookup takes partial names and tries `refs/tags/…`, `refs/heads/…` and
/// `refs/remotes/…` variants of a name in turn, so a missing version cost four file probes, and a
/// stray `refs/heads/refs/tags/…` could answer for it. A version ref is one file holding an object
/// id, or a line in packed-refs: both are read here for the exact name only.
pub fn find_version(
    repo: &gix::Repository,
    names: &TagNames,
    agent: &AgentId,
    number: u64,
) -> Result<Option<ObjectId>> {
    find_exact(repo, &names.full(agent, number))
}

pub(super) fn find_exact(repo: &gix::Repository, full: &str) -> Result<Option<ObjectId>> {
    let loose = repo.common_dir().join(full);
    match std::fs::read(&loose) {
        Ok(bytes) => {
            // A loose ref being written is never seen half-written (git and gix rename into
            // place); anything that is not an object id is not a version.
            return Ok(std::str::from_utf8(&bytes).ok().and_then(|s| ObjectId::from_hex(s.trim().as_bytes()).ok()));
        }
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {}
        Err(e) => return Err(GitError::io(&loose, e)),
    }
    let Some(packed) = repo.refs.cached_packed_buffer().context(|| "reading packed-refs".into())? else {
        return Ok(None);
    };
    let found = packed.try_find(full).context(|| format!("reading {full}"))?;
    Ok(found.map(|r| r.target()))
}

/// One ref change of an all-or-nothing transaction: the ref must hold `from` now (`None`: must
/// not exist) and will hold `to` (`None`: deleted).
#[derive(Clone, Debug)]
pub struct RefChange {
    pub name: String,
    pub from: Option<ObjectId>,
    pub to: Option<ObjectId>,
}

impl RefChange {
    pub(super) fn edit(&self, why: &str) -> Result<RefEdit> {
        let expected = match self.from {
            Some(id) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(id)),
            None => PreviousValue::MustNotExist,
        };
        let change = match self.to {
            Some(new) => Change::Update {
                log: LogChange { mode: RefLog::AndReference, force_create_reflog: false, message: why.into() },
                expected,
                new: gix::refs::Target::Object(new),
            },
            None => Change::Delete { expected, log: RefLog::AndReference },
        };
        let name = self.name.as_str().try_into().map_err(|e: gix::validate::reference::name::Error| GitError::Git {
            context: format!("naming {}", self.name),
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Ok(RefEdit { change, name, deref: false })
    }
}

/// Agent ids that have version tags: folder names under the prefix, read from the loose tag
/// folder and packed-refs, never a ref file (listing the refs would read every version).
pub fn published_agent_ids(repo: &Repository, names: &TagNames) -> Result<Vec<AgentId>> {
    let mut ids = std::collections::BTreeSet::new();
    let folder = repo.common_dir().join("refs/tags").join(names.prefix());
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for entry in entries.flatten() {
            if let Some(id) = entry.file_name().to_str().and_then(|n| AgentId::new(n).ok()) {
                ids.insert(id);
            }
        }
    }
    if let Some(packed) = repo.refs.cached_packed_buffer().map_err(git("reading packed-refs"))? {
        for reference in packed.iter_prefixed(names.all_ref_prefix().into()).map_err(git("reading packed-refs"))? {
            let Ok(reference) = reference else { continue };
            if let Some((id, _)) = names.parse(&reference.name.as_bstr().to_string()) {
                ids.insert(id);
            }
        }
    }
    Ok(ids.into_iter().collect())
}

/// The lock files a ref transaction may leave if killed, written down before it starts and
/// removed after it ends. Every agentver ref transaction runs under agentver's lock, so a journal
/// that the next holder of that lock finds was left by a killed run, and the locks it names are
/// that run's corpses: they are removed at once instead of blocking git and agentver.
pub(super) struct Journal {
    path: std::path::PathBuf,
}

impl Journal {
    fn path(repo: &gix::Repository) -> std::path::PathBuf {
        repo.common_dir().join("agentver/transaction")
    }

    /// Clears what a killed transaction left, then records the locks this one may take.
    fn begin<'a>(repo: &gix::Repository, refs: impl IntoIterator<Item = &'a str>) -> Result<Journal> {
        recover_killed_transaction(repo);
        let path = Self::path(repo);
        let mut text = String::from("packed-refs.lock\n");
        for name in refs {
            text.push_str(name);
            text.push_str(".lock\n");
        }
        crate::fsutil::write_quick(&path, text.as_bytes())?;
        Ok(Journal { path })
    }
}

/// A transaction that returned (even with an error) released its locks: only a killed one leaves
/// its journal behind.
impl Drop for Journal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes the lock files named by a journal a killed agentver left; call holding agentver's lock.
pub(super) fn recover_killed_transaction(repo: &gix::Repository) {
    let path = Journal::path(repo);
    let Ok(text) = std::fs::read_to_string(&path) else { return };
    for line in text.lines() {
        // Only lock files under the git folder, whatever the journal says.
        if line.ends_with(".lock") && !line.split('/').any(|p| p == ".." || p.is_empty()) {
            let _ = std::fs::remove_file(repo.common_dir().join(line));
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// Makes the next packed-refs read come from disk, whatever the file's mtime says. False when
/// that failed (the caller then treats the attempt as lost and tries again).
pub(super) fn refresh_packed_refs(repo: &gix::Repository) -> bool {
    !repo.refs.packed_refs_path().is_file() || repo.refs.force_refresh_packed_buffer().is_ok()
}

/// Removes lock files that a killed agentver left behind; called holding agentver's lock.
///
/// - `<ref>.lock` for a version ref that does not exist: only agentver creates version refs, and
///   every agentver holds our lock while it does, so nobody is creating this one now.
/// - an empty `packed-refs.lock` older than a second: gix holds it empty for the microseconds of
///   a ref transaction; git's `pack-refs` writes into it at once, so an old empty one is a corpse.
pub(super) fn clear_stale_locks(repo: &gix::Repository, full_name: &str) -> Result<()> {
    let ref_lock = repo.common_dir().join(format!("{full_name}.lock"));
    if ref_lock.exists() && find_exact(repo, full_name)?.is_none() {
        let _ = std::fs::remove_file(&ref_lock);
    }
    let packed_lock = repo.common_dir().join("packed-refs.lock");
    if let Ok(meta) = std::fs::metadata(&packed_lock) {
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(1));
        if meta.len() == 0 && old {
            let _ = std::fs::remove_file(&packed_lock);
        }
    }
    Ok(())
}

/// How long a lock held by someone else (git's `packed-refs.lock`, a ref's `.lock`) is waited for
/// before failing with the file's name: git itself fails at once.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Applies several ref edits all or nothing, even if the process is killed part-way.
///
/// Loose refs are updated one file at a time, so a transaction over loose refs killed midway
/// leaves a mix. Here the refs involved are first moved into `packed-refs` unchanged (killed
/// then, every ref still holds its old value), then every edit is made by one rename of
/// `packed-refs`: the old state or the new one, never a mix. The locks a killed run leaves are
/// named in its journal and removed by the next agentver. Call it holding agentver's lock.
pub fn apply_atomically(repo: &Repository, changes: Vec<RefChange>, why: &str) -> Result<()> {
    apply_atomically_as(repo, changes, why, None)
}

/// [`apply_atomically`], the reflog's entries by `signer` (else by the repository's committer):
/// for refs agentver moves with an identity of its own, such as its notes.
pub fn apply_atomically_as(
    repo: &Repository,
    changes: Vec<RefChange>,
    why: &str,
    signer: Option<&gix::actor::Signature>,
) -> Result<()> {
    let edits = changes.iter().map(|c| c.edit(why)).collect::<Result<Vec<_>>>()?;
    use gix::lock::acquire::Fail;
    use gix::refs::file::transaction::PackedRefs;
    let mut buffer = gix::date::parse::TimeBuf::default();
    let committer = match signer {
        Some(s) => Some(s.to_ref(&mut buffer)),
        None => repo.committer().and_then(std::result::Result::ok),
    };
    let transact = |edits: Vec<RefEdit>| -> Result<()> {
        if edits.is_empty() {
            return Ok(());
        }
        repo.refs
            .transaction()
            .packed_refs(PackedRefs::DeletionsAndNonSymbolicUpdatesRemoveLooseSourceReference(Box::new(&repo.objects)))
            .prepare(
                edits,
                Fail::AfterDurationWithBackoff(LOCK_PATIENCE),
                Fail::AfterDurationWithBackoff(LOCK_PATIENCE),
            )
            .and_then(|t| t.commit(committer))
            .map_err(|e| lock_error(repo, why, &e.to_string()))?;
        Ok(())
    };
    let mut pack = Vec::new();
    for edit in &edits {
        let name = edit.name.as_bstr().to_string();
        if repo.common_dir().join(&name).is_file()
            && let Some(current) = find_exact(repo, &name)?
        {
            pack.push(RefEdit {
                change: Change::Update {
                    log: LogChange { mode: RefLog::AndReference, force_create_reflog: false, message: why.into() },
                    expected: PreviousValue::MustExistAndMatch(gix::refs::Target::Object(current)),
                    new: gix::refs::Target::Object(current),
                },
                name: edit.name.clone(),
                deref: false,
            });
        }
    }
    let names: Vec<String> = edits.iter().map(|e| e.name.as_bstr().to_string()).collect();
    let journal = Journal::begin(repo, names.iter().map(String::as_str))?;
    transact(pack)?;
    refresh_packed_refs(repo);
    transact(edits)?;
    drop(journal);
    Ok(())
}

/// A failed ref transaction, naming the lock file when one is in the way.
pub(super) fn lock_error(repo: &gix::Repository, context: &str, message: &str) -> GitError {
    let packed_lock = repo.common_dir().join("packed-refs.lock");
    if message.contains("lock") && packed_lock.exists() {
        return GitError::Locked { path: packed_lock.display().to_string() };
    }
    GitError::git(context, message)
}
