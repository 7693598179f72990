//! `check`: validate everything a change could break, collecting every problem with its file and
//! line: agents, tools, workflows, references between them, stray files, literal secrets, and
//! channels.toml against the published tags.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, FormatError, Result};
use crate::format::channels::{self, Pin};
use crate::format::diagnostic::{Diagnostic, Severity};
use crate::format::model::{self, ToolUse};
use crate::git;
use crate::names::id::{AgentId, is_valid_id};
use crate::workspace::bundle::{self, tool_path, workflow_path};
use crate::workspace::source::Source;
use crate::workspace::{DraftAt, Workspace};

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors == 0
    }
}

/// Reads a file, turning a read refusal (too big, a symlink out) into a problem.
fn read(source: &dyn Source, path: &str, problems: &mut Vec<Diagnostic>) -> Option<Vec<u8>> {
    match source.read(path) {
        Ok(bytes) => bytes,
        Err(Error::Format(FormatError::Invalid(d))) => {
            problems.push(*d);
            None
        }
        Err(e) => {
            problems.push(Diagnostic::error(&source.display(path), None, e.to_string()));
            None
        }
    }
}

/// Lists a folder, turning a refusal (a symlink out of the workspace) into a problem.
fn list(source: &dyn Source, dir: &str, problems: &mut Vec<Diagnostic>) -> Result<Vec<String>> {
    match source.list(dir) {
        Ok(names) => Ok(names),
        Err(Error::Format(FormatError::Invalid(d))) => {
            problems.push(*d);
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

fn secrets(source: &dyn Source, path: &str, bytes: &[u8], problems: &mut Vec<Diagnostic>) {
    problems.extend(crate::format::secrets::diagnostics(&source.display(path), bytes));
}

/// The files found in one folder, and those of them that validate (by stem).
struct Checked {
    files: Vec<String>,
    ok: BTreeSet<String>,
}

impl Checked {
    fn present(&self, suffix: &str) -> BTreeSet<&str> {
        self.files.iter().filter_map(|f| f.strip_suffix(suffix)).collect()
    }
}

/// Every file in `tools/`: named as a tool, free of secrets, valid.
fn check_tools(source: &dyn Source, problems: &mut Vec<Diagnostic>) -> Result<Checked> {
    let files = list(source, "tools", problems)?;
    let mut ok = BTreeSet::new();
    for name in &files {
        let path = format!("tools/{name}");
        let Some(stem) = name.strip_suffix(".yaml") else {
            if !name.starts_with('.') {
                problems.push(Diagnostic::warning(&source.display(&path), None, "not a tool file (tools/<name>.yaml)"));
            }
            continue;
        };
        if !is_valid_id(stem) {
            problems.push(
                Diagnostic::error(&source.display(&path), None, format!("'{stem}' is not a valid tool name"))
                    .with_hint(Some("tool names match [a-z0-9][a-z0-9_-]{0,62}".into())),
            );
            continue;
        }
        let Some(bytes) = read(source, &path, problems) else { continue };
        secrets(source, &path, &bytes, problems);
        match model::parse_tool(&source.display(&path), stem, &bytes) {
            Ok(_) => {
                ok.insert(stem.to_owned());
            }
            Err(ds) => problems.extend(ds),
        }
    }
    Ok(Checked { files, ok })
}

/// Every file in `workflows/`: named as a workflow, free of secrets, a JSON object.
fn check_workflows(source: &dyn Source, problems: &mut Vec<Diagnostic>) -> Result<Checked> {
    let files = list(source, "workflows", problems)?;
    let mut ok = BTreeSet::new();
    for name in &files {
        let path = format!("workflows/{name}");
        let Some(stem) = name.strip_suffix(".json").filter(|s| is_valid_id(s)) else {
            if !name.starts_with('.') {
                let what = "not a workflow file (workflows/<name>.json)";
                problems.push(Diagnostic::warning(&source.display(&path), None, what));
            }
            continue;
        };
        let Some(bytes) = read(source, &path, problems) else { continue };
        secrets(source, &path, &bytes, problems);
        match model::parse_workflow(&source.display(&path), &bytes) {
            Ok(_) => {
                ok.insert(stem.to_owned());
            }
            Err(ds) => problems.extend(ds),
        }
    }
    Ok(Checked { files, ok })
}

/// Every draft in `agents/`, with every problem (not only the first) and its references to tools
/// and workflows. Returns the agent ids found and those whose draft and references validate.
fn check_agents(
    source: &dyn Source,
    tools: &Checked,
    workflows: &Checked,
    problems: &mut Vec<Diagnostic>,
) -> Result<(BTreeSet<AgentId>, BTreeSet<AgentId>)> {
    let tools_present = tools.present(".yaml");
    let mut drafts_ok = BTreeSet::new();
    let mut agent_ids = BTreeSet::new();
    for name in list(source, "agents", problems)? {
        let path = format!("agents/{name}");
        let id = match name.strip_suffix(".yaml").map(AgentId::new) {
            Some(Ok(id)) => id,
            Some(Err(e)) => {
                problems.push(Diagnostic::error(&source.display(&path), None, e).with_hint(Some(
                    "agent files are agents/<id>.yaml with id matching [a-z0-9][a-z0-9_-]{0,62}".into(),
                )));
                continue;
            }
            None if name.starts_with('.') => continue,
            // A misnamed draft is an error; a README or other non-YAML file is only noted.
            None => {
                let stray = "stray file: agents/ holds only <id>.yaml drafts";
                problems.push(match name.strip_suffix(".yml") {
                    Some(stem) => Diagnostic::error(&source.display(&path), None, stray)
                        .with_hint(Some(format!("rename it to agents/{stem}.yaml"))),
                    None => Diagnostic::warning(&source.display(&path), None, stray),
                });
                continue;
            }
        };
        agent_ids.insert(id.clone());
        let Some(bytes) = read(source, &path, problems) else { continue };
        secrets(source, &path, &bytes, problems);
        let shown = source.display(&path);
        let doc = match model::parse_agent(&shown, &bytes) {
            Ok(doc) => doc,
            Err(ds) => {
                problems.extend(ds);
                continue;
            }
        };
        problems.extend(doc.warnings.iter().cloned());
        // A reference to a file that exists but does not validate was reported at that file.
        let mut ok = true;
        for tool in &doc.tools {
            if let ToolUse::Named(r) = tool
                && !tools.ok.contains(&r.name)
            {
                ok = false;
                if !tools_present.contains(r.name.as_str()) {
                    let path = source.display(&tool_path(&r.name));
                    problems.push(bundle::missing_tool(&shown, r, &path, tools_present.iter().copied()));
                }
            }
        }
        if let Some(w) = &doc.workflow
            && !workflows.ok.contains(&w.name)
        {
            ok = false;
            if !workflows.files.contains(&format!("{}.json", w.name)) {
                problems.push(bundle::missing_workflow(&shown, w, &source.display(&workflow_path(&w.name))));
            }
        }
        if ok {
            drafts_ok.insert(id);
        }
    }
    Ok((agent_ids, drafts_ok))
}

pub fn check(ws: &Workspace, at: &DraftAt) -> Result<CheckReport> {
    check_source(ws, ws.drafts(at)?.as_ref())
}

/// `check` of the work tree as it would be with `rel` holding `bytes`: what the console's editor
/// asks before it writes a draft.
pub fn check_with(ws: &Workspace, rel: &str, bytes: &[u8]) -> Result<CheckReport> {
    let work_tree = ws.work_tree()?;
    check_source(ws, &Overlay { base: &work_tree, rel, bytes })
}

/// A source with one file replaced.
struct Overlay<'a> {
    base: &'a dyn Source,
    rel: &'a str,
    bytes: &'a [u8],
}

impl Source for Overlay<'_> {
    fn read_limited(&self, rel: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        if rel != self.rel {
            return self.base.read_limited(rel, limit);
        }
        if self.bytes.len() > limit {
            return Err(crate::workspace::source::too_big(self.base.display(rel), self.bytes.len() as u64, limit));
        }
        Ok(Some(self.bytes.to_vec()))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let mut names = self.base.list(dir)?;
        if let Some(name) = self.rel.strip_prefix(dir).and_then(|r| r.strip_prefix('/'))
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
            names.sort();
        }
        Ok(names)
    }

    fn display(&self, rel: &str) -> String {
        self.base.display(rel)
    }
}

fn check_source(ws: &Workspace, source: &dyn Source) -> Result<CheckReport> {
    let mut problems = Vec::new();
    // Tools and workflows, each once, whether or not an agent uses them; then the agents.
    let tools = check_tools(source, &mut problems)?;
    let workflows = check_workflows(source, &mut problems)?;
    let (agent_ids, drafts_ok) = check_agents(source, &tools, &workflows, &mut problems)?;
    check_tests(source, &agent_ids, &mut problems)?;

    // channels.toml: the file itself, then every target against drafts and tags.
    let channels_file = source.display(channels::FILE);
    let parsed = match source.read_limited(channels::FILE, channels::MAX_FILE_BYTES) {
        Ok(None) => Some(channels::Channels::default()),
        Ok(Some(bytes)) => {
            let (valid, ds) = channels::parse_bytes_all(&bytes, &channels_file);
            problems.extend(ds);
            Some(valid)
        }
        Err(Error::Format(FormatError::Invalid(d))) => {
            problems.push(*d);
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(parsed) = parsed {
        check_channels(ws, &parsed, &channels_file, &agent_ids, &drafts_ok, &mut problems)?;
        check_hosted_workflows(ws, source, &parsed, &channels_file, &mut problems);
    }
    check_numbering_gaps(ws, &mut problems)?;

    problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)).then(a.severity.cmp(&b.severity)));
    problems.dedup();
    let errors = problems.iter().filter(|d| d.severity == Severity::Error).count();
    Ok(CheckReport { errors, warnings: problems.len() - errors, problems })
}

/// Every test in `tests/` (`agentver test`): valid, free of secrets, and naming agents that exist.
fn check_tests(source: &dyn Source, agents: &BTreeSet<AgentId>, problems: &mut Vec<Diagnostic>) -> Result<()> {
    for name in list(source, "tests", problems)? {
        let Some(stem) = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")) else { continue };
        let path = format!("tests/{name}");
        let shown = source.display(&path);
        if let Some(problem) = crate::names::id::id_problem(stem) {
            problems.push(Diagnostic::error(&shown, None, format!("'{stem}' is not a test name: it {problem}")));
            continue;
        }
        let Some(bytes) = source.read(&path)? else { continue };
        secrets(source, &path, &bytes, problems);
        match crate::format::model::test::parse_test(&shown, &bytes) {
            Err(ds) => problems.extend(ds),
            Ok(test) => {
                for agent in test.agents.iter().filter(|a| !agents.iter().any(|id| id.as_str() == a.as_str())) {
                    let hint = crate::format::diagnostic::closest(agent, agents.iter().map(AgentId::as_str))
                        .map(|c| format!("did you mean '{c}'?"));
                    problems.push(
                        Diagnostic::error(
                            &shown,
                            None,
                            format!("tests agent '{agent}', which has no draft in agents/"),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
    }
    Ok(())
}

/// A deleted version tag leaves a gap; its number is never given out again, but the history
/// it held is gone from this clone.
fn check_numbering_gaps(ws: &Workspace, problems: &mut Vec<Diagnostic>) -> Result<()> {
    for agent in ws.published_agent_ids()? {
        let numbers: BTreeSet<u64> = git::version_numbers(ws.repo(), ws.names(), &agent)?.into_iter().collect();
        let highest = numbers.last().copied().unwrap_or(0);
        for n in (1..highest).filter(|n| !numbers.contains(n)) {
            problems.push(
                Diagnostic::error(
                    &ws.names().short(&agent, n),
                    None,
                    format!("is missing: {agent}'s versions run to v{highest}; v{n} will not be numbered again"),
                )
                .with_hint(Some("bring it back from a clone that has it: agentver fetch".into())),
            );
        }
    }
    Ok(())
}

fn check_channels(
    ws: &Workspace,
    parsed: &channels::Channels,
    file: &str,
    drafts: &BTreeSet<AgentId>,
    drafts_ok: &BTreeSet<AgentId>,
    problems: &mut Vec<Diagnostic>,
) -> Result<()> {
    let needs_tags = parsed.channels.iter().flat_map(|c| c.targets()).any(|t| t.pin != Pin::Draft);
    let has_tags = git::any_version_tags(ws.repo(), ws.names())?;
    if needs_tags && !has_tags {
        // A CI checkout without tags: one clear message, not one per channel.
        let shallow = ws.repo().common_dir().join("shallow").exists();
        problems.push(
            Diagnostic::error(
                file,
                parsed.channels.first().map(|c| c.line),
                format!(
                    "this {}repository has no version tags ({}/…), so the pinned versions cannot be checked",
                    if shallow { "shallow " } else { "" },
                    ws.names().prefix()
                ),
            )
            .with_hint(Some(
                "in a clone, fetch them: agentver fetch (plain git fetch and pull never bring them); in a new repository, publish first: agentver publish --all".into(),
            )),
        );
    }
    let mut versions: BTreeMap<AgentId, Vec<git::VersionRef>> = BTreeMap::new();
    let mut trees: BTreeMap<(AgentId, u64), Option<git::ObjectId>> = BTreeMap::new();
    for channel in &parsed.channels {
        for target in channel.targets() {
            let agent = &target.agent;
            if !versions.contains_key(agent) {
                versions.insert(agent.clone(), ws.versions(agent)?);
            }
            let known = &versions[agent];
            let what = format!("channel '{}'", channel.name);
            let line = Some(target.line);
            if known.is_empty() && !drafts.contains(agent) {
                problems.push(Diagnostic::error(
                    file,
                    line,
                    format!("{what}: agent '{agent}' has no draft and no versions"),
                ));
                continue;
            }
            match target.pin {
                Pin::Draft if !drafts.contains(agent) => problems.push(Diagnostic::error(
                    file,
                    line,
                    format!("{what}: follows {agent}'s draft, but agents/{agent}.yaml does not exist"),
                )),
                Pin::Draft if !drafts_ok.contains(agent) => problems.push(Diagnostic::error(
                    file,
                    line,
                    format!("{what}: follows {agent}'s draft, which does not validate"),
                )),
                Pin::Draft => {}
                Pin::Latest if known.is_empty() && has_tags => problems.push(
                    Diagnostic::warning(
                        file,
                        line,
                        format!("{what}: follows {agent}'s latest version, and {agent} has none yet: the channel serves nothing until the first publish makes v1"),
                    )
                    .with_hint(Some(format!("merging publishes it in CI (publish --changed), or: agentver publish {agent}"))),
                ),
                Pin::Latest => {}
                Pin::Version(_) if !has_tags => {}
                Pin::Version(n) => {
                    if let Some(d) = check_numbered_pin(ws, file, &what, target, n, known, &mut trees)? {
                        problems.push(d);
                    }
                }
            }
        }
    }
    Ok(())
}

/// A number's calls reach the hosted platforms' call-start hooks (Vapi, Retell, ElevenLabs), which
/// run a prompt, never agentver's workflow graph: a Vapi assistant rendered from a workflow agent
/// has no prompt at all. So a number that can serve a workflow agent is an error, unless
/// agentver.toml names a self-hosted runtime (`[platforms.twilio] stream_url`), which can run it:
/// then a warning. Targets that do not load are the other checks' business.
fn check_hosted_workflows(
    ws: &Workspace,
    source: &dyn Source,
    parsed: &channels::Channels,
    file: &str,
    problems: &mut Vec<Diagnostic>,
) {
    let self_hosted = ws.config().platforms.twilio.stream_url.is_some();
    for channel in parsed.channels.iter().filter(|c| crate::format::text::is_e164(&c.name)) {
        for target in channel.targets() {
            let agent = &target.agent;
            let served = match target.pin {
                Pin::Draft => bundle::load(source, agent).ok().map(|b| (b.config, "draft".to_owned())),
                Pin::Latest => ws.latest(agent).ok().flatten().map(|(n, tag)| (n, tag.tree)).and_then(|(n, tree)| {
                    ws.config_in_tree(agent, &tree.to_string()).ok().map(|c| (c, format!("v{n}")))
                }),
                Pin::Version(n) => ws
                    .version(agent, n)
                    .ok()
                    .and_then(|tag| ws.config_in_tree(agent, &tag.tree.to_string()).ok())
                    .map(|c| (c, format!("v{n}"))),
            };
            let Some((_, which)) = served.filter(|(c, _)| c.get("workflow").is_some_and(|w| !w.is_null())) else {
                continue;
            };
            let message = format!(
                "channel '{}': {agent} {which} is a workflow agent, which the Vapi, Retell and ElevenLabs call-start hooks cannot run (they take a prompt, not agentver's workflow graph)",
                channel.name
            );
            problems.push(if self_hosted {
                Diagnostic::warning(file, Some(target.line), format!("{message}; only the self-hosted runtime behind /hooks/twilio can"))
            } else {
                Diagnostic::error(file, Some(target.line), message).with_hint(Some(
                    "serve this number with a prompt agent, or run the workflow on a self-hosted runtime: set [platforms.twilio] stream_url in agentver.toml".into(),
                ))
            });
        }
    }
}

/// A channel target pinned to version `n`: the tag exists and holds the pinned tree. Trees are
/// read once per version (`trees`), however many channels pin it.
fn check_numbered_pin(
    ws: &Workspace,
    file: &str,
    what: &str,
    target: &channels::Target,
    n: u64,
    known: &[git::VersionRef],
    trees: &mut BTreeMap<(AgentId, u64), Option<git::ObjectId>>,
) -> Result<Option<Diagnostic>> {
    let agent = &target.agent;
    let key = (agent.clone(), n);
    if !trees.contains_key(&key) {
        let tree = match known.iter().find(|v| v.number == n) {
            Some(v) => Some(git::read_tag(ws.repo(), v.target)?.tree),
            None => None,
        };
        trees.insert(key.clone(), tree);
    }
    let tag = ws.names().short(agent, n);
    Ok(match (trees[&key], target.tree) {
        (None, _) => {
            Some(Diagnostic::error(file, Some(target.line), format!("{what}: {tag} does not exist")).with_hint(Some(
                match known.last() {
                    Some(v) => format!("{agent}'s versions run from v1 to v{}", v.number),
                    None => format!("publish it: agentver publish {agent}"),
                },
            )))
        }
        (Some(actual), Some(pinned)) if actual != pinned => Some(
            Diagnostic::error(
                file,
                Some(target.line),
                format!("{what}: {tag} holds tree {actual}, but the pin says tree {pinned}"),
            )
            .with_hint(Some("the tag was moved or replaced; `agentver verify` audits the tags".into())),
        ),
        // Without the tree, a tag moved or forged onto other content would serve unnoticed.
        (Some(actual), None) => Some(
            Diagnostic::warning(
                file,
                Some(target.line),
                format!(
                    "{what}: pins {tag} by number only, so a moved or forged tag would serve; its tree is {actual}"
                ),
            )
            .with_hint(Some(
                "record the tree: run `agentver pin` (or `agentver ab` for a split) for this channel again".into(),
            )),
        ),
        _ => None,
    })
}
