//! The call store behind a server: its own threads, since both drivers are synchronous (and the
//! PostgreSQL client runs a runtime of its own, which cannot live inside the server's).
//!
//! One writer thread owns the store's write connection. Each turn it first runs every report,
//! forget and prune waiting (so they never wait behind decisions for more than one batch), then
//! commits one batch of decisions read from the spool (up to [`BATCH`] per transaction, about ten
//! milliseconds). Two
//! reader threads, with connections of their own, answer lists, replays and statistics, so a
//! long statistic holds up no write. A batch that fails (the store is down, another writer held
//! it too long) is kept and tried again; nothing read from the spool is lost. SQLite's WAL
//! checkpoints run on a thread of their own, never inside the writer's commits. On stop the writer
//! commits everything spooled before it exits, and removes the spool.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::spool::{Reader, Spool};
use super::store::{Location, Store};
use super::{Event, Privacy, Record, Source};
use crate::error::{Error, Result};

/// Decisions committed per transaction: about ten milliseconds of the writer's time, the longest
/// a report waits behind decisions. Each commit has a fixed cost (the WAL frames of every page
/// the batch touched, the page cache trimmed); at 256 a flood of resolves on two cores outran
/// the writer, at 1,024 a report's p99 passed 50 ms.
pub const BATCH: usize = 512;
/// Reports and reads waiting beyond this are refused (503, retry): the store is not keeping up.
const QUEUE: usize = 4096;
/// Decisions waiting to be committed beyond which the server holds answers back ([`Writer::behind`]):
/// four batches, a few tens of milliseconds of the writer's time.
pub const PACE_AT: u64 = 4 * BATCH as u64;
/// The longest an answer is held back for the writer.
const PACE_FOR: Duration = Duration::from_millis(50);
/// How long the writer sleeps when nothing is waiting (it also wakes for every report).
const IDLE: Duration = Duration::from_millis(5);
/// How often dropped decisions are reported in the log (once per interval, not once per call).
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// Reader threads.
const READERS: usize = 2;
/// How often committed pages are moved from the WAL into the database (SQLite).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Passive checkpoints in a row, at most, before the writer restarts a WAL past its size.
const CATCH_UP: usize = 4;
/// A passive checkpoint this short found little to copy: the writer's restart will too.
const CAUGHT_UP: Duration = Duration::from_millis(5);

pub type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// The longest wait between two attempts to reach a store that is down.
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// One thread's connection to the store, opened again whenever it is lost: no process restart
/// is ever needed after the database restarts, fails over or is unreachable for a while.
struct Conn {
    location: Location,
    privacy: Privacy,
    store: Option<Store>,
    /// No attempt before this (bounded exponential backoff between failed attempts).
    next_try: Option<Instant>,
    backoff: Duration,
}

impl Conn {
    fn new(location: &Location, privacy: &Privacy, store: Option<Store>) -> Conn {
        Conn {
            location: location.clone(),
            privacy: privacy.clone(),
            store,
            next_try: None,
            backoff: Duration::from_millis(100),
        }
    }

    /// The open connection, opening one when there is none or it was lost.
    fn get(&mut self) -> Result<&mut Store> {
        if self.store.as_ref().is_some_and(Store::is_closed) {
            tracing::warn!("the call store's connection was lost; opening a new one");
            self.store = None;
        }
        if self.store.is_none() {
            if let Some(at) = self.next_try
                && Instant::now() < at
            {
                return Err(Error::Calls(super::CallsError::CallStore {
                    operation: "connecting",
                    message: "the store is unreachable; trying again shortly".into(),
                    source: None,
                }));
            }
            let opened = Store::open(&self.location, &self.privacy).and_then(|mut store| {
                store.check_caller_key(&self.privacy.callers.fingerprint())?;
                Ok(store)
            });
            match opened {
                Ok(store) => {
                    tracing::info!("connected to the call store");
                    self.store = Some(store);
                    self.next_try = None;
                    self.backoff = Duration::from_millis(100);
                }
                Err(e) => {
                    self.next_try = Some(Instant::now() + self.backoff);
                    self.backoff = (self.backoff * 2).min(RECONNECT_MAX);
                    return Err(e);
                }
            }
        }
        Ok(self.store.as_mut().expect("opened above"))
    }

    /// Runs `job` on the connection; a job that cannot reach the store is dropped, which its
    /// caller sees as the store failing (503).
    fn run(&mut self, job: Job) {
        match self.get() {
            Ok(store) => job(store),
            Err(e) => tracing::warn!("a call store request failed: {e}"),
        }
    }
}

/// What the writer counts, for `/metrics`.
#[derive(Default)]
pub struct Counters {
    /// Decisions written to the spool (acknowledged).
    pub spooled: AtomicU64,
    /// Decisions committed to the store.
    pub committed: AtomicU64,
    /// Decisions that could not be spooled (the disk refused the write).
    pub dropped: AtomicU64,
    /// Decisions replayed from the spools of servers that died.
    pub replayed: AtomicU64,
    /// Decision batches that failed and were retried.
    pub retries: AtomicU64,
    /// Decisions committed but refused: their call already held
    /// [`MAX_EVENTS_PER_SOURCE`](super::limits::MAX_EVENTS_PER_SOURCE) decisions.
    pub refused: AtomicU64,
}

/// The store's state, for `/healthz` and `/readyz`.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct StoreHealth {
    /// The last batch committed (false while the store is down or failing).
    pub connected: bool,
    /// Decisions spooled and not committed yet.
    pub backlog: u64,
    /// Decisions the spool's disk refused (each answered 503, never 200).
    pub not_spooled: u64,
    /// The spool refused a decision within the last [`REFUSING_FOR`]: the server cannot keep
    /// its promise, and says so to the load balancer (`/readyz` 503).
    pub spool_refusing: bool,
}

/// How long after the spool last refused a decision the server reports it cannot record.
const REFUSING_FOR: Duration = Duration::from_secs(10);

struct Inner {
    /// When the spool last refused a decision (ms since the epoch; 0: never).
    last_refusal: AtomicU64,
    spool: Spool,
    counters: Counters,
    stop: AtomicBool,
    /// The last batch failed: the store is down or held, so waiting for it helps nobody.
    failing: AtomicBool,
    /// Told after each committed batch.
    progress: tokio::sync::Notify,
    /// The checkpoints found SQLite's WAL past its size: the writer starts it over between two
    /// batches ([`Store::restart_wal`]).
    restart_wal: AtomicBool,
}

impl Inner {
    /// More of this server's decisions wait than [`PACE_AT`], and the store is taking them.
    fn behind(&self) -> bool {
        let waiting = self.counters.spooled.load(Relaxed).saturating_sub(self.counters.committed.load(Relaxed));
        waiting > PACE_AT && !self.failing.load(Relaxed)
    }
}

/// A wait for the writer to catch up, from [`Writer::behind`].
pub struct Pacer(Arc<Inner>);

impl Pacer {
    /// Returns once no more than [`PACE_AT`] decisions wait, the store fails, or [`PACE_FOR`] has
    /// passed, whichever comes first.
    pub async fn wait(self) {
        let deadline = tokio::time::Instant::now() + PACE_FOR;
        loop {
            let notified = self.0.progress.notified();
            tokio::pin!(notified);
            // Registered before the check, so a commit between the two is not missed.
            notified.as_mut().enable();
            if !self.0.behind() || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

pub struct Writer {
    inner: Arc<Inner>,
    writes: mpsc::SyncSender<Job>,
    reads: Readers,
    finished: Mutex<Option<mpsc::Receiver<()>>>,
}

/// Why a job was not taken.
#[derive(Debug)]
pub struct Busy;

impl Writer {
    /// Opens the store on its own threads (waiting until it is open and migrated) and the spool
    /// in `spool_dir`, taking over the spools of servers that died.
    pub fn start(location: &Location, privacy: &Privacy, spool_dir: &Path) -> Result<Writer> {
        let (spool, orphans) = Spool::open(spool_dir)?;
        let inner = Arc::new(Inner {
            last_refusal: AtomicU64::new(0),
            spool,
            counters: Counters::default(),
            stop: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            progress: tokio::sync::Notify::new(),
            restart_wal: AtomicBool::new(false),
        });
        let (writes, write_jobs) = mpsc::sync_channel::<Job>(QUEUE);
        let (opened, ready) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        let (shared, location_w, privacy_w) = (inner.clone(), location.clone(), privacy.clone());
        spawn("agentver-calls-writer", move || {
            let first = Store::open(&location_w, &privacy_w)
                .and_then(|mut store| store.check_caller_key(&privacy_w.callers.fingerprint()).map(|()| store));
            let store = match first {
                Err(e @ Error::Calls(super::CallsError::CallerKeyMismatch { .. })) => {
                    let _ = opened.send(Err(e));
                    return;
                }
                Ok(mut store) => match store.checkpoint_elsewhere() {
                    Ok(()) => Some(store),
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                },
                // A shared store that is down must not keep a replica from starting: decisions
                // are spooled, and reach the store when it is back.
                Err(e) if matches!(location_w, Location::Postgres(_)) => {
                    tracing::warn!(
                        "the call store is unreachable ({e}); serving, with decisions spooled until it is back"
                    );
                    shared.failing.store(true, Relaxed);
                    None
                }
                Err(e) => {
                    let _ = opened.send(Err(e));
                    return;
                }
            };
            let _ = opened.send(Ok(()));
            run(Conn::new(&location_w, &privacy_w, store), &shared, &write_jobs, orphans);
            let _ = done.send(());
        })?;
        ready.recv().map_err(|_| Error::Internal { what: "the call store's writer stopped".into() })??;
        let reads = Readers::start(location, privacy)?;
        if let Location::Sqlite(_) = location {
            checkpoints(location, privacy, inner.clone())?;
        }
        Ok(Writer { inner, writes, reads, finished: Mutex::new(Some(finished)) })
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Spools one resolve decision; when this returns true, the decision survives a crash. A
    /// decision the disk refuses is counted (and reported in the log once per interval), and
    /// false tells the server not to answer as if it were recorded.
    pub fn record(&self, decision: &Record) -> bool {
        let line = serde_json::to_vec(decision).expect("a record serialises");
        match self.inner.spool.append(&line) {
            Ok(()) => {
                self.inner.counters.spooled.fetch_add(1, Relaxed);
                true
            }
            Err(_) => {
                self.inner.counters.dropped.fetch_add(1, Relaxed);
                self.inner.last_refusal.store(super::now_ms_u64(), Relaxed);
                false
            }
        }
    }

    /// The store as `/healthz` shows it.
    pub fn health(&self) -> StoreHealth {
        let c = &self.inner.counters;
        let refused_at = self.inner.last_refusal.load(Relaxed);
        StoreHealth {
            connected: !self.inner.failing.load(Relaxed),
            backlog: c.spooled.load(Relaxed).saturating_sub(c.committed.load(Relaxed)),
            not_spooled: c.dropped.load(Relaxed),
            spool_refusing: refused_at != 0
                && super::now_ms_u64().saturating_sub(refused_at) < REFUSING_FOR.as_millis() as u64,
        }
    }

    /// When more decisions wait than [`PACE_AT`] while the store takes them, a wait for the
    /// writer to catch up, which the server holds an answer back for (at most [`PACE_FOR`]), so
    /// that a flood of resolves cannot outrun the store: the spool stays short and each call's
    /// record is in the store within a moment of its answer. Never while the store fails (the
    /// spool keeps the decisions, and answers go out at once).
    pub fn behind(&self) -> Option<Pacer> {
        self.inner.behind().then(|| Pacer(self.inner.clone()))
    }

    /// Runs `job` on the writer, before any decision batch still waiting.
    pub fn write(&self, job: Job) -> Result<(), Busy> {
        self.writes.try_send(job).map_err(|_| Busy)
    }

    /// Runs `job` on a reader.
    pub fn read(&self, job: Job) -> Result<(), Busy> {
        self.reads.read(job)
    }

    /// Asks the writer to commit everything spooled and stop; waits up to `within`. Returns
    /// whether it finished (if not, the spool stays, and the next server replays it).
    pub fn stop(&self, within: Duration) -> bool {
        self.inner.stop.store(true, Relaxed);
        // Wakes the writer at once.
        let _ = self.writes.try_send(Box::new(|_| {}));
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner()).take();
        finished.is_some_and(|f| f.recv_timeout(within).is_ok())
    }
}

/// [`READERS`] threads with a connection each, taking read jobs in turn from one queue: what
/// pages and lists read, so a long statistic holds up neither a write nor the next read.
pub struct Readers {
    jobs: mpsc::SyncSender<Job>,
}

impl Readers {
    /// Starts the readers; each opens its connection at its first job, and again whenever it is
    /// lost. A SQLite store is opened once here, so a path that cannot be one fails now; a
    /// PostgreSQL store that is down is reached when it is back.
    pub fn start(location: &Location, privacy: &Privacy) -> Result<Readers> {
        if let Location::Sqlite(_) = location {
            Store::open(location, privacy)?;
        }
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..READERS {
            let (queue, location, privacy) = (queue.clone(), location.clone(), privacy.clone());
            let started = spawn(&format!("agentver-calls-reader-{i}"), move || {
                let mut conn = Conn::new(&location, &privacy, None);
                while let Ok(job) = { queue.lock().unwrap_or_else(|p| p.into_inner()).recv() } {
                    conn.run(job);
                }
            });
            started?;
        }
        Ok(Readers { jobs })
    }

    /// Queues `job` for the next free reader.
    pub fn read(&self, job: Job) -> Result<(), Busy> {
        self.jobs.try_send(job).map_err(|_| Busy)
    }
}

/// SQLite's checkpoints, on a connection of their own every [`CHECKPOINT_EVERY`], so the writer
/// never runs one inside a commit. When the WAL is past its size, passive checkpoints follow one
/// another until one finds little to copy (each copies what the writer wrote during the last),
/// and only then is the writer told to start the WAL over: the restart holds the writer, so it
/// should find only a few batches' frames left. Measured under a flood of resolves: 30–80 ms of
/// the writer's time per restart after a single passive checkpoint (a resolve's p99 went from
/// 7 to 36 ms, answers held back while the writer was behind); 2–35 ms after catching up.
fn checkpoints(location: &Location, privacy: &Privacy, inner: Arc<Inner>) -> Result<()> {
    let mut store = Store::open(location, privacy)?;
    spawn("agentver-calls-checkpoints", move || {
        while !inner.stop.load(Relaxed) {
            std::thread::sleep(CHECKPOINT_EVERY);
            match store.checkpoint() {
                Ok(true) => {
                    for _ in 0..CATCH_UP {
                        let started = Instant::now();
                        if store.checkpoint().is_err() || started.elapsed() < CAUGHT_UP {
                            break;
                        }
                    }
                    inner.restart_wal.store(true, Relaxed);
                }
                Ok(false) => {}
                Err(e) => tracing::warn!("{e}"),
            }
        }
    })
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(drop)
        .map_err(|e| Error::io("starting the call store's threads", e))
}

/// Decisions read from a spool, waiting to be committed.
struct Batch {
    events: Vec<(Event, Option<String>)>,
    /// Each decision's line, which is its record's JSON as the store keeps it (this server's own
    /// spool; a dead server may have been another build, so its records are serialised anew).
    bodies: Option<Vec<String>>,
    /// A dead server's decisions.
    replayed: bool,
}

/// The writer's state between turns.
struct Loop {
    own: Reader,
    orphans: VecDeque<Reader>,
    /// A batch read from a spool that is not committed yet (kept across failures).
    pending: Option<Batch>,
    retry_at: Option<Instant>,
    backoff: Duration,
    reported_at: Instant,
    reported_dropped: u64,
    reported_refused: u64,
}

fn run(mut store: Conn, inner: &Inner, jobs: &mpsc::Receiver<Job>, orphans: Vec<PathBuf>) {
    let own = match inner.spool.reader() {
        Ok(r) => r,
        Err(e) => return tracing::error!("the call store's writer cannot read its spool: {e}"),
    };
    let orphans = orphans.iter().filter_map(|p| Reader::open(p).ok()).collect();
    let mut state = Loop {
        own,
        orphans,
        pending: None,
        retry_at: None,
        backoff: Duration::from_millis(50),
        reported_at: Instant::now(),
        reported_dropped: 0,
        reported_refused: 0,
    };
    loop {
        while let Ok(job) = jobs.try_recv() {
            store.run(job);
        }
        if inner.restart_wal.swap(false, Relaxed)
            && let Err(e) = store.get().and_then(Store::restart_wal)
        {
            tracing::warn!("{e}");
        }
        state.report_dropped(&inner.counters);
        let wrote = match state.retry_at {
            Some(at) if Instant::now() < at => false,
            _ => store.get().and_then(|s| state.step(s, inner)).unwrap_or_else(|e| {
                inner.failing.store(true, Relaxed);
                inner.progress.notify_waiters();
                inner.counters.retries.fetch_add(1, Relaxed);
                tracing::warn!("recording resolve decisions failed, retrying in {} ms: {e}", state.backoff.as_millis());
                state.retry_at = Some(Instant::now() + state.backoff);
                state.backoff = (state.backoff * 2).min(Duration::from_secs(5));
                false
            }),
        };
        if wrote {
            continue;
        }
        if inner.stop.load(Relaxed) && state.retry_at.is_none() && state.pending.is_none() {
            while let Ok(job) = jobs.try_recv() {
                store.run(job);
            }
            state.report_dropped(&inner.counters);
            if let Err(e) = inner.spool.clear() {
                tracing::warn!("removing the spool: {e}");
            }
            return;
        }
        if inner.stop.load(Relaxed) && state.retry_at.is_some() {
            // Stopping while the store fails: what is not committed stays in the spool, which
            // the next server replays. Waiting out the shutdown budget would commit nothing more.
            tracing::warn!("stopping with the call store failing: the uncommitted decisions stay in the spool");
            return;
        }
        match jobs.recv_timeout(IDLE) {
            Ok(job) => store.run(job),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => inner.stop.store(true, Relaxed),
        }
    }
}

impl Loop {
    /// Commits the next batch of decisions; whether there was one.
    fn step(&mut self, store: &mut Store, inner: &Inner) -> Result<bool> {
        if self.pending.is_none() {
            self.pending = self.next_batch(inner)?;
        }
        let Some(batch) = &self.pending else { return Ok(false) };
        let now = super::now();
        let merged = match &batch.bodies {
            Some(bodies) => store.merge_serialised(&batch.events, bodies, &now)?,
            None => store.merge(&batch.events, &now, false)?,
        };
        inner.counters.refused.fetch_add(merged.refused as u64, Relaxed);
        let counter = if batch.replayed { &inner.counters.replayed } else { &inner.counters.committed };
        counter.fetch_add(batch.events.len() as u64, Relaxed);
        inner.failing.store(false, Relaxed);
        inner.progress.notify_waiters();
        self.pending = None;
        self.retry_at = None;
        self.backoff = Duration::from_millis(50);
        Ok(true)
    }

    /// The next decisions: those a dead server left first, then this server's own.
    fn next_batch(&mut self, inner: &Inner) -> Result<Option<Batch>> {
        while let Some(orphan) = self.orphans.front_mut() {
            let lines = orphan.next_lines(BATCH)?;
            if !lines.is_empty() {
                let (events, _) = decode(lines, orphan.path());
                return Ok(Some(Batch { events, bodies: None, replayed: true }));
            }
            let path = orphan.path().to_owned();
            self.orphans.pop_front();
            tracing::info!("replayed the decisions of a server that stopped ({})", path.display());
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        let lines = self.own.next_lines(BATCH)?;
        if lines.is_empty() {
            inner.spool.empty_if_read(&mut self.own)?;
            return Ok(None);
        }
        let (events, bodies) = decode(lines, self.own.path());
        Ok(Some(Batch { events, bodies: Some(bodies), replayed: false }))
    }

    /// Reports dropped and refused decisions once per interval, with how many since the last
    /// report.
    fn report_dropped(&mut self, counters: &Counters) {
        if self.reported_at.elapsed() < REPORT_EVERY {
            return;
        }
        let dropped = counters.dropped.load(Relaxed);
        if dropped > self.reported_dropped {
            tracing::warn!(
                "{} resolve decisions could not be spooled in the last {} s (the disk refused the write)",
                dropped - self.reported_dropped,
                REPORT_EVERY.as_secs()
            );
        }
        let refused = counters.refused.load(Relaxed);
        if refused > self.reported_refused {
            tracing::warn!(
                "{} resolve decisions were refused in the last {} s: their calls already held {} decisions \
                 (a client is sending one call id again and again)",
                refused - self.reported_refused,
                REPORT_EVERY.as_secs(),
                super::limits::MAX_EVENTS_PER_SOURCE
            );
        }
        self.reported_dropped = dropped;
        self.reported_refused = refused;
        self.reported_at = Instant::now();
    }
}

/// Spool lines back into decision events, with each line as text; a line that does not parse
/// (cut short by a crash) is skipped with a warning.
fn decode(lines: Vec<Vec<u8>>, path: &Path) -> (Vec<(Event, Option<String>)>, Vec<String>) {
    let mut events = Vec::with_capacity(lines.len());
    let mut bodies = Vec::with_capacity(lines.len());
    for line in lines {
        let json = match super::spool::unframe(&line) {
            Ok(json) => json,
            Err(why) => {
                tracing::warn!("{}: a spooled decision is skipped: {why}", path.display());
                continue;
            }
        };
        let record = match serde_json::from_slice::<Record>(json) {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!("{}: a spooled decision does not parse and is skipped: {e}", path.display());
                continue;
            }
        };
        // JSON that parsed is UTF-8.
        let Ok(body) = String::from_utf8(json.to_vec()) else { continue };
        events.push((Event { source: Source::Agentver, at: record.resolved_at.clone(), record }, None));
        bodies.push(body);
    }
    (events, bodies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    fn inner(dir: &Path) -> Arc<Inner> {
        let (spool, _) = Spool::open(dir).unwrap();
        Arc::new(Inner {
            last_refusal: AtomicU64::new(0),
            spool,
            counters: Counters::default(),
            stop: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            progress: tokio::sync::Notify::new(),
            restart_wal: AtomicBool::new(false),
        })
    }

    #[test]
    fn answers_are_held_back_only_while_the_store_is_behind_and_taking_decisions() {
        let dir = tempfile::tempdir().unwrap();
        let inner = inner(dir.path());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let _entered = runtime.enter();
        let mut cx = Context::from_waker(Waker::noop());
        let (spooled, committed) = (&inner.counters.spooled, &inner.counters.committed);

        spooled.store(PACE_AT, Relaxed);
        assert!(!inner.behind(), "{PACE_AT} waiting is within the pace");
        let mut wait = Box::pin(Pacer(inner.clone()).wait());
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(()));

        spooled.store(PACE_AT + 1, Relaxed);
        assert!(inner.behind());
        let mut wait = Box::pin(Pacer(inner.clone()).wait());
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Pending);
        // A commit that leaves the store behind keeps the answer waiting; one that catches up
        // lets it go.
        committed.store(0, Relaxed);
        inner.progress.notify_waiters();
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Pending);
        committed.store(1, Relaxed);
        inner.progress.notify_waiters();
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(()));

        // A failing store holds nothing back.
        committed.store(0, Relaxed);
        inner.failing.store(true, Relaxed);
        assert!(!inner.behind());
        inner.failing.store(false, Relaxed);

        // Behind and never catching up: the answer goes out after the bound.
        let started = std::time::Instant::now();
        runtime.block_on(Pacer(inner.clone()).wait());
        assert!(started.elapsed() >= PACE_FOR);
    }
}
