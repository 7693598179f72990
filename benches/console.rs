//! The console's pages, as whole processes: 1,000 agents × 3 versions and 1,000,000 calls, each
//! page under wrk on loopback from `serve` (the snapshot) and from `agentver console` (the work
//! tree, kept while its files are unchanged); the stats page beside the `stats` command; the
//! assets' size.
//!
//! Run: `cargo bench --bench console -- [--calls 1000000] [--duration 5] [--out BENCHMARKS.md]
//! [--repo DIR] [--only serve|console]`. With `--repo`, the repository and its calls are made in DIR
//! once and reused by later runs.
//! Installs wrk with apt-get when it is missing and it runs as root.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::load::{ensure_tools, free_port, get, wrk_with};
use common::{agent_id, hermetic, run_ok};

/// One call of agent-0000: version 1..3 with its real tree, success and duration varied.
fn record(i: u64, trees: &[String]) -> String {
    let v = (i % 3) as usize;
    format!(
        "{{\"call_id\":\"call-{i}\",\"agent\":\"agent-0000\",\"version\":{},\"tree\":\"{}\",\"channel\":\"+1555000{:04}\",\
         \"started_at\":\"2026-11-{:02}T{:02}:{:02}:{:02}Z\",\"duration_ms\":{},\"success\":{}}}",
        v + 1,
        trees[v],
        i % 10,
        1 + i % 28,
        i % 24,
        i % 60,
        (i / 60) % 60,
        30_000 + (i * 7919) % 240_000,
        (i * 31 + v as u64) % 10 < 7 + v as u64,
    )
}

fn agentver(av: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(av);
    cmd.current_dir(dir).args(args);
    hermetic(&mut cmd);
    cmd
}

/// Fills the repository's default store with `calls` records, 200,000 per import.
fn fill(av: &Path, dir: &Path, calls: u64) {
    let trees: Vec<String> = (1..=3)
        .map(|v| {
            let rev = format!("agent/{}/v{v}^{{tree}}", agent_id(0));
            String::from_utf8(run_ok(common::git(dir).args(["rev-parse", &rev]))).unwrap().trim().to_owned()
        })
        .collect();
    let file = dir.join("../calls.jsonl");
    let mut done = 0;
    while done < calls {
        let n = (calls - done).min(200_000);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for i in done..done + n {
            writeln!(out, "{}", record(i, &trees)).unwrap();
        }
        drop(out);
        run_ok(&mut agentver(av, dir, &["calls", "import", file.to_str().unwrap()]));
        done += n;
        eprintln!("imported {done} calls");
    }
}

fn start(av: &Path, dir: &Path, args: &[&str], port: u16) -> Child {
    let child = agentver(av, dir, args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("agentver starts");
    let until = Instant::now() + Duration::from_secs(120);
    while get(port, "/").0 != 200 {
        assert!(Instant::now() < until, "no page from port {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
    child
}

const PAGES: &[(&str, &str)] = &[
    ("agents", "/"),
    ("history", "/agents/agent-0000"),
    ("version", "/agents/agent-0000/versions/v2"),
    ("compare", "/agents/agent-0000/compare?from=1&to=3"),
    ("channels", "/channels"),
    ("calls", "/calls"),
    ("calls, filtered", "/calls?agent=agent-0000&version=2&success=false&since=2026-11-10T00:00:00Z&page=3"),
    ("one call", "/calls/call-12345"),
    ("stats (1M calls)", "/agents/agent-0000/stats?compare=v2,v3"),
];

/// Each page under wrk, one thread and two connections (a page's own time, not wrk's queue);
/// returns the stats page's first load (before anything is kept for it).
fn pages(port: u16, seconds: u64, mode: &str, table: &mut String) -> Duration {
    let mut first_stats = Duration::ZERO;
    for (name, path) in PAGES {
        let started = Instant::now();
        let (status, body) = get(port, path);
        if name.starts_with("stats") {
            first_stats = started.elapsed();
        }
        assert_eq!(status, 200, "{mode} {path}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
        let seconds = if name.starts_with("stats") { seconds.max(10) } else { seconds };
        let load = wrk_with(&format!("http://127.0.0.1:{port}{path}"), seconds, None, 1, 2);
        eprintln!("{mode} {name}: p50 {:.2} ms, p99 {:.2} ms, {:.0}/s", load.p50_ms, load.p99_ms, load.rps);
        writeln!(
            table,
            "| {mode} | {name} | `{path}` | {:.1} KB | {:.2} ms | {:.2} ms | {:.0} | {} |",
            body.len() as f64 / 1000.0,
            load.p50_ms,
            load.p99_ms,
            load.rps,
            load.errors
        )
        .unwrap();
    }
    first_stats
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = arg("--duration").map_or(5, |d| d.parse().unwrap());
    let calls: u64 = arg("--calls").map_or(1_000_000, |d| d.parse().unwrap());
    ensure_tools();
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));
    let scratch = tempfile::tempdir().unwrap();
    let kept = arg("--repo").map(PathBuf::from);
    let root = kept.clone().unwrap_or_else(|| scratch.path().to_owned());
    let made = root.join("r1000x3");
    let ready = root.join("r1000x3.ready");
    let dir = if ready.exists() {
        made
    } else {
        let _ = std::fs::remove_dir_all(&made);
        let repo = common::generate(&root, 1000, 3);
        fill(&av, &repo.dir, calls);
        std::fs::write(&ready, "").unwrap();
        repo.dir
    };
    let only = arg("--only");
    // The command's time: the median of three runs (the first also warms the page cache).
    let mut runs: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            run_ok(&mut agentver(&av, &dir, &["stats", &agent_id(0), "--compare", "v2", "v3", "--json"]));
            started.elapsed()
        })
        .collect();
    runs.sort();
    let stats_command = runs[1];
    let mut table = String::from(
        "| mode | page | URL | size | p50 | p99 | requests/s | errors |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut firsts = Vec::new();
    for (mode, command) in [("serve", "serve"), ("console", "console")] {
        if only.as_deref().is_some_and(|o| o != mode) {
            continue;
        }
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut child = start(&av, &dir, &[command, "--listen", &listen], port);
        firsts.push(format!("{mode} {:.2} s", pages(port, seconds, mode, &mut table).as_secs_f64()));
        let _ = child.kill();
        let _ = child.wait();
    }
    let assets: usize = agentver::console::assets::ALL.iter().map(|(_, _, b)| b.len()).sum();
    let summary = format!(
        "`stats {} --compare v2 v3` over the same {calls} calls: {:.2} s (median of 3 runs); the stats page's first load, \
         before a report is kept: {}. The reloads under wrk get the report kept while the store has had no commit \
         (a new call makes the next load compute it again). The console's assets: {:.1} KB in all \
         (htmx {}, the stylesheet and the time-zone script; budget ≤ 100 KB).\n",
        agent_id(0),
        stats_command.as_secs_f64(),
        firsts.join(", "),
        assets as f64 / 1000.0,
        agentver::console::assets::HTMX_VERSION
    );
    print!("{table}\n{summary}");
    if let Some(path) = arg("--out") {
        let results = format!(
            "## Console\n\nWritten by `cargo bench --bench console -- --out BENCHMARKS.md`. A generated repository of \
             1,000 agents × 3 versions (10,000 pinned channels) and {calls} calls of agent-0000 in the default SQLite \
             store; each page under wrk (1 thread, 2 connections, {seconds} s, 10 s for stats) on loopback, release \
             build, 2 cores, wrk on the same cores; `serve` answers from its snapshot, `console` keeps what it made \
             from the work tree until the kernel (inotify) reports a change to its files. Budget: p99 ≤ 50 ms \
             for every page; the stats page ≤ the `stats` command.\n\n\
             {table}\n{summary}"
        );
        common::write_block(&path, "console", &results);
        eprintln!("wrote {path}");
    }
}
