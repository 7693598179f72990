//! `agentver test`: conversation tests kept beside the drafts (`tests/<name>.yaml`), run against
//! an agent's own configuration through an OpenAI-compatible Chat Completions API, replayed from
//! cassettes for free and reproducible CI runs, with their results kept per version tree in git
//! notes (`refs/notes/agentver/tests`) for `log` and `publish` to read.

pub mod cassette;
pub mod chat;
pub mod check;
pub mod conversation;
pub mod notes;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::Result;
use crate::format::diagnostic::Diagnostic;
use crate::format::model::test::{TestDoc, parse_test};
use crate::names::id::{AgentId, RefSpec, Spec};
use crate::workspace::{DraftAt, Version, Workspace};
use cassette::Cassette;
use chat::{Client, Provider};
use conversation::{Env, Mode, Model, RunResult, Subject, Usage};

/// Where the tests are, relative to the workspace.
pub const DIR: &str = "tests";

/// How `agentver test` was asked to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A test's name (that test), `sales` (its tests against the draft) or `sales@v3`; none:
    /// every test against the drafts.
    pub specs: Vec<String>,
    pub at: DraftAt,
    /// Runs per test instead of each test's `repeat`.
    pub repeat: Option<u32>,
    /// `Some(true)`: record; `Some(false)`: replay; `None`: replay in CI or without a key, else live.
    pub record: Option<bool>,
    pub jobs: usize,
    /// Whether the results are kept in the notes.
    pub notes: bool,
}

/// One test file, read.
#[derive(Clone, Debug)]
pub struct TestFile {
    pub name: String,
    pub file: String,
    pub doc: TestDoc,
}

/// What one test did against one configuration.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TestResult {
    pub test: String,
    pub file: String,
    #[serde(flatten)]
    pub subject: Subject,
    pub runs: u32,
    pub passed: u32,
    /// Runs that must pass.
    pub pass: u32,
    pub ok: bool,
    /// The 95% Wilson interval of the pass rate.
    pub interval: (f64, f64),
    pub description: String,
    pub results: Vec<RunResult>,
    pub usage: Usage,
}

/// What `agentver test` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub ok: bool,
    pub mode: Mode,
    pub tests: Vec<TestResult>,
    pub usage: Usage,
    /// The cost of the requests, where every provider used has prices configured.
    pub cost: Option<f64>,
    /// The cassettes written (`--record`).
    pub recorded: Vec<String>,
}

/// The outcome: the report, or the test files' problems (nothing ran).
pub enum Outcome {
    Ran(Report),
    Invalid(Vec<Diagnostic>),
}

/// The 95% Wilson score interval of `k` passes in `n` runs.
pub fn wilson(k: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n, z) = (f64::from(k), f64::from(n), 1.959_964);
    let p = k / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Every test file under `tests/` (as of `at`), each validated; all problems at once.
pub fn load_tests(ws: &Workspace, at: &DraftAt) -> Result<std::result::Result<Vec<TestFile>, Vec<Diagnostic>>> {
    let source = ws.drafts(at)?;
    let mut tests = Vec::new();
    let mut problems = Vec::new();
    for name in source.list(DIR)? {
        let Some(stem) = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")) else { continue };
        let rel = format!("{DIR}/{name}");
        let shown = source.display(&rel);
        if let Some(problem) = crate::names::id::id_problem(stem) {
            let d = Diagnostic::error(&shown, None, format!("'{stem}' is not a test name: it {problem}"));
            problems.push(d.with_hint(Some("name test files like agents: [a-z0-9][a-z0-9_-]*.yaml".into())));
            continue;
        }
        let Some(bytes) = source.read(&rel)? else { continue };
        match parse_test(&shown, &bytes) {
            Ok(doc) => tests.push(TestFile { name: stem.to_owned(), file: shown, doc }),
            Err(mut d) => problems.append(&mut d),
        }
    }
    Ok(if problems.is_empty() { Ok(tests) } else { Err(problems) })
}

/// Which configurations each test runs against: per spec (`sales`, `sales@v3`), else the drafts.
fn subjects(ws: &Workspace, tests: &[TestFile], options: &Options) -> Result<Vec<(usize, Subject)>> {
    let named: Vec<&str> =
        options.specs.iter().filter(|s| tests.iter().any(|t| &t.name == *s)).map(String::as_str).collect();
    let mut wanted: Vec<(AgentId, RefSpec)> = Vec::new();
    for s in options.specs.iter().filter(|s| !named.contains(&s.as_str())) {
        let spec = Spec::parse(s).map_err(|e| crate::error::Error::BadValue {
            what: "test".into(),
            value: s.escape_debug().to_string(),
            expected: format!("a test in tests/ or an agent spec ({e})"),
        })?;
        wanted.push((spec.agent, spec.reference.unwrap_or(RefSpec::Draft)));
    }
    let mut located: BTreeMap<String, Subject> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, test) in tests.iter().enumerate() {
        if !named.is_empty() && !named.contains(&test.name.as_str()) && wanted.is_empty() {
            continue;
        }
        for agent in &test.doc.agents {
            let id = AgentId::new(agent).map_err(|e| crate::error::Error::BadValue {
                what: format!("{}: agent", test.file),
                value: agent.clone(),
                expected: format!("an agent id ({e})"),
            })?;
            let reference = match wanted.iter().find(|(a, _)| a == &id) {
                Some((_, r)) => *r,
                None if options.specs.is_empty() || named.contains(&test.name.as_str()) => RefSpec::Draft,
                None => continue,
            };
            let key = format!("{agent}@{reference:?}");
            if !located.contains_key(&key) {
                let found = ws.locate(&id, reference, &options.at)?;
                let version = match found.version {
                    Version::Draft => "draft".to_owned(),
                    Version::Number(n) => format!("v{n}"),
                };
                let subject = Subject {
                    agent: agent.clone(),
                    version,
                    tree: found.tree.to_string(),
                    config: found.bundle.config,
                };
                located.insert(key.clone(), subject);
            }
            out.push((i, located[&key].clone()));
        }
    }
    Ok(out)
}

/// Runs the tests `options` name, and keeps their results in the notes.
pub fn run(ws: &Workspace, options: &Options) -> Result<Outcome> {
    let tests = match load_tests(ws, &options.at)? {
        Ok(t) => t,
        Err(problems) => return Ok(Outcome::Invalid(problems)),
    };
    let subjects = subjects(ws, &tests, options)?;
    let providers = providers(ws);
    let mode = mode(options, &providers, &subjects);
    let timeout = Duration::from_secs(ws.config().test.timeout.unwrap_or(60));
    let client = Client::new(timeout);
    let mut cassettes = BTreeMap::new();
    for test in &tests {
        let file = cassette::path(ws.root(), &test.name);
        // Replay answers from it; a recording keeps the runs it does not redo.
        let loaded = if mode == Mode::Live {
            Cassette::default()
        } else {
            Cassette::load(&file, &format!("{}/{}.jsonl", cassette::DIR, test.name))?
        };
        cassettes.insert(test.name.clone(), loaded);
    }
    let mut jobs = Vec::new();
    for (t, subject) in &subjects {
        let runs = options.repeat.unwrap_or(tests[*t].doc.repeat);
        jobs.extend((1..=runs).map(|r| (*t, subject.clone(), r)));
    }
    let results = run_jobs(ws, &tests, &jobs, &providers, &client, mode, &cassettes, options.jobs.max(1));
    let report = tally(&tests, &subjects, results, mode, options);
    let mut report = report;
    if mode == Mode::Record {
        for (name, cassette) in &cassettes {
            if cassette.save(&cassette::path(ws.root(), name))? {
                report.recorded.push(format!("{}/{name}.jsonl", cassette::DIR));
            }
        }
    }
    if options.notes {
        notes::keep(ws, &report)?;
    }
    Ok(Outcome::Ran(report))
}

/// The providers agentver.toml configures, with OpenAI's public API as `openai`'s default.
fn providers(ws: &Workspace) -> BTreeMap<String, Provider> {
    let mut out = BTreeMap::new();
    let configured = &ws.config().test.providers;
    let mut names: Vec<&str> = configured.keys().map(String::as_str).collect();
    if !names.contains(&"openai") {
        names.push("openai");
    }
    for name in names {
        let c = configured.get(name).cloned().unwrap_or_default();
        let default_url = (name == "openai").then(|| "https://api.openai.com/v1".to_owned());
        let key_env =
            c.api_key_env.clone().unwrap_or_else(|| format!("{}_API_KEY", name.to_uppercase().replace('-', "_")));
        let provider = Provider {
            name: name.to_owned(),
            base_url: c.base_url.clone().or(default_url).unwrap_or_default(),
            // `api_key_env = ""`: a server that takes no key (nothing is sent for one).
            key: if key_env.is_empty() {
                Some(String::new())
            } else {
                std::env::var(&key_env).ok().filter(|k| !k.is_empty())
            },
            key_env,
            prices: c.input_per_million.zip(c.output_per_million),
        };
        out.insert(name.to_owned(), provider);
    }
    out
}

/// Record or replay as asked; else replay in CI or when a provider the tests need has no key.
fn mode(options: &Options, providers: &BTreeMap<String, Provider>, subjects: &[(usize, Subject)]) -> Mode {
    match options.record {
        Some(true) => Mode::Record,
        Some(false) => Mode::Replay,
        None => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            let keyless = subjects.iter().any(|(_, s)| {
                let name = s.config["llm"]["provider"].as_str().unwrap_or("openai");
                providers.get(name).is_none_or(|p| p.key.is_none())
            });
            if ci || keyless { Mode::Replay } else { Mode::Live }
        }
    }
}

/// `provider/model` (the provider defaulting to `default`) as a model of a known provider.
fn model(spec: &str, default: &str, providers: &BTreeMap<String, Provider>) -> Option<Model> {
    let (provider, model) = spec.split_once('/').unwrap_or((default, spec));
    let provider = providers.get(provider).cloned().unwrap_or_else(|| Provider {
        name: provider.to_owned(),
        base_url: String::new(),
        key_env: format!("{}_API_KEY", provider.to_uppercase()),
        key: None,
        prices: None,
    });
    Some(Model { provider, model: model.to_owned() })
}

#[allow(clippy::too_many_arguments)]
fn run_jobs(
    ws: &Workspace,
    tests: &[TestFile],
    jobs: &[(usize, Subject, u32)],
    providers: &BTreeMap<String, Provider>,
    client: &Client,
    mode: Mode,
    cassettes: &BTreeMap<String, Cassette>,
    threads: usize,
) -> Vec<(usize, String, RunResult)> {
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    let config = &ws.config().test;
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()) {
            scope.spawn(|| {
                while let Some((t, subject, run)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let test = &tests[*t];
                    let provider = subject.config["llm"]["provider"].as_str().unwrap_or("openai");
                    let agent_model = subject.config["llm"]["model"].as_str().unwrap_or_default();
                    let env = Env {
                        client,
                        mode,
                        cassette: &cassettes[&test.name],
                        agent: model(agent_model, provider, providers).expect("a model"),
                        caller: config.caller_model.as_deref().and_then(|m| model(m, provider, providers)),
                        judge: config.judge_model.as_deref().and_then(|m| model(m, provider, providers)),
                    };
                    let result = conversation::run(&env, &test.doc, subject, *run);
                    done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((
                        *t,
                        subject.tree.clone(),
                        result,
                    ));
                }
            });
        }
    });
    done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Gathers the runs into one result per test and configuration.
fn tally(
    tests: &[TestFile],
    subjects: &[(usize, Subject)],
    mut results: Vec<(usize, String, RunResult)>,
    mode: Mode,
    options: &Options,
) -> Report {
    results.sort_by_key(|(t, tree, r)| (*t, tree.clone(), r.run));
    let mut out = Vec::new();
    let mut usage = Usage::default();
    for (t, subject) in subjects {
        let test = &tests[*t];
        let runs: Vec<RunResult> =
            results.iter().filter(|(i, tree, _)| i == t && *tree == subject.tree).map(|(_, _, r)| r.clone()).collect();
        let n = runs.len() as u32;
        let passed = runs.iter().filter(|r| r.failure.is_none()).count() as u32;
        let pass = test.doc.pass.unwrap_or(test.doc.repeat).min(n).max(if n > 0 { 1 } else { 0 });
        let pass = if options.repeat.is_some() { n } else { pass };
        let mut test_usage = Usage::default();
        runs.iter().for_each(|r| test_usage.add(&r.usage));
        usage.add(&test_usage);
        out.push(TestResult {
            test: test.name.clone(),
            file: test.file.clone(),
            subject: subject.clone(),
            runs: n,
            passed,
            pass,
            ok: n > 0 && passed >= pass,
            interval: wilson(passed, n),
            description: test.doc.description.clone(),
            results: runs,
            usage: test_usage,
        });
    }
    // A replay costs nothing; a run costs what its priced requests did when all were priced.
    let cost = match mode {
        Mode::Replay => Some(0.0),
        _ => (usage.requests > 0 && usage.unpriced == 0).then_some(usage.cost),
    };
    Report { ok: out.iter().all(|r| r.ok), mode, tests: out, usage, cost, recorded: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: u32, ok: bool) -> RunResult {
        let failure = (!ok).then(|| conversation::Failure { turn: Some(1), line: Some(3), message: "x".into() });
        RunResult { run: n, failure, transcript: Vec::new(), usage: Usage::default() }
    }

    #[test]
    fn a_test_passes_when_enough_runs_pass() {
        let yaml = "agent: sales\nrepeat: 3\npass: 2\nconversation: [{user: hi}]\n";
        let doc = parse_test("tests/t.yaml", yaml.as_bytes()).unwrap();
        let tests = vec![TestFile { name: "t".into(), file: "tests/t.yaml".into(), doc }];
        let subject = Subject {
            agent: "sales".into(),
            version: "draft".into(),
            tree: "ab".into(),
            config: serde_json::json!({}),
        };
        let subjects = vec![(0, subject)];
        let results =
            |oks: &[bool]| oks.iter().enumerate().map(|(i, ok)| (0, "ab".to_owned(), run(i as u32 + 1, *ok))).collect();
        let report = tally(&tests, &subjects, results(&[true, false, true]), Mode::Replay, &Options::default());
        assert!(report.ok && report.tests[0].ok && report.tests[0].passed == 2 && report.tests[0].pass == 2);
        let report = tally(&tests, &subjects, results(&[true, false, false]), Mode::Replay, &Options::default());
        assert!(!report.ok && !report.tests[0].ok);
        // `--repeat N`: every run must pass.
        let every = Options { repeat: Some(3), ..Options::default() };
        let report = tally(&tests, &subjects, results(&[true, false, true]), Mode::Replay, &every);
        assert!(!report.ok && report.tests[0].pass == 3);
    }

    #[test]
    fn wilson_intervals_are_the_textbook_ones() {
        let (lo, hi) = super::wilson(5, 5);
        assert!((lo - 0.5655).abs() < 1e-3 && (hi - 1.0).abs() < 1e-9, "{lo} {hi}");
        let (lo, hi) = super::wilson(3, 5);
        assert!((lo - 0.2307).abs() < 1e-3 && (hi - 0.8824).abs() < 1e-3, "{lo} {hi}");
    }
}
