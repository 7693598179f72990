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
    /// A token short enough to guess.
    #[error("the token is shorter than {min} bytes")]
    ShortToken { min: usize },
    /// `--follow` in a repository with no commit yet.
    #[error("--follow {follow}: the repository has no commit yet, so there is nothing to serve")]
    NoCommits { follow: String },
    /// `--follow` naming nothing.
    #[error("--follow {follow}: no such branch, tag or commit")]
    UnknownFollow { follow: String, suggestion: Option<String> },
    /// A call served by a configuration this server does not serve (any more).
    #[error("tree {tree} is not served at revision {revision}")]
    TreeNotServed { tree: String, revision: String },
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

    pub fn too_large(limit: usize) -> Self {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {limit} bytes"))
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
            Error::Calls(CallsError::CallStore { operation, .. }) => {
                // The driver's words may hold SQL or names from the schema: they go to the log.
                tracing::warn!("call store: {message}");
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_failed",
                    format!("the call store failed while {operation}"),
                )
                .hint("retry; the server's log says why");
            }
            Error::Calls(e) => calls_status(&e),
            Error::Serve(ServeError::TreeNotServed { .. }) => (
                StatusCode::NOT_FOUND,
                "tree_not_served",
                Some("`agentver replay` on a clone reads any version's tree from the repository".into()),
            ),
            Error::Ops(OpsError::BadChannel { .. }) | Error::BadValue { .. } | Error::Platform(_) => BAD_REQUEST,
            Error::Ops(_) | Error::Serve(_) | Error::Io(_) | Error::Internal { .. } => INTERNAL,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // A failure of the server's own is described in its log, never to the client: the
            // words may hold file contents or values from a refused revision.
            tracing::warn!("answering a request failed: {message}");
            return ApiError::new(status, "internal", "the server failed to answer").hint("the server's log says why");
        }
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
        WorkspaceError::TreeNotFound { .. } | WorkspaceError::NotASnapshot { .. } => {
            (StatusCode::NOT_FOUND, "unknown_tree", None)
        }
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
        RoutingError::VersionUnservable { .. } => (
            StatusCode::CONFLICT,
            "version_unservable",
            Some("the version's tag does not load; `agentver verify` names what is wrong with it".into()),
        ),
        RoutingError::NotPublished { .. } => (
            StatusCode::CONFLICT,
            "not_published",
            Some("the channel serves once the agent's first version is published".into()),
        ),
        RoutingError::InChannel { .. } => INTERNAL,
    }
}

fn calls_status(e: &CallsError) -> Status {
    match e {
        CallsError::UnknownCall { .. } => {
            (StatusCode::NOT_FOUND, "unknown_call", Some("GET /v1/calls lists the calls recorded".into()))
        }
        CallsError::Unattributed { .. } | CallsError::InvalidAttribution { .. } | CallsError::NotDeployed { .. } => {
            (StatusCode::NOT_FOUND, "unattributed", None)
        }
        CallsError::BadTime { .. }
        | CallsError::NoSplit { .. }
        | CallsError::BadRecord { .. }
        | CallsError::NoCalls { .. }
        | CallsError::VariantAndByVariant { .. }
        | CallsError::OtherAgent { .. }
        | CallsError::SameVersion { .. } => BAD_REQUEST,
        CallsError::VariantsNeedChannel => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("add channel=C: the split's weights come from that channel".into()),
        ),
        CallsError::BadStore { .. }
        | CallsError::CallerKeyMismatch { .. }
        | CallsError::StoreTooNew { .. }
        | CallsError::CallStore { .. }
        | CallsError::ImportInterrupted { .. } => INTERNAL,
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
