//! Writing: events merged in batches (many events, one transaction), a call forgotten on request,
//! calls pruned by age.
//!
//! PostgreSQL, shared by several servers, serialises the writers of one call on the call's row
//! (`SELECT … FOR UPDATE`, taken in call-id order after every event of the batch is inserted in
//! key order), so no writer waits on another in a cycle, and row locks cost nothing in the lock
//! table however large the batch: a stock `max_locks_per_transaction` imports any file. A call
//! no writer has created yet is created whole, once, from its one event (`create_calls`): the
//! common case, a resolve's decision. SQLite has one writer at a time, and each batch holds it
//! only for that batch.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::Store;
use super::sql::{Cell, db};
use crate::calls::limits::MAX_EVENTS_PER_SOURCE;
use crate::calls::{Event, Record, Stored, merge};
use crate::error::Result;

pub(super) const COLUMNS: &str = "call_id, source, channel, caller, agent, version, tree, variant, bucket, revision, \
    override, attribution, attribution_reason, resolved_at, started_at, ended_at, duration_ms, success, sentiment, \
    ended_reason, cost, cost_unit, summary, analysis, warnings";

/// What one merge did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Merged {
    /// Events the store did not hold before.
    pub new: usize,
    /// Events it held already (sent twice), or for calls that were forgotten.
    pub unchanged: usize,
    /// Events refused: their call already held [`MAX_EVENTS_PER_SOURCE`] events from their
    /// source (neither counted as new nor kept).
    pub refused: usize,
    /// The record of each call the events were about, in order of first appearance (when asked).
    #[serde(skip)]
    pub records: Vec<Record>,
}

use serde::Serialize;

/// A record's cells in [`COLUMNS`] order (moved, not copied), then `at`: the time a call is
/// listed under (when it started, else when it was resolved, else when it was first reported).
fn cells(r: Record, first_seen: Option<&str>) -> Vec<Cell> {
    let json = |v: Option<Value>| Cell::Text(v.map(|v| v.to_string()));
    let at = r.started_at.clone().or_else(|| r.resolved_at.clone()).or_else(|| first_seen.map(str::to_owned));
    vec![
        Cell::Text(Some(r.call_id)),
        Cell::Text(r.source.map(|s| s.as_str().to_owned())),
        Cell::Text(r.channel),
        Cell::Text(r.caller),
        Cell::Text(r.agent),
        Cell::Int(r.version.map(|v| v as i64)),
        Cell::Text(r.tree),
        Cell::Text(r.variant),
        Cell::Int(r.bucket.map(|v| v as i64)),
        Cell::Text(r.revision),
        Cell::Bool(Some(r.overridden)),
        Cell::Text(r.attribution.map(|a| a.as_str().to_owned())),
        Cell::Text(r.attribution_reason),
        Cell::Text(r.resolved_at),
        Cell::Text(r.started_at),
        Cell::Text(r.ended_at),
        Cell::Int(r.duration_ms.and_then(|v| i64::try_from(v).ok())),
        Cell::Bool(r.success),
        Cell::Text(r.sentiment.map(|s| s.as_str().to_owned())),
        Cell::Text(r.ended_reason),
        Cell::Real(r.cost),
        Cell::Text(r.cost_unit.map(|u| u.as_str().to_owned())),
        Cell::Text(r.summary),
        json(r.analysis.map(Value::Object)),
        json((!r.warnings.is_empty()).then(|| serde_json::json!(r.warnings))),
        Cell::Text(at),
    ]
}

/// When the first of `events` arrived.
pub(super) fn first_seen(events: &[Stored]) -> Option<&str> {
    events.iter().map(|e| e.received_at.as_str()).min()
}

fn updates() -> String {
    COLUMNS.split(", ").skip(1).chain(["at"]).map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ")
}

/// A call and the events of a batch that were new for it.
type Fresh = (String, Vec<Stored>);

/// One event as the columns of `events` (borrowed from the event where it can be), and where it
/// is in the batch.
struct Row<'a> {
    index: usize,
    call_id: &'a str,
    digest: String,
    source: &'static str,
    record: Cow<'a, str>,
    raw: Option<&'a str>,
    event_at: Option<&'a str>,
}

/// The rows of `events`; `bodies`, when given, are the records' JSON already serialised (one per
/// event).
fn rows<'a>(events: &'a [(Event, Option<String>)], bodies: Option<&'a [String]>) -> Vec<Row<'a>> {
    let mut bodies = bodies.map(<[String]>::iter);
    let mut rows: Vec<Row> = events
        .iter()
        .enumerate()
        .map(|(index, (e, raw))| {
            let (digest, record) = match bodies.as_mut().and_then(Iterator::next) {
                Some(body) => {
                    debug_assert_eq!(*body, serde_json::to_string(&e.record).expect("a record serialises"));
                    (e.digest_of(body), Cow::Borrowed(body.as_str()))
                }
                None => {
                    let (digest, body) = e.stored_form();
                    (digest, Cow::Owned(body))
                }
            };
            Row {
                index,
                call_id: &e.record.call_id,
                digest,
                source: e.source.as_str(),
                record,
                raw: raw.as_deref(),
                event_at: e.at.as_deref(),
            }
        })
        .collect();
    // Key order: concurrent writers insert in one order and never wait on each other in a cycle.
    rows.sort_by(|a, b| (a.call_id, &a.digest).cmp(&(b.call_id, &b.digest)));
    rows
}

/// Records' cells (each in [`COLUMNS`] order, then `at`) as one array per column, and each
/// array's parameter with its cast (`$1::text[]`), for `unnest` (PostgreSQL). `rows` is not empty.
fn arrays(rows: &[Vec<Cell>]) -> (Vec<Box<dyn postgres::types::ToSql + Sync>>, Vec<String>) {
    let mut arrays: Vec<Box<dyn postgres::types::ToSql + Sync>> = Vec::new();
    let mut casts = Vec::new();
    for i in 0..rows[0].len() {
        let (array, cast): (Box<dyn postgres::types::ToSql + Sync>, &str) = match &rows[0][i] {
            Cell::Text(_) => {
                (Box::new(rows.iter().map(|r| r[i].text().map(str::to_owned)).collect::<Vec<_>>()), "text")
            }
            Cell::Int(_) => (Box::new(rows.iter().map(|r| r[i].int()).collect::<Vec<_>>()), "bigint"),
            Cell::Real(_) => (Box::new(rows.iter().map(|r| r[i].real()).collect::<Vec<_>>()), "double precision"),
            Cell::Bool(_) => (Box::new(rows.iter().map(|r| r[i].boolean()).collect::<Vec<_>>()), "boolean"),
        };
        arrays.push(array);
        casts.push(format!("${}::{cast}[]", i + 1));
    }
    (arrays, casts)
}

/// The event columns of `rows` as arrays: `call_id, digest, source, record, raw, event_at`.
fn event_arrays(rows: &[&Row]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    fn column(rows: &[&Row], f: impl Fn(&Row) -> Option<String>) -> Box<dyn postgres::types::ToSql + Sync> {
        Box::new(rows.iter().map(|r| f(r)).collect::<Vec<_>>())
    }
    vec![
        column(rows, |r| Some(r.call_id.to_owned())),
        column(rows, |r| Some(r.digest.clone())),
        column(rows, |r| Some(r.source.to_owned())),
        column(rows, |r| Some(r.record.to_string())),
        column(rows, |r| r.raw.map(str::to_owned)),
        column(rows, |r| r.event_at.map(str::to_owned)),
    ]
}

/// Which of the calls `rows` are about were forgotten (none, without a lookup per call, while
/// nothing is).
fn forgotten_among<'a>(c: &rusqlite::Connection, rows: &[Row<'a>]) -> Result<HashSet<&'a str>> {
    let mut found = HashSet::new();
    let any: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM forgotten)")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db("writing events"))?;
    if any {
        let mut lookup =
            c.prepare_cached("SELECT 1 FROM forgotten WHERE call_id = $1").map_err(db("writing events"))?;
        for row in rows {
            if !found.contains(row.call_id) && lookup.exists([row.call_id]).map_err(db("writing events"))? {
                found.insert(row.call_id);
            }
        }
    }
    Ok(found)
}

/// Takes out of `events` (one call's) those beyond [`MAX_EVENTS_PER_SOURCE`] from one source,
/// the latest arrivals first, and answers their places in the store. The cap bounds what one
/// call costs each time it is merged again: a client sending one call id on every request
/// would otherwise make each batch re-merge an ever longer history.
fn beyond_limit(events: &mut Vec<Stored>) -> Vec<i64> {
    if events.len() <= MAX_EVENTS_PER_SOURCE {
        return Vec::new();
    }
    events.sort_by_key(|e| e.seq);
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let keep: Vec<bool> = events
        .iter()
        .map(|e| {
            let n = counts.entry(e.event.source.as_str()).or_default();
            *n += 1;
            *n <= MAX_EVENTS_PER_SOURCE
        })
        .collect();
    let mut keep = keep.into_iter();
    let mut refused = Vec::new();
    events.retain(|e| {
        let kept = keep.next().unwrap_or(true);
        if !kept {
            refused.push(e.seq);
        }
        kept
    });
    refused
}

impl Store {
    /// Merges every event (with the raw body each came from, already made safe to keep) in one
    /// transaction: all are stored or none. With `want_records`, answers each call's record.
    pub fn merge(
        &mut self,
        events: &[(Event, Option<String>)],
        received_at: &str,
        want_records: bool,
    ) -> Result<Merged> {
        self.merge_rows(rows(events, None), events, received_at, want_records)
    }

    /// [`Store::merge`] for events whose records' JSON is at hand (`bodies[i]` is
    /// `events[i].0.record` as [`Event::stored_form`] serialises it), so it is not made again.
    pub fn merge_serialised(
        &mut self,
        events: &[(Event, Option<String>)],
        bodies: &[String],
        received_at: &str,
    ) -> Result<Merged> {
        debug_assert_eq!(events.len(), bodies.len());
        self.merge_rows(rows(events, Some(bodies)), events, received_at, false)
    }

    fn merge_rows(
        &mut self,
        rows: Vec<Row>,
        events: &[(Event, Option<String>)],
        received_at: &str,
        want_records: bool,
    ) -> Result<Merged> {
        self.transaction(|store| {
            let (inserted, refused) = match store {
                Store::Sqlite(_) => {
                    let (fresh, inserted) = store.insert_sqlite(&rows, events, received_at)?;
                    (inserted, store.record_sqlite(fresh)?)
                }
                Store::Postgres(_) => store.merge_postgres(&rows, events, received_at)?,
            };
            let new = inserted - refused;
            let mut merged = Merged { new, unchanged: rows.len() - inserted, refused, records: Vec::new() };
            if want_records {
                let mut seen = BTreeSet::new();
                for (e, _) in events {
                    if seen.insert(&e.record.call_id)
                        && let Some(r) = store.get(&e.record.call_id)?
                    {
                        merged.records.push(r);
                    }
                }
            }
            Ok(merged)
        })
    }

    /// Inserts the events one statement each (values bound by reference); the events inserted,
    /// by call. Calls that were forgotten are looked up once per batch, and only when there are
    /// any: a plain one-row `INSERT … VALUES` needs no statement journal, which an
    /// `INSERT … SELECT` guarded per row did (a tenth of a decision's cost).
    fn insert_sqlite(
        &mut self,
        rows: &[Row],
        events: &[(Event, Option<String>)],
        received_at: &str,
    ) -> Result<(Vec<Fresh>, usize)> {
        let Store::Sqlite(c) = self else { unreachable!("a SQLite store") };
        let forgotten = forgotten_among(c, rows)?;
        let mut insert = c
            .prepare_cached(
                "INSERT INTO events (call_id, digest, source, record, raw, received_at, event_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id, digest) DO NOTHING",
            )
            .map_err(db("writing events"))?;
        let mut fresh: Vec<Fresh> = Vec::new();
        let mut new = 0;
        for row in rows {
            if forgotten.contains(row.call_id) {
                continue;
            }
            let n = insert
                .execute(rusqlite::params![
                    row.call_id,
                    row.digest,
                    row.source,
                    row.record,
                    row.raw,
                    received_at,
                    row.event_at
                ])
                .map_err(db("writing events"))?;
            if n == 1 {
                new += 1;
                let stored = Stored {
                    event: events[row.index].0.clone(),
                    received_at: received_at.into(),
                    seq: c.last_insert_rowid(),
                };
                // Rows are in call-id order: a call's events are next to each other.
                match fresh.last_mut() {
                    Some((id, list)) if id == row.call_id => list.push(stored),
                    _ => fresh.push((row.call_id.to_owned(), vec![stored])),
                }
            }
        }
        Ok((fresh, new))
    }

    /// Records the calls the new events are about. A call the store had no row for has no other
    /// events, so its record is merged from the new ones alone and inserted; only a call known
    /// before is recomputed from everything stored for it. Answers how many new events were
    /// refused (and deleted again) for being over a call's limit.
    fn record_sqlite(&mut self, fresh: Vec<Fresh>) -> Result<usize> {
        static NEW: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = NEW.get_or_init(|| {
            let placeholders: Vec<String> = (1..=26).map(|i| format!("${i}")).collect();
            format!(
                "INSERT INTO calls ({COLUMNS}, at) VALUES ({}) ON CONFLICT (call_id) DO NOTHING",
                placeholders.join(", ")
            )
        });
        let mut refused = 0;
        for (id, mut events) in fresh {
            refused += self.refuse(&mut events)?;
            let inserted = self.execute(sql, &cells(merge(&id, &events), first_seen(&events)), "writing a call")?;
            if inserted == 0 {
                let mut events = self.events(&id)?;
                refused += self.refuse(&mut events)?;
                self.upsert(merge(&id, &events), first_seen(&events))?;
            }
        }
        Ok(refused)
    }

    /// Deletes the events of one call that are [`beyond_limit`] (only ever this batch's: the
    /// store never commits more), and answers how many.
    fn refuse(&mut self, events: &mut Vec<Stored>) -> Result<usize> {
        let refused = beyond_limit(events);
        if refused.is_empty() {
            return Ok(0);
        }
        let sql = format!("DELETE FROM events WHERE {} = $1", self.seq_column());
        for seq in &refused {
            self.execute(&sql, &[Cell::Int(Some(*seq))], "refusing events")?;
        }
        Ok(refused.len())
    }

    /// PostgreSQL: the calls the store has never seen, each with one event in the batch (every
    /// decision of a flood of resolves), are created whole in one statement, their records merged
    /// here from that event alone; only the others (calls known before, or with several events in
    /// the batch) take [`Store::insert_postgres`] and [`Store::recompute`], which lock each call's
    /// row and merge it again from everything stored for it. Answers the events inserted, and
    /// those refused for being over a call's limit.
    ///
    /// Measured under a flood of fresh call ids (one replica, wrk on loopback, 2 cores), the
    /// general path was the bottleneck: per decision it inserted a placeholder row into `calls`
    /// (a heap tuple and an entry in each of its five indexes), locked it (`FOR UPDATE` writes
    /// the row again), read the event back and parsed its JSON, and replaced the row by an
    /// upsert (another tuple, five more index entries, a dead tuple for autovacuum). Creating the
    /// row once halved PostgreSQL's CPU per decision (59 → 32 µs, BENCHMARKS.md).
    fn merge_postgres(
        &mut self,
        rows: &[Row],
        events: &[(Event, Option<String>)],
        received_at: &str,
    ) -> Result<(usize, usize)> {
        let mut per_call: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for row in rows {
            *per_call.entry(row.call_id).or_default() += 1;
        }
        let single: Vec<&Row> = rows.iter().filter(|r| per_call[r.call_id] == 1).collect();
        let created = self.create_calls(&single, events, received_at)?;
        let rest: Vec<&Row> = rows.iter().filter(|r| !created.contains(r.call_id)).collect();
        if rest.is_empty() {
            return Ok((created.len(), 0));
        }
        let (ids, inserted) = self.insert_postgres(&rest, received_at)?;
        Ok((created.len() + inserted, self.recompute(&ids)?))
    }

    /// Creates the calls of `rows` (one event each) that the store has no row for and that were
    /// not forgotten: each call's row, its record merged here from its one event (one statement),
    /// then their events (another). Answers the calls created; the others are left untouched.
    ///
    /// Why this agrees with [`Store::recompute`] when replicas write the same call at once: every
    /// writer creates a call's row in the transaction that inserts its first events, so a call
    /// without a row has no events anywhere (committed or not), and its record is its one event.
    /// A writer that finds the row being created by another waits for that transaction
    /// (`ON CONFLICT` on an uncommitted row), then finds it, and goes the general way, which
    /// merges everything committed under the row's lock.
    fn create_calls(
        &mut self,
        rows: &[&Row],
        events: &[(Event, Option<String>)],
        received_at: &str,
    ) -> Result<HashSet<String>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let records: Vec<Vec<Cell>> = rows
            .iter()
            .map(|row| {
                let stored = Stored { event: events[row.index].0.clone(), received_at: received_at.to_owned(), seq: 0 };
                cells(merge(row.call_id, std::slice::from_ref(&stored)), Some(received_at))
            })
            .collect();
        let (params, casts) = arrays(&records);
        let names = COLUMNS.split(", ").chain(["at"]).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO calls ({names}) SELECT * FROM unnest({}) AS c({names}) \
             WHERE NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.call_id = c.call_id) \
             ON CONFLICT (call_id) DO NOTHING RETURNING call_id",
            casts.join(", ")
        );
        let Store::Postgres(pg) = self else { unreachable!("a PostgreSQL store") };
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
        let statement = pg.prepared(&sql).map_err(db("writing calls"))?;
        let created: HashSet<String> =
            pg.query(&statement, &refs).map_err(db("writing calls"))?.iter().map(|r| r.get(0)).collect();
        let mine: Vec<&Row> = rows.iter().copied().filter(|r| created.contains(r.call_id)).collect();
        if !mine.is_empty() {
            let mut params = event_arrays(&mine);
            params.push(Box::new(received_at.to_owned()));
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
            let statement = pg
                .prepared(
                    "INSERT INTO events (call_id, digest, source, record, raw, received_at, event_at) \
                     SELECT t.call_id, t.digest, t.source, t.record, t.raw, $7, t.event_at \
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                       AS t(call_id, digest, source, record, raw, event_at) \
                     ON CONFLICT (call_id, digest) DO NOTHING",
                )
                .map_err(db("writing events"))?;
            pg.execute(&statement, &refs).map_err(db("writing events"))?;
        }
        Ok(created)
    }

    /// Inserts all events in one statement, then locks the rows of the calls they touched.
    fn insert_postgres(&mut self, rows: &[&Row], received_at: &str) -> Result<(Vec<String>, usize)> {
        let Store::Postgres(client) = self else { unreachable!("a PostgreSQL store") };
        fn column<'r>(rows: &[&'r Row], f: impl Fn(&'r Row) -> Option<&'r str>) -> Vec<Option<&'r str>> {
            rows.iter().map(|r| f(r)).collect()
        }
        let statement = client
            .prepared(
                "INSERT INTO events (call_id, digest, source, record, raw, received_at, event_at) \
                 SELECT t.call_id, t.digest, t.source, t.record, t.raw, $6, t.event_at \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $7::text[]) \
                   AS t(call_id, digest, source, record, raw, event_at) \
                 WHERE NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.call_id = t.call_id) \
                 ON CONFLICT (call_id, digest) DO NOTHING RETURNING call_id",
            )
            .map_err(db("writing events"))?;
        let inserted = client
            .query(
                &statement,
                &[
                    &column(rows, |r| Some(r.call_id)),
                    &column(rows, |r| Some(&r.digest)),
                    &column(rows, |r| Some(r.source)),
                    &column(rows, |r| Some(&*r.record)),
                    &column(rows, |r| r.raw),
                    &received_at,
                    &column(rows, |r| r.event_at),
                ],
            )
            .map_err(db("writing events"))?;
        let ids: BTreeSet<String> = inserted.iter().map(|r| r.get::<_, String>(0)).collect();
        let ids: Vec<String> = ids.into_iter().collect();
        for sql in [
            "INSERT INTO calls (call_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            "SELECT call_id FROM calls WHERE call_id = ANY($1) ORDER BY call_id FOR UPDATE",
        ] {
            let statement = client.prepared(sql).map_err(db("locking calls"))?;
            client.execute(&statement, &[&ids]).map_err(db("locking calls"))?;
        }
        Ok((ids, inserted.len()))
    }

    /// Recomputes the records of `ids` from all of their events (PostgreSQL, in one statement);
    /// answers how many new events were refused for being over a call's limit.
    fn recompute(&mut self, ids: &[String]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut by_call: HashMap<String, Vec<Stored>> = HashMap::new();
        for (id, stored) in self.events_of(ids)? {
            by_call.entry(id).or_default().push(stored);
        }
        let mut refused = 0;
        for events in by_call.values_mut() {
            refused += self.refuse(events)?;
        }
        let rows: Vec<Vec<Cell>> = ids
            .iter()
            .map(|id| {
                let events = by_call.get(id).map_or(&[][..], Vec::as_slice);
                cells(merge(id, events), first_seen(events))
            })
            .collect();
        self.upsert_all(&rows)?;
        Ok(refused)
    }

    /// Stores one record.
    pub(super) fn upsert(&mut self, r: Record, first_seen: Option<&str>) -> Result<()> {
        // Made once: the statement cache is keyed by this text.
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            let placeholders: Vec<String> = (1..=26).map(|i| format!("${i}")).collect();
            format!(
                "INSERT INTO calls ({COLUMNS}, at) VALUES ({}) ON CONFLICT (call_id) DO UPDATE SET {}",
                placeholders.join(", "),
                updates()
            )
        });
        self.execute(sql, &cells(r, first_seen), "writing a call")?;
        Ok(())
    }

    /// Stores many records in one statement, one array per column (PostgreSQL).
    fn upsert_all(&mut self, rows: &[Vec<Cell>]) -> Result<()> {
        let Store::Postgres(client) = self else { unreachable!("a PostgreSQL store") };
        let (arrays, casts) = arrays(rows);
        let sql = format!(
            "INSERT INTO calls ({COLUMNS}, at) SELECT * FROM unnest({}) ON CONFLICT (call_id) DO UPDATE SET {}",
            casts.join(", "),
            updates()
        );
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = arrays.iter().map(|b| b.as_ref()).collect();
        let statement = client.prepared(&sql).map_err(db("writing calls"))?;
        client.execute(&statement, &refs).map_err(db("writing calls"))?;
        Ok(())
    }

    /// Erases calls and every event about them (a deletion request), and remembers their ids so
    /// that a late webhook cannot bring one back. Returns how many calls the store held.
    pub fn forget(&mut self, call_ids: &[String], at: &str) -> Result<usize> {
        self.transaction(|store| {
            let mut found = 0;
            for id in call_ids {
                let id = Cell::Text(Some(id.clone()));
                let one = std::slice::from_ref(&id);
                let calls = store.execute("DELETE FROM calls WHERE call_id = $1", one, "forgetting a call")?;
                let events = store.execute("DELETE FROM events WHERE call_id = $1", one, "forgetting a call")?;
                if calls + events > 0 {
                    found += 1;
                }
                store.execute(
                    "INSERT INTO forgotten (call_id, at) VALUES ($1, $2) ON CONFLICT (call_id) DO NOTHING",
                    &[id, Cell::Text(Some(at.into()))],
                    "forgetting a call",
                )?;
            }
            Ok(found)
        })
    }

    /// Erases the calls listed under a time before `before` (retention), with their events.
    pub fn prune(&mut self, before: &str) -> Result<usize> {
        self.transaction(|store| {
            let before = Cell::Text(Some(before.into()));
            store.execute(
                "DELETE FROM events WHERE call_id IN (SELECT call_id FROM calls WHERE at < $1)",
                std::slice::from_ref(&before),
                "pruning calls",
            )?;
            let n = store.execute("DELETE FROM calls WHERE at < $1", std::slice::from_ref(&before), "pruning calls")?;
            // Deletion requests that old are kept no longer either: no webhook comes that late.
            store.execute("DELETE FROM forgotten WHERE at < $1", &[before], "pruning calls")?;
            Ok(n as usize)
        })
    }
}
