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

/// Peak resident memory of one run of `cmd`, in KiB, through GNU time.
fn peak_kib(dir: &Path, program: &Path, args: &[&str]) -> Option<u64> {
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
        .ok()?;
    String::from_utf8_lossy(&out.stderr).lines().last()?.trim().parse().ok()
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

fn bench_repo(repo: &Repo, refs: &'static str, runs: usize, av: &Path, rows: &mut Vec<Row>) {
    let size = format!("{} × {}", repo.agents, repo.versions);
    let dir = &repo.dir;
    let id = agent_id(0);
    let run_av = |args: &[&str]| {
        let mut cmd = Command::new(av);
        cmd.current_dir(dir).args(args);
        hermetic(&mut cmd);
        run_ok(&mut cmd);
    };

    // publish: each run edits the draft (untimed), then publishes one version.
    let draft = dir.join(format!("agents/{id}.yaml"));
    let base = if refs == "loose" { 1_000_000 } else { 5_000_000 };
    let mut counter = base;
    let publish = time(
        runs,
        || {
            counter += 1;
            std::fs::write(&draft, agent_yaml(&id, counter)).unwrap();
        },
        || run_av(&["publish", &id]),
    );
    // The same work with git: hash both files, build three trees, commit, tag.
    let n = std::cell::Cell::new(base);
    let git_publish = time(
        runs,
        || {
            n.set(n.get() + 1);
            std::fs::write(&draft, agent_yaml(&id, 2_000_000 + n.get())).unwrap();
        },
        || {
            let n = n.get();
            let blob =
                String::from_utf8(run_ok(git(dir).args(["hash-object", "-w", &format!("agents/{id}.yaml")]))).unwrap();
            let tool =
                String::from_utf8(run_ok(git(dir).args(["hash-object", "-w", "tools/book_appointment.yaml"]))).unwrap();
            let agents_tree = mktree(dir, &format!("100644 blob {}\t{id}.yaml\n", blob.trim()));
            let tools_tree = mktree(dir, &format!("100644 blob {}\tbook_appointment.yaml\n", tool.trim()));
            let root = mktree(dir, &format!("040000 tree {agents_tree}\tagents\n040000 tree {tools_tree}\ttools\n"));
            let parent = format!("agent/{id}/v{}^{{commit}}", repo.versions);
            let commit = String::from_utf8(run_ok(git(dir).args([
                "commit-tree",
                &root,
                "-p",
                &parent,
                "-m",
                &format!("{id}: bench"),
            ])))
            .unwrap();
            let message = format!("{id} bench\n\nAgentver-Agent: {id}\nAgentver-Version: 0\n");
            run_ok(git(dir).args(["tag", "-a", "-m", &message, &format!("gitseq/{refs}/{id}/v{n}"), commit.trim()]));
        },
    );
    std::fs::write(&draft, agent_yaml(&id, 3_000_000 + base)).unwrap();
    rows.push(Row {
        size: size.clone(),
        refs,
        operation: "publish one version".into(),
        agentver: publish,
        git: Some(git_publish),
        peak_kib: peak_kib(dir, av, &["publish", &id]),
    });

    // log of one agent vs for-each-ref over its tags with tagger, date and message.
    let log = time(runs, || {}, || run_av(&["log", &id, "--json"]));
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
    rows.push(Row {
        size: size.clone(),
        refs,
        operation: format!("log {id} --json"),
        agentver: log,
        git: Some(git_log),
        peak_kib: peak_kib(dir, av, &["log", &id, "--json"]),
    });

    // show one version's file vs git show tag:path.
    let v = repo.versions / 2 + 1;
    let spec = format!("{id}@v{v}");
    let rev = format!("agent/{id}/v{v}:agents/{id}.yaml");
    let show = time(runs, || {}, || run_av(&["show", &spec]));
    let git_show = time(
        runs,
        || {},
        || {
            run_ok(git(dir).args(["show", &rev]));
        },
    );
    rows.push(Row {
        size: size.clone(),
        refs,
        operation: format!("show {spec}"),
        agentver: show,
        git: Some(git_show),
        peak_kib: peak_kib(dir, av, &["show", &spec]),
    });

    // resolve a pinned channel vs git show of the pinned file.
    let resolve = time(runs, || {}, || run_av(&["resolve", "+14150000000", "--caller", "+16505550123"]));
    rows.push(Row {
        size: size.clone(),
        refs,
        operation: "resolve (pinned channel)".into(),
        agentver: resolve,
        git: Some(git_show),
        peak_kib: peak_kib(dir, av, &["resolve", "+14150000000"]),
    });

    let status = time(runs.min(5), || {}, || run_av(&["status", "--json"]));
    rows.push(Row {
        size,
        refs,
        operation: "status (all agents)".into(),
        agentver: status,
        git: None,
        peak_kib: peak_kib(dir, av, &["status", "--json"]),
    });
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let sizes: Vec<(usize, u64)> = arg("--sizes")
        .unwrap_or_else(|| "10x100,100x100,100x1000".into())
        .split(',')
        .map(|s| {
            let (a, v) = s.split_once('x').expect("sizes look like 10x100");
            (a.parse().unwrap(), v.parse().unwrap())
        })
        .collect();
    let runs: usize = arg("--runs").map_or(15, |r| r.parse().unwrap());
    // N agents × 3 versions with 10 channels each: the check/plan/export scenario.
    let scale: Option<usize> = match arg("--scale").as_deref() {
        Some("none") => None,
        Some(n) => Some(n.parse().expect("--scale takes a number of agents")),
        None => Some(1000),
    };
    let out = arg("--out");
    // Cargo builds the binary in the bench profile (release) for this target.
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));

    let started_all = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    // AGENTVER_BENCH_KEEP=DIR: generate into DIR and keep it, for profiling.
    let keep = std::env::var_os("AGENTVER_BENCH_KEEP").map(PathBuf::from);
    let scratch_path = keep.clone().unwrap_or_else(|| scratch.path().to_owned());
    let mut rows = Vec::new();
    for (agents, versions) in sizes {
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

    if let Some(agents) = scale {
        let started = Instant::now();
        let repo = generate(&scratch_path, agents, 3);
        run_ok(git(&repo.dir).args(["pack-refs", "--all"]));
        eprintln!("generated {agents} × 3 with {} channels in {:.1} s", agents * 10, started.elapsed().as_secs_f64());
        bench_scale(&repo, runs.min(5), &av, &mut rows);
    }

    let mut table = String::from(
        "| agents × versions | refs | operation | agentver | git | ratio | peak memory |\n|---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
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
    print!("{table}");
    if let Some(path) = out {
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
