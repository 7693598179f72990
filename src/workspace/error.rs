//! Failures of finding things in the workspace: an agent, a version, a tree; and a new version
//! that would silently undo one published elsewhere.

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("unknown agent '{agent}': {path} does not exist")]
    UnknownAgent { agent: String, path: String, suggestion: Option<String> },
    #[error("{agent} has no version {version}")]
    VersionNotFound { agent: String, version: u64, latest: Option<u64> },
    #[error("{agent} has no published version")]
    NoVersions { agent: String, suggestion: Option<String> },
    /// A call's configuration is named by a tree this repository does not hold.
    #[error("tree {tree} is not in this repository, so the configuration that served the call cannot be read")]
    TreeNotFound { tree: String },
    /// A tree that holds more than one agent's snapshot would (a work tree's, a forged one).
    #[error("tree {tree} is not a snapshot of {agent}: it holds files {agent} does not link")]
    NotASnapshot { tree: String, agent: String },
    /// A new version would undo `version`, published from a commit the draft's commit lacks.
    #[error(
        "{agent} v{version} was published from commit {commit}, which {}; a new version would silently undo it",
        if *.missing { "is not in this clone" } else { "the draft's commit does not contain" }
    )]
    SilentRevert { agent: String, version: u64, commit: String, missing: bool },
}
