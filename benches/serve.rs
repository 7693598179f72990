//! `agentver serve` under load: `GET /v1/resolve` with wrk (Debian's package) on loopback, beside
//! nginx (Debian's package) serving the same response bytes as a static file, the practical
//! ceiling of HTTP on this machine; then the snapshot of 1,000 agents × 3 versions and 10,000
//! channels: build time, resident memory, and how long a commit takes to be served.
//!
//! Run: `cargo bench --bench serve -- [--duration 10] [--out BENCHMARKS.md]`. Installs wrk and
//! nginx with apt-get when they are missing and it runs as root; otherwise says what to install.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::load::{TOKEN, ensure_tools, example_repo, free_port, get, wrk};
use common::{generate, git, hermetic, run_ok};

/// A running serve, its log going to a file (as nginx's access log does).
struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Serve {
    fn start(av: &Path, dir: &Path, interval: &str) -> Serve {
        let port = free_port();
        let log = dir.with_extension("serve.log");
        std::fs::write(dir.with_extension("token"), TOKEN).unwrap();
        let mut cmd = Command::new(av);
        hermetic(&mut cmd);
        let child = cmd
            .current_dir(dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", interval, "--token-file"])
            .arg(dir.with_extension("token"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let serve = Serve { child, port, log };
        let started = Instant::now();
        while get(port, "/readyz").0 != 200 {
            assert!(started.elapsed() < Duration::from_secs(120), "serve never became ready");
            std::thread::sleep(Duration::from_millis(10));
        }
        serve
    }

    fn rss_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The build time serve logged for its latest snapshot.
    fn last_build_ms(&self) -> u64 {
        let log = std::fs::read_to_string(&self.log).unwrap();
        let line = log.lines().rev().find(|l| l.contains("built in")).expect("a snapshot was built");
        line.rsplit("built in ").next().unwrap().trim_end_matches(" ms)").parse().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx serving `files` (the same bytes serve answers with) on a free port.
struct Nginx(Child);

impl Nginx {
    fn start(nginx: &Path, dir: &Path) -> (Nginx, u16) {
        let port = free_port();
        let conf = format!(
            "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 1024; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  \
             fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
             server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n    default_type application/json;\n  }}\n}}\n",
            d = dir.display()
        );
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx)
            .args(["-p"])
            .arg(dir)
            .args(["-e", "stderr", "-c"])
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while get(port, "/pinned.json").0 != 200 {
            assert!(started.elapsed() < Duration::from_secs(10), "nginx did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        (Nginx(child), port)
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its workers too (SIGKILL would leave them running).
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap().trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let version = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .map(|o| {
                let text = [o.stdout, o.stderr].concat();
                String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
            })
            .unwrap_or_default()
    };
    format!(
        "{cpu}, {cores} cores; {}; {}",
        version("wrk", "--version").split(" [").next().unwrap_or(""),
        version("nginx", "-v")
    )
}

/// What the throughput half measured.
struct Throughput {
    table: String,
    budget_ok: bool,
    log_lines: usize,
    answer_bytes: u64,
}

/// wrk scripts that vary the caller on every request.
fn split_script(scratch: &Path, name: &str, base: &str) -> PathBuf {
    let path = scratch.join(format!("{name}.lua"));
    std::fs::write(
        &path,
        format!(
            "math.randomseed(7)\nrequest = function()\n  return wrk.format(nil, \"{base}?channel=%2B14155550199&caller=%2B1555\" .. math.random(1000000, 9999999))\nend\n"
        ),
    )
    .unwrap();
    path
}

/// Throughput and latency of a pinned and a split resolve, beside nginx serving the same bytes.
fn throughput(av: &Path, nginx: &Path, scratch: &Path, seconds: u64) -> Throughput {
    let mut table = String::from(
        "| request | server | requests/s | p50 | p99 | errors | vs nginx |\n|---|---|---|---|---|---|---|\n",
    );
    let repo = scratch.join("example");
    example_repo(av, &repo);
    let serve = Serve::start(av, &repo, "5");
    let www = scratch.join("nginx");
    std::fs::create_dir_all(www.join("www")).unwrap();
    let pinned_path = "/v1/resolve?channel=%2B14155550100&caller=%2B15550001234";
    let split_path = "/v1/resolve?channel=%2B14155550199&caller=%2B15550001234";
    for (name, path) in [("pinned", pinned_path), ("split", split_path)] {
        let (status, body) = get(serve.port, path);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        std::fs::write(www.join(format!("www/{name}.json")), body).unwrap();
    }
    let (nginx_server, nginx_port) = Nginx::start(nginx, &www);
    // The split varies the caller on every request, so every variant and bucket is exercised;
    // nginx gets the same script (its file ignores the query), so both pay wrk's Lua alike.
    let serve_lua = split_script(scratch, "serve", "/v1/resolve");
    let nginx_lua = split_script(scratch, "nginx", "/split.json");
    let mut budget_ok = true;
    let cases = [
        ("pinned channel", format!("http://127.0.0.1:{}{pinned_path}", serve.port), None, "pinned.json", None),
        ("3-way split", format!("http://127.0.0.1:{}/", serve.port), Some(&serve_lua), "", Some(&nginx_lua)),
    ];
    for (name, url, lua, file, nginx_script) in cases {
        let ceiling =
            wrk(&format!("http://127.0.0.1:{nginx_port}/{file}"), seconds, nginx_script.map(PathBuf::as_path));
        let load = wrk(&url, seconds, lua.map(PathBuf::as_path));
        let ratio = load.rps / ceiling.rps;
        budget_ok &= ratio >= 0.8 && load.p99_ms <= 2.0;
        eprintln!("{name}: serve {:.0} req/s p99 {:.2} ms; nginx {:.0} req/s", load.rps, load.p99_ms, ceiling.rps);
        for (server, l, r) in
            [("agentver serve", &load, format!("{ratio:.2}×")), ("nginx, static file", &ceiling, "—".into())]
        {
            let _ = writeln!(
                table,
                "| {name} | {server} | {:.0} | {:.2} ms | {:.2} ms | {} | {r} |",
                l.rps, l.p50_ms, l.p99_ms, l.errors
            );
        }
    }
    drop(nginx_server);
    let log_lines = std::fs::read_to_string(&serve.log).map(|l| l.lines().count()).unwrap_or(0);
    let answer_bytes = std::fs::metadata(www.join("www/pinned.json")).map_or(0, |m| m.len());
    Throughput { table, budget_ok, log_lines, answer_bytes }
}

/// Commits a re-pin `i` in the big repository and waits until the server serves it: (commit →
/// served, the server's rebuild time).
fn commit_until_served(serve: &Serve, dir: &Path, i: usize) -> (Duration, u64) {
    let path = dir.join("channels.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = if i.is_multiple_of(2) {
        text.replacen("version = 3", "version = 2", 1)
    } else {
        text.replacen("version = 2", "version = 3", 1)
    };
    std::fs::write(&path, text).unwrap();
    run_ok(git(dir).args(["commit", "-q", "-am", &format!("re-pin {i}")]));
    let head = String::from_utf8(run_ok(git(dir).args(["rev-parse", "HEAD"]))).unwrap().trim().to_owned();
    let committed = Instant::now();
    loop {
        let (_, body) = get(serve.port, "/healthz");
        if String::from_utf8_lossy(&body).contains(&head) {
            break;
        }
        assert!(committed.elapsed() < Duration::from_secs(60), "never served {head}");
        std::thread::sleep(Duration::from_millis(5));
    }
    (committed.elapsed(), serve.last_build_ms())
}

/// The scale snapshot: build, memory, commit → served; as a table.
fn scale(av: &Path, scratch: &Path) -> String {
    let started = Instant::now();
    let big = generate(scratch, 1000, 3);
    run_ok(git(&big.dir).args(["pack-refs", "--all"]));
    eprintln!("generated 1,000 × 3 with 10,000 channels in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let serve = Serve::start(av, &big.dir, "1");
    let first_ready = started.elapsed();
    let build_ms = serve.last_build_ms();
    let rss = serve.rss_kib("VmRSS:");
    let hwm = serve.rss_kib("VmHWM:");
    let reloads: Vec<(Duration, u64)> = (0..5).map(|i| commit_until_served(&serve, &big.dir, i)).collect();
    let reload_ms: Vec<String> = reloads.iter().map(|(d, _)| d.as_millis().to_string()).collect();
    let rebuild_ms: Vec<String> = reloads.iter().map(|(_, b)| b.to_string()).collect();
    format!(
        "| snapshot of 1,000 agents × 3 versions, 10,000 channels | figure | budget |\n|---|---|---|\n\
         | build (serve's own log) | {build_ms} ms | ≤ 1,000 ms |\n\
         | start → ready (process start, first snapshot) | {} ms | — |\n\
         | resident memory, loaded (VmRSS) | {:.1} MiB | ≤ 200 MiB |\n\
         | peak resident memory (VmHWM) | {:.1} MiB | — |\n\
         | commit → served, `--interval 1`, 5 commits | {} ms | ≤ one interval + build |\n\
         | rebuild on each of those commits | {} ms | — |\n",
        first_ready.as_millis(),
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        reload_ms.join(", "),
        rebuild_ms.join(", "),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = arg("--duration").map_or(10, |d| d.parse().unwrap());
    let out = arg("--out");
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));
    let nginx = ensure_tools();
    let scratch = tempfile::tempdir().unwrap();
    let load = throughput(&av, &nginx, scratch.path(), seconds);
    let scale = scale(&av, scratch.path());
    let verdict = if load.budget_ok { "met" } else { "missed" };
    print!("{}\n{scale}", load.table);
    eprintln!("budget (≥ 0.8× nginx, p99 ≤ 2 ms): {verdict}");
    if let Some(path) = out {
        let results = format!(
            "## Serving calls\n\nWritten by `cargo bench --bench serve -- --out BENCHMARKS.md` (installs Debian's wrk and \
             nginx when missing). Machine: {}.\n\n\
             wrk runs 2 threads, 64 connections, {seconds} s, on loopback, against `agentver serve` (2 worker threads, a \
             bearer token, one log line per request to a file) and, in the same run, nginx serving the byte-identical \
             answer as a static file (`worker_processes auto`, access log on). The split varies the caller on every request \
             (a wrk Lua script), so bucketing runs on each. Answers: the example's sales agent, {} bytes. The run wrote \
             {} log lines.\n\n{}\nBudget ≥ 0.8× nginx's requests/s and p99 ≤ 2 ms: {verdict}. wrk's two threads share the \
             machine's two cores with the server, so tail latency here is mostly scheduling; compare p99 with nginx's \
             in the same run.\n\n{scale}",
            machine(),
            load.answer_bytes,
            load.log_lines,
            load.table,
        );
        common::write_block(&path, "serve", &results);
        eprintln!("wrote {path}");
    }
}
