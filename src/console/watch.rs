//! Whether the work tree may have changed since `agentver console` last made a page from it:
//! told by the kernel where it can (inotify on Linux: every folder agentver reads is watched, and
//! the events queued by each change are drained when a page is asked for), else by comparing
//! [`Stamp`]s of the files.
//!
//! A change is queued by the kernel inside the write, rename or delete that made it, so when a
//! command or an editor has finished writing, the next request sees the event: nothing made
//! before a change is served after it. A new folder is watched as soon as it is seen (and what
//! is made next reads it whole); a lost event (the queue overflowed) or a watch that cannot be
//! set falls back to stamps.

use std::path::{Path, PathBuf};

use super::stamp::Stamp;
use crate::workspace::Workspace;

/// How `agentver console` learns of changes.
pub enum Changes {
    /// The kernel tells (Linux).
    #[cfg(target_os = "linux")]
    Notified(notify::Notify),
    /// The stamp at the last request: kept pages are reused while it is the same and settled.
    Stamped(Option<Stamp>),
}

impl Changes {
    /// Starts watching `ws` (the kernel's watch where there is one).
    pub fn start(ws: &Workspace) -> Changes {
        #[cfg(target_os = "linux")]
        if let Some(n) = notify::Notify::start(places(ws)) {
            return Changes::Notified(n);
        }
        Changes::Stamped(None)
    }

    /// Whether nothing that pages are made from changed since the last call, so what was made
    /// then may be reused (the first call's answer has nothing to reuse).
    pub fn unchanged(&mut self, ws: &Workspace) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Changes::Notified(n) => match n.drain() {
                Some(quiet) => quiet,
                None => {
                    *self = Changes::Stamped(None);
                    self.unchanged(ws)
                }
            },
            Changes::Stamped(last) => {
                let now = Stamp::take(ws);
                let keep = last.is_some_and(|was| was.settled && was == now);
                // What is made now is only kept from a settled state (see stamp.rs).
                *last = Some(now);
                keep
            }
        }
    }
}

/// The folders whose entries pages are made from: the workspace's root (agentver.toml,
/// channels.toml, .gitattributes), its agents, tools and workflows (all their folders), the git
/// folder (HEAD) and the common one (config, packed-refs), info/ and every folder of refs/.
fn places(ws: &Workspace) -> Vec<Place> {
    let root = ws.root();
    let mut out = vec![Place::one(root)];
    out.extend(["agents", "tools", "workflows"].map(|d| Place::tree(&root.join(d))));
    if let Some(workdir) = ws.repo().workdir() {
        out.push(Place::one(workdir));
    }
    let (git, common) = (ws.repo().git_dir(), ws.repo().common_dir());
    out.extend([
        Place::one(git),
        Place::one(common),
        Place::one(&common.join("info")),
        Place::tree(&common.join("refs")),
    ]);
    out
}

/// A folder to watch, with its subfolders or alone.
#[derive(Clone)]
pub struct Place {
    path: PathBuf,
    deep: bool,
}

impl Place {
    fn one(path: &Path) -> Place {
        Place { path: path.to_owned(), deep: false }
    }

    fn tree(path: &Path) -> Place {
        Place { path: path.to_owned(), deep: true }
    }
}

#[cfg(target_os = "linux")]
mod notify {
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    use rustix::io::Errno;

    use super::Place;

    /// Folders deeper than this are not watched (agentver's own layout is two levels deep).
    const DEPTH: usize = 16;

    /// An inotify instance watching every folder of the workspace's places.
    pub struct Notify {
        fd: OwnedFd,
        places: Vec<Place>,
    }

    impl Notify {
        /// Watches `places`; `None` when the kernel will not (no inotify, or too many watches).
        pub fn start(places: Vec<Place>) -> Option<Notify> {
            let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC).ok()?;
            let notify = Notify { fd, places };
            notify.watch_all().then_some(notify)
        }

        /// Sets a watch on every folder of every place (setting one again is harmless).
        fn watch_all(&self) -> bool {
            self.places.iter().all(|p| self.watch(&p.path, if p.deep { DEPTH } else { 0 }))
        }

        /// Watches `dir` and, `depth` levels down, its folders. A missing folder is fine (its
        /// parent's watch tells when it appears); any other refusal is not.
        fn watch(&self, dir: &Path, depth: usize) -> bool {
            let flags = WatchFlags::MODIFY
                | WatchFlags::ATTRIB
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::DELETE_SELF
                | WatchFlags::MOVE_SELF
                | WatchFlags::MOVED_FROM
                | WatchFlags::MOVED_TO;
            match inotify::add_watch(&self.fd, dir, flags) {
                Ok(_) => {}
                Err(Errno::NOENT | Errno::NOTDIR) => return true,
                Err(_) => return false,
            }
            let Ok(entries) = std::fs::read_dir(dir) else { return true };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else { continue };
                let ok = if kind.is_dir() && depth > 0 {
                    self.watch(&entry.path(), depth - 1)
                } else if kind.is_symlink() {
                    // A linked file or folder: its target is watched (a linked folder's own
                    // folders are not walked, as agentver does not read through them).
                    inotify::add_watch(&self.fd, entry.path(), flags)
                        .map_or_else(|e| matches!(e, Errno::NOENT | Errno::NOTDIR | Errno::ACCESS), |_| true)
                } else {
                    true
                };
                if !ok {
                    return false;
                }
            }
            true
        }

        /// Reads every queued event: `Some(true)` when there was none, `Some(false)` when
        /// something changed, `None` when the watch can no longer be trusted.
        pub fn drain(&mut self) -> Option<bool> {
            let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
            let mut events = inotify::Reader::new(&self.fd, &mut buf);
            let (mut quiet, mut rewatch) = (true, false);
            loop {
                match events.next() {
                    Ok(event) => {
                        let what = event.events();
                        if what.contains(ReadFlags::QUEUE_OVERFLOW) {
                            return None;
                        }
                        if what.contains(ReadFlags::IGNORED) {
                            // A watch removed with its folder: nothing changed by that alone.
                            continue;
                        }
                        quiet = false;
                        rewatch |= what.intersects(
                            ReadFlags::ISDIR | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF | ReadFlags::CREATE,
                        );
                    }
                    Err(Errno::WOULDBLOCK) => break,
                    Err(Errno::INTR) => continue,
                    Err(_) => return None,
                }
            }
            if rewatch && !self.watch_all() {
                return None;
            }
            Some(quiet)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn workspace(dir: &Path) -> Workspace {
        crate::ops::init::init(dir, false).unwrap();
        std::fs::write(dir.join("agents/sales.yaml"), "name: sales\n").unwrap();
        Workspace::discover(dir).unwrap()
    }

    /// Each change pages are made from is seen at the next call, at once, however small.
    fn sees_every_change(changes: &mut Changes, ws: &Workspace, dir: &Path) {
        let quiet = |changes: &mut Changes| changes.unchanged(ws);
        let _ = quiet(changes);
        assert!(quiet(changes), "nothing changed");
        std::fs::write(dir.join("agents/sales.yaml"), "name: sales\n").unwrap();
        assert!(!quiet(changes), "the same bytes written again");
        assert!(quiet(changes));
        std::fs::create_dir_all(dir.join("agents/team")).unwrap();
        assert!(!quiet(changes), "a new folder");
        std::fs::write(dir.join("agents/team/a.yaml"), "x").unwrap();
        assert!(!quiet(changes), "a file in the new folder");
        std::fs::create_dir_all(dir.join(".git/refs/tags/agent/sales")).unwrap();
        assert!(!quiet(changes));
        std::fs::write(dir.join(".git/refs/tags/agent/sales/v1.lock"), "0").unwrap();
        std::fs::rename(dir.join(".git/refs/tags/agent/sales/v1.lock"), dir.join(".git/refs/tags/agent/sales/v1"))
            .unwrap();
        assert!(!quiet(changes), "a tag made as git makes it");
        std::fs::remove_dir_all(dir.join("agents")).unwrap();
        assert!(!quiet(changes), "agents/ gone");
        std::fs::create_dir(dir.join("agents")).unwrap();
        assert!(!quiet(changes), "agents/ back");
        std::fs::write(dir.join("agents/sales.yaml"), "name: sales\n").unwrap();
        assert!(!quiet(changes), "a file in the folder made again");
        std::fs::write(dir.join("channels.toml"), "").unwrap();
        assert!(!quiet(changes), "channels.toml");
        std::fs::write(dir.join("README.md"), "").unwrap();
        let _ = quiet(changes);
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/other\n").unwrap();
        assert!(!quiet(changes), "HEAD");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_kernel_tells_of_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let mut changes = Changes::start(&ws);
        assert!(matches!(changes, Changes::Notified(_)), "inotify is used on Linux");
        sees_every_change(&mut changes, &ws, dir.path());
    }

    #[test]
    fn stamps_tell_of_every_change_once_settled() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let mut changes = Changes::Stamped(None);
        assert!(!changes.unchanged(&ws));
        std::thread::sleep(super::super::stamp::SETTLE + Duration::from_millis(100));
        assert!(!changes.unchanged(&ws), "what was made before it settled is not kept");
        assert!(changes.unchanged(&ws), "settled and the same");
        std::fs::write(dir.path().join("agents/sales.yaml"), "name: sales\n").unwrap();
        assert!(!changes.unchanged(&ws), "the same bytes written again");
    }
}
