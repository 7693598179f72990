//! Why a channel cannot answer: a moved tag under a pinned tree, no servable draft, or a fault
//! in what channels.toml names (at the channel's line).

use crate::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// A channel pins a tree its tag no longer holds: the tag was moved or replaced, so the
    /// channel serves nothing rather than the wrong configuration.
    #[error(
        "channel '{channel}': {tag} holds tree {actual} but channels.toml pins tree {pinned}; the tag was moved or replaced, so the channel will not serve it"
    )]
    TreeMismatch { channel: String, tag: String, actual: String, pinned: String },
    /// A version that does not load (a forged or damaged tag: a snapshot holding a symlink, an
    /// invalid file): left out of what is served, so only what asks for it fails.
    #[error("{tag} cannot serve: {reason}")]
    VersionUnservable { tag: String, reason: String },
    /// A channel follows `latest` of an agent that has no version yet (a pull request that adds
    /// an agent and routes a number to it): that channel serves nothing until the first publish.
    #[error(
        "channel '{channel}': follows {agent}'s latest version, and {agent} has none yet (the first publish makes v1)"
    )]
    NotPublished { channel: String, agent: String },
    /// A frozen resolver (a server's snapshot) has no valid draft of the agent at its revision.
    #[error("{agent}: no draft can serve at this revision: {reason}")]
    DraftUnavailable { agent: String, reason: String },
    /// What a channel in channels.toml names does not exist (an agent, a version): the fault
    /// is in that file, at the channel's line.
    #[error("{file}:{line}: channel '{channel}': {source}")]
    InChannel { file: String, line: u32, channel: String, source: Box<Error> },
}
