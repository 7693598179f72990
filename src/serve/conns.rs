//! Connections: accepted up to a cap below the file-descriptor limit (raised to its hard limit
//! at start), so a crowd of idle keep-alive connections cannot lock new clients out. At the cap
//! the oldest idle connection is closed to make room; when none is idle, the new one is refused.
//! On shutdown every connection finishes its request in flight and closes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use super::HEADER_TIMEOUT;

/// File descriptors kept for everything but connections (the store, git, the spool, logs).
const RESERVED: u64 = 64;

/// The connection cap the descriptor limit allows, after raising the soft limit to the hard one.
pub fn from_descriptor_limit() -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    limit.saturating_sub(RESERVED).clamp(16, 1 << 20) as usize
}

/// One open connection, as the cap sees it.
struct Conn {
    /// Requests being answered now.
    active: Arc<AtomicUsize>,
    /// When it last finished a request (or opened), in ms since the server started.
    last: Arc<AtomicU64>,
    /// Asks it to close once idle.
    close: Arc<Notify>,
}

pub struct Connections {
    cap: usize,
    started: Instant,
    next: AtomicU64,
    open: Arc<Mutex<HashMap<u64, Conn>>>,
    stopping: watch::Sender<bool>,
}

impl Connections {
    pub fn new(cap: usize) -> Self {
        Connections {
            cap,
            started: Instant::now(),
            next: AtomicU64::new(0),
            open: Arc::default(),
            stopping: watch::channel(false).0,
        }
    }

    /// Accepts connections until `shutdown` completes.
    pub async fn accept_until(&self, listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true);
        tokio::pin!(shutdown);
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            if !self.make_room() {
                // Every connection is busy: this one is refused (closed), the client retries.
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.spawn(stream, &http, router.clone());
        }
        let _ = self.stopping.send(true);
    }

    /// At the cap, asks the connection idle longest to close; false when none is idle.
    fn make_room(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.len() < self.cap {
            return true;
        }
        let idle = open.values().filter(|c| c.active.load(Relaxed) == 0).min_by_key(|c| c.last.load(Relaxed));
        match idle {
            Some(c) => {
                c.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn spawn(&self, stream: tokio::net::TcpStream, http: &hyper::server::conn::http1::Builder, router: Router) {
        let id = self.next.fetch_add(1, Relaxed);
        let now = self.started.elapsed().as_millis() as u64;
        let conn = Conn {
            active: Arc::new(AtomicUsize::new(0)),
            last: Arc::new(AtomicU64::new(now)),
            close: Arc::new(Notify::new()),
        };
        let (active, last, close, started) = (conn.active.clone(), conn.last.clone(), conn.close.clone(), self.started);
        self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(id, conn);
        let inner = TowerToHyperService::new(router);
        let service = hyper::service::service_fn(move |request| {
            active.fetch_add(1, Relaxed);
            let (active, last) = (active.clone(), last.clone());
            let answer = hyper::service::Service::call(&inner, request);
            async move {
                let response = answer.await;
                last.store(started.elapsed().as_millis() as u64, Relaxed);
                active.fetch_sub(1, Relaxed);
                response
            }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let (open, mut stopping) = (self.open.clone(), self.stopping.subscribe());
        tokio::spawn(async move {
            tokio::pin!(connection);
            let close_now = tokio::select! {
                _ = connection.as_mut() => false,
                () = close.notified() => true,
                stopped = stopping.wait_for(|s| *s) => stopped.is_ok(),
            };
            if close_now {
                // Finishes the request in flight, if any, then closes.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            open.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        });
    }

    /// Waits up to `within` for every connection to finish; whether they all did.
    pub async fn drain(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.open.lock().unwrap_or_else(|p| p.into_inner()).is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}
