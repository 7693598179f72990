//! The operations behind the commands, one file per command family: each takes a [`Workspace`]
//! and returns a report struct or a typed error; none prints.
//!
//! [`Workspace`]: crate::Workspace

pub mod check;
pub mod export;
pub mod fetch;
pub mod history;
pub mod pinning;
pub mod plan;
pub mod publish;
pub mod push;
pub mod restore;
pub mod scaffold;
pub mod status;
pub mod verify;
