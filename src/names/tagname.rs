//! The one place that formats and parses version tag names: `<prefix>/<id>/v<N>`.

use crate::names::id::{AgentId, is_valid_id};

/// The default `tag_prefix`.
pub const DEFAULT_PREFIX: &str = "agent";

/// Checks a `tag_prefix` from agentver.toml: one or more id-like segments joined by `/`.
pub fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.split('/').all(is_valid_id) {
        None
    } else {
        Some(format!(
            "tag_prefix '{}' must be one or more segments of [a-z0-9][a-z0-9_-]* joined by '/'",
            prefix.escape_debug()
        ))
    }
}

/// Tag names for one workspace's prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagNames {
    prefix: String,
}

impl Default for TagNames {
    fn default() -> Self {
        TagNames { prefix: DEFAULT_PREFIX.to_owned() }
    }
}

impl TagNames {
    /// `prefix` must already have passed [`prefix_problem`].
    pub fn new(prefix: &str) -> Self {
        TagNames { prefix: prefix.to_owned() }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `agent/sales/v7`
    pub fn short(&self, agent: &AgentId, version: u64) -> String {
        format!("{}/{}/v{}", self.prefix, agent, version)
    }

    /// `refs/tags/agent/sales/v7`
    pub fn full(&self, agent: &AgentId, version: u64) -> String {
        format!("refs/tags/{}", self.short(agent, version))
    }

    /// `refs/tags/agent/sales/`: every version of one agent, and nothing of any other agent.
    pub fn agent_ref_prefix(&self, agent: &AgentId) -> String {
        format!("refs/tags/{}/{}/", self.prefix, agent)
    }

    /// `refs/tags/agent/`
    pub fn all_ref_prefix(&self) -> String {
        format!("refs/tags/{}/", self.prefix)
    }

    /// Parses a full or short tag name back into agent and version; `None` for anything that is
    /// not exactly what [`TagNames::full`] would produce (`v07`, `v0`, nested paths, other ids).
    pub fn parse(&self, name: &str) -> Option<(AgentId, u64)> {
        let short = name.strip_prefix("refs/tags/").unwrap_or(name);
        let rest = short.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        let (id, version) = rest.split_once('/')?;
        Some((AgentId::new(id).ok()?, Self::parse_version(version)?))
    }

    /// The number in the last part of a version ref name, `v<N>` (no sign, no leading zero).
    pub fn parse_version(last: &str) -> Option<u64> {
        let digits = last.strip_prefix('v')?;
        if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let names = TagNames::default();
        let sales = AgentId::new("sales").unwrap();
        for n in [1, 9, 10, 1234567] {
            assert_eq!(names.parse(&names.full(&sales, n)), Some((sales.clone(), n)));
            assert_eq!(names.parse(&names.short(&sales, n)), Some((sales.clone(), n)));
        }
        assert_eq!(names.short(&sales, 7), "agent/sales/v7");
        assert_eq!(names.full(&sales, 7), "refs/tags/agent/sales/v7");
    }

    #[test]
    fn rejects_near_misses() {
        let names = TagNames::default();
        for bad in [
            "agent/sales/v0",
            "agent/sales/v07",
            "agent/sales/7",
            "agent/sales/v",
            "agent/sales/v1/x",
            "agent/Sales/v1",
            "agents/sales/v1",
            "agent/sales",
            "other/sales/v1",
            "agent/sales/v99999999999999999999999",
        ] {
            assert_eq!(names.parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn custom_prefix() {
        let names = TagNames::new("voice/prod");
        let id = AgentId::new("support").unwrap();
        assert_eq!(names.short(&id, 2), "voice/prod/support/v2");
        assert_eq!(names.parse("refs/tags/voice/prod/support/v2"), Some((id, 2)));
        assert!(prefix_problem("voice/prod").is_none());
        assert!(prefix_problem("../x").is_some());
        assert!(prefix_problem("").is_some());
        assert!(prefix_problem("a//b").is_some());
    }
}
