//! Retell: its agent and Retell LLM format and field map ([`agent`]), its call webhooks and
//! signature ([`report`]), and the answer to its `call_inbound` webhook ([`hook`]).

pub mod agent;
pub mod hook;
pub mod report;

pub use report::{sign_retell, verify_retell};
