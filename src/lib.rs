//! agentver: version voice-AI agent configurations as code, in git.
//!
//! Drafts are YAML files in a work tree; each publish is an annotated tag `agent/<id>/v<N>` over a
//! snapshot commit holding the agent file and everything it links, byte for byte. This crate is the
//! library behind the `agentver` binary: it returns data and typed errors and never prints.
//!
//! Module map (every module, by role):
//! - names and formats, no I/O: [`id`], [`tagname`], [`tagmessage`] (names and the tag message);
//!   [`yaml`] (the spanned YAML reader and input limits), [`model`] (the agent, tool and workflow
//!   schema), [`diagnostic`] (problems with file and line), [`secrets`] (the literal-secret
//!   scanner), [`config`] (`agentver.toml`), [`channels`] (`channels.toml`: read, validate, edit),
//!   [`diff`] (structured differences), [`bucket`] (sticky A/B bucketing)
//! - git: [`git`] (the only user of gix: objects, version refs, transactions, opening the
//!   repository, the history cache, advisory locks, the signer's clock); `push` and `fetch` also
//!   run the `git` program, which gix cannot replace for them
//! - files: [`fsutil`] (atomic replacement), [`source`] (the work tree through git's filters, or a
//!   tree in git), [`bundle`] (an agent and everything it links), [`workspace`] (discovery and
//!   locating any configuration), [`error`] (the library's error type)
//! - operations, one per command family: [`scaffold`] (`init`, `new`), [`status`], [`publish`],
//!   [`history`] (`log`), [`restore`] (`restore`, `rollback`), [`pinning`] (`pin`, `ab`, `unpin`),
//!   [`check`], [`plan`], [`export`], [`push`], [`fetch`], [`verify`]
//! - routing: [`resolve`] (the `Resolver`: which configuration serves a call)

pub mod bucket;
pub mod bundle;
pub mod channels;
pub mod check;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod export;
pub mod fetch;
pub mod fsutil;
pub mod git;
pub mod history;
pub mod id;
pub mod model;
pub mod pinning;
pub mod plan;
#[cfg(test)]
mod proptests;
pub mod publish;
pub mod push;
pub mod resolve;
pub mod restore;
pub mod scaffold;
pub mod secrets;
pub mod source;
pub mod status;
pub mod tagmessage;
pub mod tagname;
pub mod verify;
pub mod workspace;
pub mod yaml;

pub use error::{Error, Result};
pub use workspace::{DraftAt, Workspace};

/// This library's version, which `requires` in agentver.toml is checked against.
pub fn binary_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("the package version is semver")
}
