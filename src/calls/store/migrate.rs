//! Creating the schema, and moving a store an older agentver wrote forward: new columns, raw
//! bodies made safe (numbers hashed, transcripts dropped, as the workspace says), and every
//! record recomputed under the current merge.

use serde_json::Value;

use super::Store;
use super::sql::Cell;
use crate::calls::{Attribution, CallsError, CostUnit, Privacy, Record, Source};
use crate::error::Result;

const CALLS_COLUMNS: &str = "call_id TEXT PRIMARY KEY, source TEXT, channel TEXT, caller TEXT, agent TEXT, \
    version BIGINT, tree TEXT, variant TEXT, bucket BIGINT, revision TEXT, override BOOLEAN, attribution TEXT, \
    attribution_reason TEXT, resolved_at TEXT, started_at TEXT, ended_at TEXT, at TEXT, duration_ms BIGINT, \
    success BOOLEAN, sentiment TEXT, ended_reason TEXT, cost DOUBLE PRECISION, cost_unit TEXT, summary TEXT, \
    analysis TEXT, warnings TEXT";

/// The schema of this version. SQLite orders events by their rowid; PostgreSQL by a sequence.
fn schema(sqlite: bool) -> Vec<String> {
    let seq = if sqlite { "" } else { ", seq BIGSERIAL" };
    vec![
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS events (call_id TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, \
             record TEXT NOT NULL, raw TEXT, received_at TEXT NOT NULL, event_at TEXT{seq}, PRIMARY KEY (call_id, digest))"
        ),
        format!("CREATE TABLE IF NOT EXISTS calls ({CALLS_COLUMNS})"),
        "CREATE TABLE IF NOT EXISTS forgotten (call_id TEXT PRIMARY KEY, at TEXT NOT NULL)".into(),
        "CREATE INDEX IF NOT EXISTS calls_agent_version ON calls (agent, version, at)".into(),
        "CREATE INDEX IF NOT EXISTS calls_channel ON calls (channel, at)".into(),
        "CREATE INDEX IF NOT EXISTS calls_at ON calls (at, call_id)".into(),
    ]
}

/// The calls that are no statistic's arm (never attributed, attributed invalidly, decided but
/// not deployed), as a condition: the partial index [`NO_ARM_INDEX`] holds only them, so counting
/// them, or finding the invalid ones to check again, reads them alone and not a million others.
/// A query uses the index only with this very condition among its terms.
pub(super) const NO_ARM: &str = "(attribution IS NULL OR attribution IN ('invalid', 'not_deployed'))";
const NO_ARM_INDEX: &str = "calls_no_arm";

/// Columns version 2 added to a version 1 store.
fn upgrade_from_1(sqlite: bool) -> Vec<&'static str> {
    let mut steps = vec![
        "ALTER TABLE calls ADD COLUMN override BOOLEAN",
        "ALTER TABLE calls ADD COLUMN attribution TEXT",
        "ALTER TABLE calls ADD COLUMN attribution_reason TEXT",
        "ALTER TABLE calls ADD COLUMN cost_unit TEXT",
        "ALTER TABLE calls ADD COLUMN warnings TEXT",
        "ALTER TABLE events ADD COLUMN event_at TEXT",
    ];
    if !sqlite {
        steps.push("ALTER TABLE events ADD COLUMN seq BIGSERIAL");
    }
    steps
}

impl Store {
    pub(super) fn migrate(&mut self, privacy: &Privacy) -> Result<()> {
        let begin = if self.is_sqlite() { "BEGIN IMMEDIATE" } else { "BEGIN; SELECT pg_advisory_xact_lock(7070707)" };
        self.batch(begin, "creating the schema")?;
        let result = (|| {
            let exists = self.table_exists("schema_version")?;
            let found = if exists {
                let rows = self.query("SELECT MAX(version) FROM schema_version", &[], "reading the schema version")?;
                rows.first().and_then(|r| r[0].int())
            } else {
                None
            };
            match found {
                Some(v) if v > super::SCHEMA_VERSION => {
                    Err(CallsError::StoreTooNew { found: v, supported: super::SCHEMA_VERSION }.into())
                }
                Some(v) if v == super::SCHEMA_VERSION => Ok(()),
                Some(1) => self.upgrade_version_1(privacy),
                _ => {
                    for statement in schema(self.is_sqlite()) {
                        self.batch(&statement, "creating the schema")?;
                    }
                    self.set_version()
                }
            }?;
            self.ensure_no_arm_index()
        })();
        self.finish(result)
    }

    /// Creates [`NO_ARM_INDEX`] where it is missing: an index only, which a store of the same
    /// schema version without it (or an older agentver writing beside this one) reads and keeps
    /// as well, so the schema version stays. Looked up first, since PostgreSQL's `CREATE INDEX IF
    /// NOT EXISTS` locks the table against writes before it looks.
    fn ensure_no_arm_index(&mut self) -> Result<()> {
        let sql = if self.is_sqlite() {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = $1"
        } else {
            "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
        };
        let rows = self.query(sql, &[Cell::Text(Some(NO_ARM_INDEX.into()))], "reading the schema")?;
        if rows.first().and_then(|r| r[0].int()).unwrap_or(0) > 0 {
            return Ok(());
        }
        self.batch(
            &format!("CREATE INDEX IF NOT EXISTS {NO_ARM_INDEX} ON calls (attribution, at, call_id) WHERE {NO_ARM}"),
            "creating the schema",
        )
    }

    fn table_exists(&mut self, name: &str) -> Result<bool> {
        let sql = if self.is_sqlite() {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
        } else {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
        };
        let rows = self.query(sql, &[Cell::Text(Some(name.into()))], "reading the schema")?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0) > 0)
    }

    fn set_version(&mut self) -> Result<()> {
        self.execute("DELETE FROM schema_version", &[], "writing the schema version")?;
        self.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[Cell::Int(Some(super::SCHEMA_VERSION))],
            "writing the schema version",
        )?;
        Ok(())
    }

    /// Version 1 kept raw bodies as received and echoed attribution unmarked: add the columns,
    /// make every raw body safe, mark platform echoes as echoed, and recompute every record.
    fn upgrade_version_1(&mut self, privacy: &Privacy) -> Result<()> {
        let sqlite = self.is_sqlite();
        for step in upgrade_from_1(sqlite) {
            self.batch(step, "migrating the store")?;
        }
        self.batch(
            "CREATE TABLE IF NOT EXISTS forgotten (call_id TEXT PRIMARY KEY, at TEXT NOT NULL)",
            "migrating the store",
        )?;
        let rows = self.query("SELECT call_id, digest, source, record, raw FROM events", &[], "migrating the store")?;
        let mut calls = std::collections::BTreeSet::new();
        for row in rows {
            let (Some(id), Some(digest), Some(source), Some(text)) =
                (row[0].text(), row[1].text(), row[2].text(), row[3].text())
            else {
                continue;
            };
            let source = Source::parse(source);
            let mut record: Record = serde_json::from_str(text).unwrap_or_default();
            if source != Some(Source::Agentver) && record.agent.is_some() {
                record.attribution = Some(Attribution::Echoed);
            }
            if record.cost.is_some() && record.cost_unit.is_none() {
                record.cost_unit =
                    Some(if source == Some(Source::Elevenlabs) { CostUnit::Credits } else { CostUnit::Usd });
            }
            let raw = row[4].text().and_then(|r| serde_json::from_str::<Value>(r).ok()).map(|mut v| {
                privacy.scrub(&mut v);
                v.to_string()
            });
            self.execute(
                "UPDATE events SET record = $1, raw = $2 WHERE call_id = $3 AND digest = $4",
                &[
                    Cell::Text(Some(serde_json::to_string(&record).expect("a record serialises"))),
                    Cell::Text(raw),
                    Cell::Text(Some(id.into())),
                    Cell::Text(Some(digest.into())),
                ],
                "migrating the store",
            )?;
            calls.insert(id.to_owned());
        }
        for id in calls {
            let events = self.events(&id)?;
            let first = events.iter().map(|e| e.received_at.clone()).min();
            self.upsert(crate::calls::merge(&id, &events), first.as_deref())?;
        }
        self.set_version()
    }
}

#[cfg(test)]
mod tests {
    use crate::calls::store::{Filter, Location, Store};
    use crate::calls::{Attribution, Callers, CostUnit, Privacy};

    #[test]
    fn a_version_1_store_is_moved_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version BIGINT NOT NULL); INSERT INTO schema_version VALUES (1);
             CREATE TABLE events (call_id TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL,
               raw TEXT, received_at TEXT NOT NULL, PRIMARY KEY (call_id, digest));
             CREATE TABLE calls (call_id TEXT PRIMARY KEY, source TEXT, channel TEXT, caller TEXT, agent TEXT, version BIGINT,
               tree TEXT, variant TEXT, bucket BIGINT, revision TEXT, resolved_at TEXT, started_at TEXT, ended_at TEXT, at TEXT,
               duration_ms BIGINT, success BOOLEAN, sentiment TEXT, ended_reason TEXT, cost DOUBLE PRECISION, summary TEXT,
               analysis TEXT);",
        )
        .unwrap();
        let record = r#"{"call_id":"el-1","source":null,"channel":null,"caller":null,"agent":"sales","version":2,"tree":"t",
            "variant":null,"bucket":null,"revision":null,"resolved_at":null,"started_at":"2026-11-01T10:00:00.000Z",
            "ended_at":null,"duration_ms":1000,"success":true,"sentiment":null,"ended_reason":null,"cost":310.0,"summary":null,
            "analysis":null}"#;
        let raw = r#"{"data":{"metadata":{"phone_call":{"external_number":"+16505550123"}},"transcript":[{"message":"hi"}]}}"#;
        conn.execute(
            "INSERT INTO events VALUES ('el-1', 'd1', 'elevenlabs', ?1, ?2, '2026-11-01T10:00:00.000Z')",
            [record, raw],
        )
        .unwrap();
        drop(conn);
        let privacy = Privacy { callers: Callers::Hash([1; 32]), keep_transcripts: false };
        let mut store = Store::open(&Location::Sqlite(path.clone()), &privacy).unwrap();
        let call = store.get("el-1").unwrap().unwrap();
        assert_eq!(
            (call.attribution, call.cost_unit, call.version),
            (Some(Attribution::Echoed), Some(CostUnit::Credits), Some(2))
        );
        assert_eq!(store.list(&Filter { agent: Some("sales".into()), ..Filter::default() }).unwrap().len(), 1);
        let raw = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT raw FROM events", [], |r| r.get::<_, String>(0))
            .unwrap();
        assert!(!raw.contains("6505550123") && !raw.contains("transcript"), "{raw}");
    }
}
