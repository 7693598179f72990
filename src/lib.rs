//! agentver: version voice-AI agent configurations as code, in git.
//!
//! Drafts are YAML files in a work tree; each publish is an annotated tag `agent/<id>/v<N>` over a
//! snapshot commit holding the agent file and everything it links, byte for byte. This crate is the
//! library behind the `agentver` binary: it returns data and typed errors and never prints.
//!
//! Module map, by layer. Each layer names only the layers listed before it; `tests/cli/layers.rs`
//! checks that rule on the source tree, with the other rules marked *enforced*:
//! - [`names`]: agent ids and specs, version tag names, the tag and commit messages, tree ids —
//!   each format written once; depends on nothing else in the crate
//! - [`fsutil`]: atomic file replacement (stage, then rename) and its [`fsutil::IoError`]
//! - [`format`](mod@format): bytes into data and diagnostics — byte-level text limits, the spanned
//!   YAML reader, the agent/tool/workflow schema and its validation, `agentver.toml`,
//!   `channels.toml` (read, edit, one-section scan), the secret scanner, structured diffs; errors are
//!   [`format::FormatError`] (*enforced*: no file access, nothing from git)
//! - [`git`]: the only user of gix and of the git program (*enforced*) — opening the repository
//!   as git would (`repo`), objects, version refs and their all-or-nothing transactions, creating
//!   a version, the signer, `remote` (push and fetch through the git program), trees and
//!   line-ending filters, the history cache, advisory locks, the clock; errors are
//!   [`git::GitError`], causes kept as `#[source]`
//! - [`workspace`]: discovery, where drafts come from (the work tree through git's filters, or a
//!   revision), an agent and everything it links ([`workspace::bundle`]), locating any version,
//!   latest at a revision and "no silent revert"; errors are [`workspace::WorkspaceError`]
//! - [`routing`]: sticky bucketing and the `Resolver` (which configuration serves a call; frozen,
//!   it answers from memory); errors are [`routing::RoutingError`]
//! - [`ops`]: one module per command name (`init` holds `new`; `pin` holds `ab` and `unpin`): free
//!   functions over a `&Workspace`, each returning a report or a typed error, [`ops::OpsError`]
//!   for the commands' own refusals (*enforced*: `impl Workspace` lives in `src/workspace/` only)
//! - [`calls`]: call records — events merged by call id (outcomes by event time, attribution by
//!   agentver's decision or a checked echo), the lenient reader platform payloads go through and
//!   agentver's own strict report format (`read`), what a record may hold (`limits`) and keep
//!   (`privacy`), the store (SQLite or PostgreSQL, batched writes), the spool and the store's
//!   writer thread behind a server, statistics in one pass of bounded state (quantiles from a
//!   sketch); errors are [`calls::CallsError`]
//! - [`platforms`]: one folder per platform (Vapi, Retell, ElevenLabs, Twilio): its field map and
//!   agent format (render, import, the drift check), its end-of-call payloads and signature, its
//!   call-start answer; the field-map machinery both directions run on; errors are
//!   [`platforms::PlatformError`]
//! - [`console`]: the platforms' screens as web pages (one file per page, SVG charts, vendored
//!   assets, sessions and CSRF), read through a view of the served snapshot or the work tree, the
//!   editor's actions through [`ops`]; its own loopback server for `agentver console`, and the
//!   layer both HTTP servers put around every route (an answer that left its request's body
//!   unread closes the connection)
//! - [`serve`]: the HTTP server — snapshots of a followed revision swapped whole, routes, auth,
//!   the connection cap, metrics, the platforms' webhooks and call-start hooks (answered from
//!   renders cached per snapshot), the hand-off of resolve decisions to the call store's spool,
//!   invalid attributions checked again after a swap, memory given back after a statistic;
//!   errors to HTTP statuses, and
//!   [`serve::ServeError`] (*enforced*: no git calls, no files, no programs of its own)
//! - [`error`]: [`Error`], the sum of the domains' errors, which functions crossing domains return
//!
//! The command line (`src/cli/`, in the binary) sits on top: clap types, one file per subcommand,
//! rendering, and the one map from errors to exit codes and hints (*enforced*: no command-line
//! syntax in library error hints; the CLI takes nothing from git directly).

pub mod calls;
pub mod console;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod git;
pub mod names;
pub mod ops;
pub mod platforms;
#[cfg(test)]
mod proptests;
pub mod routing;
pub mod serve;
pub mod testing;
pub mod workspace;

pub use error::{Error, Result};
pub use workspace::{DraftAt, Workspace};

/// This library's version, which `requires` in agentver.toml is checked against.
pub fn binary_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("the package version is semver")
}
