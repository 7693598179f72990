//! agentver: version voice-AI agent configurations as code, in git.
//!
//! Drafts are YAML files in a work tree; each publish is an annotated tag `agent/<id>/v<N>` over a
//! snapshot commit holding the agent file and everything it links, byte for byte. This crate is the
//! library behind the `agentver` binary: it returns data and typed errors and never prints.
//!
//! Module map:
//! - [`id`], [`tagname`], [`tagmessage`]: names and the formats built from them
//! - [`yaml`], [`model`], [`diagnostic`]: reading and validating agent, tool and workflow files
//! - [`config`]: the `agentver.toml` file
//! - [`source`], [`bundle`]: reading an agent and what it links, from the work tree or from git
//! - [`store`]: the only module that talks to git
//! - [`workspace`]: discovery and locating any configuration
//! - [`publish`], [`history`], [`restore`], [`status`], [`scaffold`]: the operations
//! - [`diff`]: structured differences between two configurations

pub mod bucket;
pub mod bundle;
pub mod channels;
pub mod check;
pub mod clock;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod export;
pub mod fetch;
pub mod fsutil;
pub mod history;
pub mod history_cache;
pub mod id;
pub mod lock;
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
pub mod store;
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
