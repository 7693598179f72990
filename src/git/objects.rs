//! Reading and writing objects: snapshot trees, version commits and tag objects, blobs at a path.

use std::collections::BTreeMap;

use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{Entry, EntryKind};

use super::error::{GitContext, GitError, Result, git};
use super::{Files, ObjectId, Repository};
use crate::names::tagmessage::TagMessage;
use crate::names::treeid::TreeId;

/// The id git gives these bytes as a blob, computed without writing anything.
pub fn blob_id(repo: &gix::Repository, bytes: &[u8]) -> Result<ObjectId> {
    gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, bytes).map_err(|e| GitError::Git {
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
            gix::objs::WriteTo::write_to(&tree, &mut buf).map_err(|e| GitError::io("tree", e))?;
            gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Tree, &buf).map_err(|e| GitError::Git {
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

/// Writes a version's snapshot commit (parent = the previous version's commit) and its annotated
/// tag object, touching no ref: the one writer of version objects, for publish and for push's
/// renumbering. `people` are the commit's author and committer and the tag's tagger.
pub(super) fn write_version_objects(
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

/// Whether `id` names a tree object in this repository (a commit or tag naming a tree is not one:
/// nothing is peeled).
pub fn is_tree(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_header(id).is_ok_and(|h| h.kind() == gix::object::Kind::Tree)
}
