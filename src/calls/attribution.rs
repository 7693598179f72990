//! Echoed attribution, checked: the `agentver_*` values a platform or a runtime sends back are
//! claims, and a claim must name an agent, version and tree that really served (against the
//! snapshot a server serves, or the repository for an import). A claim that fails keeps the call's
//! outcome but is marked `invalid` with the reason, and never becomes a statistics arm.
//!
//! A claim that reads but names what is not known here (a version a replica has not loaded yet)
//! keeps its values in the stored event, so it can be checked again once the server knows more
//! ([`recheck`]); a claim that cannot be read at all is cleared, since nothing can make it valid.

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

/// Marks `record`'s attribution invalid for good (a claim that does not read): what it claimed
/// is cleared, the reason kept.
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

/// Marks `record`'s claim invalid as checked against what is known now, keeping what it
/// claimed, so [`recheck`] can try it again against a snapshot that knows more. The call's
/// record never takes a claim from an invalid event (see `merge`): only the reason shows.
fn not_known(record: &mut Record, reason: String) {
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
                return not_known(record, format!("agentver_tree {claimed} is not the tree of {agent} {which}"));
            }
            _ => record.tree = Some(tree),
        },
        Err(reason) => return not_known(record, reason),
    }
    let (Some(channel), Some(variants)) =
        (record.channel.as_deref(), record.channel.as_deref().and_then(|c| known.variants(c)))
    else {
        return;
    };
    let reason = match record.variant.as_deref() {
        None => return,
        Some(v) => match variants.iter().find(|(name, _)| name == v) {
            Some((_, a)) if a == agent.as_str() => return,
            Some(_) => format!("variant '{v}' of {channel} does not serve {agent}"),
            None if variants.is_empty() => format!("channel {channel} has no split, so no variant"),
            None => format!("channel {channel} has no variant '{v}'"),
        },
    };
    not_known(record, reason)
}

/// An event's claim checked again against `known`: `Some` with the event's record now echoed
/// (the claim is valid here), `None` when the event holds no invalid claim that was kept, or the
/// claim still fails.
pub fn recheck(record: &Record, known: &dyn Known) -> Option<Record> {
    if record.attribution != Some(Attribution::Invalid) || record.agent.is_none() {
        return None;
    }
    let mut again = record.clone();
    again.attribution = Some(Attribution::Echoed);
    again.attribution_reason = None;
    check(&mut again, known);
    (again.attribution == Some(Attribution::Echoed)).then_some(again)
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
            // A claim that reads but is not known here keeps its values for a later check; one
            // that does not read is cleared.
            let kept = ["no version 999", "is not the tree", "no variant 'x'"].contains(&why);
            assert_eq!(r.agent.is_some(), kept, "{why}: {r:?}");
            assert!(recheck(&r, &One).is_none(), "{why}");
        }
    }

    /// What a replica that has loaded version 2 knows: sales v1 and v2.
    struct Later;
    impl Known for Later {
        fn tree(&self, agent: &AgentId, version: Option<u64>, tree: Option<&str>) -> Result<String, String> {
            match version {
                Some(2) if agent.as_str() == "sales" => Ok("c".repeat(40)),
                _ => One.tree(agent, version, tree),
            }
        }
        fn variants(&self, channel: &str) -> Option<Vec<(String, String)>> {
            One.variants(channel)
        }
    }

    #[test]
    fn a_claim_of_a_version_loaded_later_is_valid_when_checked_again() {
        let early = claim(json!({"agentver_agent": "sales", "agentver_version": "2", "agentver_tree": "c".repeat(40)}));
        assert_eq!(early.attribution, Some(Attribution::Invalid));
        assert!(recheck(&early, &One).is_none(), "still unknown to the same snapshot");
        let again = recheck(&early, &Later).expect("valid against the later snapshot");
        assert_eq!((again.attribution, again.attribution_reason.as_deref()), (Some(Attribution::Echoed), None));
        assert_eq!((again.agent.as_deref(), again.version), (Some("sales"), Some(2)));
        // The wrong tree for a version stays invalid, however much is known.
        let forged =
            claim(json!({"agentver_agent": "sales", "agentver_version": "2", "agentver_tree": "d".repeat(40)}));
        assert!(recheck(&forged, &Later).is_none());
        // A claim that never read has nothing to check again.
        let unreadable = claim(json!({"agentver_agent": "sales", "agentver_version": "three"}));
        assert!(recheck(&unreadable, &Later).is_none());
    }
}
