//! The library's error type: every failure names what it is about, and says whether it is a
//! refusal (exit 1: the command was understood and declined) or an error (exit 2).

use std::path::PathBuf;

use crate::format::diagnostic::Diagnostic;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file's content is not acceptable.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// An argument is not acceptable.
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    #[error("unknown agent '{agent}': {path} does not exist")]
    UnknownAgent { agent: String, path: String, suggestion: Option<String> },
    #[error("{agent} has no version {version}")]
    VersionNotFound { agent: String, version: u64, latest: Option<u64> },
    #[error("{agent} has no published version")]
    NoVersions { agent: String, suggestion: Option<String> },
    #[error("nothing to publish: {}", describe_unchanged(.unchanged))]
    NothingToPublish { unchanged: Vec<(String, u64)> },
    /// The command was understood and declined; nothing was written.
    #[error("{message}")]
    Refused { message: String, hint: Option<String> },
    /// A new version would undo `version`, published from a commit the draft's commit lacks.
    #[error(
        "{agent} v{version} was published from commit {commit}, which {}; a new version would silently undo it",
        if *.missing { "is not in this clone" } else { "the draft's commit does not contain" }
    )]
    SilentRevert { agent: String, version: u64, commit: String, missing: bool },
    /// A repository of a kind agentver does not read correctly.
    #[error("{path}: {what} is not supported")]
    Unsupported { path: String, what: String, hint: String },
    /// A lock file someone else holds (or a crashed git left).
    #[error("{path} is locked: another git process holds it, or one crashed and left it")]
    Locked { path: String },
    #[error("no git identity to sign the tag with: {missing} is not set")]
    NoIdentity { missing: &'static str },
    #[error("not inside a git repository: {}", .path.display())]
    NotARepository { path: PathBuf },
    #[error("{file}: requires agentver {requirement}, but this is agentver {version}")]
    Requires { file: String, requirement: String, version: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A git operation failed; `message` holds the whole cause chain.
    #[error("{context}: {message}")]
    Git { context: String, message: String },
}

fn describe_unchanged(unchanged: &[(String, u64)]) -> String {
    unchanged.iter().map(|(agent, v)| format!("{agent}'s draft is identical to v{v}")).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// Refusals and negative answers exit 1; everything else exits 2.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Error::NothingToPublish { .. } | Error::Refused { .. } | Error::SilentRevert { .. })
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid(d) => d.hint.clone(),
            Error::Usage { hint, .. } | Error::Refused { hint, .. } => hint.clone(),
            Error::UnknownAgent { suggestion: Some(s), .. } | Error::NoVersions { suggestion: Some(s), .. } => {
                Some(format!("did you mean '{s}'?"))
            }
            Error::UnknownAgent { agent, .. } => Some(format!("create it with: agentver new {agent}")),
            Error::VersionNotFound { latest: Some(l), .. } => Some(format!("versions run from v1 to v{l}")),
            Error::VersionNotFound { latest: None, agent, .. } | Error::NoVersions { agent, .. } => Some(format!(
                "publish it first (agentver publish {agent}), or fetch tags if this is a fresh clone: git fetch --tags"
            )),
            Error::SilentRevert { missing: true, .. } => Some(
                "fetch the branch it was published from (git fetch; git pull), or pass --force to publish anyway".into(),
            ),
            Error::SilentRevert { .. } => {
                Some("merge or rebase onto that commit first (git pull), or pass --force to publish anyway".into())
            }
            Error::Unsupported { hint, .. } => Some(hint.clone()),
            Error::Locked { path } => {
                Some(format!("if no git command is running in this repository, remove the file: rm '{path}'"))
            }
            Error::NothingToPublish { .. } => Some("edit the draft first; `agentver status` shows what changed".into()),
            Error::NoIdentity { .. } => Some(
                "set one with: git config user.name \"Your Name\" && git config user.email you@example.com, or pass --author \"Name <email>\"".into(),
            ),
            Error::NotARepository { .. } => Some("run `agentver init` to create a config repository here".into()),
            Error::Requires { .. } => Some("install a matching agentver, or change `requires` in agentver.toml".into()),
            _ => None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into(), hint: None }
    }

    pub fn refused(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::Refused { message: message.into(), hint }
    }

    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }

    pub fn invalid(d: Diagnostic) -> Self {
        Error::Invalid(Box::new(d))
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::invalid(d)
    }
}
