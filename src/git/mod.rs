//! The git layer, the only user of gix and of the git program: opening the repository as git
//! would (`repo`), snapshot trees, commits and tag objects (`objects`), version refs and ref
//! transactions (`refs`), creating a version (`version`), the signer (`identity`), the git
//! program for push and fetch (`remote`), plus the clock, agentver's lock and the history cache.
//!
//! Writes add objects and create exactly one ref per version; no branch, HEAD, index or
//! work-tree file is touched. Everything is re-exported here: callers write `git::read_tag`.

pub mod clock;
pub mod history_cache;
pub mod lock;
pub mod notes;
pub mod remembered;
pub mod remote;
pub mod tree;

mod error;
mod identity;
mod objects;
mod refs;
mod repo;
mod version;

pub use error::GitError;
pub use gix::{ObjectId, Repository};
pub use identity::*;
pub use objects::*;
pub use refs::*;
pub use repo::*;
pub use version::*;

/// The files of one snapshot, by workspace-relative path, byte for byte.
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;
