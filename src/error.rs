//! The library's error type: every failure names what it is about, as data. Which exit code
//! and which hint (with its command-line syntax) each one gets is the CLI's business
//! (`src/cli/error.rs`).

use std::path::PathBuf;

use crate::format::diagnostic::Diagnostic;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file's content is not acceptable.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    #[error("unknown agent '{agent}': {path} does not exist")]
    UnknownAgent { agent: String, path: String, suggestion: Option<String> },
    #[error("{agent} has no version {version}")]
    VersionNotFound { agent: String, version: u64, latest: Option<u64> },
    #[error("unknown channel '{channel}': it is not in channels.toml")]
    UnknownChannel { channel: String },
    /// A channel pins a tree its tag no longer holds: the tag was moved or replaced, so the
    /// channel serves nothing rather than the wrong configuration.
    #[error(
        "channel '{channel}': {tag} holds tree {actual} but channels.toml pins tree {pinned}; the tag was moved or replaced, so the channel will not serve it"
    )]
    TreeMismatch { channel: String, tag: String, actual: String, pinned: String },
    /// A frozen resolver (a server's snapshot) has no valid draft of the agent at its revision.
    #[error("{agent}: no draft can serve at this revision: {reason}")]
    DraftUnavailable { agent: String, reason: String },
    /// `serve` asked to listen beyond loopback with nothing to authenticate callers.
    #[error(
        "refusing to listen on {addr} with no token: anyone who can reach it could read every agent's configuration"
    )]
    InsecureBind { addr: String },
    #[error("{agent} has no published version")]
    NoVersions { agent: String, suggestion: Option<String> },
    #[error("nothing to publish: {}", describe_unchanged(.unchanged))]
    NothingToPublish { unchanged: Vec<(String, u64)> },
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
    /// What a channel in channels.toml names does not exist (an agent, a version): the fault
    /// is in that file, at the channel's line.
    #[error("{file}:{line}: channel '{channel}': {source}")]
    InChannel { file: String, line: u32, channel: String, source: Box<Error> },
    /// A split named fewer than two variants.
    #[error("a split needs at least two variants")]
    SplitTooSmall,
    /// A version label that is not one line.
    #[error("the label must be one non-empty line")]
    BadLabel,
    /// `restore` named the draft, which is already in the work tree.
    #[error("the draft is already in the work tree; name a version to restore")]
    RestoreDraft { agent: String },
    /// A rollback whose target's content is already latest's.
    #[error("nothing to roll back: {agent} v{latest} already has v{target}'s content")]
    NothingToRollBack { agent: String, latest: u64, target: u64 },
    /// "No blind numbering": this clone lacks the version tags published elsewhere.
    #[error("publish refused: {why}; publishing now would give out version numbers that exist elsewhere")]
    TagsMissing { why: String },
    /// `push` lost the race for numbers too many times in a row.
    #[error("gave up pushing to '{remote}' after {attempts} lost races")]
    PushRaces { remote: String, attempts: u32 },
    /// `push` refuses versions that `verify` faults: the remote keeps tags forever.
    #[error("push refused: the versions to push fail verification: {}", .findings.join("; "))]
    PushUnverified { findings: Vec<String> },
    /// No record of this call in the call store.
    #[error("no call '{call_id}' in the call store")]
    UnknownCall { call_id: String },
    /// A call's configuration is named by a tree this repository does not hold.
    #[error("tree {tree} is not in this repository, so the configuration that served the call cannot be read")]
    TreeNotFound { tree: String },
    /// Comparing a split's variants needs the channel whose split they are.
    #[error("comparing variants needs the channel whose split they are")]
    VariantsNeedChannel,
    #[error("GIT_COMMITTER_DATE '{date}' is not a date: {problem}")]
    BadCommitterDate { date: String, problem: String },
    #[error("--author '{author}' is not of the form \"Name <email>\"")]
    BadAuthor { author: String },
    #[error("unknown revision '{rev}'")]
    UnknownRevision { rev: String },
    #[error("revision '{rev}' is not a commit")]
    NotACommit { rev: String },
    #[error("'{branch}' is not a branch to follow")]
    BadBranch { branch: String },
    #[error("'{remote}' is not a remote name")]
    BadRemote { remote: String },
    #[error("--configure needs a named remote; '{remote}' is not one")]
    UnnamedRemote { remote: String },
    #[error("this repository is bare; agentver needs a work tree")]
    BareRepository,
    /// A channel name or a split that channels.toml cannot hold.
    #[error("{problem}")]
    BadChannel { problem: String },
    #[error("the label and notes hold {size} bytes; the limit is {limit} (64 KiB)")]
    MessageTooLong { size: usize, limit: usize },
    #[error("{path} already exists; agentver never overwrites a draft")]
    DraftExists { path: String, id: String },
    /// Another agentver holds channels.toml's edit lock.
    #[error("channels.toml is being edited by another agentver process")]
    ChannelsBusy,
    /// channels.toml changed between reading and replacing it; nothing was written.
    #[error("channels.toml changed while it was being edited; nothing was written")]
    ChannelsChanged,
    /// A file changed while `restore` was writing; nothing was written.
    #[error("restore stopped: {path} changed while restoring; nothing was written")]
    ChangedDuringRestore { path: String },
    /// `restore` would overwrite work found nowhere else.
    #[error(
        "restore refused: {} hold{} changes found nowhere else (not in HEAD, the index, or any version of {agent})",
        .files.join(", "),
        if .files.len() == 1 { "s" } else { "" }
    )]
    UnsavedWork { agent: String, files: Vec<String> },
    /// A rollback target whose tree holds more than the agent's files.
    #[error("rollback refused: {tag} holds entries that are not {agent}'s files: {}", .extras.join(", "))]
    ForeignEntries { tag: String, agent: String, extras: Vec<String> },
    /// The rollback was published but its files could not be written back.
    #[error("rolled back as {agent} v{number}, but the work tree changed meanwhile, so its files were not written")]
    RolledBackNotRestored { agent: String, number: u64 },
    /// A value given to agentver (an option, a field of a request) is not what it must be.
    #[error("{what}: '{value}' is not {expected}")]
    BadValue { what: String, value: String, expected: String },
    /// `--since`/`--until` that is neither a time nor a duration.
    #[error("'{text}' is not a time")]
    BadTime { text: String },
    /// A call store named in a form agentver does not know.
    #[error("'{spec}' is not a call store")]
    BadStore { spec: String },
    /// A call store written by a newer agentver.
    #[error("the call store has schema version {found}, newer than this agentver's {supported}: upgrade agentver")]
    StoreTooNew { found: i64, supported: i64 },
    /// A split comparison on a channel that has no split.
    #[error("channel '{channel}' has no split to compare variants of")]
    NoSplit { channel: String },
    /// A call no agent or tree was ever reported for.
    #[error("call '{call_id}' was never attributed to a configuration (no agent and tree were reported)")]
    Unattributed { call_id: String },
    /// Something agentver itself got wrong (a bug, or a thread that died): not the input's fault.
    #[error("internal error: {what}")]
    Internal { what: String },
    /// The call store (SQLite or PostgreSQL) failed.
    #[error("call store: {context}: {message}")]
    CallStore {
        context: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A git operation failed: what agentver was doing, the cause chain as one line, and the
    /// cause itself (`None` when it is the git program's stderr).
    #[error("{context}: {message}")]
    Git {
        context: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

fn describe_unchanged(unchanged: &[(String, u64)]) -> String {
    unchanged.iter().map(|(agent, v)| format!("{agent}'s draft is identical to v{v}")).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// A git failure known only as text (the git program's stderr, a lost race).
    pub fn git(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Git { context: context.into(), message: message.into(), source: None }
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
