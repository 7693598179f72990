//! A cache of parsed version tags, so `log` need not inflate two objects per version.
//!
//! Entries hold the tag already parsed (label, notes, trailers, the date in RFC 3339), so reading
//! the cache is one zero-copy JSON parse.
//!
//! A tag object's id fixes its content forever (tagger, date, message, target commit, and so the
//! commit's tree), so an entry keyed by that id can never be stale, only missing. The cache lives
//! in the git directory (`agentver/history/<prefix>/<agent>.json`), is written atomically and on a
//! best-effort basis, and is ignored when unreadable. `verify` never uses it.

use std::collections::HashMap;
use std::path::PathBuf;

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::TagData;
use super::error::Result;
use crate::names::id::AgentId;
use crate::names::tagmessage::TagMessage;
use crate::names::tagname::TagNames;

const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    tag: &'a str,
    commit: &'a str,
    tree: &'a str,
    annotated: bool,
    #[serde(borrow)]
    tagger_name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    tagger_email: std::borrow::Cow<'a, str>,
    seconds: i64,
    offset: i32,
    date: &'a str,
    #[serde(borrow)]
    label: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    notes: std::borrow::Cow<'a, str>,
    agent: Option<std::borrow::Cow<'a, str>>,
    version: Option<u64>,
    source: Option<std::borrow::Cow<'a, str>>,
    rollback_of: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct File<'a> {
    format: u32,
    #[serde(borrow)]
    entries: Vec<Entry<'a>>,
}

fn path(repo: &gix::Repository, names: &TagNames, agent: &AgentId) -> PathBuf {
    repo.common_dir().join("agentver").join("history").join(names.prefix()).join(format!("{agent}.json"))
}

/// A version as `log` needs it: the tag data and its date already formatted.
pub struct Cached {
    pub data: TagData,
    pub date: String,
}

fn to_cached(e: &Entry<'_>) -> Option<Cached> {
    Some(Cached {
        data: TagData {
            message: TagMessage {
                label: e.label.to_string(),
                notes: e.notes.to_string(),
                agent: e.agent.as_ref().map(|a| a.to_string()),
                version: e.version,
                source: e.source.as_ref().map(|s| s.to_string()),
                rollback_of: e.rollback_of,
                // Not cached: the tag keeps it (`git tag -n`); log does not show it.
                tests_skipped: false,
            },
            tagger_name: e.tagger_name.to_string(),
            tagger_email: e.tagger_email.to_string(),
            time: gix::date::Time { seconds: e.seconds, offset: e.offset },
            commit: ObjectId::from_hex(e.commit.as_bytes()).ok()?,
            tree: ObjectId::from_hex(e.tree.as_bytes()).ok()?,
            annotated: e.annotated,
        },
        date: e.date.to_owned(),
    })
}

/// The tag data of every target, from the cache where it has them and from git otherwise.
pub fn read_tags(
    repo: &gix::Repository,
    names: &TagNames,
    agent: &AgentId,
    targets: &[ObjectId],
    write: bool,
) -> Result<Vec<Cached>> {
    let file = path(repo, names, agent);
    let bytes = std::fs::read(&file).unwrap_or_default();
    let parsed: Option<File<'_>> = serde_json::from_slice(&bytes).ok().filter(|f: &File<'_>| f.format == FORMAT);
    let index: HashMap<&str, &Entry<'_>> =
        parsed.as_ref().map(|f| f.entries.iter().map(|e| (e.tag, e)).collect()).unwrap_or_default();
    let mut out = Vec::with_capacity(targets.len());
    let mut missed = false;
    for target in targets {
        let hex = target.to_string();
        if let Some(cached) = index.get(hex.as_str()).and_then(|e| to_cached(e)) {
            out.push(cached);
            continue;
        }
        missed = true;
        let data = super::read_tag(repo, *target)?;
        let date = super::rfc3339(data.time);
        out.push(Cached { data, date });
    }
    if missed && write {
        // Rewrite with exactly the current targets, so the file never outgrows the history.
        let hexes: Vec<String> = targets.iter().map(ToString::to_string).collect();
        let commits: Vec<String> = out.iter().map(|c| c.data.commit.to_string()).collect();
        let trees: Vec<String> = out.iter().map(|c| c.data.tree.to_string()).collect();
        let mut entries: Vec<Entry<'_>> = out
            .iter()
            .enumerate()
            .map(|(i, c)| Entry {
                tag: &hexes[i],
                commit: &commits[i],
                tree: &trees[i],
                annotated: c.data.annotated,
                tagger_name: c.data.tagger_name.as_str().into(),
                tagger_email: c.data.tagger_email.as_str().into(),
                seconds: c.data.time.seconds,
                offset: c.data.time.offset,
                date: &c.date,
                label: c.data.message.label.as_str().into(),
                notes: c.data.message.notes.as_str().into(),
                agent: c.data.message.agent.as_deref().map(Into::into),
                version: c.data.message.version,
                source: c.data.message.source.as_deref().map(Into::into),
                rollback_of: c.data.message.rollback_of,
            })
            .collect();
        entries.sort_by(|a, b| a.tag.cmp(b.tag));
        if let Ok(bytes) = serde_json::to_vec(&File { format: FORMAT, entries }) {
            let _ = crate::fsutil::write_atomic(&file, &bytes);
        }
    }
    Ok(out)
}
