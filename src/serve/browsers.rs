//! "Browsers are not clients of the API": every route answers only requests for this server's
//! own names (no DNS rebinding), refuses writes a page on another origin sends, and takes JSON
//! bodies only as `application/json` (a form or `text/plain` post, which a page may send without
//! asking, is 415). This holds with and without a token.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State as Extract};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::routes;

/// The names this server answers to.
#[derive(Clone, Debug)]
pub struct Names {
    /// The address it listens on.
    pub listen: SocketAddr,
    /// `--public-url`'s authority (host and any port), lowercased.
    pub public: Option<String>,
}

impl Names {
    pub fn new(listen: SocketAddr, public_url: Option<&str>) -> Names {
        let public = public_url.and_then(|u| u.split_once("://")).map(|(_, rest)| {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            rest[..end].rsplit_once('@').map_or(&rest[..end], |(_, host)| host).to_ascii_lowercase()
        });
        Names { listen, public }
    }

    /// Whether a request's `Host` names this server: a loopback name, the listen address, the
    /// public URL's host, or (listening on every address, behind a balancer) an IP address.
    fn answers(&self, host: &str) -> bool {
        // Compared without folding a copy: this runs on every request.
        let name = strip_port(host);
        if ["localhost", "127.0.0.1", "[::1]"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return true;
        }
        if self.public.as_deref().is_some_and(|p| strip_port(p).eq_ignore_ascii_case(name)) {
            return true;
        }
        let ip = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        match ip {
            Some(ip) if self.listen.ip().is_unspecified() => !ip.is_unspecified(),
            Some(ip) => ip == self.listen.ip(),
            None => false,
        }
    }

    /// Whether an `Origin` is this server's own: the origin of the request's `Host`, or the
    /// public URL's.
    fn own_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let Some((_, authority)) = origin.split_once("://") else { return false };
        let authority = authority.to_ascii_lowercase();
        host.is_some_and(|h| h.eq_ignore_ascii_case(&authority)) || self.public.as_deref() == Some(authority.as_str())
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    }
}

/// Routes whose bodies are JSON.
fn takes_json(path: &str) -> bool {
    matches!(
        path,
        routes::RESOLVE
            | routes::CALLS
            | routes::PRUNE
            | routes::HOOK_VAPI
            | routes::HOOK_RETELL
            | routes::HOOK_ELEVENLABS
            | routes::HOOK_ELEVENLABS_INITIATION
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A request declaring a body (`Content-Length` above 0, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

pub async fn guard(Extract(names): Extract<std::sync::Arc<Names>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(host) = host
        && !names.answers(host)
    {
        return ApiError::new(StatusCode::FORBIDDEN, "wrong_host", "this server does not answer for that Host")
            .hint("ask for it by its own address, a loopback name or --public-url")
            .into_response();
    }
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    if !reads {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        if cross_site || origin.is_some_and(|o| !names.own_origin(o, host)) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "a page on another origin cannot write to this server",
            )
            .into_response();
        }
        if takes_json(request.uri().path()) && has_body(headers) && !is_json(headers) {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_json",
                "the body must be sent as Content-Type: application/json",
            )
            .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_its_own_names_only() {
        let local = Names::new("127.0.0.1:8700".parse().unwrap(), Some("https://agents.example.com"));
        for ok in [
            "127.0.0.1:8700",
            "localhost:8700",
            "LOCALHOST",
            "[::1]:8700",
            "agents.example.com",
            "agents.example.com:443",
        ] {
            assert!(local.answers(ok), "{ok}");
        }
        for bad in ["evil.example", "evil.example:8700", "10.0.0.5:8700", "agents.example.com.evil.example"] {
            assert!(!local.answers(bad), "{bad}");
        }
        let everywhere = Names::new("0.0.0.0:8700".parse().unwrap(), None);
        assert!(everywhere.answers("10.0.0.5:8700") && everywhere.answers("[fd00::5]:8700"));
        assert!(!everywhere.answers("rebound.evil.example:8700"));
    }

    #[test]
    fn an_origin_is_its_own_when_it_names_the_host_or_the_public_url() {
        let names = Names::new("127.0.0.1:8700".parse().unwrap(), Some("https://agents.example.com/"));
        assert!(names.own_origin("http://127.0.0.1:8700", Some("127.0.0.1:8700")));
        assert!(names.own_origin("https://agents.example.com", Some("10.0.0.5:8700")));
        assert!(!names.own_origin("http://evil.example", Some("127.0.0.1:8700")));
        assert!(!names.own_origin("null", Some("127.0.0.1:8700")));
    }
}
