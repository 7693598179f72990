//! Call records at scale: `calls import` throughput (records per second, SQLite) and `stats` over
//! 1,000,000 calls, as whole processes.
//!
//! Run: `cargo bench --bench calls -- [--import 100000] [--calls 1000000] [--out BENCHMARKS.md]`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{git, hermetic, run_ok};

fn record(i: u64) -> String {
    let version = 1 + i % 3;
    let variant = ["control", "test"][usize::from(i.is_multiple_of(5))];
    format!(
        "{{\"call_id\":\"call-{i}\",\"agent\":\"sales\",\"version\":{version},\"tree\":\"{:040x}\",\"variant\":\"{variant}\",\
         \"channel\":\"+14155550199\",\"started_at\":\"2026-11-{:02}T{:02}:{:02}:{:02}Z\",\"duration_ms\":{},\"success\":{},\
         \"cost\":{:.3},\"sentiment\":\"{}\",\"analysis\":{{\"demo_booked\":{},\"team_size\":\"{}\"}}}}",
        version,
        1 + i % 28,
        i % 24,
        i % 60,
        (i / 60) % 60,
        30_000 + (i * 7919) % 240_000,
        (i * 31 + version) % 10 < 6 + version,
        0.05 + (i % 17) as f64 / 100.0,
        ["positive", "neutral", "negative"][(i % 3) as usize],
        i.is_multiple_of(4),
        ["solo", "small", "medium"][(i % 3) as usize],
    )
}

fn agentver(av: &Path, dir: &Path, args: &[&str]) -> Duration {
    let mut cmd = Command::new(av);
    hermetic(&mut cmd);
    let started = Instant::now();
    run_ok(cmd.current_dir(dir).args(args));
    started.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let import_n: u64 = arg("--import").map_or(100_000, |n| n.parse().unwrap());
    let calls_n: u64 = arg("--calls").map_or(1_000_000, |n| n.parse().unwrap());
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    run_ok(git(&dir).args(["init", "-q", "-b", "main"]));
    let mut table = String::from("| operation | calls | time | rate |\n|---|---|---|---|\n");

    // Import throughput: one file, one transaction, every record merged.
    let file = scratch.path().join("calls.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for i in 0..import_n {
        writeln!(out, "{}", record(i)).unwrap();
    }
    drop(out);
    let store = format!("sqlite:{}", scratch.path().join("import.sqlite").display());
    let took = agentver(&av, &dir, &["calls", "import", file.to_str().unwrap(), "--calls", &store]);
    let rate = import_n as f64 / took.as_secs_f64();
    eprintln!("import: {import_n} records in {:.2} s ({rate:.0}/s)", took.as_secs_f64());
    let _ = writeln!(
        table,
        "| `calls import` (JSON Lines, SQLite) | {import_n} | {:.2} s | {rate:.0} records/s (budget ≥ 5,000) |",
        took.as_secs_f64()
    );

    // stats over many calls: the store filled by import in batches of 100,000.
    let big = format!("sqlite:{}", scratch.path().join("big.sqlite").display());
    let started = Instant::now();
    let mut done = 0;
    while done < calls_n {
        let n = (calls_n - done).min(100_000);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for i in done..done + n {
            writeln!(out, "{}", record(i)).unwrap();
        }
        drop(out);
        agentver(&av, &dir, &["calls", "import", file.to_str().unwrap(), "--calls", &big]);
        done += n;
    }
    eprintln!("filled {calls_n} calls in {:.1} s", started.elapsed().as_secs_f64());
    let mut samples: Vec<Duration> = (0..3)
        .map(|_| agentver(&av, &dir, &["stats", "sales", "--compare", "v2", "v3", "--json", "--calls", &big]))
        .collect();
    samples.sort();
    let stats_time = samples[1];
    eprintln!("stats over {calls_n}: {:.2} s", stats_time.as_secs_f64());
    let _ = writeln!(
        table,
        "| `stats sales --compare v2 v3` (SQLite) | {calls_n} | {:.2} s | median of 3 (budget ≤ 2 s) |",
        stats_time.as_secs_f64()
    );
    let by_variant = agentver(&av, &dir, &["calls", "--version", "2", "--limit", "100", "--json", "--calls", &big]);
    let _ = writeln!(
        table,
        "| `calls --version 2 --limit 100` (SQLite) | {calls_n} | {:.3} s | indexed on agent, version, time |",
        by_variant.as_secs_f64()
    );
    print!("{table}");
    if let Some(path) = arg("--out") {
        let results = format!(
            "## Call records\n\nWritten by `cargo bench --bench calls -- --out BENCHMARKS.md`. Whole processes on the \
             2-core machine; generated records carry every field (analysis included).\n\n{table}"
        );
        common::write_block(&path, "calls", &results);
        eprintln!("wrote {path}");
    }
}
