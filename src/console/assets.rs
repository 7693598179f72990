//! The console's assets, compiled into the binary: htmx (vendored from the npm registry,
//! `npm pack htmx.org@2`, its version in the file name), the stylesheet, and a few lines that
//! show times in the reader's time zone.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const HTMX_VERSION: &str = "2.0.11";
pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";
pub const CSS_PATH: &str = concat!("/assets/console-", env!("CARGO_PKG_VERSION"), ".css");
pub const JS_PATH: &str = concat!("/assets/console-", env!("CARGO_PKG_VERSION"), ".js");

pub const HTMX: &[u8] = include_bytes!("../../assets/console/htmx-2.0.11.min.js");
pub const CSS: &[u8] = include_bytes!("../../assets/console/console.css");
pub const JS: &[u8] = include_bytes!("../../assets/console/console.js");

/// Every asset by its path, with its content type.
pub const ALL: &[(&str, &str, &[u8])] = &[
    (HTMX_PATH, "text/javascript; charset=utf-8", HTMX),
    (CSS_PATH, "text/css; charset=utf-8", CSS),
    (JS_PATH, "text/javascript; charset=utf-8", JS),
];

/// The asset at `path`: cached for a year (its name changes with its content's version).
pub fn serve(path: &str) -> Response {
    match ALL.iter().find(|(p, _, _)| *p == path) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
                (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable")),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
