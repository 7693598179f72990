//! The hosted platforms, one folder each: Vapi, Retell and ElevenLabs (their agent formats and
//! field maps, end-of-call payloads, signatures and call-start answers) and Twilio (the voice
//! webhook and TwiML for a self-hosted bot). [`map`] and [`agent`] are the machinery every
//! platform's field map runs on.
//!
//! This layer sits above `calls` (it reads reports into `calls`' records) and below `serve`,
//! which answers the hooks from its snapshot.

pub mod agent;
pub mod elevenlabs;
pub mod map;
pub mod retell;
pub mod twilio;
pub mod vapi;

use serde_json::{Map, Value};

use crate::calls::read::{self, BadPayload, Parsed};
use crate::calls::{Privacy, Source};
use crate::format::diff::Change;
pub use agent::{Imported, Rendered};

/// A platform with an agent format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Vapi,
    Retell,
    Elevenlabs,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Vapi, Platform::Retell, Platform::Elevenlabs];

    /// The name in commands and in `provider_options`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Vapi => "vapi",
            Platform::Retell => "retell",
            Platform::Elevenlabs => "elevenlabs",
        }
    }

    /// The name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Platform::Vapi => "Vapi",
            Platform::Retell => "Retell",
            Platform::Elevenlabs => "ElevenLabs",
        }
    }

    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn spec(self) -> &'static agent::Spec {
        match self {
            Platform::Vapi => &vapi::agent::SPEC,
            Platform::Retell => &retell::agent::SPEC,
            Platform::Elevenlabs => &elevenlabs::agent::SPEC,
        }
    }
}

/// Why a platform object cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("{file}: {problem}")]
    NotAnAgent { file: String, problem: String },
    #[error("{file}: not an agent of {named}: it has the keys of an agent of {looks} ({why})")]
    WrongPlatform { file: String, named: &'static str, looks: Platform, why: String },
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

/// Keys only one platform's agent object has, by platform: what `import` tells them apart by.
const MARKS: [(Platform, &[&str]); 3] = [
    (
        Platform::Vapi,
        &[
            "model",
            "voice",
            "transcriber",
            "firstMessage",
            "firstMessageMode",
            "serverMessages",
            "clientMessages",
            "endCallMessage",
            "voicemailMessage",
            "analysisPlan",
            "artifactPlan",
            "startSpeakingPlan",
            "stopSpeakingPlan",
            "backgroundSound",
            "maxDurationSeconds",
            "hooks",
        ],
    ),
    (
        Platform::Retell,
        &[
            "agent_name",
            "response_engine",
            "voice_id",
            "general_prompt",
            "general_tools",
            "begin_message",
            "llm_id",
            "retellLlmData",
            "states",
            "starting_state",
            "interruption_sensitivity",
            "ambient_sound",
        ],
    ),
    (Platform::Elevenlabs, &["conversation_config", "platform_settings", "workflow"]),
];

/// Which platform an object's keys say it is (for Retell, its `agent` and `llm` too), with the
/// keys that say so; `None` when no platform's keys are there.
pub fn looks_like(object: &Value) -> Option<(Platform, Vec<&'static str>)> {
    let mut keys: Vec<&str> = object.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    for part in ["agent", "llm"] {
        if let Some(inner) = object.get(part).and_then(Value::as_object) {
            keys.extend(inner.keys().map(String::as_str));
        }
    }
    MARKS
        .iter()
        .map(|(platform, marks)| (*platform, marks.iter().copied().filter(|m| keys.contains(m)).collect::<Vec<_>>()))
        .filter(|(_, found)| !found.is_empty())
        .max_by_key(|(_, found)| found.len())
}

/// Renders a resolved configuration as the platform's object; deterministic.
pub fn render(platform: Platform, config: &Value) -> Rendered {
    agent::render(platform.spec(), config)
}

/// Imports a platform object (for Retell, `{"agent", "llm"}`) as the draft of agent `id`;
/// `file` names it in errors; `taken` says whether a tool file of a tool's name holds another
/// tool (the import then names it `<id>-<name>`).
pub fn import(
    platform: Platform,
    object: &Value,
    file: &str,
    id: &str,
    taken: agent::Taken<'_>,
) -> Result<Imported, PlatformError> {
    let problem = |p: &str| PlatformError::NotAnAgent { file: file.to_owned(), problem: p.to_owned() };
    let map = object.as_object().ok_or_else(|| problem("not a JSON object"))?;
    if platform == Platform::Retell && !map.get("agent").is_some_and(Value::is_object) {
        return Err(problem("not a Retell agent: expected {\"agent\": {...}, \"llm\": {...}}"));
    }
    match looks_like(object) {
        Some((looks, why)) if looks != platform => {
            let why = why.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
            return Err(PlatformError::WrongPlatform { file: file.to_owned(), named: platform.title(), looks, why });
        }
        None => {
            let title = platform.title();
            return Err(problem(&format!("not an agent of {title}: it has none of the keys of one")));
        }
        Some(_) => {}
    }
    Ok(agent::import(platform.spec(), object, id, taken))
}

/// The drift check: how the platform's current object differs from the rendered one, path by
/// path, read-only fields and the spelling of numbers aside.
pub fn drift(platform: Platform, rendered: &Value, current: &Value) -> Vec<Change> {
    let mut current = current.clone();
    for path in platform.spec().read_only {
        map::take(&mut current, path);
    }
    for path in platform.spec().filled_by_platform {
        if map::get(rendered, path).is_none() {
            map::take(&mut current, path);
        }
    }
    crate::format::diff::diff(&agent::normalized(&current), &agent::normalized(rendered))
}

/// One call a start hook asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub channel: String,
    pub caller: Option<String>,
    pub call_id: Option<String>,
}

/// What a start hook answers from: the resolution's attribution (all strings), the resolved
/// configuration, and its render for the platform (made once per snapshot).
pub struct Start<'a> {
    pub attribution: &'a Map<String, Value>,
    pub config: &'a Value,
    pub rendered: &'a Value,
}

/// Normalises one report body from `source`: each platform's reader, or agentver's own format.
pub fn parse(source: Source, body: &Value, privacy: &Privacy) -> Result<Parsed, BadPayload> {
    match source {
        Source::Vapi => vapi::report::parse(body, privacy),
        Source::Retell => retell::report::parse(body, privacy),
        Source::Elevenlabs => elevenlabs::report::parse(body, privacy),
        Source::Generic | Source::Agentver => read::generic(body, privacy),
    }
}

#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;
