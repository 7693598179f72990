//! The call-start hooks: Vapi's `assistant-request`, Retell's `call_inbound`, ElevenLabs'
//! conversation initiation and Twilio's voice webhook. Each resolves the call through the
//! served snapshot exactly as `/v1/resolve` does (same resolver, bucketing and pinned trees),
//! records the decision under the platform's call id, and answers in the platform's own shape
//! from a render made once per snapshot. A call the snapshot cannot place gets the platform's
//! refusal (what the caller hears is in docs/platforms.md), never a server error.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::State;
use super::error::ApiError;
use super::hooks::{not_configured, unauthorized};
use super::record::Decision;
use super::snapshot::Snapshot;
use crate::calls::ingest;
use crate::platforms::{Ask, Platform, Start, elevenlabs, retell, twilio, vapi};
use crate::routing::resolve::{Call, Resolution};

/// What the caller hears when a call cannot be placed (Vapi speaks it; Twilio says it).
pub const REFUSAL: &str = "Sorry, this number cannot take calls right now. Please try again later.";

/// A hook's body: through the call store's reader when there is one (16 MiB, bounded at once),
/// else within the small request limit.
pub async fn read_body(state: &State, body: Body) -> Result<Bytes, ApiError> {
    match &state.calls {
        Some(calls) => calls.body(body).await,
        None => super::calls::read_limited(body, super::BODY_LIMIT).await,
    }
}

/// Resolves `ask` and answers with `make`'s bytes (made once per snapshot, channel and
/// target); `Err` holds why the call cannot be placed (logged; the platform gets its refusal).
fn resolve(
    state: &State,
    platform: Option<Platform>,
    ask: &Ask,
    make: fn(&Start<'_>) -> Vec<u8>,
) -> Result<Result<Bytes, String>, ApiError> {
    let guard = state.snapshot.load();
    let snapshot: &Snapshot = guard.as_deref().ok_or_else(ApiError::not_ready)?;
    let call = Call { caller: ask.caller.as_deref(), call_id: ask.call_id.as_deref(), agent_version: None };
    let resolution = match snapshot.resolver.resolve(&ask.channel, &call) {
        Ok(r) => r,
        Err(e) => {
            let name = platform.map_or("twilio", Platform::name);
            tracing::warn!(platform = name, "a call-start hook could not place a call: {e}");
            return Ok(Err(e.to_string()));
        }
    };
    if let Some(p) = platform
        && resolution.served.config.get("workflow").is_some_and(|w| !w.is_null())
    {
        // A hosted platform runs a prompt, never agentver's graph (`check` says so for numbers).
        let why = format!(
            "channel {} serves {} {}, a workflow agent, which {} cannot run",
            ask.channel,
            resolution.served.agent,
            resolution.served.version,
            p.title()
        );
        tracing::warn!(platform = p.name(), "a call-start hook could not place a call: {why}");
        return Ok(Err(why));
    }
    let key = format!("{}\0{}\0{}", platform.map_or("twilio", Platform::name), resolution.target, ask.channel);
    let answer = snapshot.answer(&key, || {
        let rendered = match platform {
            Some(p) => snapshot.rendered(p, &resolution.served),
            None => Arc::new(Value::Null),
        };
        let attribution = attribution(&resolution, &snapshot.revision);
        Bytes::from(make(&Start { attribution: &attribution, config: &resolution.served.config, rendered: &rendered }))
    });
    decided(state, snapshot, &resolution, ask, platform)?;
    Ok(Ok(answer))
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn json_answer(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// The `/v1/resolve` attribution, as a map of strings.
fn attribution(resolution: &Resolution<'_>, revision: &str) -> Map<String, Value> {
    let answer = resolution.answer(Some(revision));
    match serde_json::to_value(answer.attribution) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Counts the resolution as `/v1/resolve` does and records the decision when the call has an id
/// (`not_deployed` where the platform cannot run the served version without a deploy).
fn decided(
    state: &State,
    snapshot: &Snapshot,
    resolution: &Resolution<'_>,
    ask: &Ask,
    platform: Option<Platform>,
) -> Result<(), ApiError> {
    if let Some(counter) = snapshot.counters.get(resolution.channel).and_then(|c| c.get(resolution.target)) {
        counter.fetch_add(1, Relaxed);
    }
    if let (Some(id), Some(recorder)) = (ask.call_id.as_deref(), &state.recorder) {
        let at = crate::calls::now();
        let mut decision = Decision::new(resolution, id, ask.caller.as_deref(), &snapshot.revision, at);
        if platform == Some(Platform::Retell) {
            let served = &resolution.served;
            decision.not_deployed = Some(format!(
                "{} {} is not deployed on Retell, whose per-call override cannot carry its prompt or tools: the call ran the number's own Retell agent",
                served.agent, served.version
            ));
        }
        recorder.record(decision).map_err(|_| super::routes::not_recorded())?;
    }
    Ok(())
}

fn limits(ask: &Ask) -> Result<(), ApiError> {
    if let Some(id) = &ask.call_id {
        crate::calls::limits::call_id(id, "call id").map_err(|e| ApiError::bad_request(e.0))?;
    }
    for value in [Some(&ask.channel), ask.caller.as_ref()].into_iter().flatten() {
        crate::calls::limits::short(value, "number").map_err(|e| ApiError::bad_request(e.0))?;
    }
    Ok(())
}

/// Vapi: an `assistant-request` is answered here; any other message is `None` (stored by the
/// end-of-call path).
pub fn vapi(state: &State, body: &[u8]) -> Result<Option<Response>, ApiError> {
    let value = ingest::json(body).map_err(|e| ApiError::bad_request(e.0))?;
    let Some(ask) = vapi::hook::ask(&value).map_err(|e| ApiError::bad_request(e.0))? else { return Ok(None) };
    limits(&ask)?;
    let answer = resolve(state, Some(Platform::Vapi), &ask, |s| json_bytes(&vapi::hook::answer(s)))?
        .unwrap_or_else(|_| json_bytes(&vapi::hook::refusal(REFUSAL)).into());
    Ok(Some(json_answer(answer)))
}

/// Retell: `call_inbound` is answered here; any other event is `None`.
pub fn retell(state: &State, body: &[u8]) -> Result<Option<Response>, ApiError> {
    let value = ingest::json(body).map_err(|e| ApiError::bad_request(e.0))?;
    let Some(ask) = retell::hook::ask(&value).map_err(|e| ApiError::bad_request(e.0))? else { return Ok(None) };
    limits(&ask)?;
    let answer = resolve(state, Some(Platform::Retell), &ask, |s| json_bytes(&retell::hook::answer(s, None)))?
        .unwrap_or_else(|_| json_bytes(&retell::hook::refusal()).into());
    Ok(Some(json_answer(answer)))
}

/// `POST /hooks/elevenlabs/initiation`: the token ElevenLabs is configured to send, then the
/// conversation's initiation data. An unplaceable call is a 404 naming why: ElevenLabs then runs
/// the agent as configured on the platform.
pub async fn elevenlabs_initiation(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let token = state
        .hooks
        .elevenlabs_initiation
        .as_deref()
        .ok_or_else(|| not_configured("ElevenLabs initiation", "AGENTVER_ELEVENLABS_INITIATION_TOKEN"))?;
    let sent = match &state.hooks.elevenlabs_initiation_header {
        Some(name) => headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::calls::read::bearer_token(v).unwrap_or(v).to_owned()),
        None => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::calls::read::bearer_token)
            .map(str::to_owned),
    };
    if !sent.is_some_and(|s| crate::calls::read::same(&s, token)) {
        return Err(unauthorized(crate::calls::read::BadSignature("the initiation token is missing or wrong".into())));
    }
    let body = read_body(&state, body).await?;
    let value = ingest::json(&body).map_err(|e| ApiError::bad_request(e.0))?;
    let ask = elevenlabs::hook::ask(&value).map_err(|e| ApiError::bad_request(e.0))?;
    limits(&ask)?;
    match resolve(&state, Some(Platform::Elevenlabs), &ask, |s| json_bytes(&elevenlabs::hook::answer(s)))? {
        Ok(answer) => Ok(json_answer(answer)),
        Err(why) => Err(ApiError::new(StatusCode::NOT_FOUND, "not_placed", why)),
    }
}

/// Stands for the stream URL in the cached TwiML (a fn pointer cannot hold the server's setting).
const STREAM_URL: &str = "\u{1}stream\u{1}";

fn twiml(start: &Start<'_>) -> Vec<u8> {
    let params: Vec<(&str, &str)> =
        start.attribution.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())).collect();
    twilio::connect_raw(STREAM_URL, &params).into_bytes()
}

/// `POST /hooks/twilio`: Twilio's voice webhook, signed over `--public-url` and the form;
/// answered with TwiML that connects the call's stream to the bot, the attribution as stream
/// parameters.
pub async fn twilio(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let token = state.hooks.twilio.as_deref().ok_or_else(|| not_configured("Twilio", "AGENTVER_TWILIO_AUTH_TOKEN"))?;
    let (Some(public), Some(stream)) = (state.public_url.as_deref(), state.twilio_stream_url.as_deref()) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_configured", "the Twilio webhook is not configured")
            .hint("start serve with --public-url and set [platforms.twilio] stream_url in agentver.toml"));
    };
    let body = read_body(&state, body).await?;
    let fields = twilio::fields(&body);
    let url = format!("{}{}", public.trim_end_matches('/'), uri.path_and_query().map_or("", |p| p.as_str()));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (signature, settings) = (header("x-twilio-signature"), header("x-twilio-webhooks-signature-settings"));
    twilio::verify(token, &url, &fields, signature, settings).map_err(unauthorized)?;
    let ask = twilio::ask(&fields).map_err(|e| ApiError::bad_request(e.0))?;
    limits(&ask)?;
    // The stream URL is the server's setting, the same for every call: the cached TwiML holds it.
    let twiml = match resolve(&state, None, &ask, twiml)? {
        Ok(bytes) => String::from_utf8_lossy(&bytes).replacen(STREAM_URL, &twilio::xml(stream), 1),
        Err(_) => twilio::refusal(REFUSAL),
    };
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], twiml).into_response())
}
