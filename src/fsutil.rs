//! Atomic file replacement: write a temporary file beside the target, then rename it over.
//!
//! Several files are staged first and renamed only once every one of them has been written, so a
//! failure while writing leaves every target as it was. A new file gets the permissions any
//! program's new file gets (0666 less the umask), a replaced one keeps its own; agentver's private
//! files (the call store, the caller key, the spool) are created for their owner alone.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file operation that failed, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct IoError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    pub fn new(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        IoError { path: path.as_ref().display().to_string(), source }
    }
}

type Result<T, E = IoError> = std::result::Result<T, E>;

/// A file written beside its target, waiting to be renamed over it. Dropped unrenamed, it is
/// removed (tempfile's `NamedTempFile`, named `.<name>.agentver-<pid>.<random>.tmp`, so a file a
/// killed run left can be told from a live one).
pub struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// The temporary file's name prefix for `name`, with this process's id.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.agentver-{}.", std::process::id())
}

impl Staged {
    /// Writes `bytes` to a temporary file in the target's folder, creating the folder if needed.
    pub fn write(target: &Path, bytes: &[u8]) -> Result<Self> {
        Self::stage(target, bytes, true, Access::Shared)
    }

    /// [`Staged::write`]; `durable` waits for the disk before returning.
    fn stage(target: &Path, bytes: &[u8], durable: bool, access: Access) -> Result<Self> {
        let dir = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| IoError::new(dir, e))?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        clear_dead_temps(dir, &name);
        let prefix = temp_prefix(&name);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Without this the staged file's 0600 would become the new file's mode.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(access.mode()));
        let mut temp = builder.tempfile_in(dir).map_err(|e| IoError::new(dir, e))?;
        temp.write_all(bytes).map_err(|e| IoError::new(temp.path(), e))?;
        if durable {
            temp.as_file().sync_all().map_err(|e| IoError::new(temp.path(), e))?;
        }
        if let Ok(meta) = std::fs::metadata(target) {
            // Keep the permissions of the file being replaced.
            let _ = std::fs::set_permissions(temp.path(), meta.permissions());
        }
        Ok(Staged { temp, target: target.to_owned() })
    }

    /// The file this stage replaces when committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file over the target: readers see the old file or the new one.
    pub fn commit(self) -> Result<()> {
        self.temp.persist(&self.target).map_err(|e| IoError::new(&self.target, e.error))?;
        Ok(())
    }
}

/// Removes `.<name>.agentver-<pid>.<random>.tmp` files that a killed agentver (restore, pin) left
/// beside `name`: those whose process no longer runs.
fn clear_dead_temps(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.agentver-");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)?.strip_suffix(".tmp")) else { continue };
        let Ok(pid) = rest.split('.').next().unwrap_or_default().parse::<u32>() else { continue };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process runs: `/proc/<pid>` where there is a /proc; elsewhere assume it does (the
/// file is then left, as before).
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Who may read a file agentver creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// As any new file: 0666 less the umask.
    Shared,
    /// The owner alone: 0600.
    Private,
}

impl Access {
    #[cfg_attr(not(unix), allow(dead_code))]
    fn mode(self) -> u32 {
        match self {
            Access::Shared => 0o666,
            Access::Private => 0o600,
        }
    }
}

/// Creates `dir` and its parents, the last one for its owner alone (0700) if it is new.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| IoError::new(dir, e))
}

/// Makes sure `path` exists and only its owner can read it: created empty 0600 when missing;
/// an existing file others can read (and its SQLite `-wal` and `-shm` beside it) is narrowed to
/// 0600. An existing file is never opened here: closing any descriptor of a file drops every
/// POSIX lock the process holds on it, and SQLite's connections to it rely on theirs.
pub fn touch_private(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        let mut options = std::fs::OpenOptions::new();
        options.create_new(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(IoError::new(path, e)),
        }
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| IoError::new(&file, e))?;
        }
    }
    Ok(())
}

/// Replaces one file atomically.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    Staged::write(target, bytes)?.commit()
}

/// Replaces agentver's own bookkeeping file (in `.git/agentver/`) by write-then-rename, without
/// waiting for the disk: readers see old or new, and after a power loss the file may be old, which
/// its users tolerate. Saves the fsync that [`write_atomic`] pays for people's files.
pub fn write_quick(target: &Path, bytes: &[u8]) -> Result<()> {
    Staged::stage(target, bytes, false, Access::Shared)?.commit()
}

/// Creates a file only when nothing exists at `target`; returns false when something does.
pub fn create_new(target: &Path, bytes: &[u8]) -> Result<bool> {
    create_new_as(target, bytes, Access::Shared)
}

/// [`create_new`] for a file only its owner may read (a key).
pub fn create_new_private(target: &Path, bytes: &[u8]) -> Result<bool> {
    create_new_as(target, bytes, Access::Private)
}

fn create_new_as(target: &Path, bytes: &[u8], access: Access) -> Result<bool> {
    if std::fs::symlink_metadata(target).is_ok() {
        return Ok(false);
    }
    let staged = Staged::stage(target, bytes, true, access)?;
    // Linked into place only if nothing is there, so an existing file is never replaced.
    match staged.temp.persist_noclobber(target) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(IoError::new(target, e.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_never_overwrites_with_create_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.txt");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert!(!create_new(&path, b"two").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert!(create_new(&dir.path().join("c.txt"), b"three").unwrap());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn temp_files_of_dead_processes_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0 never names a user process; our own pid is alive.
        std::fs::write(dir.path().join(".x.agentver-0.tmp"), b"left by a killed run").unwrap();
        std::fs::write(dir.path().join(format!(".y.agentver-{}.tmp", std::process::id())), b"").unwrap();
        write_atomic(&dir.path().join("x"), b"new").unwrap();
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [format!(".y.agentver-{}.tmp", std::process::id()), "x".to_owned()]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_follow_the_umask_and_private_ones_stay_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // What the kernel gives any new file here (0666 less this process's umask).
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        let shared = dir.path().join("shared");
        write_atomic(&shared, b"x").unwrap();
        assert_eq!(mode(&shared), mode(&probe), "a new file gets what any program's new file gets");
        assert!(create_new(&dir.path().join("new"), b"x").unwrap());
        assert_eq!(mode(&dir.path().join("new")), mode(&probe));
        let key = dir.path().join("key");
        assert!(create_new_private(&key, b"k").unwrap());
        assert_eq!(mode(&key), 0o600);
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&shared, b"y").unwrap();
        assert_eq!(mode(&shared), 0o640, "a replaced file keeps its mode");
        std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o644)).unwrap();
        touch_private(&probe).unwrap();
        assert_eq!(mode(&probe), 0o600);
    }

    #[test]
    fn dropped_stage_leaves_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"old").unwrap();
        drop(Staged::write(&path, b"new").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
