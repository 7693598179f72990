//! Following a ref: every interval, (fetch,) look at the followed commit and the agent tags, and
//! when either moved build a new snapshot off the request path and swap it in whole. A state
//! that fails to load is not served and not retried until something moves again. After a swap,
//! recent calls whose echoed attribution was invalid are checked against the new snapshot.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::calls::now;
use crate::error::{Error, Result};
use crate::serve::snapshot::{Key, Snapshot};
use crate::serve::{Options, State};
use crate::workspace::Workspace;

pub struct Follow {
    root: PathBuf,
    follow: String,
    fetch: Option<String>,
    interval: Duration,
}

impl From<&Options> for Follow {
    fn from(o: &Options) -> Self {
        Follow { root: o.root.clone(), follow: o.follow.clone(), fetch: o.fetch.clone(), interval: o.interval }
    }
}

pub async fn run(state: Arc<State>, follow: Follow) {
    let follow = Arc::new(follow);
    loop {
        let (s, f) = (state.clone(), follow.clone());
        if let Err(e) = tokio::task::spawn_blocking(move || check(&s, &f)).await {
            tracing::error!("the follower stopped: {e}");
        }
        tokio::time::sleep(follow.interval).await;
    }
}

/// What the followed ref and the tags are now. Opens the repository afresh, so refs, packs and
/// agentver.toml written since the last check are all seen.
fn current(follow: &Follow) -> Result<(Workspace, Key, Vec<String>)> {
    let ws = Workspace::discover(&follow.root)?.without_cache_writes();
    let (rev, moved) = match &follow.fetch {
        Some(remote) => crate::ops::fetch::fetch_followed(&ws, remote, &follow.follow)?,
        None => (follow.follow.clone(), Vec::new()),
    };
    let digest = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        moved.hash(&mut h);
        h.finish()
    };
    let key = Key { commit: ws.rev_commit(&rev)?, tags: ws.tags_digest()?, moved: digest };
    Ok((ws, key, moved))
}

/// One look: reload if something moved; record the outcome in the health state and metrics.
fn check(state: &State, follow: &Follow) {
    let served = state.snapshot.load().as_ref().map(|s| s.key);
    let (ws, key, moved) = match current(follow) {
        Ok(found) => found,
        Err(e) => return failed(state, None, &e),
    };
    if served == Some(key) {
        state.health.lock().expect("not poisoned").error = None;
        return;
    }
    if state.health.lock().expect("not poisoned").failed == Some(key) {
        return;
    }
    let rewound = served
        .filter(|s| s.commit != key.commit)
        .and_then(|s| (ws.commit_contains(s.commit, key.commit).ok().flatten() == Some(false)).then_some(s.commit));
    for tag in &moved {
        tracing::warn!("{tag} moved on the remote: left out of what is served until the remote is put right");
    }
    match Snapshot::build(ws, key, &moved, &|labels| state.metrics.resolution_counter(labels), now()) {
        Ok(snapshot) => {
            let rewound = rewound.map(|from| {
                let message = format!(
                    "history went backwards: {} does not contain {from}, which was served (a force-push?); serving {} now",
                    key.commit, key.commit
                );
                tracing::warn!("{message}");
                state.metrics.history_rewinds.fetch_add(1, Relaxed);
                let until = std::time::Instant::now() + follow.interval * 2;
                (super::Problem { kind: "history_rewound", message }, until)
            });
            tracing::info!(
                "serving {} ({} agents, {} channels, {} configurations; built in {} ms)",
                snapshot.revision,
                snapshot.logs.len(),
                snapshot.resolver.channels().channels.len(),
                snapshot.trees.len(),
                snapshot.build_time.as_millis()
            );
            let snapshot = Arc::new(snapshot);
            state.snapshot.store(Some(snapshot.clone()));
            state.metrics.reloads.fetch_add(1, Relaxed);
            *state.health.lock().expect("not poisoned") = super::Health { rewound, ..Default::default() };
            // Reports that named what this server had not loaded yet may name what it serves now.
            if let Some(calls) = &state.calls {
                calls.recheck(snapshot);
            }
        }
        Err(e) => failed(state, Some(key), &e),
    }
}

fn failed(state: &State, key: Option<Key>, e: &Error) {
    let what = key.map(|k| format!("revision {} is not served: ", k.commit)).unwrap_or_default();
    let message = format!("{what}{e}");
    tracing::warn!("{message}");
    state.metrics.reload_failures.fetch_add(1, Relaxed);
    // What anyone may be told: the kind of failure, never its details.
    let kind = match (key, e) {
        (Some(_), _) => "invalid_revision",
        (None, Error::Ops(_)) => "fetch_failed",
        (None, Error::Git(crate::error::GitError::UnknownRevision { .. })) => "unknown_revision",
        (None, _) => "unreadable_repository",
    };
    let mut health = state.health.lock().expect("not poisoned");
    health.error = Some(super::Problem { kind, message });
    if key.is_some() {
        health.failed = key;
    }
}
