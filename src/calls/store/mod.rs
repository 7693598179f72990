//! The call store: SQLite (embedded, the default) or PostgreSQL (shared by several servers), one
//! schema created and migrated here, one SQL text for both where the dialects agree (`$N`
//! parameters, `ON CONFLICT`).
//!
//! Every report is kept as an event (idempotent on its digest, with its arrival order); a call's
//! record is recomputed from all of its events in the same transaction, so concurrent writers,
//! duplicates and any arrival order converge on the same record. Writes come in batches, many
//! events per transaction (`write`); reads stream rows (`read`). A SQLite store and its WAL files
//! are created readable by their owner only.

mod migrate;
mod read;
pub mod sql;
mod write;

pub use read::{Counts, Filter, MAX_LIMIT};
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

pub enum Store {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
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
                conn.execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; \
                     PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824;",
                )
                .map_err(db("opening"))?;
                Store::Sqlite(conn)
            }
            Location::Postgres(url) => {
                let client = postgres::Client::connect(url, postgres::NoTls).map_err(db("connecting"))?;
                Store::Postgres(Box::new(client))
            }
        };
        store.migrate(privacy)?;
        Ok(store)
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

    /// For a bulk import: a 256 MiB page cache, so the indexes of a store of a few hundred
    /// thousand calls stay in memory while it grows (bounded: the memory does not grow with the
    /// file). No-op on PostgreSQL.
    pub fn for_bulk_writes(&mut self) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch("PRAGMA cache_size = -262144").map_err(db("opening")),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Copies committed WAL pages into the database without waiting for any reader or writer
    /// (a passive checkpoint); SQLite then reuses the WAL from its start. No-op on PostgreSQL.
    pub fn checkpoint(&mut self) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch("PRAGMA wal_checkpoint(PASSIVE)").map_err(db("checkpointing")),
            Store::Postgres(_) => Ok(()),
        }
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
