//! One report on its way into the store, the same for every route and for `calls import`: read
//! as JSON, normalised by its source, its echoed attribution checked against what served, and its
//! raw body made safe to keep (numbers hashed, transcripts dropped, as configured).

use serde_json::Value;

use super::attribution::{self, Known};
use super::read::{BadPayload, Parse, Parsed};
use super::{Event, Privacy, Source};

/// A report ready for the store: the event and the raw body to keep beside it (none for
/// agentver's own format, which is read strictly: the event holds all of it).
#[derive(Debug)]
pub struct Prepared {
    pub event: Event,
    pub raw: Option<String>,
}

/// What a body turned out to be.
#[derive(Debug)]
pub enum Outcome {
    Report(Box<Prepared>),
    /// A message type that carries no call outcome (acknowledged, not stored), and why.
    Ignored(String),
}

/// Reads a request body as JSON.
pub fn json(bytes: &[u8]) -> Result<Value, BadPayload> {
    serde_json::from_slice(bytes).map_err(|e| BadPayload(format!("the body is not JSON: {e}")))
}

/// Normalises `body` from `source` with `parse` and checks its attribution against `known`.
pub fn prepare(
    parse: Parse,
    source: Source,
    mut body: Value,
    privacy: &Privacy,
    known: &dyn Known,
) -> Result<Outcome, BadPayload> {
    let mut event = match parse(source, &body, privacy)? {
        Parsed::Ignored(why) => return Ok(Outcome::Ignored(why)),
        Parsed::Event(e) => *e,
    };
    attribution::check(&mut event.record, known);
    let raw = (source != Source::Generic).then(|| {
        privacy.scrub(&mut body);
        body.to_string()
    });
    Ok(Outcome::Report(Box::new(Prepared { event, raw })))
}
