//! Call records at scale, as whole processes: `calls import` throughput and peak memory (SQLite,
//! and PostgreSQL when given one), `stats` over 1,000,000 calls, and ingest under load: wrk
//! resolving with a fresh call id on every request while runtimes post reports and a 200,000-record
//! import runs beside the server, then SIGTERM, and every acknowledged decision counted in the
//! store. Given a PostgreSQL server, also the flood on PostgreSQL (issue 30): one replica on
//! SQLite, one on PostgreSQL and three on one PostgreSQL, each behind wrk with a fresh call id on
//! every resolve, then SIGTERM and every acknowledged decision looked for in the store.
//!
//! Run: `cargo bench --bench calls -- [--import 200000] [--calls 1000000] [--duration 30]
//! [--postgres postgres://…] [--out BENCHMARKS.md]`; `--flood-only` runs the PostgreSQL flood
//! alone (it needs `--postgres`); `AGENTVER_BENCH_BINARY=PATH` measures another build. Installs wrk with apt-get when it is missing and it runs as
//! root.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::load::{TOKEN, ensure_tools, example_repo, free_port, get, wrk, wrk_with};
use common::{git, hermetic, run_ok};

/// One generated record of sales: version 1..3 with its real tree and split variant a..c.
fn record(i: u64, trees: &[String; 3]) -> String {
    let v = (i % 3) as usize;
    format!(
        "{{\"call_id\":\"call-{i}\",\"agent\":\"sales\",\"version\":{},\"tree\":\"{}\",\"variant\":\"{}\",\
         \"channel\":\"+14155550199\",\"started_at\":\"2026-11-{:02}T{:02}:{:02}:{:02}Z\",\"duration_ms\":{},\"success\":{},\
         \"cost\":{:.3},\"sentiment\":\"{}\",\"analysis\":{{\"demo_booked\":{},\"team_size\":\"{}\"}}}}",
        v + 1,
        trees[v],
        ["a", "b", "c"][v],
        1 + i % 28,
        i % 24,
        i % 60,
        (i / 60) % 60,
        30_000 + (i * 7919) % 240_000,
        (i * 31 + v as u64) % 10 < 7 + v as u64,
        0.05 + (i % 17) as f64 / 100.0,
        ["positive", "neutral", "negative"][(i % 3) as usize],
        i.is_multiple_of(4),
        ["solo", "small", "medium"][(i % 3) as usize],
    )
}

fn write_records(file: &Path, range: std::ops::Range<u64>, trees: &[String; 3]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    for i in range {
        writeln!(out, "{}", record(i, trees)).unwrap();
    }
}

/// Runs a command to its end: how long it took and its peak resident memory (VmHWM, KiB).
fn measured(mut cmd: Command) -> (Duration, u64) {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            let hwm = status.lines().find(|l| l.starts_with("VmHWM:"));
            peak = peak.max(hwm.and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(status.success(), "{cmd:?}: {err}");
            return (started.elapsed(), peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn agentver(av: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(av);
    hermetic(&mut cmd);
    cmd.current_dir(dir).args(args);
    cmd
}

struct Bench {
    av: PathBuf,
    dir: PathBuf,
    scratch: PathBuf,
    trees: [String; 3],
    table: String,
}

impl Bench {
    fn import(&mut self, n: u64, store: &str, what: &str) -> (f64, u64) {
        let file = self.scratch.join(format!("import-{n}.jsonl"));
        write_records(&file, 0..n, &self.trees);
        let (took, peak) =
            measured(agentver(&self.av, &self.dir, &["calls", "import", file.to_str().unwrap(), "--calls", store]));
        let rate = n as f64 / took.as_secs_f64();
        eprintln!("import {what}: {n} records in {:.2} s ({rate:.0}/s), peak {peak} KiB", took.as_secs_f64());
        let _ = writeln!(
            self.table,
            "| `calls import` ({what}) | {n} | {:.2} s | {rate:.0} records/s | {:.1} MiB |",
            took.as_secs_f64(),
            peak as f64 / 1024.0
        );
        (rate, peak)
    }

    /// The store filled with `calls` records in files of 200,000, then `stats` timed.
    fn stats(&mut self, calls: u64) {
        let big = format!("sqlite:{}", self.scratch.join("big.sqlite").display());
        let file = self.scratch.join("fill.jsonl");
        let mut done = 0;
        while done < calls {
            let n = (calls - done).min(200_000);
            write_records(&file, done..done + n, &self.trees);
            measured(agentver(&self.av, &self.dir, &["calls", "import", file.to_str().unwrap(), "--calls", &big]));
            done += n;
        }
        let mut samples: Vec<Duration> = (0..3)
            .map(|_| {
                measured(agentver(
                    &self.av,
                    &self.dir,
                    &["stats", "sales", "--compare", "v2", "v3", "--json", "--calls", &big],
                ))
                .0
            })
            .collect();
        samples.sort();
        eprintln!("stats over {calls}: {:.2} s", samples[1].as_secs_f64());
        let _ = writeln!(
            self.table,
            "| `stats sales --compare v2 v3` (SQLite, median of 3) | {calls} | {:.2} s | | |",
            samples[1].as_secs_f64()
        );
        let by_version = measured(agentver(
            &self.av,
            &self.dir,
            &["calls", "--version", "2", "--limit", "100", "--json", "--calls", &big],
        ))
        .0;
        let _ = writeln!(
            self.table,
            "| `calls --version 2 --limit 100` (SQLite) | {calls} | {:.3} s | | |",
            by_version.as_secs_f64()
        );
    }
}

/// wrk's script: every request a fresh call id (thread id and a counter) and caller.
fn unique_ids(scratch: &Path, prefix: &str) -> PathBuf {
    let path = scratch.join(format!("unique-{prefix}.lua"));
    std::fs::write(
        &path,
        "local threads = 0\nfunction setup(thread) thread:set(\"tid\", threads); threads = threads + 1 end\n\
         local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, \"/v1/resolve?channel=%2B14155550199&caller=%2B1555\" .. tid .. n .. \"&call_id=wPREFIX\" .. tid .. \"-\" .. n)\nend\n"
            .replace("PREFIX", prefix),
    )
    .unwrap();
    path
}

/// A counter from serve's `/metrics`.
fn metric(port: u16, name: &str) -> u64 {
    let text = String::from_utf8(get(port, "/metrics").1).unwrap_or_default();
    text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok()).unwrap_or(0)
}

/// Posts a report every 10 ms until `until`: each answer's latency, and any failure.
fn reporter(port: u16, until: Instant, prefix: &str) -> std::thread::JoinHandle<(Vec<f64>, usize)> {
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        let http = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().new_agent();
        let (mut latencies, mut failed, mut i) = (Vec::new(), 0, 0);
        while Instant::now() < until {
            let body = format!("{{\"call_id\":\"report-{prefix}-{i}\",\"success\":true,\"duration_ms\":60000}}");
            let started = Instant::now();
            let answer = http
                .post(format!("http://127.0.0.1:{port}/v1/calls"))
                .header("Authorization", format!("Bearer {TOKEN}"))
                .content_type("application/json")
                .send(body);
            match answer {
                Ok(r) if r.status() == 200 => latencies.push(started.elapsed().as_secs_f64() * 1000.0),
                _ => failed += 1,
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        latencies.sort_by(f64::total_cmp);
        (latencies, failed)
    })
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

fn start_serve(b: &Bench, store: &str) -> (Child, u16) {
    start_replica(b, store, "serve")
}

/// `agentver serve` on `store`, its log in `<repo>.<name>.log`; returns once it is ready.
fn start_replica(b: &Bench, store: &str, name: &str) -> (Child, u16) {
    let port = free_port();
    std::fs::write(b.dir.with_extension("token"), TOKEN).unwrap();
    let mut cmd = agentver(
        &b.av,
        &b.dir,
        &["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "5", "--calls", store, "--token-file"],
    );
    let child = cmd
        .arg(b.dir.with_extension("token"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(b.dir.with_extension(format!("{name}.log"))).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while get(port, "/readyz").0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(60), "serve never became ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, port)
}

/// What one flood phase measured.
struct Phase {
    load: common::load::Load,
    committed_per_s: f64,
    /// Decisions acknowledged (spooled) per second over the same window.
    spooled_per_s: f64,
    /// Decisions spooled but not committed yet when the flood ended.
    backlog: u64,
    reports: Vec<f64>,
    failed: usize,
    import: Option<Duration>,
}

/// wrk resolving with fresh call ids for `seconds` while reports are posted; with `import`,
/// that file is imported beside it from second 2.
fn phase(b: &Bench, port: u16, seconds: u64, prefix: &str, import: Option<(&Path, &str)>) -> Phase {
    let script = unique_ids(&b.scratch, prefix);
    let reports = reporter(port, Instant::now() + Duration::from_secs(seconds), prefix);
    let importer = import.map(|(file, store)| {
        let cmd = agentver(&b.av, &b.dir, &["calls", "import", file.to_str().unwrap(), "--calls", store]);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            measured(cmd).0
        })
    });
    let (recorded, spooled) = ("agentver_call_decisions_recorded_total", "agentver_call_decisions_spooled_total");
    let before = (metric(port, recorded), metric(port, spooled));
    let load = wrk(&format!("http://127.0.0.1:{port}/v1/resolve"), seconds, Some(&script));
    let after = (metric(port, recorded), metric(port, spooled));
    let (reports, failed) = reports.join().unwrap();
    let import = importer.map(|i| i.join().unwrap());
    Phase {
        load,
        committed_per_s: (after.0 - before.0) as f64 / seconds as f64,
        spooled_per_s: (after.1 - before.1) as f64 / seconds as f64,
        backlog: after.1.saturating_sub(after.0),
        reports,
        failed,
        import,
    }
}

fn phase_rows(table: &mut String, name: &str, p: &Phase) {
    let r = &p.reports;
    let _ = writeln!(
        table,
        "| {name} | {:.0}/s (p50 {:.2} ms, p99 {:.2} ms) | {:.0}/s of {:.0}/s acknowledged; {} waiting at the end | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} posted, {} failed) |",
        p.load.rps,
        p.load.p50_ms,
        p.load.p99_ms,
        p.committed_per_s,
        p.spooled_per_s,
        p.backlog,
        percentile(r, 0.5),
        percentile(r, 0.99),
        r.last().copied().unwrap_or(f64::NAN),
        r.len(),
        p.failed
    );
}

/// Ingest under load, then SIGTERM: acknowledged decisions against what the store holds.
fn ingest(b: &mut Bench, seconds: u64, import_n: u64) {
    let path = b.scratch.join("ingest.sqlite");
    let store = format!("sqlite:{}", path.display());
    let (mut serve, port) = start_serve(b, &store);
    let file = b.scratch.join("alongside.jsonl");
    write_records(&file, 0..import_n, &b.trees);
    let alone = phase(b, port, seconds, "a", None);
    let beside = phase(b, port, seconds, "b", Some((&file, &store)));
    let drain = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &serve.id().to_string()]).status();
    assert!(serve.wait().unwrap().success(), "serve did not stop cleanly");
    let drained = drain.elapsed();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: i64 =
        conn.query_row("SELECT COUNT(*) FROM calls WHERE call_id GLOB 'w[ab]*'", [], |r| r.get(0)).unwrap();
    let acknowledged: u64 = [&alone, &beside].iter().map(|p| p.load.requests.saturating_sub(p.load.errors)).sum();
    let errors: u64 = alone.load.errors + beside.load.errors;
    let lost = acknowledged.saturating_sub(stored as u64);
    eprintln!(
        "ingest: alone {:.0}/s committed {:.0}/s; beside {:.0}/s committed {:.0}/s; {acknowledged} acknowledged, {stored} stored, lost {lost}; drained {:.2} s",
        alone.load.rps,
        alone.committed_per_s,
        beside.load.rps,
        beside.committed_per_s,
        drained.as_secs_f64()
    );
    let _ = write!(
        b.table,
        "\n**Ingest under load** (SQLite; wrk 2 threads, 64 connections, a fresh call id on every resolve; a report \
         `POST /v1/calls` every 10 ms; first {seconds} s alone, then {seconds} s with a {import_n}-record `calls import` \
         beside it from its second 2; then SIGTERM):\n\n\
         | phase | resolves with a call id answered | decisions committed (of acknowledged, same window) | `POST /v1/calls` |\n|---|---|---|---|\n"
    );
    phase_rows(&mut b.table, "flood alone", &alone);
    phase_rows(&mut b.table, "flood and an import beside it", &beside);
    let behind = alone.backlog as f64 / alone.spooled_per_s.max(1.0) * 1000.0;
    let _ = write!(
        b.table,
        "\nFlood alone: the store committed {:.1}% of what was acknowledged in the same window and ended {} decisions \
         ({behind:.0} ms of resolves) behind; it commits {} per transaction, so a backlog within two batches is the \
         batch in flight, not a store falling behind. Budget (the store never falls behind the resolve rate): {}.\n",
        alone.committed_per_s / alone.spooled_per_s.max(1.0) * 100.0,
        alone.backlog,
        agentver::calls::writer::BATCH,
        if alone.backlog <= 2 * agentver::calls::writer::BATCH as u64 { "met" } else { "missed" }
    );
    let _ = write!(
        b.table,
        "\nAcknowledged (2xx) {acknowledged}, non-2xx {errors}; in the store after SIGTERM {stored}: **{lost} lost**. SIGTERM to \
         exit (requests finished, spool drained into the store): {:.2} s. The import beside the flood: {import_n} records in \
         {:.1} s, exit 0.\n",
        drained.as_secs_f64(),
        beside.import.unwrap_or_default().as_secs_f64()
    );
}

/// wrk's script for several replicas: thread `i` sends every request to `ports[i % n]` (wrk
/// sets a thread's address in `setup`), each request with a fresh call id `<prefix><thread>-<n>`.
fn spread_over(scratch: &Path, prefix: &str, ports: &[u16]) -> PathBuf {
    let path = scratch.join(format!("spread-{prefix}.lua"));
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let script = format!(
        "local ports = {{{}}}\nlocal threads = 0\n\
         function setup(thread)\n  thread.addr = wrk.lookup(\"127.0.0.1\", ports[(threads % #ports) + 1])[1]\n  \
         thread:set(\"tid\", threads)\n  threads = threads + 1\nend\n\
         local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, \
         \"/v1/resolve?channel=%2B14155550199&caller=%2B1555\" .. tid .. n .. \"&call_id={prefix}\" .. tid .. \"-\" .. n)\nend\n",
        ports.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
    );
    std::fs::write(&path, script).unwrap();
    path
}

/// CPU seconds `pid` has used (user and system), with what its children that ended used when
/// `children` (Linux: `/proc/PID/stat`, in clock ticks of 1/100 s).
fn cpu_seconds(pid: u32, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    let ended = if children { ticks(13) + ticks(14) } else { 0.0 };
    (ticks(11) + ticks(12) + ended) / 100.0
}

/// CPU seconds a PostgreSQL server has used: its postmaster, every process it started that is
/// still running (backends, autovacuum, the WAL writer) and those that ended.
fn postgres_cpu(postmaster: u32) -> f64 {
    let children =
        std::fs::read_dir("/proc").unwrap().flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok());
    let parent = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
    };
    cpu_seconds(postmaster, true)
        + children.filter(|p| parent(*p) == Some(postmaster)).map(|p| cpu_seconds(p, false)).sum::<f64>()
}

/// One row of the flood: `replicas` servers on `store` behind one wrk, then SIGTERM; `count`
/// answers how many calls whose id starts with the prefix the store holds.
fn flood_row(
    b: &mut Bench,
    (what, prefix): (&str, &str),
    store: &str,
    replicas: usize,
    seconds: u64,
    count: &dyn Fn(&str) -> u64,
    postmaster: Option<u32>,
) -> f64 {
    let servers: Vec<(Child, u16)> =
        (0..replicas).map(|i| start_replica(b, store, &format!("flood-{prefix}-{i}"))).collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.1).collect();
    let script = spread_over(&b.scratch, prefix, &ports);
    let (threads, connections) = if replicas == 1 { (2, 64) } else { (replicas as u32, 21 * replicas as u32) };
    let sum = |name: &str| ports.iter().map(|p| metric(*p, name)).sum::<u64>();
    let (recorded, spooled) = ("agentver_call_decisions_recorded_total", "agentver_call_decisions_spooled_total");
    let pids: Vec<u32> = servers.iter().map(|s| s.0.id()).collect();
    let cpu = || pids.iter().map(|p| cpu_seconds(*p, false)).sum::<f64>() + postmaster.map_or(0.0, postgres_cpu);
    let cpu_before = cpu();
    let load =
        wrk_with(&format!("http://127.0.0.1:{}/v1/resolve", ports[0]), seconds, Some(&script), threads, connections);
    let cpu_per_resolve = (cpu() - cpu_before) / load.requests.max(1) as f64 * 1e6;
    let (committed, acknowledged_by_servers) = (sum(recorded), sum(spooled));
    for (mut child, _) in servers {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(child.wait().unwrap().success(), "serve did not stop cleanly");
    }
    let stored = count(prefix);
    let acknowledged = load.requests.saturating_sub(load.errors);
    let lost = acknowledged.saturating_sub(stored);
    eprintln!(
        "flood {what}: {:.0}/s p50 {:.2} ms p99 {:.2} ms, {cpu_per_resolve:.0} µs of CPU per resolve; {acknowledged} acknowledged, {stored} stored, {lost} lost",
        load.rps, load.p50_ms, load.p99_ms
    );
    let _ = writeln!(
        b.table,
        "| {what} | {threads} threads, {connections} connections | {:.0} | {:.2} ms | {:.2} ms | {cpu_per_resolve:.0} µs | {committed} of {acknowledged_by_servers} ({:.1}%) | {acknowledged} → {stored}: **{lost} lost** | {} |",
        load.rps,
        load.p50_ms,
        load.p99_ms,
        committed as f64 / acknowledged_by_servers.max(1) as f64 * 100.0,
        load.errors
    );
    load.rps
}

/// The flood of issue 30's budget: one replica on SQLite, one on PostgreSQL, three on one
/// PostgreSQL, each on a new store, `seconds` of wrk each.
fn postgres_flood(b: &mut Bench, url: &str, seconds: u64) {
    let database = |name: &str| {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    };
    let pg_count = |store: String| {
        move |prefix: &str| -> u64 {
            let mut client = postgres::Client::connect(&store, postgres::NoTls).unwrap();
            let row =
                client.query_one("SELECT count(*) FROM calls WHERE call_id LIKE $1", &[&format!("{prefix}%")]).unwrap();
            row.get::<_, i64>(0) as u64
        }
    };
    // The server's postmaster, when it runs here: the parent of this connection's backend.
    let postmaster = {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let backend: i32 = client.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let stat = std::fs::read_to_string(format!("/proc/{backend}/stat")).unwrap_or_default();
        stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
    };
    let sqlite_path = b.scratch.join("flood.sqlite");
    let sqlite_count = |prefix: &str| -> u64 {
        let conn = rusqlite::Connection::open(&sqlite_path).unwrap();
        conn.query_row("SELECT COUNT(*) FROM calls WHERE call_id GLOB ?1", [format!("{prefix}*")], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
    };
    b.table = String::from(
        "| servers, store | wrk | resolves/s | p50 | p99 | CPU per resolve (servers and PostgreSQL) | decisions committed of acknowledged (at wrk's end) | acknowledged → stored after SIGTERM | non-2xx |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let sqlite_store = format!("sqlite:{}", sqlite_path.display());
    let sqlite = flood_row(b, ("1 replica, SQLite", "fs"), &sqlite_store, 1, seconds, &sqlite_count, None);
    let one_store = database("flood_one");
    let one =
        flood_row(b, ("1 replica, PostgreSQL", "fp"), &one_store, 1, seconds, &pg_count(one_store.clone()), postmaster);
    let three_store = database("flood_three");
    let three = flood_row(
        b,
        ("3 replicas, one PostgreSQL", "ft"),
        &three_store,
        3,
        seconds,
        &pg_count(three_store.clone()),
        postmaster,
    );
    let _ = write!(
        b.table,
        "\nOne replica on PostgreSQL: {:.2}× its rate on SQLite (budget ≥ 0.9×, p99 ≤ 15 ms). Three replicas on one \
         PostgreSQL: {:.2}× one replica's rate (budget ≥ 2×).\n",
        one / sqlite,
        three / one
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let number = |name: &str, default: u64| arg(name).map_or(default, |n| n.parse().unwrap());
    let (import_n, calls_n, seconds) =
        (number("--import", 200_000), number("--calls", 1_000_000), number("--duration", 30));
    ensure_tools();
    let flood_only = args.iter().any(|a| a == "--flood-only");
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("repo");
    // AGENTVER_BENCH_BINARY: another build to measure (an earlier commit's, for a before/after).
    let av = std::env::var_os("AGENTVER_BENCH_BINARY")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_agentver")), PathBuf::from);
    example_repo(&av, &dir);
    let tree = |n: u64| {
        String::from_utf8(run_ok(git(&dir).args(["rev-parse", &format!("agent/sales/v{n}^{{tree}}")])))
            .unwrap()
            .trim()
            .to_owned()
    };
    let mut b = Bench {
        av,
        dir: dir.clone(),
        scratch: scratch.path().to_owned(),
        trees: [tree(1), tree(2), tree(3)],
        table: String::from("| operation | records | time | rate | peak memory |\n|---|---|---|---|---|\n"),
    };
    if flood_only {
        let url = arg("--postgres").expect("--flood-only needs --postgres URL");
        postgres_flood(&mut b, &url, seconds);
        print!("{}", b.table);
        if let Some(path) = arg("--out") {
            common::write_block(&path, "calls-postgres", &flood_block(&b.table, seconds));
            eprintln!("wrote {path}");
        }
        return;
    }
    let sqlite = |name: &str| format!("sqlite:{}", scratch.path().join(name).display());
    b.import(import_n / 4, &sqlite("quarter.sqlite"), "SQLite, a quarter of the file");
    let (rate, _) = b.import(import_n, &sqlite("import.sqlite"), "SQLite");
    if let Some(url) = arg("--postgres") {
        b.import(import_n, &url, "PostgreSQL");
    }
    b.stats(calls_n);
    ingest(&mut b, seconds, import_n);
    print!("{}", b.table);
    if let Some(path) = arg("--out") {
        let results = format!(
            "## Call records\n\nWritten by `cargo bench --bench calls -- --out BENCHMARKS.md`. Whole processes on the \
             2-core machine; generated records carry every field (analysis included) and a valid attribution, \
             checked against the repository on import. Budgets: import ≥ 20,000 records/s on SQLite and ≥ 5,000/s \
             on PostgreSQL, peak memory flat in the file's size (SQLite import here: {rate:.0}/s).\n\n{}",
            b.table
        );
        common::write_block(&path, "calls", &results);
        eprintln!("wrote {path}");
    }
    if let Some(url) = arg("--postgres") {
        postgres_flood(&mut b, &url, seconds);
        print!("{}", b.table);
        if let Some(path) = arg("--out") {
            common::write_block(&path, "calls-postgres", &flood_block(&b.table, seconds));
        }
    }
}

/// The PostgreSQL flood's section of BENCHMARKS.md.
fn flood_block(table: &str, seconds: u64) -> String {
    format!(
        "### Throughput on PostgreSQL\n\nWritten by `cargo bench --bench calls -- --postgres URL --flood-only --out \
         BENCHMARKS.md`. Each row: new store, the servers started (`agentver serve`, a bearer token, the example's \
         3-way split), wrk resolving for {seconds} s with a fresh call id on every request (so every answer records a \
         decision), on loopback; then SIGTERM to every server and the store counted. With three replicas one wrk \
         runs three threads and sends each thread's requests to its own replica (wrk's `setup` sets the thread's \
         address). wrk, PostgreSQL and the servers share the machine's 2 cores. CPU per resolve is what the servers \
         and every process of the PostgreSQL server used during wrk's run (`/proc/PID/stat`), over the requests \
         wrk completed; wrk's own is not in it.\n\n{table}"
    )
}
