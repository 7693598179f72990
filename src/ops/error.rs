//! The commands' refusals and failures: nothing to publish or roll back, unsaved work, a
//! busy or changed channels.toml, a push that lost its races or fails verification.

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("nothing to publish: {}", describe_unchanged(.unchanged))]
    NothingToPublish { unchanged: Vec<(String, u64)> },
    /// `[publish] require_tests` and the draft's tree has no passing run of its tests.
    #[error("publish refused: {agent}'s tests are required ([publish] require_tests) and {why}")]
    TestsRequired { agent: String, why: String },
    /// "No blind numbering": this clone lacks the version tags published elsewhere.
    #[error("publish refused: {why}; publishing now would give out version numbers that exist elsewhere")]
    TagsMissing { why: String },
    /// A version label that is not one line of visible text.
    #[error("the label must be one non-empty line, without control characters or bidirectional overrides")]
    BadLabel,
    /// Notes holding a control character (other than newlines and tabs) or a bidirectional override.
    #[error(
        "the notes hold a control character or a bidirectional override (only newlines and tabs may stand in them)"
    )]
    BadNotes,
    #[error("the label and notes hold {size} bytes; the limit is {limit} (64 KiB)")]
    MessageTooLong { size: usize, limit: usize },
    /// `restore` named the draft, which is already in the work tree.
    #[error("the draft is already in the work tree; name a version to restore")]
    RestoreDraft { agent: String },
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
    /// A rollback whose target's content is already latest's.
    #[error("nothing to roll back: {agent} v{latest} already has v{target}'s content")]
    NothingToRollBack { agent: String, latest: u64, target: u64 },
    /// A rollback target whose tree holds more than the agent's files.
    #[error("rollback refused: {tag} holds entries that are not {agent}'s files: {}", .extras.join(", "))]
    ForeignEntries { tag: String, agent: String, extras: Vec<String> },
    /// The rollback was published but its files could not be written back.
    #[error("rolled back as {agent} v{number}, but the work tree changed meanwhile, so its files were not written")]
    RolledBackNotRestored { agent: String, number: u64 },
    /// `push` lost the race for numbers too many times in a row.
    #[error("gave up pushing to '{remote}' after {attempts} lost races")]
    PushRaces { remote: String, attempts: u32 },
    /// `push` found version tags the remote once had naming what this clone has, now naming
    /// other objects: tampering or a force-push, never a version to renumber.
    #[error("push refused: {} moved on '{remote}': it had this clone's and now names another object", .tags.join(", "))]
    MovedOnRemote { remote: String, tags: Vec<String> },
    /// `push --with-branch` with HEAD on no branch.
    #[error("push --with-branch: HEAD is on no branch (detached)")]
    DetachedHead,
    /// `push` refuses versions published from commits no branch of the remote holds: everyone
    /// else's next publish would be refused as undoing them.
    #[error("push refused: {} published from {}, which no branch of '{remote}' holds", .tags.join(", "), if .tags.len() == 1 { format!("commit {}", .commits.join(", ")) } else { format!("commits {}", .commits.join(", ")) })]
    SourceNotShared { remote: String, tags: Vec<String>, commits: Vec<String> },
    /// `push` refuses versions that `verify` faults: the remote keeps tags forever.
    #[error("push refused: the versions to push fail verification: {}", .findings.join("; "))]
    PushUnverified { findings: Vec<String> },
    /// A split named fewer than two variants.
    #[error("a split needs at least two variants")]
    SplitTooSmall,
    /// A channel name or a split that channels.toml cannot hold.
    #[error("{problem}")]
    BadChannel { problem: String },
    /// Another agentver holds channels.toml's edit lock.
    #[error("channels.toml is being edited by another agentver process")]
    ChannelsBusy,
    /// channels.toml changed between reading and replacing it; nothing was written.
    #[error("channels.toml changed while it was being edited; nothing was written")]
    ChannelsChanged,
    #[error("{path} already exists; agentver never overwrites a draft")]
    DraftExists { path: String, id: String },
    /// An import would replace files that hold something else.
    #[error("{} already exist{} with other content; nothing was written", paths.join(", "), if paths.len() == 1 { "s" } else { "" })]
    ImportOverwrites { paths: Vec<String> },
    /// What an import made does not pass the checks (a platform value agentver cannot hold).
    #[error("the imported draft does not pass check: {problem}")]
    ImportInvalid { problem: String },
    #[error("--configure needs a named remote; '{remote}' is not one")]
    UnnamedRemote { remote: String },
    #[error("'{branch}' is not a branch to follow")]
    BadBranch { branch: String },
}

fn describe_unchanged(unchanged: &[(String, u64)]) -> String {
    unchanged.iter().map(|(agent, v)| format!("{agent}'s draft is identical to v{v}")).collect::<Vec<_>>().join("; ")
}
