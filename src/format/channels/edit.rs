//! Edits to channels.toml's text that keep every comment, key order and blank line (toml_edit):
//! the file is validated before and after, and only the one channel changes. Writing the file
//! (under a lock, re-checked before the rename) is `ops::pin`'s.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

use super::{FILE, MAX_FILE_BYTES, Pin, Sticky, parse_bytes};
use crate::format::FormatError;
type Result<T, E = FormatError> = std::result::Result<T, E>;
use crate::format::diagnostic::Diagnostic;

/// One target as written into the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTarget {
    pub agent: String,
    pub pin: Pin,
    pub tree: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVariant {
    pub name: String,
    pub target: NewTarget,
    pub weight: u64,
}

/// Applies `change` to channels.toml's bytes (`None`: no file yet) and returns the new text.
/// A file that does not validate is refused (the edit could hide the problem), and so is a
/// result that would not validate: this never produces a file agentver would refuse to read.
pub fn edit_text(before: Option<&[u8]>, change: impl FnOnce(&mut DocumentMut) -> Result<()>) -> Result<String> {
    let text = match before {
        Some(bytes) => {
            if bytes.len() > MAX_FILE_BYTES {
                return Err(FormatError::invalid(Diagnostic::error(FILE, None, "file is larger than 16 MiB")));
            }
            parse_bytes(bytes, FILE).map_err(|d| FormatError::invalid(d.into_iter().next().expect("a diagnostic")))?;
            String::from_utf8(bytes.to_vec()).expect("validated as UTF-8")
        }
        None => String::new(),
    };
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        FormatError::invalid(Diagnostic::error(FILE, None, format!("invalid TOML: {}", e.message())))
    })?;
    change(&mut doc)?;
    let new_text = doc.to_string();
    parse_bytes(new_text.as_bytes(), FILE).map_err(|d| {
        let d = d.into_iter().next().expect("a diagnostic");
        FormatError::invalid(Diagnostic::error(
            FILE,
            d.line,
            format!("the edit would make the file invalid: {}", d.message),
        ))
    })?;
    Ok(new_text)
}

/// The `[channels]` table, created (implicit, so no bare `[channels]` header) when absent.
fn channels_table(doc: &mut DocumentMut) -> Result<&mut Table> {
    let item = doc.entry("channels").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    item.as_table_mut().ok_or_else(|| {
        FormatError::invalid(Diagnostic::error(
            FILE,
            None,
            "'channels' is not a table; agentver edits [channels.\"…\"] tables",
        ))
    })
}

/// The channel's table, created at the end of the file when it does not exist. An existing
/// channel keeps its place and its comments; keys this edit does not set are removed.
fn channel_table<'d>(doc: &'d mut DocumentMut, name: &str, keep: &[&str]) -> Result<&'d mut Table> {
    let exists = doc.get("channels").and_then(|c| c.get(name)).is_some_and(Item::is_table);
    if !exists {
        // Comments after the last table (all of a fresh file's text) are the document's trailing
        // text; the new table goes at the end, so they become its prefix and stay above it.
        let trailing = doc.trailing().as_str().unwrap_or_default().to_owned();
        doc.set_trailing("");
        let prefix = if trailing.trim().is_empty() { "\n".to_owned() } else { format!("{trailing}\n") };
        let mut t = Table::new();
        t.decor_mut().set_prefix(prefix);
        channels_table(doc)?.insert(name, Item::Table(t));
    }
    let channels = channels_table(doc)?;
    let table = channels.get_mut(name).and_then(Item::as_table_mut).expect("inserted above");
    let stale: Vec<String> = table.iter().map(|(k, _)| k.to_owned()).filter(|k| !keep.contains(&k.as_str())).collect();
    for key in stale {
        table.remove(&key);
    }
    Ok(table)
}

fn version_value(pin: Pin) -> Value {
    match pin {
        Pin::Version(n) => Value::from(n as i64),
        Pin::Latest => Value::from("latest"),
        Pin::Draft => Value::from("draft"),
    }
}

/// Sets a value, keeping the key's existing decoration (comments after it stay put).
fn set(table: &mut Table, key: &str, value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// `pin`: point a channel at one target.
pub fn pin(doc: &mut DocumentMut, channel: &str, target: &NewTarget) -> Result<()> {
    let table = channel_table(doc, channel, &["agent", "version", "tree"])?;
    set(table, "agent", Value::from(target.agent.as_str()));
    set(table, "version", version_value(target.pin));
    match &target.tree {
        Some(tree) => set(table, "tree", Value::from(tree.as_str())),
        None => {
            table.remove("tree");
        }
    }
    Ok(())
}

/// `ab`: make a channel a split. `sticky` and `salt` keep their current values when `None`, so
/// reweighting a running test does not reshuffle its callers.
pub fn split(
    doc: &mut DocumentMut,
    channel: &str,
    variants: &[NewVariant],
    sticky: Option<Sticky>,
    salt: Option<&str>,
) -> Result<()> {
    let table = channel_table(doc, channel, &["sticky", "salt", "variants"])?;
    if let Some(sticky) = sticky {
        set(table, "sticky", Value::from(if sticky == Sticky::Call { "call" } else { "caller" }));
    }
    if let Some(salt) = salt {
        set(table, "salt", Value::from(salt));
    }
    let mut array = Array::new();
    for v in variants {
        let mut t = InlineTable::new();
        t.insert("name", Value::from(v.name.as_str()));
        t.insert("agent", Value::from(v.target.agent.as_str()));
        t.insert("version", version_value(v.target.pin));
        t.insert("weight", Value::from(v.weight as i64));
        if let Some(tree) = &v.target.tree {
            t.insert("tree", Value::from(tree.as_str()));
        }
        let mut value = Value::InlineTable(t);
        value.decor_mut().set_prefix("\n  ");
        array.push_formatted(value);
    }
    array.set_trailing_comma(true);
    array.set_trailing("\n");
    table.remove("variants");
    table.insert("variants", Item::Value(Value::Array(array)));
    Ok(())
}

/// `unpin`: remove a channel; refused when there is no such channel.
///
/// Comments above a table are stored as part of it. The block directly above the header is the
/// channel's own and goes with it; anything before that block's blank line (the file's header, a
/// note about the previous channel) belongs to the file and moves to the next table.
pub fn unpin(doc: &mut DocumentMut, channel: &str) -> Result<()> {
    let channels = channels_table(doc)?;
    let Some(removed) = channels.remove(channel) else {
        return Err(FormatError::UnknownChannel { channel: channel.to_owned() });
    };
    let Some(table) = removed.as_table() else { return Ok(()) };
    let prefix = table.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default();
    let keep = match prefix.rfind("\n\n") {
        Some(i) => prefix[..=i].to_owned(),
        None => String::new(),
    };
    if keep.trim().is_empty() {
        return Ok(());
    }
    let position = table.position();
    let next = channels
        .iter_mut()
        .filter_map(|(_, item)| item.as_table_mut())
        .filter(|t| t.position() > position)
        .min_by_key(|t| t.position());
    match next {
        Some(next) => {
            let old = next.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default().to_owned();
            next.decor_mut().set_prefix(format!("{keep}{old}"));
        }
        None => {
            let old = doc.trailing().as_str().unwrap_or_default().to_owned();
            doc.set_trailing(format!("{old}{keep}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTED: &str = "# Production lines\n\n# The main line.\n[channels.\"+14155550100\"]\nagent = \"sales\"   # who answers\nversion = 1\n\n# Web.\n[channels.web]\nagent = \"support\"\nversion = \"draft\"\n";

    fn apply(text: &str, f: impl FnOnce(&mut DocumentMut) -> Result<()>) -> String {
        let mut doc: DocumentMut = text.parse().unwrap();
        f(&mut doc).unwrap();
        let out = doc.to_string();
        super::super::parse(&out, FILE).unwrap_or_else(|e| panic!("{out}\n{e:?}"));
        out
    }

    #[test]
    fn pin_keeps_comments_and_layout() {
        let target = NewTarget { agent: "sales".into(), pin: Pin::Version(2), tree: Some("a".repeat(40)) };
        let out = apply(COMMENTED, |d| pin(d, "+14155550100", &target));
        let want = COMMENTED.replace("version = 1\n", &format!("version = 2\ntree = \"{}\"\n", "a".repeat(40)));
        assert_eq!(out, want);
    }

    #[test]
    fn new_channels_go_at_the_end() {
        let target = NewTarget { agent: "intake".into(), pin: Pin::Latest, tree: None };
        let out = apply(COMMENTED, |d| pin(d, "web-2", &target));
        assert_eq!(out, format!("{COMMENTED}\n[channels.web-2]\nagent = \"intake\"\nversion = \"latest\"\n"));
        let out = apply("", |d| pin(d, "+14155550100", &target));
        assert_eq!(out, "\n[channels.\"+14155550100\"]\nagent = \"intake\"\nversion = \"latest\"\n");
        // A file of comments only (what `init` writes) keeps them above the first channel.
        let out = apply("# Header\n# [channels.example]\n", |d| pin(d, "web", &target));
        assert_eq!(out, "# Header\n# [channels.example]\n\n[channels.web]\nagent = \"intake\"\nversion = \"latest\"\n");
    }

    #[test]
    fn split_and_unpin() {
        let v = |name: &str, pin, weight| NewVariant {
            name: name.into(),
            target: NewTarget { agent: "sales".into(), pin, tree: None },
            weight,
        };
        let out = apply(COMMENTED, |d| {
            split(d, "+14155550100", &[v("control", Pin::Version(1), 80), v("test", Pin::Draft, 20)], None, Some("s1"))
        });
        assert!(out.contains("# The main line.\n[channels.\"+14155550100\"]\nsalt = \"s1\"\nvariants = [\n  { name = \"control\", agent = \"sales\", version = 1, weight = 80 },\n  { name = \"test\", agent = \"sales\", version = \"draft\", weight = 20 },\n]\n"), "{out}");
        assert!(out.contains("# Web.\n[channels.web]"), "{out}");
        // Reweighting keeps the salt.
        let out = apply(&out, |d| {
            split(d, "+14155550100", &[v("control", Pin::Version(1), 50), v("test", Pin::Draft, 50)], None, None)
        });
        assert!(out.contains("salt = \"s1\""), "{out}");
        let out = apply(&out, |d| unpin(d, "+14155550100"));
        assert_eq!(out, "# Production lines\n\n# Web.\n[channels.web]\nagent = \"support\"\nversion = \"draft\"\n");
        let out = apply(&out, |d| unpin(d, "web"));
        assert_eq!(out, "# Production lines\n");
        let mut doc: DocumentMut = out.parse().unwrap();
        assert!(unpin(&mut doc, "nope").is_err());
    }
}
