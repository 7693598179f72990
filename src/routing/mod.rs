//! Which configuration serves a call: sticky A/B bucketing and the `Resolver`, pure over loaded
//! data, shared by the CLI (and the server to come).

pub mod bucket;
mod error;
pub mod resolve;

pub use error::RoutingError;
