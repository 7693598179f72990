//! gix errors into the library's [`Error`], keeping their whole chain of causes.

use crate::error::{Error, Result};

/// Wraps a gix error with what we were doing, keeping its whole chain of causes.
pub fn git(context: impl Into<String>) -> impl FnOnce(gix::Error) -> Error {
    move |e| Error::Git { context: context.into(), message: chain(&e), source: Some(Box::new(e)) }
}

/// Like [`git`], but the context is only formatted when there is an error: for hot paths that
/// read thousands of objects.
pub trait GitContext<T> {
    fn context(self, describe: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GitContext<T> for std::result::Result<T, gix::Error> {
    fn context(self, describe: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Git { context: describe(), message: chain(&e), source: Some(Box::new(e)) })
    }
}

/// "outer: inner: innermost", without repeating a message a wrapper already contains.
pub fn chain(e: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in e.iter_errors() {
        let msg = err.to_string();
        if !msg.is_empty() && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}
