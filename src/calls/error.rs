//! Call-record failures: an unknown call, a store agentver cannot open or that a newer agentver
//! wrote, a file with no calls in it, times and comparisons that cannot be read.

#[derive(Debug, thiserror::Error)]
pub enum CallsError {
    /// A line of an imported file that is not a call record: nothing from the file is stored.
    #[error("{file}:{line}: {problem}")]
    BadRecord { file: String, line: usize, problem: String },
    /// An imported file in which no line is a call.
    #[error("{file}: no line is a call ({lines} lines: {why})")]
    NoCalls { file: String, lines: usize, why: String },
    /// An import whose writing failed part way: the batches before the failure are stored.
    #[error("{file}: {stored} of {total} records were stored before the call store failed: {cause}")]
    ImportInterrupted { file: String, stored: usize, total: usize, cause: Box<crate::error::Error> },
    /// No record of this call in the call store.
    #[error("no call '{call_id}' in the call store")]
    UnknownCall { call_id: String },
    /// Comparing a split's variants needs the channel whose split they are.
    #[error("comparing variants needs the channel whose split they are")]
    VariantsNeedChannel,
    /// `--variant` keeps one variant, `--by variant` compares them all: together they compare
    /// nothing and would raise a false sample-ratio alarm.
    #[error("--by variant compares the split's variants, so it cannot keep only variant '{variant}'")]
    VariantAndByVariant { variant: String },
    /// `stats A --agent B`.
    #[error("stats of '{agent}' cannot be filtered to agent '{other}'")]
    OtherAgent { agent: String, other: String },
    /// A comparison of a version with itself.
    #[error("comparing v{version} with itself shows nothing")]
    SameVersion { version: u64 },
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
    /// The store holds callers hashed under another key (or kept as given) than this server's.
    #[error(
        "the call store's callers are kept as {stored}, and this server's caller key gives {ours}: replicas sharing a store must share AGENTVER_CALLER_KEY"
    )]
    CallerKeyMismatch { stored: String, ours: String },
    /// A call no agent or tree was ever reported for.
    #[error("call '{call_id}' was never attributed to a configuration (no agent and tree were reported)")]
    Unattributed { call_id: String },
    /// A call whose echoed attribution named something that never served.
    #[error("call '{call_id}' has an invalid attribution: {reason}")]
    InvalidAttribution { call_id: String, reason: String },
    /// A call whose platform could not run what agentver decided (a version not deployed).
    #[error("call '{call_id}' did not run the version decided for it: {reason}")]
    NotDeployed { call_id: String, reason: String },
    /// The call store (SQLite or PostgreSQL) failed; `operation` says what it was doing.
    #[error("call store: {operation}: {message}")]
    CallStore {
        operation: &'static str,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}
