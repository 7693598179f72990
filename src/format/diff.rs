//! Structured differences between two configurations: fields by path, named lists matched by
//! name, long text flagged for a line diff. Rendering (text, markdown, JSON) lives with the CLI.

use serde::Serialize;
use serde_json::Value as Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// `llm.temperature`, `tools[book_appointment].url`, `workflow.graph.nodes[greet].say`
    pub path: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Json>,
}

impl Change {
    /// Both sides are strings and at least one is long or spans lines: show a line diff.
    pub fn is_text(&self) -> bool {
        match (&self.old, &self.new) {
            (Some(Json::String(a)), Some(Json::String(b))) => is_long_text(a) || is_long_text(b),
            _ => false,
        }
    }
}

fn is_long_text(s: &str) -> bool {
    s.contains('\n') || s.chars().count() > 80
}

/// Every difference from `old` to `new`, in the order fields appear.
pub fn diff(old: &Json, new: &Json) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The key that names items of a list of objects (`id`, else `name`), when every item has a
/// distinct one. An id is an identity (workflow nodes, knowledge bases); a name may be a label
/// that changes, so a renamed node reads as a rename, not as one node removed and one added.
fn list_key(items: &[Json]) -> Option<&'static str> {
    ["id", "name"].into_iter().find(|key| {
        let names: Vec<&str> = items.iter().filter_map(|i| i.get(key)?.as_str()).collect();
        names.len() == items.len() && {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len() == names.len()
        }
    })
}

fn walk(path: &str, old: &Json, new: &Json, out: &mut Vec<Change>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, new_value) in b {
                match a.get(key) {
                    Some(old_value) => walk(&child(path, key), old_value, new_value, out),
                    None => out.push(Change {
                        path: child(path, key),
                        kind: ChangeKind::Added,
                        old: None,
                        new: Some(new_value.clone()),
                    }),
                }
            }
            for (key, old_value) in a {
                if !b.contains_key(key) {
                    out.push(Change {
                        path: child(path, key),
                        kind: ChangeKind::Removed,
                        old: Some(old_value.clone()),
                        new: None,
                    });
                }
            }
        }
        (Json::Array(a), Json::Array(b)) if !a.is_empty() && !b.is_empty() => match (list_key(a), list_key(b)) {
            (Some(ka), Some(kb)) if ka == kb => {
                let name = |item: &Json| item[ka].as_str().unwrap_or_default().to_owned();
                for item in b {
                    let item_path = format!("{path}[{}]", name(item));
                    match a.iter().find(|o| name(o) == name(item)) {
                        Some(o) => walk(&item_path, o, item, out),
                        None => out.push(Change {
                            path: item_path,
                            kind: ChangeKind::Added,
                            old: None,
                            new: Some(item.clone()),
                        }),
                    }
                }
                for item in a {
                    if !b.iter().any(|n| name(n) == name(item)) {
                        out.push(Change {
                            path: format!("{path}[{}]", name(item)),
                            kind: ChangeKind::Removed,
                            old: Some(item.clone()),
                            new: None,
                        });
                    }
                }
            }
            _ => out.push(Change {
                path: path.to_owned(),
                kind: ChangeKind::Changed,
                old: Some(old.clone()),
                new: Some(new.clone()),
            }),
        },
        _ => out.push(Change {
            path: path.to_owned(),
            kind: ChangeKind::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workflow_nodes_are_matched_by_id_before_name() {
        let a = json!({"nodes": [{"id": "greet", "name": "Greeting", "say": "Hi"}, {"id": "ask", "name": "Ask"}]});
        let b = json!({"nodes": [{"id": "ask", "name": "Ask"}, {"id": "greet", "name": "Welcome", "say": "Hi"}]});
        let changes = diff(&a, &b);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].path, "nodes[greet].name");
    }

    #[test]
    fn fields_by_path() {
        let a = json!({"llm": {"model": "gpt-4o", "temperature": 0.3}, "name": "S"});
        let b = json!({"llm": {"model": "gpt-4o", "temperature": 0.5, "max_tokens": 400}, "name": "S"});
        let d = diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].path.as_str(), d[0].kind), ("llm.temperature", ChangeKind::Changed));
        assert_eq!((d[0].old.clone(), d[0].new.clone()), (Some(json!(0.3)), Some(json!(0.5))));
        assert_eq!((d[1].path.as_str(), d[1].kind), ("llm.max_tokens", ChangeKind::Added));
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn named_lists_match_by_name() {
        let a = json!({"tools": [{"name": "book", "url": "https://a"}, {"name": "end", "type": "end_call"}]});
        let b = json!({"tools": [{"name": "end", "type": "end_call"}, {"name": "book", "url": "https://b"}, {"name": "xfer"}]});
        let d = diff(&a, &b);
        let paths: Vec<_> = d.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(paths, vec![("tools[book].url", ChangeKind::Changed), ("tools[xfer]", ChangeKind::Added)]);
        let kb = diff(&json!({"kb": [{"id": "p", "top_k": 4}]}), &json!({"kb": [{"id": "p", "top_k": 5}]}));
        assert_eq!(kb[0].path, "kb[p].top_k");
    }

    #[test]
    fn plain_lists_and_text() {
        let d = diff(&json!({"v": ["a", "b"]}), &json!({"v": ["a", "c"]}));
        assert_eq!((d[0].path.as_str(), d[0].kind), ("v", ChangeKind::Changed));
        let d = diff(&json!({"p": "line one\nline two"}), &json!({"p": "line one\nline 2"}));
        assert!(d[0].is_text());
        let d = diff(&json!({"p": "short"}), &json!({"p": "other"}));
        assert!(!d[0].is_text());
        let d = diff(&json!({"gone": 1}), &json!({}));
        assert_eq!(d[0].kind, ChangeKind::Removed);
    }
}
