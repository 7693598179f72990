//! The git layer, the only user of gix: snapshot trees and commits, version tags, ref transactions,
//! reads at a revision, opening the repository as git would.
//!
//! Everything here goes through gix. Writes add objects and create exactly one ref per version;
//! no branch, HEAD, index or work-tree file is touched.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};

use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{Entry, EntryKind};
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

pub mod clock;
pub mod history_cache;
pub mod lock;

pub use gix::{ObjectId, Repository};

/// The files of one snapshot, by workspace-relative path, byte for byte.
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;
use crate::error::{Error, Result};

mod error;
pub mod tree;

use crate::names::id::AgentId;
use crate::names::tagmessage::TagMessage;
use crate::names::tagname::TagNames;
use crate::names::treeid::TreeId;
use error::{GitContext, chain, git};

/// Opens the repository `start` is in, as git would: `GIT_DIR` and `GIT_WORK_TREE` are honoured,
/// and repositories whose refs or objects agentver cannot read correctly are refused by name
/// rather than answered wrongly.
pub fn open_repository(start: &std::path::Path) -> Result<gix::Repository> {
    let repo = match gix::discover_with_environment_overrides(start) {
        Ok(repo) => repo,
        Err(e) => {
            if let Some(dir) = sha256_repository_near(start) {
                return Err(Error::Unsupported {
                    path: dir.display().to_string(),
                    what: "a SHA-256 repository (extensions.objectFormat = sha256)".into(),
                    hint: "use a SHA-1 repository: git init --object-format=sha1, then push your branches into it"
                        .into(),
                });
            }
            if std::env::var_os("GIT_DIR").is_some() {
                return Err(Error::Git {
                    context: "opening the repository GIT_DIR names".into(),
                    message: chain(&e),
                    source: Some(Box::new(e)),
                });
            }
            return Err(Error::NotARepository { path: start.to_owned() });
        }
    };
    let config = repo.config_snapshot();
    let setting = |key: &str| config.string(key).map(|v| v.to_string().to_ascii_lowercase());
    let path = repo.git_dir().display().to_string();
    if setting("extensions.refStorage").is_some_and(|v| v != "files") {
        return Err(Error::Unsupported {
            path,
            what: "a reftable repository (extensions.refStorage = reftable)".into(),
            hint: "convert it to loose and packed refs: git refs migrate --ref-format=files".into(),
        });
    }
    let promisor =
        repo.remote_names().iter().any(|r| config.boolean(format!("remote.{r}.promisor").as_str()) == Some(true));
    if setting("extensions.partialClone").is_some() || promisor {
        return Err(Error::Unsupported {
            path,
            what: "a partial clone, which lacks the objects of versions it has not checked out".into(),
            hint: "fetch every object: git config --unset remote.origin.partialclonefilter && git fetch --refetch origin && git config --unset extensions.partialClone".into(),
        });
    }
    Ok(repo)
}

/// The git folder of a SHA-256 repository at or above `start`, which gix cannot open here.
fn sha256_repository_near(start: &std::path::Path) -> Option<std::path::PathBuf> {
    let candidates = std::env::var_os("GIT_DIR")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(start.ancestors().flat_map(|d| [d.join(".git"), d.to_owned()]));
    for dir in candidates {
        let Ok(text) = std::fs::read_to_string(dir.join("config")) else { continue };
        let lower = text.to_ascii_lowercase().replace([' ', '\t'], "");
        if lower.contains("objectformat=sha256") {
            return Some(dir);
        }
        if dir.join("HEAD").is_file() {
            return None;
        }
    }
    None
}

/// Who signs and when.
#[derive(Clone, Debug)]
pub struct Identity(pub gix::actor::Signature);

impl Identity {
    /// `--author "Name <email>"` when given, else the committer identity git would use
    /// (`GIT_COMMITTER_NAME`/`EMAIL`, then `committer.*`, then `user.name`/`user.email`, then
    /// `EMAIL`); time from `GIT_COMMITTER_DATE` or now.
    pub fn resolve(repo: &gix::Repository, author: Option<&str>) -> Result<Self> {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let time = match env("GIT_COMMITTER_DATE") {
            Some(date) => gix::date::parse(&date, None)
                .or_else(|_| gix::date::parse(&date, Some(gix::date::Zoned::now())))
                .map_err(|e| Error::BadCommitterDate { date: date.to_string(), problem: e.to_string() })?,
            None => crate::git::clock::now(),
        };
        if let Some(author) = author {
            let (name, email) = parse_author(author).ok_or_else(|| Error::BadAuthor { author: author.to_owned() })?;
            return Ok(Identity(gix::actor::Signature { name: name.into(), email: email.into(), time }));
        }
        let config = repo.config_snapshot();
        let setting = |key: &str| config.string(key).map(|v| v.to_string()).filter(|v| !v.is_empty());
        let name = env("GIT_COMMITTER_NAME").or_else(|| setting("committer.name")).or_else(|| setting("user.name"));
        let email = env("GIT_COMMITTER_EMAIL")
            .or_else(|| setting("committer.email"))
            .or_else(|| setting("user.email"))
            .or_else(|| env("EMAIL"));
        match (name, email) {
            (None, None) => Err(Error::NoIdentity { missing: "a name and an email (user.name, user.email)" }),
            (Some(name), Some(email)) => {
                Ok(Identity(gix::actor::Signature { name: name.into(), email: email.into(), time }))
            }
            (name, _) => Err(Error::NoIdentity {
                missing: if name.is_some() { "an email (user.email)" } else { "a name (user.name)" },
            }),
        }
    }
}

fn parse_author(s: &str) -> Option<(&str, &str)> {
    let (name, rest) = s.split_once('<')?;
    let email = rest.strip_suffix('>')?;
    let name = name.trim();
    (!name.is_empty() && !email.is_empty() && !email.contains(['<', '>', '\n']) && !name.contains('\n'))
        .then_some((name, email))
}

/// The id git gives these bytes as a blob, computed without writing anything.
pub fn blob_id(repo: &gix::Repository, bytes: &[u8]) -> Result<ObjectId> {
    gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, bytes).map_err(|e| Error::Git {
        context: "hashing a blob".into(),
        message: e.to_string(),
        source: Some(Box::new(e)),
    })
}

/// The tree holding `files` at their paths. With `write`, its blobs and trees are stored;
/// without, only the id is computed (status, diff and "nothing to publish" write nothing).
pub fn tree_id(repo: &gix::Repository, files: &Files, write: bool) -> Result<ObjectId> {
    #[derive(Default)]
    struct Dir {
        files: BTreeMap<String, ObjectId>,
        dirs: BTreeMap<String, Dir>,
    }
    let mut root = Dir::default();
    for (path, bytes) in files {
        let id = if write {
            repo.write_blob(bytes).map_err(git(format!("writing {path}")))?.detach()
        } else {
            blob_id(repo, bytes)?
        };
        let mut dir = &mut root;
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        for part in parts {
            dir = dir.dirs.entry(part.to_owned()).or_default();
        }
        dir.files.insert(name.to_owned(), id);
    }
    fn build(repo: &gix::Repository, dir: &Dir, write: bool) -> Result<ObjectId> {
        let mut entries = Vec::with_capacity(dir.files.len() + dir.dirs.len());
        for (name, sub) in &dir.dirs {
            entries.push(Entry {
                mode: EntryKind::Tree.into(),
                filename: name.as_str().into(),
                oid: build(repo, sub, write)?,
            });
        }
        for (name, id) in &dir.files {
            entries.push(Entry { mode: EntryKind::Blob.into(), filename: name.as_str().into(), oid: *id });
        }
        entries.sort();
        let tree = gix::objs::Tree { entries };
        if write {
            Ok(repo.write_object(&tree).map_err(git("writing a tree"))?.detach())
        } else {
            let mut buf = Vec::new();
            gix::objs::WriteTo::write_to(&tree, &mut buf).map_err(|e| Error::io("tree", e))?;
            gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Tree, &buf).map_err(|e| Error::Git {
                context: "hashing a tree".into(),
                message: e.to_string(),
                source: Some(Box::new(e)),
            })
        }
    }
    build(repo, &root, write)
}

/// A pinned tree (channels.toml's own type) is compared with git's ids by bytes.
impl PartialEq<TreeId> for ObjectId {
    fn eq(&self, other: &TreeId) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

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
            Some(message) => return Err(Error::git(format!("listing {prefix}"), message)),
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
fn seen_path(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> std::path::PathBuf {
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
    crate::fsutil::write_quick(&seen_path(repo, names, agent), format!("{number}\n").as_bytes())
}

/// Whether commit `ancestor` is `descendant` or one of its ancestors; None when `ancestor` is not
/// in the repository (a shallow or partial clone), so containment cannot be proven.
pub fn contains(repo: &gix::Repository, ancestor: ObjectId, descendant: ObjectId) -> Result<Option<bool>> {
    if ancestor == descendant {
        return Ok(Some(true));
    }
    if !repo.has_object(ancestor) {
        return Ok(None);
    }
    let base = repo.merge_base(ancestor, descendant).map_err(|e| Error::Git {
        context: format!("finding whether {descendant} contains {ancestor}"),
        message: e.to_string(),
        source: Some(Box::new(e)),
    });
    match base {
        Ok(base) => Ok(Some(base.is_some_and(|b| b.detach() == ancestor))),
        Err(_) if repo.is_shallow().unwrap_or(false) => Ok(None),
        Err(e) => Err(e),
    }
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

fn find_exact(repo: &gix::Repository, full: &str) -> Result<Option<ObjectId>> {
    let loose = repo.common_dir().join(full);
    match std::fs::read(&loose) {
        Ok(bytes) => {
            // A loose ref being written is never seen half-written (git and gix rename into
            // place); anything that is not an object id is not a version.
            return Ok(std::str::from_utf8(&bytes).ok().and_then(|s| ObjectId::from_hex(s.trim().as_bytes()).ok()));
        }
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {}
        Err(e) => return Err(Error::io(&loose, e)),
    }
    let Some(packed) = repo.refs.cached_packed_buffer().context(|| "reading packed-refs".into())? else {
        return Ok(None);
    };
    let found = packed.try_find(full).context(|| format!("reading {full}"))?;
    Ok(found.map(|r| r.target()))
}

/// What a version tag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagData {
    pub message: TagMessage,
    pub tagger_name: String,
    pub tagger_email: String,
    pub time: gix::date::Time,
    pub commit: ObjectId,
    pub tree: ObjectId,
    /// False for a lightweight tag (a ref straight to a commit): not a real version.
    pub annotated: bool,
}

/// Reads a tag object (or a lightweight tag's commit) down to its commit and tree.
pub fn read_tag(repo: &gix::Repository, target: ObjectId) -> Result<TagData> {
    let context = || format!("reading tag object {target}");
    let object = repo.find_object(target).context(context)?;
    let mut data = TagData {
        message: TagMessage::default(),
        tagger_name: String::new(),
        tagger_email: String::new(),
        time: gix::date::Time::default(),
        commit: target,
        tree: target,
        annotated: false,
    };
    let commit_id = if object.kind == gix::objs::Kind::Tag {
        let tag = object.into_tag();
        let decoded = tag.decode().context(context)?;
        data.message = TagMessage::parse(&decoded.message.to_str_lossy());
        if let Some(tagger) = decoded.tagger().context(context)? {
            data.tagger_name = tagger.name.to_str_lossy().into_owned();
            data.tagger_email = tagger.email.to_str_lossy().into_owned();
            data.time = tagger.time().context(context)?;
        }
        data.annotated = true;
        tag.target_id().context(context)?.detach()
    } else {
        target
    };
    let commit = repo.find_commit(commit_id).context(|| format!("reading commit {commit_id}"))?;
    data.commit = commit_id;
    data.tree = commit.tree_id().context(|| format!("reading commit {commit_id}"))?.detach();
    Ok(data)
}

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
    pub identity: &'a Identity,
}

/// Most attempts at taking the next number before giving up.
const MAX_ATTEMPTS: u32 = 200;

/// Creates the next version of an agent: snapshot commit (parent = previous version's commit) and
/// annotated tag. The tag ref is created with "must not exist", the one atomic step; when another
/// publisher takes the number first, the numbers are read again and the next one is tried.
///
/// `still_wanted` is asked before each attempt with the current latest version (number and tree),
/// so a publish whose content became latest meanwhile can stop with "nothing to publish".
///
/// `latest` is the agent's latest version as the caller has just read it; after a lost race it is
/// read again here.
pub fn create_version(
    repo: &gix::Repository,
    names: &TagNames,
    new: &NewVersion<'_>,
    mut latest: Option<(u64, TagData)>,
    mut still_wanted: impl FnMut(Option<(u64, ObjectId)>) -> Result<()>,
) -> Result<Created> {
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
            return Err(Error::git(format!("creating {full}"), "every attempt lost its race"));
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
                return Err(lock_error(repo, &format!("creating {full}"), &chain(&e)));
            }
            Err(e) if chain(&e).contains("lock") && attempt < MAX_ATTEMPTS => {
                let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish() % 20;
                std::thread::sleep(std::time::Duration::from_millis(2 + jitter));
            }
            Err(e) => return Err(git(format!("creating {full}"))(e)),
        }
    }
}

/// Creates the version ref for `number` under agentver's lock, unless another publisher moved on
/// since `reading` (latest's number and the highest-seen mark): then `None`, and the caller reads
/// again. The inner result is the ref transaction's own.
fn claim_number(
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

/// Writes a version's snapshot commit (parent = the previous version's commit) and its annotated
/// tag object, touching no ref: the one writer of version objects, for publish and for push's
/// renumbering. `people` are the commit's author and committer and the tag's tagger.
fn write_version_objects(
    repo: &Repository,
    tree: ObjectId,
    parent: Option<ObjectId>,
    people: [&gix::actor::Signature; 3],
    tag_name: &str,
    message: &TagMessage,
) -> Result<(ObjectId, ObjectId)> {
    let [author, committer, tagger] = people;
    let agent = message.agent.as_deref().unwrap_or_default();
    let commit = gix::objs::Commit {
        tree,
        parents: parent.into_iter().collect(),
        author: author.clone(),
        committer: committer.clone(),
        encoding: None,
        message: crate::names::tagmessage::commit_message(agent, &message.label).into(),
        extra_headers: Vec::new(),
    };
    let commit_id = repo.write_object(&commit).map_err(git("writing the snapshot commit"))?.detach();
    let tag = gix::objs::Tag {
        target: commit_id,
        target_kind: gix::objs::Kind::Commit,
        name: BString::from(tag_name),
        tagger: Some(tagger.clone()),
        message: message.format().into(),
        signature: None,
    };
    let tag_id = repo.write_object(&tag).map_err(git("writing the tag object"))?.detach();
    Ok((commit_id, tag_id))
}

/// Writes `old` again as version `tag_name` on top of `parent`, with `message`: same tree, same
/// author, committer and tagger, dates included (push's renumbering). Returns (commit, tag).
pub fn rewrite_version(
    repo: &Repository,
    old: &TagData,
    parent: Option<ObjectId>,
    tag_name: &str,
    message: &TagMessage,
) -> Result<(ObjectId, ObjectId)> {
    let commit = repo.find_commit(old.commit).map_err(git(format!("reading commit {}", old.commit)))?;
    let decoded = commit.decode().map_err(git("decoding a commit"))?;
    let author = decoded.author().map_err(git("decoding a commit"))?.to_owned().map_err(git("decoding a commit"))?;
    let committer =
        decoded.committer().map_err(git("decoding a commit"))?.to_owned().map_err(git("decoding a commit"))?;
    let tagger = gix::actor::Signature {
        name: old.tagger_name.as_str().into(),
        email: old.tagger_email.as_str().into(),
        time: old.time,
    };
    write_version_objects(repo, old.tree, parent, [&author, &committer, &tagger], tag_name, message)
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
    fn edit(&self, why: &str) -> Result<RefEdit> {
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
        let name = self.name.as_str().try_into().map_err(|e: gix::validate::reference::name::Error| Error::Git {
            context: format!("naming {}", self.name),
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Ok(RefEdit { change, name, deref: false })
    }
}

/// Creates a git repository in `dir` (what `agentver init` does where there is none).
pub fn init_repository(dir: &std::path::Path) -> Result<()> {
    gix::init(dir).map_err(git(format!("creating a git repository in {}", dir.display())))?;
    Ok(())
}

/// The commit a revision names (`HEAD`, `main`, a tag, an id).
pub fn rev_commit(repo: &Repository, rev: &str) -> Result<ObjectId> {
    // A full commit id (what a server following a ref passes thousands of times) needs no
    // revision parsing, whose prefix disambiguation costs a search of every pack index.
    if rev.len() == 40
        && let Ok(id) = ObjectId::from_hex(rev.as_bytes())
        && let Ok(object) = repo.find_object(id)
    {
        let commit = object.peel_to_commit().map_err(|_| Error::NotACommit { rev: rev.to_owned() })?;
        return Ok(commit.id);
    }
    let id = repo.rev_parse_single(rev).map_err(|_| Error::UnknownRevision { rev: rev.to_owned() })?;
    let object = id.object().map_err(git(format!("reading {rev}")))?;
    let commit = object.peel_to_commit().map_err(|_| Error::NotACommit { rev: rev.to_owned() })?;
    Ok(commit.id)
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

/// The index (staging area), for asking which blob it holds at a path.
pub struct Index(gix::worktree::Index);

impl Index {
    pub fn read(repo: &Repository) -> Result<Self> {
        Ok(Index(repo.index_or_empty().map_err(git("reading the index"))?))
    }

    /// The blob staged at `path` (repository-relative).
    pub fn blob_at(&self, path: &str) -> Option<ObjectId> {
        self.0.entry_by_path(gix::bstr::BStr::new(path.as_bytes())).map(|e| e.id)
    }
}

/// The name recorded inside an annotated tag object (None for anything else).
pub fn tag_object_name(repo: &Repository, id: ObjectId) -> Option<String> {
    let object = repo.find_object(id).ok()?;
    if object.kind != gix::objs::Kind::Tag {
        return None;
    }
    let tag = object.into_tag();
    let decoded = tag.decode().ok()?;
    Some(decoded.name.to_string())
}

/// The lock files a ref transaction may leave if killed, written down before it starts and
/// removed after it ends. Every agentver ref transaction runs under agentver's lock, so a journal
/// that the next holder of that lock finds was left by a killed run, and the locks it names are
/// that run's corpses: they are removed at once instead of blocking git and agentver.
struct Journal {
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
fn recover_killed_transaction(repo: &gix::Repository) {
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
fn refresh_packed_refs(repo: &gix::Repository) -> bool {
    !repo.refs.packed_refs_path().is_file() || repo.refs.force_refresh_packed_buffer().is_ok()
}

/// Removes lock files that a killed agentver left behind; called holding agentver's lock.
///
/// - `<ref>.lock` for a version ref that does not exist: only agentver creates version refs, and
///   every agentver holds our lock while it does, so nobody is creating this one now.
/// - an empty `packed-refs.lock` older than a second: gix holds it empty for the microseconds of
///   a ref transaction; git's `pack-refs` writes into it at once, so an old empty one is a corpse.
fn clear_stale_locks(repo: &gix::Repository, full_name: &str) -> Result<()> {
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
    let edits = changes.iter().map(|c| c.edit(why)).collect::<Result<Vec<_>>>()?;
    use gix::lock::acquire::Fail;
    use gix::refs::file::transaction::PackedRefs;
    let committer = repo.committer().and_then(std::result::Result::ok);
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
fn lock_error(repo: &gix::Repository, context: &str, message: &str) -> Error {
    let packed_lock = repo.common_dir().join("packed-refs.lock");
    if message.contains("lock") && packed_lock.exists() {
        return Error::Locked { path: packed_lock.display().to_string() };
    }
    Error::git(context, message)
}

/// The id of HEAD's commit, or `None` on an unborn branch.
pub fn head_commit(repo: &gix::Repository) -> Result<Option<ObjectId>> {
    let head = repo.head().map_err(git("reading HEAD"))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let mut head = head;
    Ok(Some(head.peel_to_commit().map_err(git("reading HEAD"))?.id))
}

/// The parents of a commit.
pub fn commit_parents(repo: &gix::Repository, commit: ObjectId) -> Result<Vec<ObjectId>> {
    let c = repo.find_commit(commit).map_err(git(format!("reading commit {commit}")))?;
    Ok(c.parent_ids().map(|id| id.detach()).collect())
}

/// The tree of a commit.
pub fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    let c = repo.find_commit(commit).map_err(git(format!("reading commit {commit}")))?;
    Ok(c.tree_id().map_err(git(format!("reading commit {commit}")))?.detach())
}

/// The blob id at `path` inside `tree`, if there is a file there.
pub fn blob_at(repo: &gix::Repository, tree: ObjectId, path: &str) -> Result<Option<ObjectId>> {
    let tree = repo.find_object(tree).and_then(|o| o.peel_to_tree()).map_err(git("reading a tree"))?;
    let entry = tree.lookup_entry_by_path(path).map_err(git(format!("looking up {path}")))?;
    Ok(entry.filter(|e| e.mode().is_blob()).map(|e| e.object_id()))
}

/// Every entry of a snapshot tree that is not a folder, by path as the tree spells it (names are
/// untrusted: `..`, `/`, `.git` and links are listed as they are, for `verify` to report).
pub fn tree_paths(repo: &gix::Repository, tree: ObjectId) -> Result<Vec<String>> {
    fn walk(repo: &gix::Repository, tree: ObjectId, prefix: &str, depth: usize, out: &mut Vec<String>) -> Result<()> {
        let object = repo.find_object(tree).map_err(git("reading a snapshot tree"))?;
        let tree = object.into_tree();
        let decoded = tree.decode().map_err(git("decoding a snapshot tree"))?;
        for entry in &decoded.entries {
            let path = format!("{prefix}{}", entry.filename.to_str_lossy());
            // A forged tree may nest without end; nothing agentver writes is deeper than two.
            if entry.mode.is_tree() && depth < 8 {
                walk(repo, entry.oid.to_owned(), &format!("{path}/"), depth + 1, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut paths = Vec::new();
    walk(repo, tree, "", 0, &mut paths)?;
    Ok(paths)
}

/// RFC 3339 in the signer's own offset: `2026-11-22T10:15:00+01:00` (gix's strict ISO 8601).
pub fn rfc3339(time: gix::date::Time) -> String {
    time.format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(gix::date::Time { seconds: 0, offset: 0 }), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(gix::date::Time { seconds: 1_795_000_000, offset: 3600 }), "2026-11-18T12:06:40+01:00");
        assert_eq!(rfc3339(gix::date::Time { seconds: 951_782_400, offset: -18_000 }), "2000-02-28T19:00:00-05:00");
    }

    #[test]
    fn parses_authors() {
        assert_eq!(parse_author("Ada Lovelace <ada@example.com>"), Some(("Ada Lovelace", "ada@example.com")));
        assert_eq!(parse_author("nobody"), None);
        assert_eq!(parse_author("<a@b>"), None);
    }
}
