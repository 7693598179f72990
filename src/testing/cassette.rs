//! Cassettes: every exchange of one test's runs, `tests/.cassettes/<test>.jsonl`, each line
//! `{"key", "request", "response"}`, keyed by the SHA-256 of the canonical request (keys sorted)
//! and the run's number. A replay answers each request as it was answered when recorded; a
//! request that is not there (the prompt, the test or the model changed) is named, not sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::format::diagnostic::Diagnostic;

/// Where the cassettes are, relative to the workspace.
pub const DIR: &str = "tests/.cassettes";

/// The cassette of test `name`.
pub fn path(root: &Path, name: &str) -> PathBuf {
    root.join(DIR).join(format!("{name}.jsonl"))
}

/// The request's key: its canonical JSON and the run it belongs to.
pub fn key(run: u32, request: &Json) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("run {run}\n").as_bytes());
    hash.update(canonical(request).as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with every object's keys sorted, so equal requests hash alike however they were built.
fn canonical(v: &Json) -> String {
    match v {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Json::String((*k).clone()), canonical(&map[*k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Json::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// One test's cassette: what it holds and what this run adds (record).
#[derive(Default)]
pub struct Cassette {
    held: Vec<Exchange>,
    by_key: HashMap<String, usize>,
    recorded: Mutex<Vec<Exchange>>,
}

/// One exchange: the configuration it ran against (`sales@draft`), its run, its place in the
/// run, its key, request and answer.
#[derive(Clone, Debug)]
struct Exchange {
    subject: String,
    run: u32,
    order: usize,
    key: String,
    request: Json,
    response: Json,
}

impl Exchange {
    fn line(&self) -> String {
        let e = serde_json::json!({
            "key": self.key, "subject": self.subject, "run": self.run, "order": self.order,
            "request": self.request, "response": self.response,
        });
        e.to_string() + "\n"
    }
}

impl Cassette {
    /// Reads `file` (absent: an empty cassette).
    pub fn load(file: &Path, shown: &str) -> Result<Cassette> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cassette::default()),
            Err(e) => return Err(Error::io(file, e)),
        };
        let mut cassette = Cassette::default();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = |why: String| {
                Diagnostic::error(shown, Some(i as u32 + 1), why).with_hint(Some(
                    "a cassette is written by a recording run; record it again instead of editing it".into(),
                ))
            };
            let entry: Json = serde_json::from_str(line).map_err(|e| bad(format!("not a cassette entry: {e}")))?;
            let (Some(key), Some(response)) = (entry["key"].as_str(), entry.get("response")) else {
                return Err(bad("a cassette entry needs key and response".into()).into());
            };
            cassette.by_key.insert(key.to_owned(), cassette.held.len());
            cassette.held.push(Exchange {
                subject: entry["subject"].as_str().unwrap_or_default().to_owned(),
                run: entry["run"].as_u64().unwrap_or(0) as u32,
                order: entry["order"].as_u64().unwrap_or(0) as usize,
                key: key.to_owned(),
                request: entry["request"].clone(),
                response: response.clone(),
            });
        }
        Ok(cassette)
    }

    pub fn answer(&self, key: &str) -> Option<Json> {
        self.by_key.get(key).map(|i| self.held[*i].response.clone())
    }

    /// Keeps an exchange for [`Cassette::save`]: of run `run` against `subject`, `order`-th.
    pub fn record(&self, subject: &str, run: u32, order: usize, key: String, request: &Json, response: &Json) {
        let mut recorded = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (subject, request, response) = (subject.to_owned(), request.clone(), response.clone());
        recorded.push(Exchange { subject, run, order, key, request, response });
    }

    /// Writes the cassette as `file`, atomically: the runs this run recorded replace the same
    /// runs (same configuration, same number) held before, the others are kept. Nothing is
    /// written when nothing was recorded.
    pub fn save(&self, file: &Path) -> Result<bool> {
        let recorded = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recorded.is_empty() {
            return Ok(false);
        }
        let redone: std::collections::HashSet<(&str, u32)> =
            recorded.iter().map(|e| (e.subject.as_str(), e.run)).collect();
        let mut all: Vec<&Exchange> = self
            .held
            .iter()
            .filter(|e| !redone.contains(&(e.subject.as_str(), e.run)))
            .chain(recorded.iter())
            .collect();
        all.sort_by(|a, b| (&a.subject, a.run, a.order).cmp(&(&b.subject, b.run, b.order)));
        let text: String = all.iter().map(|e| e.line()).collect();
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        crate::fsutil::Staged::write(file, text.as_bytes())?.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_key_order_and_tell_runs_apart() {
        let a = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let b = serde_json::json!({"messages": [{"content": "hi", "role": "user"}], "model": "m"});
        assert_eq!(key(1, &a), key(1, &b));
        assert_ne!(key(1, &a), key(2, &a));
        let c = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi!"}]});
        assert_ne!(key(1, &a), key(1, &c));
    }

    #[test]
    fn a_recording_replaces_the_runs_it_redoes_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.jsonl");
        let old = Cassette::default();
        for run in 1..=3 {
            old.record(
                "sales@draft",
                run,
                1,
                format!("old-{run}"),
                &serde_json::json!({"run": run}),
                &serde_json::json!("a"),
            );
        }
        old.record("sales@v1", 1, 1, "v1".into(), &serde_json::json!({}), &serde_json::json!("b"));
        assert!(old.save(&file).unwrap());
        let again = Cassette::load(&file, "t.jsonl").unwrap();
        assert_eq!(again.answer("old-2"), Some(serde_json::json!("a")));
        again.record("sales@draft", 1, 1, "new-1".into(), &serde_json::json!({}), &serde_json::json!("c"));
        again.save(&file).unwrap();
        let now = Cassette::load(&file, "t.jsonl").unwrap();
        let keys: Vec<&str> = now.held.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["new-1", "old-2", "old-3", "v1"]);
        assert!(!Cassette::default().save(&file).unwrap(), "nothing recorded: nothing written");
    }
}
