//! `diff` as HTML: each change by path, long texts as line diffs with the changed words marked
//! (`<del>`/`<ins>` lines, `<strong>` words), and configuration values shown readably.

use maud::{Markup, html};
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

use crate::format::diff::{Change, ChangeKind};

/// A value on one line (JSON, so strings are quoted), cut at 200 characters.
fn inline(value: &Json) -> String {
    let s = value.to_string();
    if s.chars().count() > 200 { format!("{}…", s.chars().take(197).collect::<String>()) } else { s }
}

pub fn changes(changes: &[Change]) -> Markup {
    html! {
        @if changes.is_empty() {
            p { "No field differs." }
        } @else {
            p { (changes.len()) " field" @if changes.len() != 1 { "s" } " differ." }
            ul.diff {
                @for c in changes { li { (change(c)) } }
            }
        }
    }
}

fn change(c: &Change) -> Markup {
    let null = Json::Null;
    let old = c.old.as_ref().unwrap_or(&null);
    let new = c.new.as_ref().unwrap_or(&null);
    html! {
        @match c.kind {
            ChangeKind::Added => { span.path { (c.path) } " added: " ins { code { (inline(new)) } } }
            ChangeKind::Removed => { span.path { (c.path) } " removed: " del { code { (inline(old)) } } }
            ChangeKind::Changed if c.is_text() => {
                span.path { (c.path) } " changed:"
                (lines(old.as_str().unwrap_or_default(), new.as_str().unwrap_or_default()))
            }
            ChangeKind::Changed => {
                span.path { (c.path) } ": " del { code { (inline(old)) } } " → " ins { code { (inline(new)) } }
            }
        }
    }
}

/// The line diff of two texts; unchanged lines beyond two of a change are left out.
fn lines(old: &str, new: &str) -> Markup {
    let diff = TextDiff::from_lines(old, new);
    html! {
        pre.diff {
            @for group in diff.grouped_ops(2) {
                @for op in &group {
                    @for change in diff.iter_inline_changes(op) {
                        @let parts = change.iter_strings_lossy().map(|(e, p)| (e, p.trim_end_matches('\n').to_owned())).collect::<Vec<_>>();
                        @match change.tag() {
                            ChangeTag::Equal => span.line { "  " @for (_, p) in &parts { (p) } }
                            ChangeTag::Delete => del.line { "- " @for (e, p) in &parts { @if *e { strong { (p) } } @else { (p) } } }
                            ChangeTag::Insert => ins.line { "+ " @for (e, p) in &parts { @if *e { strong { (p) } } @else { (p) } } }
                        }
                    }
                }
                span.line.muted { "…" }
            }
        }
    }
}

/// A configuration, readable: objects as definition lists, long strings as text blocks, lists of
/// objects as numbered sections (tools expanded). Deep values stop at a depth.
pub fn config(value: &Json) -> Markup {
    render(value, 0)
}

fn render(value: &Json, depth: usize) -> Markup {
    if depth > 12 {
        return html! { code { (inline(value)) } };
    }
    html! {
        @match value {
            Json::Object(map) if map.is_empty() => code { "{}" },
            Json::Object(map) => dl.config {
                @for (k, v) in map { dt { (k) } dd { (render(v, depth + 1)) } }
            },
            Json::Array(items) if items.is_empty() => code { "[]" },
            Json::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                ul { @for i in items { li { (render(i, depth + 1)) } } }
            },
            Json::Array(items) => ol {
                @for i in items {
                    li { details open[depth < 3] { summary { (item_name(i)) } (render(i, depth + 1)) } }
                }
            },
            Json::String(s) if s.contains('\n') || s.chars().count() > 100 => pre { (s) },
            Json::String(s) => span { (s) },
            other => code { (other.to_string()) },
        }
    }
}

/// A list item's name: its `name` or `id` field when it has one.
fn item_name(item: &Json) -> String {
    ["name", "id", "type"]
        .iter()
        .find_map(|k| item.get(*k).and_then(Json::as_str))
        .map(str::to_owned)
        .unwrap_or_else(|| "item".into())
}
