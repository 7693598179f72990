//! HTTP errors: `{"error": {"code", "message", "hint"}}` with the status DESIGN.md gives each.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_ready() -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "no snapshot is loaded yet")
            .hint("wait for /readyz; /healthz says why loading fails")
    }

    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong bearer token")
            .hint("send Authorization: Bearer <token>, the token serve was started with")
    }

    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is over {} bytes", super::BODY_LIMIT),
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (status, code, hint) = match e {
            Error::InChannel { source, .. } => {
                let inner = ApiError::from(*source);
                return ApiError { message, ..inner };
            }
            Error::UnknownChannel { .. } => {
                (StatusCode::NOT_FOUND, "unknown_channel", Some("GET /v1/channels lists the channels served".into()))
            }
            Error::UnknownAgent { .. } => {
                (StatusCode::NOT_FOUND, "unknown_agent", Some("GET /v1/agents lists the agents served".into()))
            }
            Error::VersionNotFound { latest, .. } => (
                StatusCode::NOT_FOUND,
                "version_not_found",
                Some(match latest {
                    Some(l) => format!("versions run from 1 to {l}"),
                    None => "this agent has no published version".into(),
                }),
            ),
            Error::NoVersions { .. } => (StatusCode::NOT_FOUND, "no_versions", None),
            Error::DraftUnavailable { .. } => (StatusCode::NOT_FOUND, "draft_unavailable", None),
            Error::UnknownCall { .. } => {
                (StatusCode::NOT_FOUND, "unknown_call", Some("GET /v1/calls lists the calls recorded".into()))
            }
            Error::TreeNotFound { .. } => (StatusCode::NOT_FOUND, "unknown_tree", None),
            Error::BadValue { .. } | Error::BadTime { .. } | Error::NoSplit { .. } => {
                (StatusCode::BAD_REQUEST, "bad_request", None)
            }
            Error::Unattributed { .. } => (StatusCode::NOT_FOUND, "unattributed", None),
            Error::VariantsNeedChannel => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                Some("add channel=C: the split's weights come from that channel".into()),
            ),
            Error::TreeMismatch { .. } => (
                StatusCode::CONFLICT,
                "tree_mismatch",
                Some("the tag was moved or replaced; audit it with `agentver verify` before re-pinning".into()),
            ),
            Error::BadCommitterDate { .. }
            | Error::BadAuthor { .. }
            | Error::UnknownRevision { .. }
            | Error::NotACommit { .. }
            | Error::BadChannel { .. } => (StatusCode::BAD_REQUEST, "bad_request", None),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
        };
        ApiError { status, code, message, hint }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            hint: Option<&'a str>,
        }
        let body = serde_json::to_vec(&Body {
            error: Inner { code: self.code, message: &self.message, hint: self.hint.as_deref() },
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
