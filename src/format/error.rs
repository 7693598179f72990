//! Problems with a file's content: a diagnostic with file and line, a channel channels.toml
//! does not hold, a `requires` this agentver does not meet.

use crate::format::diagnostic::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A file's content is not acceptable.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    #[error("unknown channel '{channel}': it is not in channels.toml")]
    UnknownChannel { channel: String },
    #[error("{file}: requires agentver {requirement}, but this is agentver {version}")]
    Requires { file: String, requirement: String, version: String },
}

impl FormatError {
    pub fn invalid(d: Diagnostic) -> Self {
        FormatError::Invalid(Box::new(d))
    }
}

impl From<Diagnostic> for FormatError {
    fn from(d: Diagnostic) -> Self {
        FormatError::invalid(d)
    }
}
