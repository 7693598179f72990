//! ElevenLabs: its agent format and field map ([`agent`]), its post-call webhook and signature
//! ([`report`]), and the answer to its conversation-initiation webhook ([`hook`]).

pub mod agent;
pub mod hook;
pub mod report;

pub use report::{sign_elevenlabs, verify_elevenlabs};
