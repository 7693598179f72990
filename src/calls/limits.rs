//! What a call record may hold: lengths, ranges and finite numbers, checked before anything
//! reaches the store, so a forged or odd report can neither grow the store without bound nor turn
//! a statistic into infinity.

use serde_json::{Map, Value};

/// A call id: what every platform's ids fit in, and what a store key may be.
pub const MAX_CALL_ID: usize = 256;
/// Channel names, caller values, variant and ended-reason texts.
pub const MAX_SHORT: usize = 256;
/// A call summary.
pub const MAX_SUMMARY: usize = 16 * 1024;
/// The custom analysis fields: how many, how long a key, how long one value as JSON, and all of
/// them together as JSON.
pub const MAX_FIELDS: usize = 64;
pub const MAX_FIELD_NAME: usize = 128;
pub const MAX_FIELD_VALUE: usize = 4 * 1024;
pub const MAX_ANALYSIS: usize = 64 * 1024;
/// Warnings kept per record.
pub const MAX_WARNINGS: usize = 32;
/// Events one call keeps from one source (agentver's decisions, one platform's webhooks): a
/// real call has a handful; more come only from a client repeating one call id, and are refused.
pub const MAX_EVENTS_PER_SOURCE: usize = 256;
/// A call longer than 31 days is not a call.
pub const MAX_DURATION_MS: u64 = 31 * 24 * 3600 * 1000;
/// Costs are bounded: no call costs ten million of anything.
pub const MAX_COST: f64 = 1e7;

/// Why a value cannot be kept, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit(pub String);

/// A call id: 1 to 256 bytes, no control characters.
pub fn call_id(id: &str, field: &str) -> Result<(), Unfit> {
    if id.is_empty() || id.len() > MAX_CALL_ID {
        return Err(Unfit(format!("{field} must be 1 to {MAX_CALL_ID} bytes (it is {})", id.len())));
    }
    if id.chars().any(char::is_control) {
        return Err(Unfit(format!("{field} must not hold control characters")));
    }
    Ok(())
}

/// A short text field.
pub fn short(text: &str, field: &str) -> Result<(), Unfit> {
    if text.len() > MAX_SHORT {
        return Err(Unfit(format!("{field} is {} bytes, over the {MAX_SHORT}-byte limit", text.len())));
    }
    Ok(())
}

/// A summary, cut at a character boundary when too long (the flag says whether it was).
pub fn summary(text: &str) -> (String, bool) {
    truncate(text, MAX_SUMMARY)
}

/// `text` cut to at most `max` bytes at a character boundary; whether anything was cut.
pub fn truncate(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

/// A duration in milliseconds from a JSON number (any finite, non-negative value up to 31 days).
pub fn duration_ms(ms: f64, field: &str) -> Result<u64, Unfit> {
    if !ms.is_finite() || ms < 0.0 || ms > MAX_DURATION_MS as f64 {
        return Err(Unfit(format!("{field} must be between 0 and {MAX_DURATION_MS} ms")));
    }
    Ok(ms.round() as u64)
}

/// A cost: finite, not negative, below ten million.
pub fn cost(value: f64, field: &str) -> Result<f64, Unfit> {
    if !value.is_finite() || !(0.0..=MAX_COST).contains(&value) {
        return Err(Unfit(format!("{field} must be a number from 0 to {MAX_COST}")));
    }
    Ok(value)
}

/// A JSON number as a finite f64 (with exact number text, `1e999999` is a valid JSON number that
/// no statistic can use).
pub fn finite(n: &serde_json::Number) -> Option<f64> {
    n.as_f64().filter(|x| x.is_finite())
}

/// Whether every number inside `v` is finite.
fn all_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => finite(n).is_some(),
        Value::Array(items) => items.iter().all(all_finite),
        Value::Object(fields) => fields.values().all(all_finite),
        _ => true,
    }
}

/// Checks one analysis field.
pub fn field(name: &str, value: &Value) -> Result<(), Unfit> {
    if name.is_empty() || name.len() > MAX_FIELD_NAME || name.chars().any(char::is_control) {
        return Err(Unfit(format!(
            "analysis field name '{}' must be 1 to {MAX_FIELD_NAME} bytes without control characters",
            truncate(name, 40).0.escape_debug()
        )));
    }
    if !all_finite(value) {
        return Err(Unfit(format!("analysis.{name} holds a number out of range")));
    }
    let size = value.to_string().len();
    if size > MAX_FIELD_VALUE {
        return Err(Unfit(format!("analysis.{name} is {size} bytes, over the {MAX_FIELD_VALUE}-byte limit")));
    }
    Ok(())
}

/// Checks custom analysis fields one by one: the fields that fit, and why each other one was left
/// out. A report that holds more fields than a record keeps loses the rest.
pub fn analysis(fields: Map<String, Value>) -> (Map<String, Value>, Vec<Unfit>) {
    let mut kept = Map::new();
    let mut dropped = Vec::new();
    let mut size = 0;
    for (name, value) in fields {
        if let Err(e) = field(&name, &value) {
            dropped.push(e);
            continue;
        }
        size += name.len() + value.to_string().len();
        if kept.len() >= MAX_FIELDS || size > MAX_ANALYSIS {
            dropped.push(Unfit(format!(
                "analysis.{name} left out: a record keeps at most {MAX_FIELDS} fields and {MAX_ANALYSIS} bytes"
            )));
            continue;
        }
        kept.insert(name, value);
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn out_of_range_values_are_named() {
        assert!(call_id(&"x".repeat(256), "call_id").is_ok());
        assert!(call_id(&"x".repeat(257), "call_id").unwrap_err().0.contains("1 to 256 bytes"));
        assert!(call_id("", "call_id").is_err());
        assert!(duration_ms(u64::MAX as f64, "duration_ms").unwrap_err().0.starts_with("duration_ms"));
        assert_eq!(duration_ms(1500.4, "d"), Ok(1500));
        assert!(cost(-1e308, "cost").is_err() && cost(f64::INFINITY, "cost").is_err());
        let huge: Value = serde_json::from_str("1e999999").unwrap();
        assert!(field("score", &huge).unwrap_err().0.contains("analysis.score holds a number out of range"));
        assert!(field("ok", &json!({"a": [1, 2.5]})).is_ok());
        let (kept, dropped) = analysis(json!({"a": 1, "b": "x".repeat(5000)}).as_object().unwrap().clone());
        assert_eq!((kept.len(), dropped.len()), (1, 1));
        assert_eq!(truncate("héllo", 2), ("h".to_owned(), true));
    }
}
