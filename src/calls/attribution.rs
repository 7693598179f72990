//! Echoed attribution, checked: the `agentver_*` values a platform or a runtime sends back are
//! claims, and a claim must name an agent, version and tree that really served (against the
//! snapshot a server serves, or the repository for an import). A claim that fails keeps the call's
//! outcome but is marked `invalid` with the reason, and never becomes a statistics arm.

use serde_json::Value;

use super::{Attribution, Record, limits};
use crate::names::id::AgentId;

/// What the checks look up: which configurations exist and how channels split.
pub trait Known {
    /// The tree of `agent` at `version` (`None`: the draft) if it exists; for the draft, whether
    /// `tree` is one the draft served. `Err` says why not, in words.
    fn tree(&self, agent: &AgentId, version: Option<u64>, tree: Option<&str>) -> Result<String, String>;

    /// The variants of `channel`'s split as (name, agent); `Some(empty)` for a channel without a
    /// split; `None` when the channel is not known here.
    fn variants(&self, channel: &str) -> Option<Vec<(String, String)>>;
}

/// The `agentver_*` values found in one bag (metadata, dynamic variables): all of a record's
/// attribution comes from one bag, the first that names an agent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claim {
    pub agent: String,
    pub version: Option<String>,
    pub tree: Option<String>,
    pub channel: Option<String>,
    pub variant: Option<String>,
    pub revision: Option<String>,
    /// `agentver_deployed: "false"`: the hook said the platform could not run what it decided.
    pub not_deployed: bool,
}

/// A bag's value as text: strings as they are, numbers as written (ElevenLabs sends typed
/// dynamic variables); `Err` for anything else.
fn text(bag: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match bag.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("{key} is not a string")),
    }
}

impl Claim {
    /// The claim in the first of `bags` that holds `agentver_agent`, in the order given (each
    /// platform documents its order).
    pub fn find(bags: &[Option<&Value>]) -> Option<Result<Claim, String>> {
        let bag = bags.iter().flatten().filter_map(|b| b.as_object()).find(|b| b.contains_key("agentver_agent"))?;
        Some((|| {
            Ok(Claim {
                agent: text(bag, "agentver_agent")?.ok_or("agentver_agent is empty")?,
                version: text(bag, "agentver_version")?,
                tree: text(bag, "agentver_tree")?,
                channel: text(bag, "agentver_channel")?,
                variant: text(bag, "agentver_variant")?,
                revision: text(bag, "agentver_revision")?,
                not_deployed: text(bag, "agentver_deployed")?.as_deref() == Some("false"),
            })
        })())
    }

    /// Writes the claim into `record` as an echoed attribution, or marks it invalid when it
    /// cannot be read at all (before any lookup).
    pub fn apply(claim: Result<Claim, String>, record: &mut Record) {
        let claim = match claim {
            Ok(c) => c,
            Err(reason) => return invalid(record, reason),
        };
        let shown = |s: &str| limits::truncate(s, 64).0.escape_debug().to_string();
        let Ok(agent) = AgentId::new(&claim.agent) else {
            return invalid(record, format!("agentver_agent '{}' is not an agent id", shown(&claim.agent)));
        };
        let version = match claim.version.as_deref() {
            None | Some("draft") => None,
            Some(v) => match v.strip_prefix('v').unwrap_or(v).parse::<u64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => return invalid(record, format!("agentver_version '{}' is not a version", shown(v))),
            },
        };
        for (field, value) in [("agentver_channel", &claim.channel), ("agentver_variant", &claim.variant)] {
            if let Some(v) = value
                && let Err(e) = limits::short(v, field)
            {
                return invalid(record, e.0);
            }
        }
        if let Some(t) = &claim.tree
            && !is_hex_id(t)
        {
            return invalid(record, format!("agentver_tree '{}' is not an object id", shown(t)));
        }
        if let Some(r) = &claim.revision
            && !is_hex_id(r)
        {
            return invalid(record, format!("agentver_revision '{}' is not a commit id", shown(r)));
        }
        if claim.not_deployed {
            let which = version.map_or("draft".to_owned(), |n| format!("v{n}"));
            invalid(
                record,
                format!(
                    "{agent} {which} was decided but is not deployed on the platform: the call ran the number's own agent"
                ),
            );
            record.attribution = Some(Attribution::NotDeployed);
            return;
        }
        record.agent = Some(agent.to_string());
        record.version = version;
        record.tree = claim.tree;
        record.channel = claim.channel.or(record.channel.take());
        record.variant = claim.variant;
        record.revision = claim.revision;
        record.attribution = Some(Attribution::Echoed);
    }
}

/// 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_hex_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Marks `record`'s attribution invalid: what it claimed is cleared, the reason kept.
pub fn invalid(record: &mut Record, reason: String) {
    record.agent = None;
    record.version = None;
    record.tree = None;
    record.variant = None;
    record.bucket = None;
    record.revision = None;
    record.attribution = Some(Attribution::Invalid);
    record.attribution_reason = Some(reason);
}

/// Checks an echoed attribution against what is known to have served; fills the tree when the
/// claim gave only the version.
pub fn check(record: &mut Record, known: &dyn Known) {
    if record.attribution != Some(Attribution::Echoed) {
        return;
    }
    let Some(agent) = record.agent.as_deref().and_then(|a| AgentId::new(a).ok()) else {
        return invalid(record, "the attribution names no agent".into());
    };
    match known.tree(&agent, record.version, record.tree.as_deref()) {
        Ok(tree) => match &record.tree {
            Some(claimed) if !claimed.eq_ignore_ascii_case(&tree) => {
                let which = record.version.map_or("the draft".to_owned(), |v| format!("v{v}"));
                return invalid(record, format!("agentver_tree {claimed} is not the tree of {agent} {which}"));
            }
            _ => record.tree = Some(tree),
        },
        Err(reason) => return invalid(record, reason),
    }
    let (Some(channel), Some(variants)) =
        (record.channel.as_deref(), record.channel.as_deref().and_then(|c| known.variants(c)))
    else {
        return;
    };
    match record.variant.as_deref() {
        None => {}
        Some(v) => match variants.iter().find(|(name, _)| name == v) {
            Some((_, a)) if a == agent.as_str() => {}
            Some(_) => invalid(record, format!("variant '{v}' of {channel} does not serve {agent}")),
            None if variants.is_empty() => invalid(record, format!("channel {channel} has no split, so no variant")),
            None => invalid(record, format!("channel {channel} has no variant '{v}'")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct One;
    impl Known for One {
        fn tree(&self, agent: &AgentId, version: Option<u64>, _: Option<&str>) -> Result<String, String> {
            match (agent.as_str(), version) {
                ("sales", Some(1)) => Ok("a".repeat(40)),
                ("sales", Some(n)) => Err(format!("sales has no version {n}")),
                _ => Err(format!("no agent {agent}")),
            }
        }
        fn variants(&self, channel: &str) -> Option<Vec<(String, String)>> {
            (channel == "+1").then(|| vec![("control".into(), "sales".into())])
        }
    }

    fn claim(bag: Value) -> Record {
        let mut r = Record::default();
        Claim::apply(Claim::find(&[None, Some(&bag)]).unwrap(), &mut r);
        check(&mut r, &One);
        r
    }

    #[test]
    fn claims_are_checked() {
        let ok = claim(json!({"agentver_agent": "sales", "agentver_version": 1, "agentver_channel": "+1",
            "agentver_variant": "control"}));
        assert_eq!((ok.attribution, ok.tree.as_deref()), (Some(Attribution::Echoed), Some(&*"a".repeat(40))));
        for (bag, why) in [
            (json!({"agentver_agent": "sales", "agentver_version": "999"}), "no version 999"),
            (json!({"agentver_agent": "../../../etc/passwd"}), "is not an agent id"),
            (json!({"agentver_agent": "sales", "agentver_version": "three"}), "'three' is not a version"),
            (
                json!({"agentver_agent": "sales", "agentver_version": "1", "agentver_tree": "b".repeat(40)}),
                "is not the tree",
            ),
            (
                json!({"agentver_agent": "sales", "agentver_version": 1, "agentver_channel": "+1", "agentver_variant": "x"}),
                "no variant 'x'",
            ),
            (json!({"agentver_agent": "sales", "agentver_version": [1]}), "agentver_version is not a string"),
        ] {
            let r = claim(bag);
            assert_eq!(r.attribution, Some(Attribution::Invalid));
            assert!(r.attribution_reason.as_deref().unwrap().contains(why), "{r:?}");
            assert!(r.agent.is_none() && r.version.is_none());
        }
    }
}
