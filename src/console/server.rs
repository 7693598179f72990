//! `agentver console`: the pages over the work tree with the editor's actions, on a loopback
//! address only, until the shutdown future completes.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::actions::Editor;
use super::view::WorkTree;
use super::{Access, Console};
use crate::error::{Error, Result};

/// Where `agentver console` listens unless told.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8701";

/// Binds `listen`, which must be a loopback address (the console changes the work tree and
/// has no login).
pub async fn bind(listen: &str) -> Result<TcpListener> {
    let addr: SocketAddr = listen.parse().map_err(|_| Error::BadValue {
        what: "--listen".into(),
        value: listen.to_owned(),
        expected: "a loopback address and port like 127.0.0.1:8701".into(),
    })?;
    if !addr.ip().is_loopback() {
        return Err(Error::BadValue {
            what: "--listen".into(),
            value: listen.to_owned(),
            expected: "a loopback address (127.0.0.1 or [::1]): the console edits the work tree and has no login"
                .into(),
        });
    }
    TcpListener::bind(addr).await.map_err(|e| Error::io(format!("--listen {addr}"), e))
}

/// Serves the console for the work tree at `root` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    root: PathBuf,
    calls: Option<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let source = WorkTree::open(root.clone(), calls.as_deref())?;
    let port = listener.local_addr().map_err(|e| Error::io("the listening socket", e))?.port();
    let console = Arc::new(Console {
        source: Arc::new(source),
        access: Access::Open,
        sessions: super::session::Sessions::for_server("console", port, false),
        secure: false,
        editor: Some(Editor { root }),
        week: Default::default(),
        stats: Default::default(),
        logins: Default::default(),
    });
    // Around every route: a refused form (403 before its body is read) must not leave the
    // browser a connection hyper is about to close.
    let router: axum::Router = super::router(console).layer(axum::middleware::from_fn(super::unread::close_if_unread));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::io("serving the console", e))
}
