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

/// One test's cassette: what it holds (replay) and what this run adds (record).
#[derive(Default)]
pub struct Cassette {
    held: HashMap<String, Json>,
    recorded: Mutex<Vec<Exchange>>,
}

/// One recorded exchange: its run, its place in the run, its key, request and answer.
type Exchange = (u32, usize, String, Json, Json);

impl Cassette {
    /// Reads `file` (absent: an empty cassette).
    pub fn load(file: &Path, shown: &str) -> Result<Cassette> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cassette::default()),
            Err(e) => return Err(Error::io(file, e)),
        };
        let mut held = HashMap::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let entry: Json = serde_json::from_str(line).map_err(|e| {
                Diagnostic::error(shown, Some(i as u32 + 1), format!("not a cassette entry: {e}")).with_hint(Some(
                    "a cassette is written by a recording run; record it again instead of editing it".into(),
                ))
            })?;
            match (entry["key"].as_str(), entry.get("response")) {
                (Some(k), Some(r)) => held.insert(k.to_owned(), r.clone()),
                _ => {
                    return Err(Diagnostic::error(
                        shown,
                        Some(i as u32 + 1),
                        "a cassette entry needs key and response",
                    )
                    .into());
                }
            };
        }
        Ok(Cassette { held, recorded: Mutex::default() })
    }

    pub fn answer(&self, key: &str) -> Option<Json> {
        self.held.get(key).cloned()
    }

    /// Keeps an exchange for [`Cassette::save`]; `order` places it within its run.
    pub fn record(&self, run: u32, order: usize, key: String, request: &Json, response: &Json) {
        let mut recorded = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recorded.push((run, order, key, request.clone(), response.clone()));
    }

    /// Writes what this run recorded as `file`, replacing it atomically (nothing when nothing was).
    pub fn save(&self, file: &Path) -> Result<bool> {
        let mut recorded = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recorded.is_empty() {
            return Ok(false);
        }
        recorded.sort_by_key(|a| (a.0, a.1));
        let mut text = String::new();
        for (_, _, key, request, response) in recorded.iter() {
            text.push_str(&serde_json::json!({ "key": key, "request": request, "response": response }).to_string());
            text.push('\n');
        }
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
}
