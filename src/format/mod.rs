//! Bytes into data and diagnostics, with no file system and no git: the spanned YAML reader and
//! its limits, the agent/tool/workflow schema, `agentver.toml`, `channels.toml` (read, validate,
//! edit), the literal-secret scanner, problems with file and line, and structured differences.

pub mod channels;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod edit;
mod error;
pub mod model;
pub mod secrets;
pub mod test_notes;
pub mod text;
pub mod yaml;

pub use error::FormatError;
