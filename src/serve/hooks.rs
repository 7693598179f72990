//! The platforms' webhooks: each request verified the platform's way first (a bad or missing
//! signature is 401 and stores nothing; a platform whose secret is not set answers 404), then
//! normalised, its attribution checked against the served snapshot, and merged into the call's
//! record. Message types that carry no outcome are acknowledged and not stored.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::State;
use super::calls::{calls_of, json_response};
use super::error::ApiError;
use crate::calls::ingest::{self, Outcome};
use crate::calls::read::BadSignature;
use crate::calls::{Source, time_from_millis};
use crate::platforms::vapi::VapiAuth;
use crate::platforms::{elevenlabs, retell, vapi};

/// The platforms' webhook secrets (from the environment).
#[derive(Clone, Debug, Default)]
pub struct HookSecrets {
    pub vapi: VapiAuth,
    pub retell: Option<String>,
    pub elevenlabs: Option<String>,
    /// The token ElevenLabs' conversation-initiation webhook sends (it does not sign it).
    pub elevenlabs_initiation: Option<String>,
    /// The header it sends the token in, when not `Authorization: Bearer`.
    pub elevenlabs_initiation_header: Option<String>,
    /// Twilio's auth token, for `X-Twilio-Signature`.
    pub twilio: Option<String>,
}

impl HookSecrets {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        HookSecrets {
            vapi: VapiAuth {
                secret: var("AGENTVER_VAPI_SECRET"),
                header: var("AGENTVER_VAPI_SECRET_HEADER").map(|h| h.to_ascii_lowercase()),
                hmac: var("AGENTVER_VAPI_HMAC_SECRET"),
            },
            retell: var("AGENTVER_RETELL_API_KEY"),
            elevenlabs: var("AGENTVER_ELEVENLABS_WEBHOOK_SECRET"),
            elevenlabs_initiation: var("AGENTVER_ELEVENLABS_INITIATION_TOKEN"),
            elevenlabs_initiation_header: var("AGENTVER_ELEVENLABS_INITIATION_HEADER").map(|h| h.to_ascii_lowercase()),
            twilio: var("AGENTVER_TWILIO_AUTH_TOKEN"),
        }
    }
}

pub fn not_configured(platform: &str, var: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_configured", format!("the {platform} webhook is not configured"))
        .hint(format!("set {var} for serve"))
}

pub fn unauthorized(e: BadSignature) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.0)
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Normalises a verified body from `source` and stores it; `signed_ms` is the signature's time,
/// the platform's time of the event when the payload names none.
async fn accept(state: &State, source: Source, body: &[u8], signed_ms: Option<i64>) -> Result<Response, ApiError> {
    let calls = calls_of(state)?;
    let snapshot = state.snapshot.load_full().ok_or_else(ApiError::not_ready)?;
    let value = ingest::json(body).map_err(|e| ApiError::bad_request(e.0))?;
    match ingest::prepare(crate::platforms::parse, source, value, &calls.privacy, snapshot.as_ref())
        .map_err(|e| ApiError::bad_request(e.0))?
    {
        Outcome::Ignored(why) => Ok(json_response(&json!({ "ignored": why }))),
        Outcome::Report(mut prepared) => {
            if prepared.event.at.is_none() {
                prepared.event.at = signed_ms.and_then(time_from_millis);
            }
            let warnings = prepared.event.record.warnings.clone();
            let call = calls.store(*prepared).await?;
            Ok(json_response(&json!({ "call": call, "warnings": warnings })))
        }
    }
}

/// `POST /hooks/vapi`: Vapi's server messages: `assistant-request` answered with the assistant,
/// `end-of-call-report` stored.
pub async fn vapi(Extract(state): Extract<Arc<State>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let auth = &state.hooks.vapi;
    if auth.secret.is_none() && auth.hmac.is_none() {
        return Err(not_configured("Vapi", "AGENTVER_VAPI_SECRET or AGENTVER_VAPI_HMAC_SECRET"));
    }
    let body = super::start::read_body(&state, body).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    vapi::verify_vapi(auth, &header, &body, now_ms()).map_err(unauthorized)?;
    if let Some(answer) = super::start::vapi(&state, &body)? {
        return Ok(answer);
    }
    accept(&state, Source::Vapi, &body, None).await
}

/// `POST /hooks/retell`: Retell's `call_inbound` answered with the agent to run; `call_started`,
/// `call_ended` and `call_analyzed` stored.
pub async fn retell(Extract(state): Extract<Arc<State>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let key = state.hooks.retell.as_deref().ok_or_else(|| not_configured("Retell", "AGENTVER_RETELL_API_KEY"))?;
    let body = super::start::read_body(&state, body).await?;
    let signature = headers.get("x-retell-signature").and_then(|v| v.to_str().ok());
    let signed = retell::verify_retell(key, signature, &body, now_ms()).map_err(unauthorized)?;
    if let Some(answer) = super::start::retell(&state, &body)? {
        return Ok(answer);
    }
    accept(&state, Source::Retell, &body, Some(signed)).await
}

/// `POST /hooks/elevenlabs`: ElevenLabs' `post_call_transcription`.
pub async fn elevenlabs(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let calls = calls_of(&state)?;
    let secret = state
        .hooks
        .elevenlabs
        .as_deref()
        .ok_or_else(|| not_configured("ElevenLabs", "AGENTVER_ELEVENLABS_WEBHOOK_SECRET"))?;
    let body = calls.body(body).await?;
    let signature = headers.get("elevenlabs-signature").and_then(|v| v.to_str().ok());
    let signed = elevenlabs::verify_elevenlabs(secret, signature, &body, now_ms()).map_err(unauthorized)?;
    accept(&state, Source::Elevenlabs, &body, Some(signed)).await
}
