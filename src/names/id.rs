//! Names that reach paths and ref names: agent ids, tool and workflow names, and `<id>@<ref>` specs.
//!
//! Everything a user types that later becomes part of a file path or a ref name passes through
//! here first, so `../etc` or `a/b` can never reach the file system or the ref store.

use std::fmt;

/// The longest id accepted: one leading character plus 62 more, as DESIGN.md fixes.
pub const MAX_ID_LEN: usize = 63;

/// Why a string is not a valid id, for messages.
pub fn id_problem(s: &str) -> Option<&'static str> {
    let bytes = s.as_bytes();
    match bytes.first() {
        None => Some("is empty"),
        Some(_) if bytes.len() > MAX_ID_LEN => Some("is longer than 63 characters"),
        Some(first) if !(first.is_ascii_lowercase() || first.is_ascii_digit()) => {
            Some("must start with a lowercase letter or a digit")
        }
        Some(_) => bytes
            .iter()
            .any(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-'))
            .then_some("may hold only lowercase letters, digits, '_' and '-'"),
    }
}

/// True when `s` matches `[a-z0-9][a-z0-9_-]{0,62}`.
pub fn is_valid_id(s: &str) -> bool {
    id_problem(s).is_none()
}

/// A name turned into an id: lowercase ASCII letters and digits, every other run of characters
/// one `-`, at most 63 long; `None` when nothing of it is left (`"Sales Agent (EU)"` →
/// `sales-agent-eu`).
pub fn slug(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_ID_LEN);
    let out = out.trim_end_matches(['-', '_']).to_owned();
    (!out.is_empty()).then_some(out)
}

/// An agent id that has been checked against the id pattern.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(String);

impl AgentId {
    /// Checks `s`; the error says what is wrong with it.
    pub fn new(s: &str) -> Result<Self, String> {
        match id_problem(s) {
            None => Ok(AgentId(s.to_owned())),
            Some(problem) => Err(format!("invalid agent id '{}': it {problem}", s.escape_debug())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The draft's path inside the workspace.
    pub fn draft_path(&self) -> String {
        format!("agents/{}.yaml", self.0)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which configuration of an agent a spec names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefSpec {
    Draft,
    Latest,
    Version(u64),
}

impl fmt::Display for RefSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefSpec::Draft => f.write_str("draft"),
            RefSpec::Latest => f.write_str("latest"),
            RefSpec::Version(n) => write!(f, "v{n}"),
        }
    }
}

/// As channels.toml and every JSON output write it: a number, "latest" or "draft" (never "v3").
impl serde::Serialize for RefSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            RefSpec::Version(n) => s.serialize_u64(*n),
            RefSpec::Latest => s.serialize_str("latest"),
            RefSpec::Draft => s.serialize_str("draft"),
        }
    }
}

impl RefSpec {
    /// Parses `vN`, `N`, `draft` or `latest`. Version numbers start at 1.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "draft" => return Ok(RefSpec::Draft),
            "latest" => return Ok(RefSpec::Latest),
            _ => {}
        }
        let digits = s.strip_prefix('v').unwrap_or(s);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = digits.parse::<u64>()
        {
            if n >= 1 {
                return Ok(RefSpec::Version(n));
            }
            return Err(format!("invalid version '{s}': versions start at 1"));
        }
        Err(format!("invalid version '{}': expected vN, N, draft or latest", s.escape_debug()))
    }
}

/// `<id>` or `<id>@<ref>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub agent: AgentId,
    /// `None` when the spec names no ref; each command chooses its own default.
    pub reference: Option<RefSpec>,
}

impl Spec {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (id, reference) = match s.split_once('@') {
            Some((id, r)) => (id, Some(RefSpec::parse(r)?)),
            None => (s, None),
        };
        Ok(Spec { agent: AgentId::new(id)?, reference })
    }

    pub fn reference_or(&self, default: RefSpec) -> RefSpec {
        self.reference.unwrap_or(default)
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reference {
            Some(r) => write!(f, "{}@{r}", self.agent),
            None => write!(f, "{}", self.agent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["sales", "a", "0", "sales-v2_eu", &"a".repeat(63)] {
            assert!(is_valid_id(good), "{good}");
        }
        for bad in ["", "Sales", "-x", "_x", "a/b", "..", "../etc", "a.b", "a b", "ü", &"a".repeat(64)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn specs() {
        let s = Spec::parse("sales@v3").unwrap();
        assert_eq!((s.agent.as_str(), s.reference), ("sales", Some(RefSpec::Version(3))));
        assert_eq!(Spec::parse("sales@3").unwrap().reference, Some(RefSpec::Version(3)));
        assert_eq!(Spec::parse("sales@draft").unwrap().reference, Some(RefSpec::Draft));
        assert_eq!(Spec::parse("sales@latest").unwrap().reference, Some(RefSpec::Latest));
        assert_eq!(Spec::parse("sales").unwrap().reference, None);
        for bad in ["sales@v0", "sales@", "sales@vx", "sales@-1", "../etc", "sales@v99999999999999999999"] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Spec::parse("sales@v3").unwrap().to_string(), "sales@v3");
    }
}
