//! The call store: SQLite (embedded, the default) or PostgreSQL (shared by several servers), one
//! schema created and migrated here, one SQL text for both where the dialects agree (`$N`
//! parameters, `ON CONFLICT`).
//!
//! Every report is kept as an event (idempotent on its digest, with its arrival order); a call's
//! record is recomputed from all of its events in the same transaction, so concurrent writers,
//! duplicates and any arrival order converge on the same record. Writes come in batches, many
//! events per transaction (`write`); reads stream rows (`read`); invalid attributions are checked
//! again once a server knows more (`recheck`). A SQLite store and its WAL files
//! are created readable by their owner only.

mod migrate;
mod read;
mod recheck;
pub mod sql;
mod write;

pub use read::{Counts, Filter, MAX_LIMIT};
pub use recheck::Rechecked;
pub use write::Merged;

use std::path::{Path, PathBuf};
use std::time::Duration;

use self::sql::{Cell, db, pg_cells, pg_params, sqlite_cell};
use super::Privacy;
use crate::calls::CallsError;
use crate::error::Result;

/// The schema this build writes; older stores are migrated forward, newer ones refused.
pub const SCHEMA_VERSION: i64 = 2;

/// How long a SQLite writer waits for another (a `calls import` beside a server) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// WAL frames (4 KiB pages: 64 MiB) past which a checkpoint also starts the WAL over, and the
/// size SQLite cuts the WAL file back to when it does.
const WAL_RESTART_AT: i64 = 16384;
const WAL_SIZE_LIMIT: i64 = WAL_RESTART_AT * 4096;
/// How long a restarting checkpoint waits for the gap between two of the writer's batches (and
/// for readers) before it gives up until the next one.
const RESTART_WAIT: Duration = Duration::from_millis(100);
/// SQLite's page cache per connection (KiB), and how much of the file reads may map.
const CACHE_KIB: i64 = 64 << 10;
const MMAP_SIZE: i64 = 1 << 30;
/// The page cache (KiB) of a scan over most of the file (`stats`), which maps nothing.
const SCAN_CACHE_KIB: i64 = 8 << 10;
/// The page cache (KiB) of a bulk import, which maps nothing either.
const BULK_CACHE_KIB: i64 = 128 << 10;

pub enum Store {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Postgres>),
}

/// A PostgreSQL connection and the statements it has prepared: the writer's statements are
/// parsed and planned once per connection, not once per batch (planning them again took 7% of
/// PostgreSQL's time under a flood of resolves).
pub struct Postgres {
    client: postgres::Client,
    prepared: std::collections::HashMap<String, postgres::Statement>,
}

impl Postgres {
    /// `sql`, prepared on this connection at its first use.
    fn prepared(&mut self, sql: &str) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl std::ops::Deref for Postgres {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.client
    }
}

impl std::ops::DerefMut for Postgres {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// Which store a `--calls` value or `[calls] store` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `sqlite:PATH` (relative to `base`) or `postgres://…`/`postgresql://…`.
    pub fn parse(spec: &str, base: &Path) -> Result<Location> {
        if let Some(path) = spec.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(CallsError::BadStore { spec: spec.to_owned() }.into());
            }
            return Ok(Location::Sqlite(base.join(path)));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(Location::Postgres(spec.to_owned()));
        }
        Err(CallsError::BadStore { spec: spec.to_owned() }.into())
    }
}

/// SQLite's busy handler: another writer holds the store; wait a millisecond and try again, up to
/// [`BUSY_TIMEOUT`].
fn wait_for_writer(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_millis(1));
    u128::from(attempt.unsigned_abs()) < BUSY_TIMEOUT.as_millis()
}

/// Creates the SQLite file (and its folder) for its owner alone before SQLite opens it: SQLite
/// gives the WAL and shared-memory files the database file's permissions.
fn create_private(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        crate::fsutil::create_private_dir(dir)?;
    }
    crate::fsutil::touch_private(path)?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) and migrates the store. `privacy` is how a store written by an
    /// older agentver has its raw bodies made safe while it is migrated.
    pub fn open(location: &Location, privacy: &Privacy) -> Result<Store> {
        let mut store = match location {
            Location::Sqlite(path) => {
                create_private(path)?;
                let conn = rusqlite::Connection::open(path).map_err(db("opening"))?;
                // Waits for another writer in 1 ms steps (SQLite's own handler backs off to 100 ms
                // sleeps, which a report waiting behind an import would feel), up to the timeout.
                conn.busy_handler(Some(wait_for_writer)).map_err(db("opening"))?;
                // WAL with NORMAL sync: a commit survives a killed process (not a power loss, which
                // costs an fsync per transaction). A 64 MiB page cache keeps a batch's pages in
                // memory instead of spilling them mid-transaction; checkpoints every 64 MiB of WAL;
                // reads map the file instead of copying pages.
                conn.execute_batch(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB}; \
                     PRAGMA wal_autocheckpoint = {WAL_RESTART_AT}; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; \
                     PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {MMAP_SIZE};",
                ))
                .map_err(db("opening"))?;
                Store::Sqlite(conn)
            }
            Location::Postgres(url) => {
                let client = postgres::Client::connect(url, postgres::NoTls).map_err(db("connecting"))?;
                Store::Postgres(Box::new(Postgres { client, prepared: Default::default() }))
            }
        };
        store.migrate(privacy)?;
        Ok(store)
    }

    /// Records the caller key's fingerprint at first use, and refuses a server whose key is
    /// another: two keys on one store would hash the same caller apart, silently.
    pub fn check_caller_key(&mut self, fingerprint: &str) -> Result<()> {
        self.batch(
            "CREATE TABLE IF NOT EXISTS agentver_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "recording the caller key's fingerprint",
        )?;
        let value = Cell::Text(Some(fingerprint.to_owned()));
        self.execute(
            "INSERT INTO agentver_settings (name, value) VALUES ('caller_key', $1) ON CONFLICT (name) DO NOTHING",
            &[value],
            "recording the caller key's fingerprint",
        )?;
        let rows = self.query(
            "SELECT value FROM agentver_settings WHERE name = 'caller_key'",
            &[],
            "reading the caller key's fingerprint",
        )?;
        let stored = rows.first().and_then(|r| r[0].text()).unwrap_or_default().to_owned();
        if stored == fingerprint {
            return Ok(());
        }
        Err(CallsError::CallerKeyMismatch { stored, ours: fingerprint.to_owned() }.into())
    }

    /// Whether the connection is gone (PostgreSQL restarted, failed over, or the network cut it):
    /// it must be opened again. A SQLite connection never is.
    pub fn is_closed(&self) -> bool {
        match self {
            Store::Sqlite(_) => false,
            Store::Postgres(client) => client.is_closed(),
        }
    }

    /// Leaves checkpoints to [`Store::checkpoint`] on another connection: SQLite otherwise runs
    /// one inside whichever commit fills the WAL, and that commit (a report waiting on it) takes
    /// hundreds of milliseconds. No-op on PostgreSQL.
    pub fn checkpoint_elsewhere(&mut self) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch("PRAGMA wal_autocheckpoint = 0").map_err(db("opening")),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// For a bulk import: a 128 MiB page cache (twice a server's), and nothing mapped. Mapped
    /// pages count as the process's memory, and the cache fills as the store grows: with 256 MiB
    /// and the file mapped, an import's peak grew with the store (290 MiB at 200,000 records,
    /// 427 MiB at a million, optimised build); with this it is flat (215 MiB at both), and a
    /// million records import as fast (58.6 s against 60.5 s), since pages the cache misses come
    /// from the kernel's. No-op on PostgreSQL.
    pub fn for_bulk_writes(&mut self) -> Result<()> {
        match self {
            Store::Sqlite(c) => c
                .execute_batch(&format!("PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA mmap_size = 0;"))
                .map_err(db("opening")),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Runs `scan`, a read of most of the file, with a small page cache and nothing mapped: each
    /// page is read once, so neither the 64 MiB cache nor the mapping would serve it again, and
    /// mapped pages count as the process's memory (a `stats` over a million calls mapped
    /// 400 MiB). Memory then stays flat whatever the store's size. The connection's settings are
    /// put back afterwards, its cache trimmed to the scan's.
    fn scanning<T>(c: &rusqlite::Connection, scan: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        c.execute_batch(&format!("PRAGMA mmap_size = 0; PRAGMA cache_size = -{SCAN_CACHE_KIB};"))
            .map_err(db("reading outcomes"))?;
        let result = scan(c);
        let restored = c
            .execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}; PRAGMA mmap_size = {MMAP_SIZE};"))
            .map_err(db("reading outcomes"));
        let value = result?;
        restored?;
        Ok(value)
    }

    /// Gives back what the connection holds beyond its open state (SQLite's cached pages), for a
    /// server after a large read. No-op on PostgreSQL.
    pub fn release_memory(&mut self) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch("PRAGMA shrink_memory").map_err(db("releasing memory")),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Copies committed WAL pages into the database without waiting for any reader or writer
    /// (a passive checkpoint); SQLite then reuses the WAL from its start. Answers whether the WAL
    /// is past `WAL_RESTART_AT` frames: then the writer should [`Store::restart_wal`] between
    /// two batches. Never on PostgreSQL.
    pub fn checkpoint(&mut self) -> Result<bool> {
        let Store::Sqlite(c) = self else { return Ok(false) };
        let frames: i64 =
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)).map_err(db("checkpointing"))?;
        Ok(frames > WAL_RESTART_AT)
    }

    /// Starts the WAL over: under a steady stream of commits a passive checkpoint never catches
    /// the WAL's end, so SQLite never starts it over and it grows with every batch (3.7 GB after
    /// two million decisions of a flood, every page read searching its index). Run by the
    /// writer itself between batches, so no writer holds it off: it copies the few frames the
    /// last passive checkpoint missed, waits up to `RESTART_WAIT` for readers still on the
    /// WAL, and the next commit starts the WAL from its beginning, the file cut back to
    /// `WAL_SIZE_LIMIT`. A reader that stays longer makes it give up until the next time;
    /// nothing is lost either way. Never on PostgreSQL.
    pub fn restart_wal(&mut self) -> Result<()> {
        let Store::Sqlite(c) = self else { return Ok(()) };
        c.busy_timeout(RESTART_WAIT).map_err(db("checkpointing"))?;
        let restarted = c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        c.busy_handler(Some(wait_for_writer)).map_err(db("checkpointing"))?;
        restarted.map(drop).map_err(db("checkpointing"))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    fn execute(&mut self, sql: &str, params: &[Cell], operation: &'static str) -> Result<u64> {
        match self {
            Store::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql).map_err(db(operation))?;
                let n = statement.execute(rusqlite::params_from_iter(params)).map_err(db(operation))?;
                Ok(n as u64)
            }
            Store::Postgres(c) => {
                let boxed = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                c.execute(sql, &refs).map_err(db(operation))
            }
        }
    }

    fn query(&mut self, sql: &str, params: &[Cell], operation: &'static str) -> Result<Vec<Vec<Cell>>> {
        match self {
            Store::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql).map_err(db(operation))?;
                let width = statement.column_count();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(params), |row| {
                        (0..width).map(|i| Ok(sqlite_cell(row.get_ref(i)?))).collect::<rusqlite::Result<Vec<Cell>>>()
                    })
                    .map_err(db(operation))?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db(operation))
            }
            Store::Postgres(c) => {
                let boxed = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                let rows = c.query(sql, &refs).map_err(db(operation))?;
                Ok(rows.iter().map(pg_cells).collect())
            }
        }
    }

    fn batch(&mut self, sql: &str, operation: &'static str) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch(sql).map_err(db(operation)),
            Store::Postgres(c) => c.batch_execute(sql).map_err(db(operation)),
        }
    }

    /// Starts a write transaction: SQLite takes the write lock now (waiting for another writer up
    /// to the busy timeout) rather than failing on upgrade later.
    fn begin(&mut self) -> Result<()> {
        let sql = if self.is_sqlite() { "BEGIN IMMEDIATE" } else { "BEGIN" };
        self.batch(sql, "starting a transaction")
    }

    fn finish<T>(&mut self, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                self.batch("COMMIT", "committing")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK", "rolling back");
                Err(e)
            }
        }
    }

    /// Runs `f` in one write transaction: all of it is stored, or none.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.begin()?;
        let result = f(self);
        self.finish(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::privacy::Callers;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    /// A writer that never pauses starves passive checkpoints: without the restart, the WAL
    /// took every byte written (800 MiB here; 3.7 GB after a flood of two million decisions).
    /// Here 768 MiB go through it (over 4 MiB of rows, so the database stays small) while
    /// checkpoints run as the server's thread runs them, only more often, and the writer
    /// restarts the WAL when told, as the server's does.
    #[test]
    fn a_steady_stream_of_commits_cannot_grow_the_wal_without_end() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Sqlite(dir.path().join("calls.sqlite"));
        let privacy = Privacy { callers: Callers::Hash([1; 32]), keep_transcripts: false };
        let mut writer = Store::open(&location, &privacy).unwrap();
        writer.checkpoint_elsewhere().unwrap();
        let Store::Sqlite(conn) = &writer else { unreachable!() };
        conn.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
        let mut checkpoints = Store::open(&location, &privacy).unwrap();
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let past = std::sync::Arc::new(AtomicBool::new(false));
        let (stop, told) = (done.clone(), past.clone());
        let wal = dir.path().join("calls.sqlite-wal");
        let watcher = std::thread::spawn(move || {
            let mut largest = 0;
            while !stop.load(Relaxed) {
                if checkpoints.checkpoint().unwrap() {
                    told.store(true, Relaxed);
                }
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
                std::thread::sleep(Duration::from_millis(20));
            }
            largest
        });
        let blob = vec![7u8; 256 << 10];
        for i in 0..3072 {
            let Store::Sqlite(conn) = &writer else { unreachable!() };
            conn.execute("INSERT OR REPLACE INTO filler (rowid, x) VALUES (?1, ?2)", (i % 16, &blob)).unwrap();
            // As the server's writer does after each batch.
            if past.swap(false, Relaxed) {
                writer.restart_wal().unwrap();
            }
        }
        done.store(true, Relaxed);
        let largest = watcher.join().unwrap();
        assert!(largest < 3 * WAL_SIZE_LIMIT as u64, "the WAL reached {} MiB", largest >> 20);
    }
}
