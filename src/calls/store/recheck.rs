//! Invalid attributions checked again: a report that echoed a version a server had not loaded
//! yet was stored `invalid` with its claim kept (see `attribution`); once the server knows more,
//! the claims of recent invalid calls are checked against what it knows now, and the calls whose
//! claims are valid there are attributed. Bounded: the calls of a recent window, newest first, a
//! batch per transaction.

use serde::Serialize;

use super::Store;
use super::migrate::NO_ARM;
use super::sql::Cell;
use super::write::first_seen;
use crate::calls::attribution::{self, Known};
use crate::calls::merge;
use crate::error::Result;

/// What one batch of checks did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rechecked {
    /// Invalid calls whose claims were checked again.
    pub checked: usize,
    /// Of those, calls whose claim is valid now: attributed.
    pub attributed: usize,
    /// Where the next batch starts (the last call checked, as `(at, call_id)`) when this one was
    /// full; `None` when no invalid call is left in the window.
    pub next: Option<(String, String)>,
}

impl Store {
    /// Checks again, in one transaction, the claims of at most `limit` calls whose attribution is
    /// invalid and that are listed at `since` or later, newest first, from after `after` (a
    /// previous batch's `next`). Each event whose kept claim is valid against `known` becomes an
    /// echo of it, and its call's record is merged again.
    pub fn recheck_invalid(
        &mut self,
        known: &dyn Known,
        since: &str,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Result<Rechecked> {
        let mut params = vec![Cell::Text(Some(since.to_owned()))];
        let mut sql = format!("SELECT at, call_id FROM calls WHERE {NO_ARM} AND attribution = 'invalid' AND at >= $1");
        if let Some((at, id)) = after {
            sql.push_str(" AND (at, call_id) < ($2, $3)");
            params.extend([Cell::Text(Some(at.clone())), Cell::Text(Some(id.clone()))]);
        }
        sql.push_str(&format!(" ORDER BY at DESC, call_id DESC LIMIT {limit}"));
        self.transaction(|store| {
            let rows = store.query(&sql, &params, "finding invalid attributions")?;
            let mut done = Rechecked::default();
            for row in &rows {
                let Some(id) = row[1].text() else { continue };
                done.checked += 1;
                done.attributed += usize::from(store.recheck_call(id, known)?);
            }
            if rows.len() == limit {
                done.next = rows
                    .last()
                    .map(|r| (r[0].text().unwrap_or_default().to_owned(), r[1].text().unwrap_or_default().to_owned()));
            }
            Ok(done)
        })
    }

    /// Checks the kept claims of one call's events again; whether any is valid now.
    fn recheck_call(&mut self, call_id: &str, known: &dyn Known) -> Result<bool> {
        let seq = self.seq_column();
        let mut changed = false;
        for stored in self.events(call_id)? {
            let Some(record) = attribution::recheck(&stored.event.record, known) else { continue };
            let mut event = stored.event.clone();
            event.record = record;
            let (digest, body) = event.stored_form();
            let id = Cell::Text(Some(call_id.to_owned()));
            let duplicate = self.query(
                "SELECT 1 FROM events WHERE call_id = $1 AND digest = $2",
                &[id.clone(), Cell::Text(Some(digest.clone()))],
                "checking an attribution again",
            )?;
            if duplicate.is_empty() {
                // The event keeps its place in the arrival order; its digest is its new content's.
                self.execute(
                    &format!("UPDATE events SET digest = $1, record = $2 WHERE {seq} = $3"),
                    &[Cell::Text(Some(digest)), Cell::Text(Some(body)), Cell::Int(Some(stored.seq))],
                    "checking an attribution again",
                )?;
            } else {
                // The same report, sent again once the server knew more, is stored already.
                self.execute(
                    &format!("DELETE FROM events WHERE {seq} = $1"),
                    &[Cell::Int(Some(stored.seq))],
                    "checking an attribution again",
                )?;
            }
            changed = true;
        }
        if changed {
            let events = self.events(call_id)?;
            self.upsert(merge(call_id, &events), first_seen(&events))?;
        }
        Ok(changed)
    }
}
