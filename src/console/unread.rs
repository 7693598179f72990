//! Answers given before a request's body was read say `Connection: close`: a layer both of
//! agentver's HTTP servers put around every route (`agentver console`'s, and `serve`, which
//! mounts the console's pages and so names this layer from here).
//!
//! A route may answer without reading the body it was sent: a hook whose secret is unset (404),
//! a missing token (401), a body past its limit (413), a form from another origin (403), an
//! unknown route. hyper then writes the answer as if the connection would be kept, and only
//! afterwards, finding the body unread and not yet arrived, closes it. A client that pooled the
//! connection sends its next request into a closed socket and fails it ("peer disconnected"); a
//! platform's webhook client does not retry a POST. Saying `Connection: close` in the answer
//! itself tells the client not to reuse it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// The middleware: a request that declares a body has it watched, and an answer given while it
/// is unread closes the connection. Requests without a body pass untouched.
pub async fn close_if_unread(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let declares_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|n| n.as_bytes() != b"0");
    if !declares_body {
        return next.run(request).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let watched = read.clone();
    let request = request.map(|body| Body::new(Watched { body, read: watched }));
    let mut response = next.run(request).await;
    if !read.load(Relaxed) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A body that notes when it has been read to its end.
struct Watched {
    body: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.body.is_end_stream() {
            self.read.store(true, Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
