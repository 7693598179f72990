//! HTTP errors: `{"error": {"code", "message", "hint"}}` with the status DESIGN.md gives each
//! library error, domain by domain; and the server's own refusals ([`ServeError`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{CallsError, Error, FormatError, GitError, OpsError, RoutingError, WorkspaceError};

/// The server's own refusals.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `serve` asked to listen beyond loopback with nothing to authenticate callers.
    #[error(
        "refusing to listen on {addr} with no token: anyone who can reach it could read every agent's configuration"
    )]
    InsecureBind { addr: String },
}

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
            Error::Routing(RoutingError::InChannel { source, .. }) => {
                let inner = ApiError::from(*source);
                return ApiError { message, ..inner };
            }
            Error::Format(e) => format_status(&e),
            Error::Git(e) => git_status(&e),
            Error::Workspace(e) => workspace_status(&e),
            Error::Routing(e) => routing_status(&e),
            Error::Calls(e) => calls_status(&e),
            Error::Ops(OpsError::BadChannel { .. }) | Error::BadValue { .. } => BAD_REQUEST,
            Error::Ops(_) | Error::Serve(_) | Error::Io(_) | Error::Internal { .. } => INTERNAL,
        };
        ApiError { status, code, message, hint }
    }
}

/// An HTTP status, the error's code, and a hint in HTTP terms.
type Status = (StatusCode, &'static str, Option<String>);

const BAD_REQUEST: Status = (StatusCode::BAD_REQUEST, "bad_request", None);
const INTERNAL: Status = (StatusCode::INTERNAL_SERVER_ERROR, "internal", None);

fn format_status(e: &FormatError) -> Status {
    match e {
        FormatError::UnknownChannel { .. } => {
            (StatusCode::NOT_FOUND, "unknown_channel", Some("GET /v1/channels lists the channels served".into()))
        }
        FormatError::Invalid(_) | FormatError::Requires { .. } => INTERNAL,
    }
}

fn git_status(e: &GitError) -> Status {
    match e {
        GitError::BadCommitterDate { .. }
        | GitError::BadAuthor { .. }
        | GitError::UnknownRevision { .. }
        | GitError::NotACommit { .. } => BAD_REQUEST,
        _ => INTERNAL,
    }
}

fn workspace_status(e: &WorkspaceError) -> Status {
    match e {
        WorkspaceError::UnknownAgent { .. } => {
            (StatusCode::NOT_FOUND, "unknown_agent", Some("GET /v1/agents lists the agents served".into()))
        }
        WorkspaceError::VersionNotFound { latest, .. } => (
            StatusCode::NOT_FOUND,
            "version_not_found",
            Some(match latest {
                Some(l) => format!("versions run from 1 to {l}"),
                None => "this agent has no published version".into(),
            }),
        ),
        WorkspaceError::NoVersions { .. } => (StatusCode::NOT_FOUND, "no_versions", None),
        WorkspaceError::TreeNotFound { .. } => (StatusCode::NOT_FOUND, "unknown_tree", None),
        WorkspaceError::SilentRevert { .. } => INTERNAL,
    }
}

fn routing_status(e: &RoutingError) -> Status {
    match e {
        RoutingError::DraftUnavailable { .. } => (StatusCode::NOT_FOUND, "draft_unavailable", None),
        RoutingError::TreeMismatch { .. } => (
            StatusCode::CONFLICT,
            "tree_mismatch",
            Some("the tag was moved or replaced; audit it with `agentver verify` before re-pinning".into()),
        ),
        RoutingError::InChannel { .. } => INTERNAL,
    }
}

fn calls_status(e: &CallsError) -> Status {
    match e {
        CallsError::UnknownCall { .. } => {
            (StatusCode::NOT_FOUND, "unknown_call", Some("GET /v1/calls lists the calls recorded".into()))
        }
        CallsError::Unattributed { .. } => (StatusCode::NOT_FOUND, "unattributed", None),
        CallsError::BadTime { .. } | CallsError::NoSplit { .. } | CallsError::BadRecord { .. } => BAD_REQUEST,
        CallsError::VariantsNeedChannel => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("add channel=C: the split's weights come from that channel".into()),
        ),
        CallsError::BadStore { .. } | CallsError::StoreTooNew { .. } | CallsError::CallStore { .. } => INTERNAL,
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
