//! What the work tree's pages are made from, as the file system tells it: a digest of the size,
//! times, inode and mode of every file agentver reads for them (the workspace's files and folders,
//! the repository's HEAD, config and refs), so `agentver console` can keep what it made while
//! none of them changed.
//!
//! A digest is only trusted once it has settled, the rule git uses for its index ("racy git"):
//! when something changed within [`SETTLE`] of the digest being taken, a second change in the same
//! clock tick could leave the same times and size, so nothing made from that state is kept. Any
//! later change moves the change time (ctime) past the digest's, which no program can set back.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::workspace::Workspace;

/// How long after the newest change a state counts as settled (FAT's 2 s time steps included).
pub const SETTLE: Duration = Duration::from_secs(2);
/// Folders deeper than this are not walked (agentver's own layout is two levels deep).
const DEPTH: usize = 16;

/// The digest of one state of the work tree and its repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    digest: u64,
    /// Whether the newest change is at least [`SETTLE`] older than the digest.
    pub settled: bool,
}

impl Stamp {
    /// Takes the stamp of `ws` now.
    pub fn take(ws: &Workspace) -> Stamp {
        let started = SystemTime::now();
        let mut walk = Walk { hasher: DefaultHasher::new(), newest: SystemTime::UNIX_EPOCH };
        let root = ws.root();
        for name in ["agentver.toml", "channels.toml", ".gitattributes", "agents", "tools", "workflows"] {
            walk.entry(&root.join(name), 0);
        }
        if let Some(workdir) = ws.repo().workdir() {
            walk.entry(&workdir.join(".gitattributes"), 0);
        }
        let (git, common) = (ws.repo().git_dir(), ws.repo().common_dir());
        walk.entry(&git.join("HEAD"), 0);
        for name in ["config", "packed-refs", "info/attributes", "refs"] {
            walk.entry(&common.join(name), 0);
        }
        let settled = started.duration_since(walk.newest).is_ok_and(|age| age >= SETTLE);
        Stamp { digest: walk.hasher.finish(), settled }
    }
}

struct Walk {
    hasher: DefaultHasher,
    newest: SystemTime,
}

impl Walk {
    /// Adds `path` (absent is a state too) and, for a folder that is not a link, what it holds.
    fn entry(&mut self, path: &Path, depth: usize) {
        path.hash(&mut self.hasher);
        let Ok(meta) = std::fs::metadata(path) else {
            0u8.hash(&mut self.hasher);
            return;
        };
        meta.len().hash(&mut self.hasher);
        for time in [meta.modified().ok(), changed(&meta)].into_iter().flatten() {
            time.hash(&mut self.hasher);
            self.newest = self.newest.max(time);
        }
        identity(&meta).hash(&mut self.hasher);
        if !meta.is_dir() || depth >= DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else { return };
        let mut names: Vec<_> = entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_type().is_ok_and(|t| !t.is_symlink() || std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
            })
            .map(|e| e.file_name())
            .collect();
        names.sort_unstable();
        for name in names {
            self.entry(&path.join(name), depth + 1);
        }
    }
}

/// When the file's metadata last changed (any write or rename moves it; nothing sets it back).
#[cfg(unix)]
fn changed(meta: &std::fs::Metadata) -> Option<SystemTime> {
    use std::os::unix::fs::MetadataExt;
    let (secs, nanos) = (u64::try_from(meta.ctime()).ok()?, u32::try_from(meta.ctime_nsec()).ok()?);
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn changed(meta: &std::fs::Metadata) -> Option<SystemTime> {
    meta.created().ok()
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino(), meta.mode())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> bool {
    meta.permissions().readonly()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(dir: &Path) -> Workspace {
        crate::ops::init::init(dir, false).unwrap();
        std::fs::write(dir.join("agents/sales.yaml"), "name: sales\n").unwrap();
        Workspace::discover(dir).unwrap()
    }

    #[test]
    fn any_change_to_what_pages_read_changes_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let first = Stamp::take(&ws);
        assert_eq!(first, Stamp::take(&ws), "nothing changed");
        assert!(!first.settled, "files written just now are not settled");
        std::fs::write(dir.path().join("agents/sales.yaml"), "name: sales\nx: 1\n").unwrap();
        let edited = Stamp::take(&ws);
        assert_ne!(first.digest, edited.digest, "an edited agent");
        std::fs::write(dir.path().join("channels.toml"), "").unwrap();
        let channels = Stamp::take(&ws);
        assert_ne!(edited.digest, channels.digest, "a new channels.toml");
        std::fs::create_dir_all(dir.path().join(".git/refs/tags/agent/sales")).unwrap();
        std::fs::write(dir.path().join(".git/refs/tags/agent/sales/v1"), "0".repeat(40)).unwrap();
        assert_ne!(channels.digest, Stamp::take(&ws).digest, "a new tag");
        std::fs::write(dir.path().join("README.md"), "").unwrap();
        assert_eq!(Stamp::take(&ws).digest, Stamp::take(&ws).digest);
    }

    #[test]
    fn a_state_settles_once_nothing_changed_for_a_while() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        assert!(!Stamp::take(&ws).settled);
        std::thread::sleep(SETTLE + Duration::from_millis(100));
        let settled = Stamp::take(&ws);
        assert!(settled.settled);
        std::fs::write(dir.path().join("agents/sales.yaml"), "name: sales\n").unwrap();
        let rewritten = Stamp::take(&ws);
        assert!(!rewritten.settled, "the same bytes written again");
        assert_ne!(settled.digest, rewritten.digest, "a rewrite with the same size and bytes moves the change time");
    }
}
