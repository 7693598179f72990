//! The git layer's failures ([`GitError`]): what gix or the git program reported, with the cause
//! kept as `#[source]`, and the repositories, revisions, identities and locks agentver cannot use.

use std::path::PathBuf;

use crate::fsutil::IoError;

pub type Result<T, E = GitError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A git operation failed: what agentver was doing, the cause chain as one line, and the
    /// cause itself (`None` when it is the git program's stderr).
    #[error("{context}: {message}")]
    Git {
        context: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A lock file someone else holds (or a crashed git left).
    #[error("{path} is locked: another git process holds it, or one crashed and left it")]
    Locked { path: String },
    #[error("no git identity to sign the tag with: {missing} is not set")]
    NoIdentity { missing: &'static str },
    #[error("not inside a git repository: {}", .path.display())]
    NotARepository { path: PathBuf },
    #[error("this repository is bare; agentver needs a work tree")]
    BareRepository,
    #[error("unknown revision '{rev}'")]
    UnknownRevision { rev: String },
    #[error("revision '{rev}' is not a commit")]
    NotACommit { rev: String },
    #[error("GIT_COMMITTER_DATE '{date}' is not a date: {problem}")]
    BadCommitterDate { date: String, problem: String },
    #[error("--author '{author}' is not of the form \"Name <email>\"")]
    BadAuthor { author: String },
    #[error("'{remote}' is not a remote name")]
    BadRemote { remote: String },
    /// A repository of a kind agentver does not read correctly.
    #[error("{path}: {what} is not supported")]
    Unsupported { path: String, what: String, hint: String },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl GitError {
    /// A git failure known only as text (the git program's stderr, a lost race).
    pub fn git(context: impl Into<String>, message: impl Into<String>) -> Self {
        GitError::Git { context: context.into(), message: message.into(), source: None }
    }

    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        GitError::Io(IoError::new(path, source))
    }
}

/// Wraps a gix error with what we were doing, keeping its whole chain of causes.
pub fn git(context: impl Into<String>) -> impl FnOnce(gix::Error) -> GitError {
    move |e| GitError::Git { context: context.into(), message: chain(&e), source: Some(Box::new(e)) }
}

/// Like [`git`], but the context is only formatted when there is an error: for hot paths that
/// read thousands of objects.
pub trait GitContext<T> {
    fn context(self, describe: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GitContext<T> for std::result::Result<T, gix::Error> {
    fn context(self, describe: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| GitError::Git { context: describe(), message: chain(&e), source: Some(Box::new(e)) })
    }
}

/// "outer: inner: innermost", without repeating a message a wrapper already contains.
pub fn chain(e: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in e.iter_errors() {
        let msg = err.to_string();
        if !msg.is_empty() && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}
