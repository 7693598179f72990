//! Whole-process benchmarks: agentver against the git program doing the same work, on generated
//! repositories of N agents × M versions, with loose and with packed refs.
//!
//! Run: `cargo bench --bench harness -- [--sizes 10x100,100x100,100x1000] [--runs 15]
//!       [--scale 1000|none] [--out FILE]`. Needs git and GNU time (`/usr/bin/time`, Debian package `time`)
//! for peak memory. Repositories are generated with `git fast-import` in agentver's own format
//! (the same tag messages, trailers and snapshot trees), which takes seconds even at 100,000 tags.

// A reporting program: printing is its job (the lint guards the library, not this).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use agentver::names::tagmessage::{TagMessage, commit_message, default_label};
use common::{Repo, agent_id, agent_yaml, generate, git, hermetic, run_ok, run_with_input};

/// Median wall time of `runs` runs after two warm-ups; `prepare` runs untimed before each.
fn time(runs: usize, mut prepare: impl FnMut(), mut run: impl FnMut()) -> Duration {
    for _ in 0..2 {
        prepare();
        run();
    }
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            prepare();
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[runs / 2]
}

/// Peak resident memory of one run of `cmd`, in KiB, through GNU time; None (shown as "—") only
/// when GNU time is not installed, which is said once on stderr. Output that does not parse
/// stops the run rather than leaving a silent gap.
fn peak_kib(dir: &Path, program: &Path, args: &[&str]) -> Option<u64> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if !Path::new("/usr/bin/time").exists() {
        WARNED.call_once(|| eprintln!("no /usr/bin/time (Debian package `time`): peak memory is not measured"));
        return None;
    }
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .envs([
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_COMMITTER_NAME", "Bench"),
            ("GIT_COMMITTER_EMAIL", "bench@example.com"),
        ])
        .stdout(Stdio::null())
        .output()
        .expect("running /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default().trim();
    Some(last.parse().unwrap_or_else(|_| panic!("GNU time printed {last:?}, not a size, for {args:?}")))
}

struct Row {
    size: String,
    refs: &'static str,
    operation: String,
    agentver: Duration,
    git: Option<Duration>,
    peak_kib: Option<u64>,
}

fn ms(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1.0 {
        format!("{:.0} ns", us * 1e3)
    } else if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1e3)
    }
}

/// What machine produced the figures.
fn machine() -> String {
    let read = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0)))
        .map_or("?".to_owned(), |kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0));
    format!(
        "{} cores, {memory}, Linux {}, {}, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        read("uname", &["-r"]),
        read("git", &["--version"]),
        read("rustc", &["--version"]),
    )
}

/// One generated repository under test: runs agentver there and records result rows.
struct Bench<'a> {
    dir: &'a Path,
    av: &'a Path,
    refs: &'static str,
    size: String,
    runs: usize,
}

impl Bench<'_> {
    fn av(&self, args: &[&str]) {
        let mut cmd = Command::new(self.av);
        cmd.current_dir(self.dir).args(args);
        hermetic(&mut cmd);
        run_ok(&mut cmd);
    }

    /// Median time of `agentver ARGS`.
    fn time_av(&self, runs: usize, args: &[&str]) -> Duration {
        time(runs, || {}, || self.av(args))
    }

    /// Records a row; peak memory comes from one more run of `args`.
    fn row(&self, rows: &mut Vec<Row>, operation: String, agentver: Duration, git: Option<Duration>, args: &[&str]) {
        let peak_kib = peak_kib(self.dir, self.av, args);
        rows.push(Row { size: self.size.clone(), refs: self.refs, operation, agentver, git, peak_kib });
    }
}

/// The per-agent commands on one repository, each beside git doing the same work.
fn bench_repo(repo: &Repo, refs: &'static str, runs: usize, av: &Path, rows: &mut Vec<Row>) {
    let bench = Bench { dir: &repo.dir, av, refs, size: format!("{} × {}", repo.agents, repo.versions), runs };
    bench_publish(&bench, repo, rows);
    bench_reads(&bench, repo, rows);
}

/// publish: each run edits the draft (untimed), then publishes one version; git does the same
/// work by hand.
fn bench_publish(bench: &Bench, repo: &Repo, rows: &mut Vec<Row>) {
    let (dir, id) = (bench.dir, agent_id(0));
    let draft = dir.join(format!("agents/{id}.yaml"));
    let base = if bench.refs == "loose" { 1_000_000 } else { 5_000_000 };
    let mut counter = base;
    let publish = time(
        bench.runs,
        || {
            counter += 1;
            std::fs::write(&draft, agent_yaml(&id, counter)).unwrap();
        },
        || bench.av(&["publish", &id]),
    );
    let n = std::cell::Cell::new(base);
    let git_publish = time(
        bench.runs,
        || {
            n.set(n.get() + 1);
            std::fs::write(&draft, agent_yaml(&id, 2_000_000 + n.get())).unwrap();
        },
        || git_publish_once(dir, &id, &format!("gitseq/{}/{id}/v{}", bench.refs, n.get()), repo.versions),
    );
    std::fs::write(&draft, agent_yaml(&id, 3_000_000 + base)).unwrap();
    bench.row(rows, "publish one version".into(), publish, Some(git_publish), &["publish", &id]);
}

/// What publishing is with the git program: hash both files, build three trees, commit on the
/// previous version, and tag it with agentver's tag message.
fn git_publish_once(dir: &Path, id: &str, tag: &str, versions: u64) {
    let hash = |path: &str| String::from_utf8(run_ok(git(dir).args(["hash-object", "-w", path]))).unwrap();
    let blob = hash(&format!("agents/{id}.yaml"));
    let tool = hash("tools/book_appointment.yaml");
    let agents_tree = mktree(dir, &format!("100644 blob {}\t{id}.yaml\n", blob.trim()));
    let tools_tree = mktree(dir, &format!("100644 blob {}\tbook_appointment.yaml\n", tool.trim()));
    let root = mktree(dir, &format!("040000 tree {agents_tree}\tagents\n040000 tree {tools_tree}\ttools\n"));
    let parent = format!("agent/{id}/v{versions}^{{commit}}");
    let label = default_label(id, 0);
    let message = commit_message(id, &label);
    let commit =
        String::from_utf8(run_ok(git(dir).args(["commit-tree", &root, "-p", &parent, "-m", &message]))).unwrap();
    let tag_message =
        TagMessage { label, agent: Some(id.to_owned()), version: Some(0), ..TagMessage::default() }.format();
    run_ok(git(dir).args(["tag", "-a", "-m", &tag_message, tag, commit.trim()]));
}

/// log, show, resolve and status, beside git reading the same data.
fn bench_reads(bench: &Bench, repo: &Repo, rows: &mut Vec<Row>) {
    let (dir, id, runs) = (bench.dir, agent_id(0), bench.runs);
    // log of one agent vs for-each-ref over its tags with tagger, date and message.
    let prefix = format!("refs/tags/agent/{id}/");
    let git_log = time(
        runs,
        || {},
        || {
            run_ok(git(dir).args([
                "for-each-ref",
                "--format=%(refname) %(taggername) %(taggeremail) %(taggerdate:iso-strict) %(objectname) %(contents)",
                &prefix,
            ]));
        },
    );
    let log = ["log", &id, "--json"];
    bench.row(rows, format!("log {id} --json"), bench.time_av(runs, &log), Some(git_log), &log);

    // show one version's file vs git show tag:path.
    let v = repo.versions / 2 + 1;
    let spec = format!("{id}@v{v}");
    let rev = format!("agent/{id}/v{v}:agents/{id}.yaml");
    let git_show = time(
        runs,
        || {},
        || {
            run_ok(git(dir).args(["show", &rev]));
        },
    );
    let show = ["show", &spec];
    bench.row(rows, format!("show {spec}"), bench.time_av(runs, &show), Some(git_show), &show);

    // resolve a pinned channel vs git show of the pinned file.
    let resolve = bench.time_av(runs, &["resolve", "+14150000000", "--caller", "+16505550123"]);
    bench.row(rows, "resolve (pinned channel)".into(), resolve, Some(git_show), &["resolve", "+14150000000"]);

    let status = ["status", "--json"];
    bench.row(rows, "status (all agents)".into(), bench.time_av(runs.min(5), &status), None, &status);
}

/// Whole-workspace commands on a large config: `check`, `plan`, `export`, `status`.
fn bench_scale(repo: &Repo, runs: usize, av: &Path, rows: &mut Vec<Row>) {
    let size = format!("{} agents, {} channels", repo.agents, repo.agents * 10);
    let dir = &repo.dir;
    let run_av = |args: &[&str]| {
        let mut cmd = Command::new(av);
        cmd.current_dir(dir).args(args);
        hermetic(&mut cmd);
        run_ok(&mut cmd);
    };
    for (operation, args) in [
        ("check", vec!["check"]),
        ("plan (HEAD → work tree)", vec!["plan", "--base", "HEAD"]),
        ("export", vec!["export"]),
        ("status (all agents)", vec!["status", "--json"]),
    ] {
        let t = time(runs, || {}, || run_av(&args));
        rows.push(Row {
            size: size.clone(),
            refs: "packed",
            operation: operation.into(),
            agentver: t,
            git: None,
            peak_kib: peak_kib(dir, av, &args),
        });
    }
}

/// Median time of one call of `f`, timed in batches of `batch` calls.
fn in_process(batches: usize, batch: u32, mut f: impl FnMut()) -> Duration {
    f();
    let mut samples: Vec<Duration> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed() / batch
        })
        .collect();
    samples.sort();
    samples[batches / 2]
}

/// In-process figures through the library: next-version lookup, one agent's history (a cold
/// process's first read, then with the history cache), and the resolver warm and cold.
fn bench_in_process(repo: &Repo, refs: &'static str, rows: &mut Vec<Row>) {
    use agentver::routing::resolve::{Call, Resolver};
    let size = format!("{} × {}", repo.agents, repo.versions);
    let dir = &repo.dir;
    let id = agentver::names::id::AgentId::new(&agent_id(0)).unwrap();
    let ws = agentver::Workspace::discover(dir).unwrap();
    let mut row = |operation: &str, t: Duration| {
        rows.push(Row {
            size: size.clone(),
            refs,
            operation: format!("{operation} (in-process)"),
            agentver: t,
            git: None,
            peak_kib: None,
        });
    };
    row(
        "next-version lookup",
        in_process(21, 50, || {
            std::hint::black_box(agentver::git::latest_version(ws.repo(), ws.names(), &id).unwrap());
        }),
    );
    row(
        "history of one agent",
        in_process(11, 3, || {
            std::hint::black_box(agentver::ops::log::log(&ws, &id, &agentver::DraftAt::WorkTree).unwrap());
        }),
    );
    let resolver = Resolver::new(agentver::Workspace::discover(dir).unwrap(), agentver::DraftAt::WorkTree).unwrap();
    let call = Call { caller: Some("+16505550123"), ..Call::default() };
    row(
        "resolve, warm",
        in_process(21, 10_000, || {
            std::hint::black_box(resolver.resolve("+14150000000", &call).unwrap());
        }),
    );
    // Cold: a resolver that has served one version meets a channel pinned to another.
    let mut cold = Vec::new();
    for i in 0..21u64 {
        let r = Resolver::new(agentver::Workspace::discover(dir).unwrap(), agentver::DraftAt::WorkTree).unwrap();
        r.resolve("+14150000000", &call).unwrap();
        let channel = format!("+{}", 14_150_000_000u64 + 1 + i % 9);
        let start = Instant::now();
        std::hint::black_box(r.resolve(&channel, &call).unwrap());
        cold.push(start.elapsed());
    }
    cold.sort();
    row("resolve, cold (first call for a version)", cold[cold.len() / 2]);
}

fn mktree(dir: &Path, entries: &str) -> String {
    String::from_utf8(run_with_input(git(dir).args(["mktree"]), entries.as_bytes())).unwrap().trim().to_owned()
}

/// The command line: `--sizes 10x100,100x100`, `--runs 15`, `--scale 1000|none`, `--out FILE`.
struct Options {
    sizes: Vec<(usize, u64)>,
    runs: usize,
    /// N agents × 3 versions with 10 channels each: the check/plan/export scenario.
    scale: Option<usize>,
    out: Option<String>,
}

impl Options {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let sizes = arg("--sizes")
            .unwrap_or_else(|| "10x100,100x100,100x1000".into())
            .split(',')
            .map(|s| {
                let (a, v) = s.split_once('x').expect("sizes look like 10x100");
                (a.parse().unwrap(), v.parse().unwrap())
            })
            .collect();
        let scale = match arg("--scale").as_deref() {
            Some("none") => None,
            Some(n) => Some(n.parse().expect("--scale takes a number of agents")),
            None => Some(1000),
        };
        Options { sizes, runs: arg("--runs").map_or(15, |r| r.parse().unwrap()), scale, out: arg("--out") }
    }
}

/// The rows as a Markdown table.
fn table(rows: &[Row]) -> String {
    let mut table = String::from(
        "| agents × versions | refs | operation | agentver | git | ratio | peak memory |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let (git, ratio) = match r.git {
            Some(g) => (ms(g), format!("{:.2}", r.agentver.as_secs_f64() / g.as_secs_f64())),
            None => ("—".into(), "—".into()),
        };
        let peak = r.peak_kib.map_or("—".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {git} | {ratio} | {peak} |",
            r.size,
            r.refs,
            r.operation,
            ms(r.agentver)
        );
    }
    table
}

fn main() {
    let options = Options::parse();
    let runs = options.runs;
    // Cargo builds the binary in the bench profile (release) for this target.
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));
    let started_all = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    // AGENTVER_BENCH_KEEP=DIR: generate into DIR and keep it, for profiling.
    let keep = std::env::var_os("AGENTVER_BENCH_KEEP").map(PathBuf::from);
    let scratch_path = keep.clone().unwrap_or_else(|| scratch.path().to_owned());
    let mut rows = Vec::new();
    for &(agents, versions) in &options.sizes {
        let started = Instant::now();
        let repo = generate(&scratch_path, agents, versions);
        eprintln!("generated {agents} × {versions} in {:.1} s", started.elapsed().as_secs_f64());
        bench_repo(&repo, "loose", runs, &av, &mut rows);
        bench_in_process(&repo, "loose", &mut rows);
        run_ok(git(&repo.dir).args(["pack-refs", "--all"]));
        bench_repo(&repo, "packed", runs, &av, &mut rows);
        bench_in_process(&repo, "packed", &mut rows);
        if keep.is_none() {
            std::fs::remove_dir_all(&repo.dir).unwrap();
        }
    }
    if let Some(agents) = options.scale {
        let started = Instant::now();
        let repo = generate(&scratch_path, agents, 3);
        run_ok(git(&repo.dir).args(["pack-refs", "--all"]));
        eprintln!("generated {agents} × 3 with {} channels in {:.1} s", agents * 10, started.elapsed().as_secs_f64());
        bench_scale(&repo, runs.min(5), &av, &mut rows);
    }
    let table = table(&rows);
    print!("{table}");
    if let Some(path) = options.out {
        let results = format!(
            "# Benchmarks\n\nWritten by `cargo bench --bench harness -- --out BENCHMARKS.md` \
             ({:.1} minutes for this run).\n\nMachine: {}.\n\n\
             Whole processes are medians of {runs} runs after two warm-ups; in-process rows are medians of batches. \
             Ratios compare agentver with the git program doing the same work in the same run:\n\n\
             - publish: `git hash-object -w` ×2, `git mktree` ×3, `git commit-tree`, `git tag -a` (7 processes; given the parent, \
             so it does not look for the previous version);\n\
             - log: `git for-each-ref` over the agent's tags with tagger, date and message;\n\
             - show and resolve: `git show <tag>:<path>`.\n\n\
             Repositories are generated with `git fast-import` in agentver's tag format: N agents × M versions, each agent \
             pinned by 10 channels; measured with loose refs, then after `git pack-refs --all`. The scale rows use \
             1,000 agents × 3 versions and 10,000 channels. Peak memory is GNU time's maximum resident set size.\n\n{table}",
            started_all.elapsed().as_secs_f64() / 60.0,
            machine()
        );
        common::write_block(&path, "results", &results);
        eprintln!("wrote {path}");
    }
}
