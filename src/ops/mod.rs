//! The operations behind the commands, one file per command name (`init` also holds `new`; `pin`
//! holds `ab` and `unpin`, the other channels.toml edits): each takes a [`Workspace`] and returns
//! a report struct or a typed error; none prints.
//!
//! [`Workspace`]: crate::Workspace

pub mod check;
pub mod draft;
mod error;
pub mod export;
pub mod fetch;
pub mod import;
pub mod init;
pub mod log;
pub mod notes;
pub mod pin;
pub mod plan;
pub mod publish;
pub mod push;
pub mod restore;
pub mod rollback;
pub mod status;
pub mod verify;

pub use error::OpsError;
