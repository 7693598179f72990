//! The library's error type: one enum per domain (the git layer, file formats, the workspace,
//! routing, the commands, call records, the server), each with its own variants and causes, and
//! [`Error`], their sum, which functions that cross domains return. Which exit code and which hint
//! (with its command-line syntax) each variant gets is the CLI's business (`src/cli/error.rs`).

pub use crate::calls::CallsError;
pub use crate::format::FormatError;
use crate::format::diagnostic::Diagnostic;
pub use crate::fsutil::IoError;
pub use crate::git::GitError;
pub use crate::ops::OpsError;
pub use crate::platforms::PlatformError;
pub use crate::routing::RoutingError;
pub use crate::serve::ServeError;
pub use crate::workspace::WorkspaceError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    Calls(#[from] CallsError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Io(#[from] IoError),
    /// A value given to agentver (an option, a field of a request) is not what it must be.
    #[error("{what}: '{value}' is not {expected}")]
    BadValue { what: String, value: String, expected: String },
    /// Something agentver itself got wrong (a bug, or a thread that died): not the input's fault.
    #[error("internal error: {what}")]
    Internal { what: String },
}

impl Error {
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io(IoError::new(path, source))
    }

    /// A file's content is not acceptable.
    pub fn invalid(d: Diagnostic) -> Self {
        Error::Format(FormatError::Invalid(Box::new(d)))
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::invalid(d)
    }
}
