//! `channels.toml`: which configuration serves each channel. Reading and validation live here,
//! with a line for every problem; editing with comments kept is in `edit.rs`, and reading one
//! channel's section alone (what a one-call process needs) in `scan.rs`.

pub mod edit;
mod scan;
pub mod schema;
#[cfg(test)]
mod tests;

pub use scan::parse_one;

use crate::names::treeid::TreeId;
use toml_edit::{Item, TableLike};

use crate::format::config::line_of;
use crate::format::diagnostic::{Diagnostic, closest};
use crate::names::id::{AgentId, id_problem};

pub const FILE: &str = "channels.toml";
/// channels.toml may be larger than an agent file: 10,000 channels take about a megabyte.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Largest weight of one variant; keeps every sum far from overflow.
pub const MAX_WEIGHT: u64 = 1_000_000;

/// What a channel or variant is pinned to: the same three choices a spec names (a number,
/// `latest`, `draft`), one type for both.
pub use crate::names::id::RefSpec as Pin;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub agent: AgentId,
    pub pin: Pin,
    /// For numbered pins: the snapshot tree the tag must still hold.
    pub tree: Option<TreeId>,
    pub line: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sticky {
    Caller,
    Call,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub target: Target,
    pub weight: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Single(Target),
    Split { sticky: Sticky, salt: String, variants: Vec<Variant> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub line: u32,
    pub route: Route,
}

impl Channel {
    pub fn targets(&self) -> Vec<&Target> {
        match &self.route {
            Route::Single(t) => vec![t],
            Route::Split { variants, .. } => variants.iter().map(|v| &v.target).collect(),
        }
    }

    /// The name of the `i`th target's variant; `None` without a split.
    pub fn variant_name(&self, i: usize) -> Option<&str> {
        match &self.route {
            Route::Single(_) => None,
            Route::Split { variants, .. } => variants.get(i).map(|v| v.name.as_str()),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    /// In the file's order. Made with [`Channels::new`], which indexes them by name.
    pub channels: Vec<Channel>,
    /// Where each name is in `channels` (a webhook or an import looks one up per call, among
    /// 10,000 channels).
    index: std::collections::HashMap<String, usize>,
}

impl Channels {
    pub fn new(channels: Vec<Channel>) -> Channels {
        let index = channels.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        Channels { channels, index }
    }

    pub fn get(&self, name: &str) -> Option<&Channel> {
        match self.index.get(name) {
            Some(&i) if self.channels.get(i).is_some_and(|c| c.name == name) => self.channels.get(i),
            None if self.index.len() == self.channels.len() => None,
            // `channels` was changed after it was indexed.
            _ => self.channels.iter().find(|c| c.name == name),
        }
    }
}

/// Why a channel name is not acceptable: E.164 numbers, or names like `web-widget`.
pub fn channel_problem(name: &str) -> Option<String> {
    if name.starts_with('+') {
        let ok = crate::format::text::is_e164(name);
        return (!ok).then(|| format!("'{}' is not an E.164 number (+ then 2 to 15 digits)", name.escape_debug()));
    }
    let ok = (1..=64).contains(&name.len())
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
    (!ok).then(|| {
        format!(
            "'{}' is not a valid channel name: use an E.164 number or up to 64 letters, digits, '_', '.', ':' and '-'",
            name.escape_debug()
        )
    })
}

struct Reader<'a> {
    file: &'a str,
    /// Byte offset where each line starts, for span → line in O(log n).
    line_starts: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn line(&self, span: Option<std::ops::Range<usize>>) -> Option<u32> {
        span.map(|s| self.line_starts.partition_point(|start| *start <= s.start) as u32)
    }

    fn error(&mut self, line: Option<u32>, message: String, hint: Option<String>) {
        self.diagnostics.push(Diagnostic::error(self.file, line, message).with_hint(hint));
    }

    fn item_line(&self, item: &Item) -> Option<u32> {
        self.line(item.span().or_else(|| item.as_table().and_then(|t| t.span())))
    }

    fn key_line(&self, table: &dyn TableLike, key: &str) -> Option<u32> {
        let (k, item) = table.get_key_value(key)?;
        self.line(k.span()).or_else(|| self.item_line(item))
    }

    fn unknown_keys(&mut self, table: &dyn TableLike, known: &[&str], what: &str) {
        for (key, _) in table.iter() {
            if !known.contains(&key) {
                let line = self.key_line(table, key);
                let hint = closest(key, known.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .or_else(|| Some(format!("known keys: {}", known.join(", "))));
                self.error(line, format!("{what}: unknown key '{key}'"), hint);
            }
        }
    }

    fn string(&mut self, table: &dyn TableLike, key: &str, what: &str) -> Option<String> {
        let item = table.get(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let line = self.key_line(table, key);
                self.error(line, format!("{what}: '{key}' must be a string"), None);
                None
            }
        }
    }

    fn target(&mut self, table: &dyn TableLike, what: &str, line: Option<u32>) -> Option<Target> {
        let agent = match table.get("agent") {
            None => {
                self.error(line, format!("{what}: missing 'agent'"), None);
                None
            }
            Some(_) => self.string(table, "agent", what).and_then(|a| match AgentId::new(&a) {
                Ok(id) => Some(id),
                Err(e) => {
                    let l = self.key_line(table, "agent");
                    self.error(l, format!("{what}: {e}"), None);
                    None
                }
            }),
        };
        let version_line = self.key_line(table, "version");
        let pin = match table.get("version").and_then(Item::as_value) {
            None => {
                self.error(
                    line,
                    format!("{what}: missing 'version'"),
                    Some("write version = 3, \"latest\" or \"draft\"".into()),
                );
                None
            }
            Some(v) => match (v.as_integer(), v.as_str()) {
                (Some(n), _) if n >= 1 => Some(Pin::Version(n as u64)),
                (_, Some("latest")) => Some(Pin::Latest),
                (_, Some("draft")) => Some(Pin::Draft),
                (_, Some(s)) if s.strip_prefix('v').is_some_and(|d| d.parse::<u64>().is_ok()) => {
                    self.error(
                        version_line,
                        format!("{what}: version '{s}' must be written as a number"),
                        Some(format!("write version = {}", &s[1..])),
                    );
                    None
                }
                _ => {
                    self.error(
                        version_line,
                        format!("{what}: version must be a number from 1, \"latest\" or \"draft\""),
                        None,
                    );
                    None
                }
            },
        };
        let tree = match self.string(table, "tree", what) {
            None => None,
            Some(hex) => match TreeId::from_hex(&hex) {
                Some(id) => Some(id),
                None => {
                    let l = self.key_line(table, "tree");
                    self.error(l, format!("{what}: tree '{}' is not a full object id", hex.escape_debug()), None);
                    None
                }
            },
        };
        if tree.is_some() && matches!(pin, Some(Pin::Latest | Pin::Draft)) {
            let l = self.key_line(table, "tree");
            self.error(
                l,
                format!("{what}: 'tree' applies only to numbered versions"),
                Some("remove the tree line, or pin a number".into()),
            );
        }
        Some(Target { agent: agent?, pin: pin?, tree, line: line.unwrap_or(1) })
    }

    fn channel(&mut self, name: &str, item: &Item, line: Option<u32>) -> Option<Channel> {
        let what = format!("channel '{name}'");
        if let Some(problem) = channel_problem(name) {
            self.error(line, problem, None);
            return None;
        }
        let Some(table) = item.as_table_like() else {
            self.error(line, format!("{what}: expected a table"), Some(format!("write [channels.\"{name}\"]")));
            return None;
        };
        let has_variants = table.get("variants").is_some();
        let route = if has_variants {
            self.split(table, name, &what)?
        } else {
            self.unknown_keys(table, &["agent", "version", "tree", "sticky", "salt"], &what);
            for key in ["sticky", "salt"] {
                if table.get(key).is_some() {
                    let l = self.key_line(table, key);
                    self.error(l, format!("{what}: '{key}' applies only to splits (variants)"), None);
                }
            }
            Route::Single(self.target(table, &what, line)?)
        };
        Some(Channel { name: name.to_owned(), line: line.unwrap_or(1), route })
    }

    /// A split's keys and variants (`variants`, `sticky`, `salt`).
    fn split(&mut self, table: &dyn TableLike, name: &str, what: &str) -> Option<Route> {
        self.unknown_keys(table, &["variants", "sticky", "salt"], what);
        let sticky = match self.string(table, "sticky", what).as_deref() {
            None | Some("caller") => Sticky::Caller,
            Some("call") => Sticky::Call,
            Some(other) => {
                let l = self.key_line(table, "sticky");
                self.error(
                    l,
                    format!("{what}: sticky '{}' must be \"caller\" or \"call\"", other.escape_debug()),
                    None,
                );
                Sticky::Caller
            }
        };
        let salt = self.string(table, "salt", what).unwrap_or_else(|| name.to_owned());
        let variants_line = self.key_line(table, "variants");
        let items: Vec<(&dyn TableLike, Option<u32>)> = match table.get("variants") {
            Some(Item::Value(toml_edit::Value::Array(a))) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v.as_inline_table() {
                        Some(t) => out.push((t as &dyn TableLike, self.line(t.span()).or(variants_line))),
                        None => self.error(self.line(v.span()).or(variants_line), format!("{what}: each variant must be a table {{ name = ..., agent = ..., version = ..., weight = ... }}"), None),
                    }
                }
                out
            }
            Some(Item::ArrayOfTables(a)) => {
                a.iter().map(|t| (t as &dyn TableLike, self.line(t.span()).or(variants_line))).collect()
            }
            _ => {
                self.error(variants_line, format!("{what}: 'variants' must be a list of tables"), None);
                return None;
            }
        };
        if items.len() < 2 {
            self.error(
                variants_line,
                format!("{what}: a split needs at least two variants"),
                Some("pin a single version with agent and version instead".into()),
            );
        }
        let mut variants = Vec::new();
        for (i, (v, vline)) in items.into_iter().enumerate() {
            if let Some(variant) = self.variant(i, v, vline, what) {
                if variants.iter().any(|x: &Variant| x.name == variant.name) {
                    self.error(vline, format!("{what}: variant name '{}' is used twice", variant.name), None);
                }
                variants.push(variant);
            }
        }
        if !variants.is_empty() && variants.iter().map(|v| v.weight).sum::<u64>() == 0 {
            self.error(
                variants_line,
                format!("{what}: the weights add up to 0"),
                Some("give at least one variant a positive weight".into()),
            );
        }
        Some(Route::Split { sticky, salt, variants })
    }

    /// One variant of a split: a valid name, a weight in range and a target.
    fn variant(&mut self, i: usize, v: &dyn TableLike, vline: Option<u32>, what: &str) -> Option<Variant> {
        self.unknown_keys(v, &["name", "agent", "version", "weight", "tree"], &format!("{what} variant {}", i + 1));
        let vname = match self.string(v, "name", what) {
            Some(n) => match id_problem(&n) {
                None => Some(n),
                Some(p) => {
                    self.error(
                        vline,
                        format!("{what}: variant name '{}' {p}", n.escape_debug()),
                        Some("variant names match [a-z0-9][a-z0-9_-]{0,62}".into()),
                    );
                    None
                }
            },
            None => {
                self.error(vline, format!("{what}: variant {} has no name", i + 1), None);
                None
            }
        };
        let vwhat = format!("{what} variant '{}'", vname.as_deref().unwrap_or("?"));
        let weight = match v.get("weight").and_then(Item::as_value) {
            None => {
                self.error(vline, format!("{vwhat}: missing 'weight'"), None);
                None
            }
            Some(w) => match w.as_integer() {
                Some(n) if (0..=MAX_WEIGHT as i64).contains(&n) => Some(n as u64),
                _ => {
                    self.error(vline, format!("{vwhat}: weight must be an integer from 0 to {MAX_WEIGHT}"), None);
                    None
                }
            },
        };
        let target = self.target(v, &vwhat, vline);
        Some(Variant { name: vname?, target: target?, weight: weight? })
    }
}

/// Parses and validates channels.toml. `file` names it in messages. Every problem is returned.
pub fn parse(text: &str, file: &str) -> Result<Channels, Vec<Diagnostic>> {
    let (channels, diagnostics) = parse_all(text, file);
    if diagnostics.is_empty() { Ok(channels) } else { Err(diagnostics) }
}

/// Every channel that is well-formed, and every problem: `check` judges the valid channels
/// against tags and drafts in the same run as it reports the malformed ones.
pub fn parse_all(text: &str, file: &str) -> (Channels, Vec<Diagnostic>) {
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            let d = Diagnostic::error(file, line, format!("invalid TOML: {}", e.message().trim()));
            return (Channels::default(), vec![d]);
        }
    };
    let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut reader = Reader { file, line_starts, diagnostics: Vec::new() };
    let root = doc.as_table();
    reader.unknown_keys(root, &["channels"], "channels.toml");
    let mut channels = Vec::new();
    if let Some(item) = root.get("channels") {
        match item.as_table_like() {
            None => reader.error(reader.item_line(item), "'channels' must be a table".into(), None),
            Some(table) => {
                for (name, item) in table.iter() {
                    let line = reader.key_line(table, name).or_else(|| reader.item_line(item));
                    if let Some(channel) = reader.channel(name, item, line) {
                        channels.push(channel);
                    }
                }
            }
        }
    }
    (Channels::new(channels), reader.diagnostics)
}

/// Checks the raw bytes (size, BOM, UTF-8) before parsing.
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Channels, Vec<Diagnostic>> {
    let (channels, diagnostics) = parse_bytes_all(bytes, file);
    if diagnostics.is_empty() { Ok(channels) } else { Err(diagnostics) }
}

/// [`parse_all`] after the byte checks (size, BOM, UTF-8).
pub fn parse_bytes_all(bytes: &[u8], file: &str) -> (Channels, Vec<Diagnostic>) {
    match crate::format::text::check_text_within(bytes, MAX_FILE_BYTES) {
        Ok(text) => parse_all(text, file),
        Err(e) => (Channels::default(), vec![e.diagnostic(file)]),
    }
}

/// The routes of a parsed file as (channel, agent) pairs, variants included, each pair once.
pub fn routes(channels: &Channels) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in &channels.channels {
        let mut agents: Vec<&str> = c.targets().iter().map(|t| t.agent.as_str()).collect();
        agents.dedup();
        agents.sort_unstable();
        agents.dedup();
        out.extend(agents.into_iter().map(|a| (c.name.clone(), a.to_owned())));
    }
    out
}
