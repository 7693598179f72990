//! Call-record failures: an unknown call, a store agentver cannot open or that a newer agentver
//! wrote, times and comparisons that cannot be read.

#[derive(Debug, thiserror::Error)]
pub enum CallsError {
    /// A line of an imported file that is not a call record: nothing from the file is stored.
    #[error("{file}:{line}: {problem}")]
    BadRecord { file: String, line: usize, problem: String },
    /// No record of this call in the call store.
    #[error("no call '{call_id}' in the call store")]
    UnknownCall { call_id: String },
    /// Comparing a split's variants needs the channel whose split they are.
    #[error("comparing variants needs the channel whose split they are")]
    VariantsNeedChannel,
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
    /// The call store (SQLite or PostgreSQL) failed.
    #[error("call store: {context}: {message}")]
    CallStore {
        context: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}
