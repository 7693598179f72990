//! Vapi: its assistant format and field map ([`agent`]), its end-of-call report and the ways it
//! authenticates to a server URL ([`report`]), and the answer to its `assistant-request`
//! ([`hook`]).

pub mod agent;
pub mod hook;
pub mod report;

pub use report::{VapiAuth, sign_vapi, verify_vapi};
