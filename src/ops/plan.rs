//! `plan`: what a change does to callers, like `terraform plan`. Channel by channel, before →
//! after, the config diff callers will see and the share of callers that move; for each changed
//! draft, its diff against latest and the channels that follow it (live on merge).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::channels::{Channel, Pin};
use crate::format::diff::{self, Change};
use crate::git::ObjectId;
use crate::names::id::{AgentId, RefSpec};
use crate::routing::resolve::{ChannelView, Resolver, Served, TargetView};
use crate::workspace::WorkspaceError;
use crate::workspace::{DraftAt, Version, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelChange {
    Added,
    Removed,
    Changed,
}

/// The configuration diff some callers will see.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigDiff {
    pub agent: String,
    pub from: Option<Side>,
    pub to: Side,
    /// Field by field against `from`; empty when there is no `from` (see `headline`).
    pub changes: Vec<Change>,
    /// What callers of a new channel get, in a few lines (not the whole configuration as a
    /// diff against nothing): set when there is no `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<Headline>,
}

/// A configuration in a few lines: its name, model, voice and the prompt's first lines.
#[derive(Clone, Debug, Serialize)]
pub struct Headline {
    pub name: Option<String>,
    pub model: Option<String>,
    pub voice: Option<String>,
    /// The system prompt's first lines (at most [`HEADLINE_LINES`]), and whether it has more.
    pub prompt: Vec<String>,
    pub more_prompt: bool,
}

/// Lines of the prompt a headline shows.
pub const HEADLINE_LINES: usize = 3;

impl Headline {
    fn of(config: &serde_json::Value) -> Headline {
        let text = |path: &str| config.pointer(path).and_then(serde_json::Value::as_str).map(str::to_owned);
        let pair = |a: Option<String>, b: Option<String>| match (a, b) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        let prompt = text("/prompt/system").unwrap_or_default();
        let lines: Vec<String> = prompt.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
        Headline {
            name: text("/name"),
            model: pair(text("/llm/provider"), text("/llm/model")),
            voice: pair(text("/speech/tts/provider"), text("/speech/tts/voice_id")),
            more_prompt: lines.len() > HEADLINE_LINES,
            prompt: lines.into_iter().take(HEADLINE_LINES).collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub agent: String,
    pub version: Version,
    pub tree: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChannelPlan {
    pub channel: String,
    pub change: ChannelChange,
    pub before: Option<ChannelView>,
    pub after: Option<ChannelView>,
    /// Share of this channel's callers whose configuration changes (0 to 1); `None` when a side
    /// cannot be resolved.
    pub moved_share: Option<f64>,
    pub diffs: Vec<ConfigDiff>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DraftPlan {
    pub agent: String,
    /// "added", "modified" or "removed", between base and head.
    pub change: &'static str,
    pub latest: Option<u64>,
    /// The head draft against the latest version (what publishing it would change).
    pub changes: Vec<Change>,
    /// Channels on head that follow this draft: live on merge.
    pub channels: Vec<String>,
    /// The version the merge's publish (`publish --changed`) makes of this draft: latest + 1,
    /// when head's draft differs from latest; `None` when it does not, or cannot be read.
    pub publishes: Option<u64>,
    /// Channels on head that follow this agent's `latest`: they serve `publishes` after it.
    pub latest_channels: Vec<String>,
    pub error: Option<String>,
    /// `agentver test`'s results on latest's tree and on head's draft, when any test ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestsChange>,
}

/// The tests before (latest) and after (the head's draft) a change; `None`: not run there.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TestsChange {
    pub before: Option<crate::format::test_notes::Summary>,
    pub after: Option<crate::format::test_notes::Summary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RevInfo {
    pub rev: String,
    pub commit: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub base: RevInfo,
    pub head: RevInfo,
    pub changed: bool,
    pub channels: Vec<ChannelPlan>,
    pub drafts: Vec<DraftPlan>,
}

/// One side of the plan: a resolver over that side's channels and drafts, or nothing (unborn).
struct SideView {
    resolver: Option<Resolver>,
}

impl SideView {
    fn channel(&self, name: &str) -> Option<&Channel> {
        self.resolver.as_ref()?.channel(name).ok()
    }

    fn names(&self) -> Vec<String> {
        self.resolver
            .as_ref()
            .map(|r| r.channels().channels.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    fn state(&self, channel: &Channel) -> (ChannelView, Vec<Option<Arc<Served>>>) {
        self.resolver.as_ref().expect("a side with channels has a resolver").view(channel)
    }
}

fn share(t: &TargetView) -> f64 {
    t.share.unwrap_or(1.0)
}

/// Which tree serves a caller whose hash is `h` (the first 8 bytes of the salted SHA-256).
fn tree_for(state: &ChannelView, h: u64) -> Option<&str> {
    let total: u64 = state.targets.iter().map(|t| t.weight.unwrap_or(1)).sum();
    if state.sticky.is_none() {
        return state.targets.first()?.tree.as_deref();
    }
    let i = crate::routing::bucket::pick(state.targets.iter().map(|t| t.weight.unwrap_or(0)), h % total)?;
    state.targets[i].tree.as_deref()
}

/// Share of callers whose tree differs between the two sides. A caller's hash is the same on both
/// sides when salt and sticky key are; the share is then measured over evenly spread hashes.
/// Otherwise callers are reshuffled and the two assignments are independent.
fn moved_share(before: &ChannelView, after: &ChannelView) -> Option<f64> {
    if before.targets.iter().chain(&after.targets).any(|t| t.error.is_some()) {
        return None;
    }
    let same_hash =
        before.salt == after.salt && before.sticky == after.sticky || before.sticky.is_none() || after.sticky.is_none();
    if same_hash {
        const SAMPLES: u64 = 100_000;
        let step = u64::MAX / SAMPLES;
        let moved = (0..SAMPLES)
            .filter(|i| tree_for(before, i * step + step / 2) != tree_for(after, i * step + step / 2))
            .count();
        return Some(moved as f64 / SAMPLES as f64);
    }
    fn shares(s: &ChannelView) -> BTreeMap<&str, f64> {
        let mut m: BTreeMap<&str, f64> = BTreeMap::new();
        for t in &s.targets {
            *m.entry(t.tree.as_deref().unwrap_or_default()).or_default() += share(t);
        }
        m
    }
    let (b, a) = (shares(before), shares(after));
    let stay: f64 = b.iter().map(|(tree, p)| p * a.get(tree).copied().unwrap_or(0.0)).sum();
    Some(1.0 - stay)
}

fn side(s: &Served) -> Side {
    Side { agent: s.agent.to_string(), version: s.version, tree: s.tree.to_string() }
}

/// Diffs callers will see: each configuration new on `after`, against the configuration most of
/// the channel's callers had before.
fn channel_diffs(
    before: &[Option<Arc<Served>>],
    before_state: Option<&ChannelView>,
    after: &[Option<Arc<Served>>],
) -> Vec<ConfigDiff> {
    let majority = before_state.and_then(|state| {
        let mut best: Option<(usize, f64)> = None;
        for (i, t) in state.targets.iter().enumerate() {
            if before.get(i).is_some_and(Option::is_some) && best.is_none_or(|(_, s)| share(t) > s) {
                best = Some((i, share(t)));
            }
        }
        best.and_then(|(i, _)| before[i].clone())
    });
    let old_trees: Vec<ObjectId> = before.iter().flatten().map(|s| s.tree).collect();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for s in after.iter().flatten() {
        if old_trees.contains(&s.tree) || seen.contains(&s.tree) {
            continue;
        }
        seen.push(s.tree);
        let (from, changes, headline) = match &majority {
            Some(m) => (Some(side(m)), diff::diff(&m.config, &s.config), None),
            None => (None, Vec::new(), Some(Headline::of(&s.config))),
        };
        out.push(ConfigDiff { agent: s.agent.to_string(), from, to: side(s), changes, headline });
    }
    out
}

/// The default base: the merge base of HEAD with the upstream of the default branch
/// (origin/HEAD, else origin/main or origin/master), else HEAD. `None` on an unborn HEAD.
pub fn default_plan_base(ws: &Workspace) -> Result<Option<ObjectId>> {
    let repo = ws.repo();
    let Some(head) = crate::git::head_commit(repo)? else { return Ok(None) };
    for upstream in ["refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/remotes/origin/master"] {
        let Ok(Some(mut r)) = repo.try_find_reference(upstream) else { continue };
        let Ok(id) = r.peel_to_id() else { continue };
        if let Ok(Some(base)) = repo.merge_base(head, id.detach()) {
            return Ok(Some(base.detach()));
        }
    }
    Ok(Some(head))
}

/// Compares `base` (a revision; `None` = the default) with `head` (a revision, or the work tree).
pub fn plan(ws: &Workspace, base: Option<&str>, head: &DraftAt) -> Result<Plan> {
    let base_commit = match base {
        Some(rev) => Some(ws.rev_commit(rev)?),
        None => default_plan_base(ws)?,
    };
    let open_side = |at: Option<DraftAt>| -> Result<SideView> {
        Ok(SideView {
            resolver: match at {
                Some(at) => Some(Resolver::new(ws.clone(), at)?),
                None => None,
            },
        })
    };
    let base_at = base_commit.map(|c| DraftAt::Rev(c.to_string()));
    let before = open_side(base_at.clone())?;
    let after = open_side(Some(head.clone()))?;

    let channels = plan_channels(&before, &after);
    let drafts = plan_drafts(ws, base_at.as_ref(), head, &after)?;

    let head_info = match head {
        DraftAt::WorkTree => RevInfo { rev: "work tree".into(), commit: None },
        DraftAt::Rev(r) => RevInfo { rev: r.clone(), commit: Some(ws.rev_commit(r)?.to_string()) },
    };
    let base_info = RevInfo {
        rev: base.map_or_else(|| "merge base".to_owned(), str::to_owned),
        commit: base_commit.map(|c| c.to_string()),
    };
    Ok(Plan { base: base_info, head: head_info, changed: !channels.is_empty() || !drafts.is_empty(), channels, drafts })
}

/// Every draft whose content differs between base and head, against the agent's latest, with
/// the channels that follow it on head.
fn plan_drafts(ws: &Workspace, base_at: Option<&DraftAt>, head: &DraftAt, after: &SideView) -> Result<Vec<DraftPlan>> {
    let mut ids: std::collections::BTreeSet<AgentId> = ws.agent_ids(head)?.into_iter().collect();
    if let Some(at) = base_at {
        ids.extend(ws.agent_ids(at)?);
    }
    let following = |agent: &AgentId, pin: Pin| -> Vec<String> {
        after
            .resolver
            .as_ref()
            .map(|r| {
                r.channels()
                    .channels
                    .iter()
                    .filter(|c| c.targets().iter().any(|t| &t.agent == agent && t.pin == pin))
                    .map(|c| c.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut drafts = Vec::new();
    for id in ids {
        // The draft on one side: `Ok(None)` where the agent has no draft there.
        let draft_at = |at: &DraftAt| match ws.locate(&id, RefSpec::Draft, at) {
            Ok(l) => Ok(Some(l)),
            Err(Error::Workspace(WorkspaceError::UnknownAgent { .. })) => Ok(None),
            Err(e) => Err(e),
        };
        let old = match base_at {
            Some(at) => draft_at(at),
            None => Ok(None),
        };
        let new = draft_at(head);
        let change = match (&old, &new) {
            (Ok(Some(o)), Ok(Some(n))) if o.tree == n.tree => continue,
            (Ok(None), Ok(None)) => continue,
            (Ok(None), _) => "added",
            (_, Ok(None)) => "removed",
            _ => "modified",
        };
        let latest = ws.latest(&id)?;
        let publishes = match (&new, &latest) {
            (Ok(Some(n)), Some((number, tag))) => (n.tree != tag.tree).then_some(number + 1),
            (Ok(Some(_)), None) => Some(1),
            _ => None,
        };
        let (changes, error) = match &new {
            Err(e) => (Vec::new(), Some(e.to_string())),
            Ok(None) => (Vec::new(), None),
            Ok(Some(n)) => {
                let against = match &latest {
                    Some((number, _)) => {
                        ws.locate(&id, RefSpec::Version(*number), &DraftAt::WorkTree).ok().map(|l| l.bundle.config)
                    }
                    None => None,
                };
                (diff::diff(&against.unwrap_or_else(|| serde_json::json!({})), &n.bundle.config), None)
            }
        };
        let head_tree = new.as_ref().ok().and_then(|n| n.as_ref().map(|n| n.tree));
        let tests = tests_change(ws, &id, latest.as_ref().map(|(_, tag)| tag.tree), head_tree)?;
        drafts.push(DraftPlan {
            tests,
            agent: id.to_string(),
            change,
            latest: latest.map(|(n, _)| n),
            changes,
            channels: following(&id, Pin::Draft),
            latest_channels: if publishes.is_some() { following(&id, Pin::Latest) } else { Vec::new() },
            publishes,
            error,
        });
    }
    Ok(drafts)
}

/// The tests' results on latest's tree and on the head's draft, when any ran on either.
fn tests_change(
    ws: &Workspace,
    agent: &AgentId,
    before: Option<crate::git::ObjectId>,
    after: Option<crate::git::ObjectId>,
) -> Result<Option<TestsChange>> {
    let summary = |tree: Option<crate::git::ObjectId>| -> Result<_> {
        let Some(tree) = tree else { return Ok(None) };
        Ok(ws.test_results(&tree.to_string())?.map(|t| t.summary(agent.as_str())).filter(|s| s.total > 0))
    };
    let (before, after) = (summary(before)?, summary(after)?);
    Ok((before.is_some() || after.is_some()).then_some(TestsChange { before, after }))
}

/// Every channel whose target changes between the two sides: in head's order, then those only
/// base had.
fn plan_channels(before: &SideView, after: &SideView) -> Vec<ChannelPlan> {
    let mut names = after.names();
    let seen: std::collections::HashSet<String> = names.iter().cloned().collect();
    names.extend(before.names().into_iter().filter(|n| !seen.contains(n)));
    let mut channels = Vec::new();
    for name in names {
        let b = before.channel(&name).map(|c| before.state(c));
        let a = after.channel(&name).map(|c| after.state(c));
        let change = match (&b, &a) {
            (None, Some(_)) => ChannelChange::Added,
            (Some(_), None) => ChannelChange::Removed,
            (Some((bs, _)), Some((as_, _))) if bs == as_ => continue,
            _ => ChannelChange::Changed,
        };
        let moved = match (&b, &a) {
            (Some((bs, _)), Some((as_, _))) => moved_share(bs, as_),
            _ => Some(1.0),
        };
        let diffs = match &a {
            Some((_, served_after)) => {
                let empty = Vec::new();
                let served_before = b.as_ref().map_or(&empty, |(_, s)| s);
                channel_diffs(served_before, b.as_ref().map(|(s, _)| s), served_after)
            }
            None => Vec::new(),
        };
        channels.push(ChannelPlan {
            channel: name,
            change,
            before: b.map(|(s, _)| s),
            after: a.map(|(s, _)| s),
            moved_share: moved,
            diffs,
        });
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(tree: &str, weight: u64, total: u64) -> TargetView {
        TargetView {
            variant: Some(tree.into()),
            agent: "a".into(),
            pin: crate::format::channels::Pin::Version(1),
            version: None,
            tag: None,
            tree: Some(tree.into()),
            weight: Some(weight),
            share: Some(weight as f64 / total as f64),
            error: None,
        }
    }

    fn split(salt: &str, targets: Vec<TargetView>) -> ChannelView {
        ChannelView {
            channel: "c".into(),
            sticky: Some(crate::format::channels::Sticky::Caller),
            salt: Some(salt.into()),
            targets,
        }
    }

    #[test]
    fn moved_shares() {
        let b = split("s", vec![t("x", 80, 100), t("y", 20, 100)]);
        // 80/20 → 50/50 with the same salt: buckets 50..80 move from x to y: 30%.
        let a = split("s", vec![t("x", 50, 100), t("y", 50, 100)]);
        assert!((moved_share(&b, &a).unwrap() - 0.30).abs() < 0.001);
        assert_eq!(moved_share(&b, &b), Some(0.0));
        // A new salt reshuffles: 1 - (0.8·0.5 + 0.2·0.5) = 0.5.
        let c = split("t", vec![t("x", 50, 100), t("y", 50, 100)]);
        assert!((moved_share(&b, &c).unwrap() - 0.5).abs() < 1e-9);
        // A pinned channel moving entirely.
        let single = |tree: &str| ChannelView {
            channel: "c".into(),
            sticky: None,
            salt: None,
            targets: vec![TargetView { weight: None, share: None, ..t(tree, 1, 1) }],
        };
        assert_eq!(moved_share(&single("x"), &single("z")), Some(1.0));
        assert!((moved_share(&single("x"), &b).unwrap() - 0.2).abs() < 0.001);
    }
}
