//! Advisory locks (flock) that the kernel releases when their holder dies, even by SIGKILL.
//!
//! Lock *files* (git's `x.lock`) outlive a killed process and then block every later writer.
//! agentver serialises its own short critical sections with advisory locks on files in the git
//! directory instead, and under such a lock it can tell a leftover lock file from a live one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use super::error::{GitError, Result};

/// Holds an exclusive advisory lock until dropped.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| GitError::io(dir, e))?;
    }
    OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(|e| GitError::io(path, e))
}

/// Waits as long as it takes: for sections that hold the lock for microseconds.
pub fn exclusive(path: &Path) -> Result<Held> {
    let file = open(path)?;
    file.lock().map_err(|e| GitError::io(path, e))?;
    Ok(Held { _file: file })
}

/// Waits up to `timeout`; `None` when the lock stayed held.
pub fn exclusive_within(path: &Path, timeout: Duration) -> Result<Option<Held>> {
    let file = open(path)?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(Held { _file: file })),
            Err(TryLockError::WouldBlock) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(5)),
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(GitError::io(path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_and_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = exclusive(&path).unwrap();
        assert!(exclusive_within(&path, Duration::from_millis(20)).unwrap().is_none());
        drop(held);
        assert!(exclusive_within(&path, Duration::from_millis(20)).unwrap().is_some());
    }
}
