//! The call store: SQLite (embedded, the default) or PostgreSQL (shared by several servers), one
//! schema created and migrated here, one SQL text for both (`$N` parameters, `ON CONFLICT`).
//!
//! Every report is kept as an event (idempotent on its digest); a call's record is recomputed from
//! all of its events in the same transaction, under a per-call lock on PostgreSQL, so concurrent
//! servers, duplicates and any arrival order converge on the same record.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::stats::Row;
use super::{Event, Record, Sentiment, Source, merge};
use crate::calls::CallsError;
use crate::error::{Error, Result};

/// The schema this build writes; older stores are migrated forward, newer ones refused.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (call_id TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, \
     record TEXT NOT NULL, raw TEXT, received_at TEXT NOT NULL, PRIMARY KEY (call_id, digest))",
    "CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, source TEXT, channel TEXT, caller TEXT, \
     agent TEXT, version BIGINT, tree TEXT, variant TEXT, bucket BIGINT, revision TEXT, resolved_at TEXT, \
     started_at TEXT, ended_at TEXT, at TEXT, duration_ms BIGINT, success BOOLEAN, sentiment TEXT, \
     ended_reason TEXT, cost DOUBLE PRECISION, summary TEXT, analysis TEXT)",
    "CREATE INDEX IF NOT EXISTS calls_agent_version ON calls (agent, version, at)",
    "CREATE INDEX IF NOT EXISTS calls_channel ON calls (channel, at)",
    "CREATE INDEX IF NOT EXISTS calls_at ON calls (at, call_id)",
];

const COLUMNS: &str = "call_id, source, channel, caller, agent, version, tree, variant, bucket, revision, \
    resolved_at, started_at, ended_at, duration_ms, success, sentiment, ended_reason, cost, summary, analysis";

/// One SQL value, for either driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

impl Cell {
    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => t.as_deref(),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => *i,
            Cell::Real(r) => r.map(|r| r as i64),
            Cell::Bool(b) => b.map(i64::from),
            Cell::Text(_) => None,
        }
    }
    fn real(&self) -> Option<f64> {
        match self {
            Cell::Real(r) => *r,
            Cell::Int(i) => i.map(|i| i as f64),
            _ => None,
        }
    }
    fn boolean(&self) -> Option<bool> {
        match self {
            Cell::Bool(b) => *b,
            Cell::Int(i) => i.map(|i| i != 0),
            _ => None,
        }
    }
}

fn text(s: &Option<String>) -> Cell {
    Cell::Text(s.clone())
}

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

/// A driver's error with what the store was doing, kept as the source.
fn db<E: std::error::Error + Send + Sync + 'static>(context: &str) -> impl Fn(E) -> Error + '_ {
    move |e| {
        CallsError::CallStore { context: context.to_owned(), message: e.to_string(), source: Some(Box::new(e)) }.into()
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the store.
    pub fn open(location: &Location) -> Result<Store> {
        let mut store = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                let conn = rusqlite::Connection::open(path).map_err(db("opening"))?;
                conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db("opening"))?;
                conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").map_err(db("opening"))?;
                Store::Sqlite(conn)
            }
            Location::Postgres(url) => {
                let client = postgres::Client::connect(url, postgres::NoTls).map_err(db("connecting"))?;
                Store::Postgres(Box::new(client))
            }
        };
        store.migrate()?;
        Ok(store)
    }

    fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64> {
        match self {
            Store::Sqlite(c) => {
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let mut statement = c.prepare_cached(sql).map_err(db(sql))?;
                let n = statement.execute(rusqlite::params_from_iter(values)).map_err(db(sql))?;
                Ok(n as u64)
            }
            Store::Postgres(c) => {
                let boxed = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                c.execute(sql, &refs).map_err(db(sql))
            }
        }
    }

    fn query(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Cell>>> {
        match self {
            Store::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql).map_err(db(sql))?;
                let width = statement.column_count();
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(values), |row| {
                        (0..width).map(|i| Ok(sqlite_cell(row.get_ref(i)?))).collect::<rusqlite::Result<Vec<Cell>>>()
                    })
                    .map_err(db(sql))?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db(sql))
            }
            Store::Postgres(c) => {
                let boxed = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                let rows = c.query(sql, &refs).map_err(db(sql))?;
                Ok(rows.iter().map(pg_cells).collect())
            }
        }
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Store::Sqlite(c) => c.execute_batch(sql).map_err(db(sql)),
            Store::Postgres(c) => c.batch_execute(sql).map_err(db(sql)),
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let begin = match self {
            Store::Sqlite(_) => "BEGIN IMMEDIATE",
            Store::Postgres(_) => "BEGIN; SELECT pg_advisory_xact_lock(7070707)",
        };
        self.batch(begin)?;
        let result = (|| {
            for statement in SCHEMA {
                self.batch(statement)?;
            }
            let found = self.query("SELECT MAX(version) FROM schema_version", &[])?;
            match found.first().and_then(|r| r[0].int()) {
                None => {
                    self.execute(
                        "INSERT INTO schema_version (version) VALUES ($1)",
                        &[Cell::Int(Some(SCHEMA_VERSION))],
                    )?;
                }
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(CallsError::StoreTooNew { found: v, supported: SCHEMA_VERSION }.into());
                }
                Some(_) => {}
            }
            Ok(())
        })();
        self.finish(result)
    }

    fn finish<T>(&mut self, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Merges every event (with the raw body each came from) in one transaction: all are stored
    /// or none. Returns the merged record of each call touched, in order of first appearance.
    pub fn merge(&mut self, events: &[(Event, Option<String>)], received_at: &str) -> Result<Vec<Record>> {
        self.batch(match self {
            Store::Sqlite(_) => "BEGIN IMMEDIATE",
            Store::Postgres(_) => "BEGIN",
        })?;
        let result = (|| {
            let mut touched: Vec<String> = Vec::new();
            let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for (event, raw) in events {
                let id = &event.record.call_id;
                if let Store::Postgres(_) = self {
                    self.query("SELECT pg_advisory_xact_lock(hashtext($1))", &[Cell::Text(Some(id.clone()))])?;
                }
                let record = serde_json::to_string(&event.record).expect("a record serialises");
                self.execute(
                    "INSERT INTO events (call_id, digest, source, record, raw, received_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (call_id, digest) DO NOTHING",
                    &[
                        Cell::Text(Some(id.clone())),
                        Cell::Text(Some(event.digest())),
                        Cell::Text(Some(event.source.as_str().into())),
                        Cell::Text(Some(record)),
                        Cell::Text(raw.clone()),
                        Cell::Text(Some(received_at.into())),
                    ],
                )?;
                if seen.insert(id.as_str()) {
                    touched.push(id.clone());
                }
            }
            let mut merged = Vec::with_capacity(touched.len());
            for id in touched {
                let record = merge(&id, &self.events(&id)?);
                self.upsert(&record)?;
                merged.push(record);
            }
            Ok(merged)
        })();
        self.finish(result)
    }

    /// Every event stored for a call.
    pub fn events(&mut self, call_id: &str) -> Result<Vec<Event>> {
        let rows =
            self.query("SELECT source, record FROM events WHERE call_id = $1", &[Cell::Text(Some(call_id.into()))])?;
        rows.iter()
            .map(|r| {
                let source = r[0].text().and_then(Source::parse).ok_or_else(|| CallsError::CallStore {
                    context: format!("reading the events of {call_id}"),
                    message: "an event has no source".into(),
                    source: None,
                })?;
                let record: Record =
                    serde_json::from_str(r[1].text().unwrap_or_default()).map_err(|e| CallsError::CallStore {
                        context: format!("reading the events of {call_id}"),
                        message: format!("an event does not parse: {e}"),
                        source: Some(Box::new(e)),
                    })?;
                Ok(Event { source, record })
            })
            .collect()
    }

    fn upsert(&mut self, r: &Record) -> Result<()> {
        let updates = COLUMNS
            .split(", ")
            .skip(1)
            .chain(["at"])
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO calls ({COLUMNS}, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21) ON CONFLICT (call_id) DO UPDATE SET {updates}"
        );
        let at = r.started_at.clone().or_else(|| r.resolved_at.clone());
        let params = [
            Cell::Text(Some(r.call_id.clone())),
            Cell::Text(r.source.map(|s| s.as_str().to_owned())),
            text(&r.channel),
            text(&r.caller),
            text(&r.agent),
            Cell::Int(r.version.map(|v| v as i64)),
            text(&r.tree),
            text(&r.variant),
            Cell::Int(r.bucket.map(|v| v as i64)),
            text(&r.revision),
            text(&r.resolved_at),
            text(&r.started_at),
            text(&r.ended_at),
            Cell::Int(r.duration_ms.map(|v| v as i64)),
            Cell::Bool(r.success),
            Cell::Text(r.sentiment.map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_owned())),
            text(&r.ended_reason),
            Cell::Real(r.cost),
            text(&r.summary),
            Cell::Text(r.analysis.as_ref().map(|a| Value::Object(a.clone()).to_string())),
            Cell::Text(at),
        ];
        self.execute(&sql, &params)?;
        Ok(())
    }

    pub fn get(&mut self, call_id: &str) -> Result<Option<Record>> {
        let rows = self
            .query(&format!("SELECT {COLUMNS} FROM calls WHERE call_id = $1"), &[Cell::Text(Some(call_id.into()))])?;
        Ok(rows.first().map(|r| record(r)))
    }

    /// Calls matching `filter`, newest first.
    pub fn list(&mut self, filter: &Filter) -> Result<Vec<Record>> {
        let (clause, params) = filter.sql();
        let limit = filter.limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default();
        let rows =
            self.query(&format!("SELECT {COLUMNS} FROM calls{clause} ORDER BY at DESC, call_id DESC{limit}"), &params)?;
        Ok(rows.iter().map(|r| record(r)).collect())
    }

    /// How many stored calls have no agent (could not be attributed).
    pub fn unattributed(&mut self) -> Result<u64> {
        let rows = self.query("SELECT COUNT(*) FROM calls WHERE agent IS NULL", &[])?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0) as u64)
    }

    /// Streams the columns `stats` needs, for the calls matching `filter`, borrowed from each
    /// row (no row becomes an allocation of its own).
    pub fn for_each_outcome(&mut self, filter: &Filter, mut f: impl FnMut(&Row<'_>)) -> Result<()> {
        let scan = matches!(self, Store::Sqlite(_)) && filter.version.is_none();
        let (clause, params) = filter.sql_with(scan);
        let sql = format!(
            "SELECT version, variant, success, duration_ms, cost, sentiment, analysis, \
             (version IS NULL AND tree IS NOT NULL) FROM calls{clause}"
        );
        match self {
            Store::Sqlite(c) => {
                let mut statement = c.prepare_cached(&sql).map_err(db(&sql))?;
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let mut rows = statement.query(rusqlite::params_from_iter(values)).map_err(db(&sql))?;
                while let Some(r) = rows.next().map_err(db(&sql))? {
                    let text = |i: usize| r.get_ref(i).ok().and_then(|v| v.as_str_or_null().ok().flatten());
                    let int = |i: usize| r.get_ref(i).ok().and_then(|v| v.as_i64_or_null().ok().flatten());
                    let real = |i: usize| {
                        r.get_ref(i).ok().and_then(|v| match v {
                            rusqlite::types::ValueRef::Real(x) => Some(x),
                            rusqlite::types::ValueRef::Integer(i) => Some(i as f64),
                            _ => None,
                        })
                    };
                    f(&Row {
                        version: int(0).map(|v| v as u64),
                        variant: text(1),
                        success: int(2).map(|v| v != 0),
                        duration_ms: real(3),
                        cost: real(4),
                        sentiment: text(5),
                        analysis: text(6),
                        draft: int(7) == Some(1),
                    });
                }
                Ok(())
            }
            Store::Postgres(c) => {
                let boxed = pg_params(&params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                let rows = c.query(&sql, &refs).map_err(db(&sql))?;
                for r in &rows {
                    f(&Row {
                        version: r.get::<_, Option<i64>>(0).map(|v| v as u64),
                        variant: r.get(1),
                        success: r.get(2),
                        duration_ms: r.get::<_, Option<i64>>(3).map(|v| v as f64),
                        cost: r.get(4),
                        sentiment: r.get(5),
                        analysis: r.get(6),
                        draft: r.get::<_, Option<bool>>(7) == Some(true),
                    });
                }
                Ok(())
            }
        }
    }
}

/// Which calls: every field optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub agent: Option<String>,
    /// `Some(None)`: the draft.
    pub version: Option<Option<u64>>,
    pub variant: Option<String>,
    pub channel: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub success: Option<bool>,
    pub limit: Option<u64>,
}

impl Filter {
    fn sql(&self) -> (String, Vec<Cell>) {
        self.sql_with(false)
    }

    /// `scan`: read the whole table in order rather than through the agent index (SQLite's `+`),
    /// what a statistic over most of an agent's calls wants: no random lookup per row.
    fn sql_with(&self, scan: bool) -> (String, Vec<Cell>) {
        let mut terms = Vec::new();
        let mut params = Vec::new();
        let mut add = |term: &str, cell: Cell| {
            params.push(cell);
            terms.push(term.replace('?', &format!("${}", params.len())));
        };
        if let Some(a) = &self.agent {
            add(if scan { "+agent = ?" } else { "agent = ?" }, Cell::Text(Some(a.clone())));
        }
        match self.version {
            Some(Some(v)) => add("version = ?", Cell::Int(Some(v as i64))),
            // The draft: attributed, with a tree, and no number.
            Some(None) => {
                add("(agent IS NOT NULL AND version IS NULL AND tree IS NOT NULL AND ? = 1)", Cell::Int(Some(1)))
            }
            None => {}
        }
        if let Some(v) = &self.variant {
            add("variant = ?", Cell::Text(Some(v.clone())));
        }
        if let Some(c) = &self.channel {
            add("channel = ?", Cell::Text(Some(c.clone())));
        }
        if let Some(t) = &self.since {
            add("at >= ?", Cell::Text(Some(t.clone())));
        }
        if let Some(t) = &self.until {
            add("at < ?", Cell::Text(Some(t.clone())));
        }
        if let Some(s) = self.success {
            add("success = ?", Cell::Bool(Some(s)));
        }
        let clause = if terms.is_empty() { String::new() } else { format!(" WHERE {}", terms.join(" AND ")) };
        (clause, params)
    }
}

fn record(r: &[Cell]) -> Record {
    let s = |i: usize| r[i].text().map(str::to_owned);
    Record {
        call_id: s(0).unwrap_or_default(),
        source: r[1].text().and_then(Source::parse),
        channel: s(2),
        caller: s(3),
        agent: s(4),
        version: r[5].int().map(|v| v as u64),
        tree: s(6),
        variant: s(7),
        bucket: r[8].int().map(|v| v as u64),
        revision: s(9),
        resolved_at: s(10),
        started_at: s(11),
        ended_at: s(12),
        duration_ms: r[13].int().map(|v| v as u64),
        success: r[14].boolean(),
        sentiment: r[15].text().and_then(Sentiment::parse),
        ended_reason: s(16),
        cost: r[17].real(),
        summary: s(18),
        analysis: r[19].text().and_then(|t| serde_json::from_str(t).ok()),
    }
}

fn sqlite_value(c: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match c {
        Cell::Text(Some(t)) => V::Text(t.clone()),
        Cell::Int(Some(i)) => V::Integer(*i),
        Cell::Real(Some(r)) => V::Real(*r),
        Cell::Bool(Some(b)) => V::Integer(i64::from(*b)),
        _ => V::Null,
    }
}

fn sqlite_cell(v: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => Cell::Text(None),
        V::Integer(i) => Cell::Int(Some(i)),
        V::Real(r) => Cell::Real(Some(r)),
        V::Text(t) | V::Blob(t) => Cell::Text(Some(String::from_utf8_lossy(t).into_owned())),
    }
}

fn pg_params(params: &[Cell]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|c| -> Box<dyn postgres::types::ToSql + Sync> {
            match c {
                Cell::Text(t) => Box::new(t.clone()),
                Cell::Int(i) => Box::new(*i),
                Cell::Real(r) => Box::new(*r),
                Cell::Bool(b) => Box::new(*b),
            }
        })
        .collect()
}

fn pg_cells(row: &postgres::Row) -> Vec<Cell> {
    use postgres::types::Type;
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, col)| match *col.type_() {
            Type::INT8 | Type::INT4 | Type::INT2 => Cell::Int(
                row.try_get::<_, Option<i64>>(i)
                    .or_else(|_| row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)))
                    .unwrap_or(None),
            ),
            Type::FLOAT8 | Type::FLOAT4 => Cell::Real(row.try_get::<_, Option<f64>>(i).unwrap_or(None)),
            Type::BOOL => Cell::Bool(row.try_get::<_, Option<bool>>(i).unwrap_or(None)),
            Type::VOID => Cell::Text(None),
            _ => Cell::Text(row.try_get::<_, Option<String>>(i).unwrap_or(None)),
        })
        .collect()
}
