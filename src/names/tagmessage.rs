//! The one place that writes and reads a version tag's message: label, notes, `Agentver-*` trailers.
//!
//! ```text
//! Warmer greeting
//!
//! Free-form notes, any number of paragraphs.
//!
//! Agentver-Agent: sales
//! Agentver-Version: 7
//! Agentver-Source: 3f9c…[+dirty]
//! Agentver-Rollback-Of: 5
//! Agentver-Tests: skipped
//! ```

/// The label of a version published without one: `<id> v<N>`.
pub fn default_label(agent: &str, number: u64) -> String {
    format!("{agent} v{number}")
}

/// A snapshot commit's message: `<id>: <label>`, so `git log agent/sales/v7` reads as history.
pub fn commit_message(agent: &str, label: &str) -> String {
    format!("{agent}: {label}\n")
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagMessage {
    pub label: String,
    pub notes: String,
    pub agent: Option<String>,
    pub version: Option<u64>,
    pub source: Option<String>,
    pub rollback_of: Option<u64>,
    /// Published past `[publish] require_tests` with `--skip-tests`.
    pub tests_skipped: bool,
}

const AGENT: &str = "Agentver-Agent";
const VERSION: &str = "Agentver-Version";
const SOURCE: &str = "Agentver-Source";
const ROLLBACK_OF: &str = "Agentver-Rollback-Of";
const TESTS: &str = "Agentver-Tests";

impl TagMessage {
    pub fn format(&self) -> String {
        let mut out = String::new();
        out.push_str(self.label.trim());
        out.push_str("\n\n");
        let notes = self.notes.trim();
        if !notes.is_empty() {
            out.push_str(notes);
            out.push_str("\n\n");
        }
        let mut trailer = |key: &str, value: &str| {
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        };
        if let Some(a) = &self.agent {
            trailer(AGENT, a);
        }
        if let Some(v) = self.version {
            trailer(VERSION, &v.to_string());
        }
        if let Some(s) = &self.source {
            trailer(SOURCE, s);
        }
        if let Some(r) = self.rollback_of {
            trailer(ROLLBACK_OF, &r.to_string());
        }
        if self.tests_skipped {
            trailer(TESTS, "skipped");
        }
        out
    }

    /// The commit the version was published from, in hex: `Agentver-Source` without `+dirty`
    /// (a dirty publish is judged by its base commit). None when missing or the null id (a
    /// publish before the first commit).
    pub fn source_commit(&self) -> Option<&str> {
        let source = self.source.as_deref()?;
        let base = source.strip_suffix("+dirty").unwrap_or(source);
        (!base.is_empty() && base.bytes().any(|b| b != b'0')).then_some(base)
    }

    /// Reads a message written by [`TagMessage::format`]. Tags made by other tools parse too:
    /// their first line becomes the label and the rest the notes.
    pub fn parse(message: &str) -> Self {
        let message = message.replace("\r\n", "\n");
        let paragraphs: Vec<&str> = message.trim().split("\n\n").collect();
        let mut parsed = TagMessage::default();
        let mut body_end = paragraphs.len();
        if let Some(last) = paragraphs.last().filter(|_| paragraphs.len() > 1) {
            let is_trailers = last.lines().all(|l| l.starts_with("Agentver-") && l.contains(": "));
            if is_trailers {
                body_end -= 1;
                for line in last.lines() {
                    let (key, value) = line.split_once(": ").unwrap_or_default();
                    let value = value.trim();
                    match key {
                        AGENT => parsed.agent = Some(value.to_owned()),
                        VERSION => parsed.version = value.parse().ok(),
                        SOURCE => parsed.source = Some(value.to_owned()),
                        ROLLBACK_OF => parsed.rollback_of = value.parse().ok(),
                        TESTS => parsed.tests_skipped = value == "skipped",
                        _ => {}
                    }
                }
            }
        }
        let body = &paragraphs[..body_end];
        if let Some(first) = body.first() {
            let (label, rest) = first.split_once('\n').unwrap_or((first, ""));
            parsed.label = label.trim().to_owned();
            let mut notes: Vec<&str> = Vec::new();
            if !rest.trim().is_empty() {
                notes.push(rest.trim());
            }
            notes.extend(body[1..].iter().map(|p| p.trim()));
            parsed.notes = notes.join("\n\n");
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = TagMessage {
            label: "Warmer".into(),
            notes: "First paragraph.\n\nSecond one:\n- a\n- b".into(),
            agent: Some("sales".into()),
            version: Some(7),
            source: Some("0123abcd+dirty".into()),
            rollback_of: Some(5),
            tests_skipped: true,
        };
        let text = m.format();
        assert_eq!(
            text,
            "Warmer\n\nFirst paragraph.\n\nSecond one:\n- a\n- b\n\nAgentver-Agent: sales\nAgentver-Version: 7\nAgentver-Source: 0123abcd+dirty\nAgentver-Rollback-Of: 5\nAgentver-Tests: skipped\n"
        );
        assert_eq!(TagMessage::parse(&text), m);
    }

    #[test]
    fn without_notes() {
        let m = TagMessage {
            label: "sales v1".into(),
            agent: Some("sales".into()),
            version: Some(1),
            ..Default::default()
        };
        assert_eq!(m.format(), "sales v1\n\nAgentver-Agent: sales\nAgentver-Version: 1\n");
        assert_eq!(TagMessage::parse(&m.format()), m);
    }

    #[test]
    fn foreign_messages() {
        let m = TagMessage::parse("Release\nmade by hand\n");
        assert_eq!((m.label.as_str(), m.notes.as_str(), m.version), ("Release", "made by hand", None));
    }
}
