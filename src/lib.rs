//! agentver: version voice-AI agent configurations as code, in git.
//!
//! Drafts are YAML files in a work tree; each publish is an annotated tag `agent/<id>/v<N>` over a
//! snapshot commit holding the agent file and everything it links, byte for byte. This crate is the
//! library behind the `agentver` binary: it returns data and typed errors and never prints.
//!
//! Module map, by layer (each depends only on the ones listed before it; `tests/cli/layers.rs`
//! enforces what is marked *enforced*):
//! - [`names`]: agent ids and specs, version tag names, the tag and commit messages — each format
//!   written once (*enforced*: depends on nothing else in the crate)
//! - [`error`] and [`fsutil`]: the library's error type; atomic file replacement
//! - [`git`]: the only user of gix — objects, version refs and their transactions, opening the
//!   repository as git would, trees and line-ending filters, the history cache, advisory locks,
//!   the signer's clock (*enforced*: gix appears nowhere else; depends only on names, errors and
//!   file helpers). `push` and `fetch` also run the `git` program, which gix cannot replace
//! - [`format`](mod@format): bytes into data and diagnostics — the spanned YAML reader and limits, the
//!   agent/tool/workflow schema, `agentver.toml`, `channels.toml`, the secret scanner, diagnostics,
//!   structured diffs (*enforced*: no file access, nothing from git: a pinned tree is [`names::treeid::TreeId`])
//! - [`workspace`]: discovery, where drafts come from (the work tree through git's filters, or a
//!   revision), an agent and everything it links ([`workspace::bundle`]), locating any version
//! - [`ops`]: one module per command family: free functions over a `&Workspace`, each returning
//!   a report or a typed error (*enforced*: `impl Workspace` lives in `src/workspace/` only)
//! - [`routing`]: sticky bucketing and the `Resolver` (which configuration serves a call)
//! - [`calls`]: call records — events merged by call id, the platforms' webhook payloads and
//!   signatures, the store (SQLite or PostgreSQL), statistics
//! - [`serve`]: the HTTP server — snapshots of a followed revision swapped whole, routes, auth,
//!   metrics, the hand-off of resolve decisions to a call store (no git calls of its own)
//!
//! The command line (`src/cli/`, in the binary) sits on top: clap types, one file per subcommand,
//! rendering, errors to exit codes.

pub mod calls;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod git;
pub mod names;
pub mod ops;
#[cfg(test)]
mod proptests;
pub mod routing;
pub mod serve;
pub mod workspace;

pub use error::{Error, Result};
pub use workspace::{DraftAt, Workspace};

/// This library's version, which `requires` in agentver.toml is checked against.
pub fn binary_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("the package version is semver")
}
