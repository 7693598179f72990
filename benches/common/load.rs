//! Load on a local server: wrk and nginx from Debian's packages, a free port, a minimal HTTP
//! client, and the example repository with sales v1..v3, a pinned line and a 3-way split.

#![allow(dead_code)]

use std::io::{Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{git, hermetic, run_ok};

pub const TOKEN: &str = "bench-token-5d1c";

pub fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}

/// wrk and nginx, from Debian's packages when missing.
pub fn ensure_tools() -> PathBuf {
    let nginx = || ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists());
    if have("wrk") && nginx().is_some() {
        return nginx().unwrap();
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    assert!(root, "this benchmark needs wrk and nginx: apt-get install wrk nginx");
    eprintln!("installing wrk and nginx (Debian packages)");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "wrk", "nginx"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get").args(["update", "-q"]).stdout(Stdio::null()).status();
        assert!(install(), "apt-get install wrk nginx failed");
    }
    nginx().expect("nginx installed")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A minimal HTTP/1.1 GET: status and body.
pub fn get(port: u16, path: &str) -> (u16, Vec<u8>) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return (0, Vec::new()) };
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Vec::new());
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let Some(split) = reply.windows(4).position(|w| w == b"\r\n\r\n") else { return (0, Vec::new()) };
    let status = std::str::from_utf8(&reply[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, reply[split + 4..].to_vec())
}

/// The example config with sales v1..v3, a pinned line and a 3-way split, committed.
pub fn example_repo(av: &Path, dir: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("agents.example");
    std::fs::create_dir_all(dir).unwrap();
    run_ok(git(dir).args(["init", "-q", "-b", "main"]));
    run_ok(Command::new("cp").arg("-R").arg(example.join(".")).arg(dir));
    let agentver = |args: &[&str]| {
        let mut cmd = Command::new(av);
        hermetic(&mut cmd);
        run_ok(cmd.current_dir(dir).args(args));
    };
    agentver(&["publish", "--all", "-m", "one"]);
    for (from, to) in [("temperature: 0.3", "temperature: 0.4"), ("temperature: 0.4", "temperature: 0.5")] {
        let path = dir.join("agents/sales.yaml");
        let text = std::fs::read_to_string(&path).unwrap().replacen(from, to, 1);
        std::fs::write(&path, text).unwrap();
        agentver(&["publish", "sales", "-m", "warmer"]);
    }
    agentver(&["pin", "+14155550100", "sales@v1"]);
    agentver(&["ab", "+14155550199", "a=sales@v1:34", "b=sales@v2:33", "c=sales@v3:33"]);
    run_ok(git(dir).args(["add", "-A"]));
    run_ok(git(dir).args(["commit", "-q", "-m", "pins"]));
}

pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// Requests completed (wrk's "N requests in").
    pub requests: u64,
}

pub fn millis(text: &str) -> f64 {
    let (number, unit): (String, String) = text.chars().partition(|c| c.is_ascii_digit() || *c == '.');
    let n: f64 = number.parse().unwrap();
    match unit.as_str() {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        other => panic!("unit {other}"),
    }
}

/// wrk with 2 threads and 64 connections; `script` (Lua) varies each request when given.
pub fn wrk(url: &str, seconds: u64, script: Option<&Path>) -> Load {
    wrk_with(url, seconds, script, 2, 64)
}

/// wrk with `threads` threads and `connections` connections.
pub fn wrk_with(url: &str, seconds: u64, script: Option<&Path>, threads: u32, connections: u32) -> Load {
    let mut cmd = Command::new("wrk");
    let (t, c) = (format!("-t{threads}"), format!("-c{connections}"));
    cmd.args([&t, &c, &format!("-d{seconds}s"), "--latency", "-H", &format!("Authorization: Bearer {TOKEN}")]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = run_ok(cmd.arg(url));
    let text = String::from_utf8_lossy(&out);
    let field =
        |prefix: &str| text.lines().find_map(|l| l.trim_start().strip_prefix(prefix).map(|r| r.trim().to_owned()));
    let errors = text
        .lines()
        .filter(|l| l.contains("Socket errors") || l.contains("Non-2xx"))
        .flat_map(|l| l.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).collect::<Vec<_>>())
        .sum();
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Load {
        requests,
        rps: field("Requests/sec:").unwrap_or_else(|| panic!("wrk said: {text}")).parse().unwrap(),
        p50_ms: millis(&field("50%").unwrap()),
        p99_ms: millis(&field("99%").unwrap()),
        errors,
    }
}
