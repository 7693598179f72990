//! The git program, for what gix cannot do here (push, fetch, remote configuration): the one place
//! agentver runs it. Remote names are checked before they reach an argument list, and `--` always
//! comes before remotes and refspecs, so no value is ever read as an option.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use super::error::{GitError, Result};
use crate::git::ObjectId;

/// Refuses a remote name git would take for an option (`--upload-pack=…` runs a command).
pub fn check_remote(remote: &str) -> Result<()> {
    if remote.is_empty() || remote.starts_with('-') || remote.contains(['\0', '\n']) {
        return Err(GitError::BadRemote { remote: remote.escape_debug().to_string() });
    }
    Ok(())
}

/// Runs the git program in `dir`. Callers put `--` before remotes and refspecs.
pub fn run(dir: &Path, args: &[&str]) -> Result<Output> {
    Command::new("git").current_dir(dir).args(args).output().map_err(|e| GitError::Git {
        context: format!("running git {}", args.first().unwrap_or(&"")),
        message: format!("{e} (push and fetch need the git program on PATH)"),
        source: Some(Box::new(e)),
    })
}

/// The error for a git run that exited non-zero: what we were doing and its stderr, as one line.
pub fn failed(what: &str, out: &Output) -> GitError {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut message = stderr.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("; ");
    if message.is_empty() {
        // Never an empty reason: git sometimes fails without a word (a --quiet fetch).
        message = match out.status.code() {
            Some(code) => format!("git exited with status {code} and printed nothing"),
            None => "git was stopped by a signal".to_owned(),
        };
    }
    GitError::git(what, message)
}

/// The remote's branches: full name → the commit it names.
pub fn heads(dir: &Path, remote: &str) -> Result<BTreeMap<String, ObjectId>> {
    let out = run(dir, &["ls-remote", "--heads", "--", remote])?;
    if !out.status.success() {
        return Err(failed(&format!("listing the branches of remote '{remote}'"), &out));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (id, name) = line.split_once('\t')?;
            Some((name.to_owned(), ObjectId::from_hex(id.as_bytes()).ok()?))
        })
        .collect())
}

/// The remote's tags under `prefix` (a full ref path ending in `/`): full name → object id.
pub fn tags(dir: &Path, remote: &str, prefix: &str) -> Result<BTreeMap<String, ObjectId>> {
    let pattern = format!("{prefix}*");
    let out = run(dir, &["ls-remote", "--tags", "--", remote, &pattern])?;
    if !out.status.success() {
        return Err(failed(&format!("listing the tags of remote '{remote}'"), &out));
    }
    let mut tags = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((id, name)) = line.split_once('\t') else { continue };
        if name.ends_with("^{}") {
            continue;
        }
        if let Ok(id) = ObjectId::from_hex(id.as_bytes()) {
            tags.insert(name.to_owned(), id);
        }
    }
    Ok(tags)
}
