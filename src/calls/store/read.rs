//! Reading: one call, its events, the call list filtered and paged, the counts kept apart from
//! the arms (unattributed, invalid attribution), and the rows `stats` streams.

use serde::Serialize;

use super::Store;
use super::migrate::NO_ARM;
use super::sql::{Cell, db};
use super::write::COLUMNS;
use crate::calls::stats::Row;
use crate::calls::{Attribution, CallsError, CostUnit, Event, Record, Sentiment, Source, Stored};
use crate::error::Result;

/// Calls listed at most per page.
pub const MAX_LIMIT: u64 = 10_000;

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
    pub offset: Option<u64>,
}

/// Calls in the store that are no arm of any statistic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// No agent was ever reported for them.
    pub unattributed: u64,
    /// Their echoed attribution named something that never served, or what was decided for them
    /// never ran (`not_deployed`).
    pub invalid: u64,
}

impl Filter {
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
            Some(Some(v)) => add("version = ?", Cell::Int(i64::try_from(v).ok())),
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

/// `YYYY-MM-DD` of a stored time (RFC 3339, so its first ten bytes).
fn day_of(at: &str) -> Option<&str> {
    at.get(..10)
}

fn record(r: &[Cell]) -> Record {
    let s = |i: usize| r[i].text().map(str::to_owned);
    let object = |i: usize| r[i].text().and_then(|t| serde_json::from_str(t).ok());
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
        overridden: r[10].boolean().unwrap_or(false),
        attribution: r[11].text().and_then(Attribution::parse),
        attribution_reason: s(12),
        resolved_at: s(13),
        started_at: s(14),
        ended_at: s(15),
        duration_ms: r[16].int().map(|v| v as u64),
        success: r[17].boolean(),
        sentiment: r[18].text().and_then(Sentiment::parse),
        ended_reason: s(19),
        cost: r[20].real(),
        cost_unit: r[21].text().and_then(CostUnit::parse),
        summary: s(22),
        analysis: object(23),
        warnings: r[24].text().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default(),
    }
}

/// An event row (`source, record, received_at, event_at, seq`) back into an event.
fn stored(call_id: &str, r: &[Cell]) -> Result<Stored> {
    let broken = |message: String| CallsError::CallStore { operation: "reading events", message, source: None };
    let source =
        r[0].text().and_then(Source::parse).ok_or_else(|| broken(format!("an event of {call_id} has no source")))?;
    let record: Record = serde_json::from_str(r[1].text().unwrap_or_default())
        .map_err(|e| broken(format!("an event of {call_id} does not parse: {e}")))?;
    Ok(Stored {
        event: Event { source, at: r[3].text().map(str::to_owned), record },
        received_at: r[2].text().unwrap_or_default().to_owned(),
        seq: r[4].int().unwrap_or_default(),
    })
}

impl Store {
    pub(super) fn seq_column(&self) -> &'static str {
        if self.is_sqlite() { "rowid" } else { "seq" }
    }

    pub fn get(&mut self, call_id: &str) -> Result<Option<Record>> {
        let rows = self.query(
            &format!("SELECT {COLUMNS} FROM calls WHERE call_id = $1"),
            &[Cell::Text(Some(call_id.into()))],
            "reading a call",
        )?;
        Ok(rows.first().map(|r| record(r)))
    }

    /// Every event stored for a call.
    pub fn events(&mut self, call_id: &str) -> Result<Vec<Stored>> {
        let sql = format!(
            "SELECT source, record, received_at, event_at, {} FROM events WHERE call_id = $1",
            self.seq_column()
        );
        let rows = self.query(&sql, &[Cell::Text(Some(call_id.into()))], "reading events")?;
        rows.iter().map(|r| stored(call_id, r)).collect()
    }

    /// Every event of many calls, in one statement (PostgreSQL).
    pub(super) fn events_of(&mut self, ids: &[String]) -> Result<Vec<(String, Stored)>> {
        let Store::Postgres(client) = self else { unreachable!("a PostgreSQL store") };
        let statement = client
            .prepared("SELECT call_id, source, record, received_at, event_at, seq FROM events WHERE call_id = ANY($1)")
            .map_err(db("reading events"))?;
        let rows = client.query(&statement, &[&ids]).map_err(db("reading events"))?;
        rows.iter()
            .map(|row| {
                let cells = super::sql::pg_cells(row);
                let id = cells[0].text().unwrap_or_default().to_owned();
                let event = stored(&id, &cells[1..])?;
                Ok((id, event))
            })
            .collect()
    }

    /// Calls matching `filter`, newest first, a page at a time.
    pub fn list(&mut self, filter: &Filter) -> Result<Vec<Record>> {
        let (clause, params) = filter.sql_with(false);
        let limit = filter.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
        let offset = filter.offset.unwrap_or(0).min(i64::MAX as u64);
        let sql =
            format!("SELECT {COLUMNS} FROM calls{clause} ORDER BY at DESC, call_id DESC LIMIT {limit} OFFSET {offset}");
        let rows = self.query(&sql, &params, "listing calls")?;
        Ok(rows.iter().map(|r| record(r)).collect())
    }

    /// Every call matching `filter`, newest first, handed to `f` one at a time as the database
    /// sends them: `limit` (none: all) and `offset` as given, with no upper bound, in flat memory.
    /// `f` failing (a closed pipe) stops the read.
    pub fn for_each_record(&mut self, filter: &Filter, mut f: impl FnMut(Record) -> Result<()>) -> Result<()> {
        let (clause, params) = filter.sql_with(false);
        let mut sql = format!("SELECT {COLUMNS} FROM calls{clause} ORDER BY at DESC, call_id DESC");
        match (filter.limit, filter.offset.unwrap_or(0).min(i64::MAX as u64)) {
            (Some(limit), offset) => sql.push_str(&format!(" LIMIT {} OFFSET {offset}", limit.min(i64::MAX as u64))),
            // SQLite takes an offset only after a limit; -1 is none.
            (None, offset) if offset > 0 => sql.push_str(&format!(" LIMIT {} OFFSET {offset}", i64::MAX)),
            (None, _) => {}
        }
        match self {
            // Read without the memory map, so the pages read are not kept as the process's memory.
            Store::Sqlite(c) => Store::scanning(c, |c| {
                let mut statement = c.prepare_cached(&sql).map_err(db("listing calls"))?;
                let width = statement.column_count();
                let mut rows = statement.query(rusqlite::params_from_iter(params)).map_err(db("listing calls"))?;
                while let Some(row) = rows.next().map_err(db("listing calls"))? {
                    let cells: Vec<Cell> = (0..width)
                        .map(|i| row.get_ref(i).map(super::sql::sqlite_cell))
                        .collect::<rusqlite::Result<_>>()
                        .map_err(db("listing calls"))?;
                    f(record(&cells))?;
                }
                Ok(())
            }),
            Store::Postgres(c) => {
                use postgres::fallible_iterator::FallibleIterator;
                let boxed = super::sql::pg_params(&params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                let mut rows = c.query_raw(&sql, refs).map_err(db("listing calls"))?;
                while let Some(row) = rows.next().map_err(db("listing calls"))? {
                    f(record(&super::sql::pg_cells(&row)))?;
                }
                Ok(())
            }
        }
    }

    /// Calls per agent since `since` (the agents page's "last 7 days").
    pub fn calls_per_agent(&mut self, since: &str) -> Result<Vec<(String, u64)>> {
        let rows = self.query(
            "SELECT agent, COUNT(*) FROM calls WHERE at >= $1 AND agent IS NOT NULL GROUP BY agent",
            &[Cell::Text(Some(since.to_owned()))],
            "counting calls per agent",
        )?;
        Ok(rows.iter().filter_map(|r| Some((r[0].text()?.to_owned(), r[1].int().unwrap_or(0).max(0) as u64))).collect())
    }

    /// The calls that are no statistic's arm, counted through the index that holds only them
    /// (a scan of every call would read the whole table).
    pub fn counts(&mut self) -> Result<Counts> {
        let rows = self.query(
            &format!(
                "SELECT COALESCE(SUM(CASE WHEN attribution IS NULL THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN attribution IS NULL THEN 0 ELSE 1 END), 0) FROM calls WHERE {NO_ARM}"
            ),
            &[],
            "counting calls",
        )?;
        let row = rows.first();
        let n = |i: usize| row.and_then(|r| r[i].int()).unwrap_or(0).max(0) as u64;
        Ok(Counts { unattributed: n(0), invalid: n(1) })
    }

    /// Streams the columns `stats` needs, for the calls matching `filter`, borrowed from each
    /// row (no row becomes an allocation of its own).
    pub fn for_each_outcome(&mut self, filter: &Filter, mut f: impl FnMut(&Row<'_>)) -> Result<()> {
        let scan = self.is_sqlite() && filter.version.is_none();
        let (clause, params) = filter.sql_with(scan);
        let sql = format!(
            "SELECT version, variant, success, duration_ms, cost, sentiment, analysis, \
             (version IS NULL AND tree IS NOT NULL), cost_unit, override, at FROM calls{clause}"
        );
        match self {
            Store::Sqlite(c) => Store::scanning(c, |c| sqlite_outcomes(c, &sql, &params, f)),
            Store::Postgres(c) => {
                use postgres::fallible_iterator::FallibleIterator;
                let boxed = super::sql::pg_params(&params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                // Streamed as the server sends them: a million calls never sit in memory at once.
                let mut rows = c.query_raw(&sql, refs).map_err(db("reading outcomes"))?;
                while let Some(r) = rows.next().map_err(db("reading outcomes"))? {
                    let r = &r;
                    f(&Row {
                        version: r.get::<_, Option<i64>>(0).map(|v| v as u64),
                        variant: r.get(1),
                        success: r.get(2),
                        duration_ms: r.get::<_, Option<i64>>(3).map(|v| v as f64),
                        cost: r.get(4),
                        sentiment: r.get(5),
                        analysis: r.get(6),
                        draft: r.get::<_, Option<bool>>(7) == Some(true),
                        cost_unit: r.get::<_, Option<&str>>(8).and_then(CostUnit::parse),
                        overridden: r.get::<_, Option<bool>>(9) == Some(true),
                        day: r.get::<_, Option<&str>>(10).and_then(day_of),
                    });
                }
                Ok(())
            }
        }
    }
}

/// The SQLite side of [`Store::for_each_outcome`].
fn sqlite_outcomes(c: &rusqlite::Connection, sql: &str, params: &[Cell], mut f: impl FnMut(&Row<'_>)) -> Result<()> {
    let mut statement = c.prepare_cached(sql).map_err(db("reading outcomes"))?;
    let values: Vec<rusqlite::types::Value> = params.iter().map(super::sql::sqlite_value).collect();
    let mut rows = statement.query(rusqlite::params_from_iter(values)).map_err(db("reading outcomes"))?;
    while let Some(r) = rows.next().map_err(db("reading outcomes"))? {
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
            cost_unit: text(8).and_then(CostUnit::parse),
            overridden: int(9) == Some(1),
            day: text(10).and_then(day_of),
        });
    }
    Ok(())
}
