//! The platforms, as whole processes: each call-start hook under wrk on loopback beside
//! `/v1/resolve` in the same run and server (signature checks included, each call recording its
//! decision as `/v1/resolve` with a call id does), and `render` and `import` of one agent beside
//! `agentver show`.
//!
//! Run: `cargo bench --bench platforms -- [--duration 10] [--out BENCHMARKS.md]`. Installs wrk
//! with apt-get when it is missing and it runs as root.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::hermetic;
use common::load::{Load, TOKEN, ensure_tools, example_repo, free_port, get, wrk, wrk_with};

const VAPI: &str = "bench-vapi-secret-01";
const RETELL: &str = "key_bench_retell_01";
const EL: &str = "bench-el-initiation-01";
const TWILIO: &str = "bench-twilio-token-01";
const PUBLIC: &str = "https://agentver.example";

fn agentver(av: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(av);
    hermetic(&mut cmd);
    cmd.current_dir(dir).args(args);
    cmd
}

/// A wrk Lua script posting `body` with `headers`.
fn script(dir: &Path, name: &str, body: &str, headers: &[(&str, &str)]) -> PathBuf {
    let mut lua = String::from("wrk.method = \"POST\"\n");
    writeln!(lua, "wrk.body = [==[{body}]==]").unwrap();
    for (k, v) in headers {
        writeln!(lua, "wrk.headers[\"{k}\"] = \"{v}\"").unwrap();
    }
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua).unwrap();
    path
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn median_run(av: &Path, dir: &Path, args: &[&str], runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = agentver(av, dir, args).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
            assert!(status.success(), "{args:?}");
            started.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// Waits until the store has committed every decision spooled so far, so one phase's backlog
/// is not the next phase's load.
fn settle(port: u16) {
    let counter = |body: &str, name: &str| -> u64 {
        body.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().last()?.parse().ok()).unwrap_or(0)
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let body = String::from_utf8_lossy(&get(port, "/metrics").1).into_owned();
        if counter(&body, "agentver_call_decisions_recorded_total")
            >= counter(&body, "agentver_call_decisions_spooled_total")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn row(out: &mut String, what: &str, load: &Load, resolve: &Load, light: &Load) {
    writeln!(
        out,
        "| {what} | {:.0} | {:.2}× | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        load.rps,
        load.rps / resolve.rps,
        load.p50_ms,
        load.p99_ms,
        light.p50_ms,
        light.p99_ms,
        load.errors + light.errors
    )
    .unwrap();
}

/// `serve` with every hook's secret, the bench token and a call store; ready.
fn start_serve(av: &Path, dir: &Path) -> (std::process::Child, u16) {
    let config = dir.join("agentver.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    std::fs::write(&config, format!("{text}\n[platforms.twilio]\nstream_url = \"wss://bot.example/ws\"\n")).unwrap();
    let port = free_port();
    let token_file = dir.with_extension("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let store = format!("sqlite:{}", dir.with_extension("sqlite").display());
    let mut cmd = agentver(av, dir, &["serve", "--listen", &format!("127.0.0.1:{port}"), "--calls", &store]);
    cmd.args(["--public-url", PUBLIC, "--token-file"]).arg(&token_file);
    cmd.env("AGENTVER_VAPI_SECRET", VAPI)
        .env("AGENTVER_RETELL_API_KEY", RETELL)
        .env("AGENTVER_ELEVENLABS_INITIATION_TOKEN", EL)
        .env("AGENTVER_ELEVENLABS_INITIATION_HEADER", "x-el-token")
        .env("AGENTVER_TWILIO_AUTH_TOKEN", TWILIO);
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while get(port, "/readyz").0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(60), "serve never became ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, port)
}

fn hooks(av: &Path, dir: &Path, seconds: u64) -> String {
    let (mut child, port) = start_serve(av, dir);
    let base = format!("http://127.0.0.1:{port}");
    let scratch = dir.parent().unwrap();
    let vapi = serde_json::json!({"message": {"type": "assistant-request", "call": {"id": "bench-vapi"},
        "phoneNumber": {"number": "+14155550199"}, "customer": {"number": "+16505550123"}}})
    .to_string();
    let retell = serde_json::json!({"event": "call_inbound", "call_inbound": {"from_number": "+16505550123", "to_number": "+14155550199"}}).to_string();
    let retell_sig = agentver::platforms::retell::sign_retell(RETELL, retell.as_bytes(), now_ms());
    let el = serde_json::json!({"caller_id": "+16505550123", "called_number": "+14155550199", "call_sid": "bench-el", "agent_id": "a"}).to_string();
    let form = [("CallSid", "bench-twilio"), ("From", "+16505550123"), ("To", "+14155550199")];
    let owned: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let twilio_body = "CallSid=bench-twilio&From=%2B16505550123&To=%2B14155550199";
    let twilio_sig = agentver::platforms::twilio::sign(TWILIO, &format!("{PUBLIC}/hooks/twilio"), &owned);
    let json = ("Content-Type", "application/json");

    let resolve_url = format!("{base}/v1/resolve?channel=%2B14155550199&caller=%2B16505550123&call_id=bench-resolve");
    let resolve = wrk(&resolve_url, seconds, None);
    settle(port);
    // Light load (one thread, two connections): the latency of one request, not of a queue.
    let light = |url: &str, lua: Option<&Path>| wrk_with(url, seconds.div_ceil(2), lua, 1, 2);
    let runs = [
        (
            "Vapi `assistant-request` (`X-Vapi-Secret`)",
            "/hooks/vapi",
            script(scratch, "vapi", &vapi, &[json, ("X-Vapi-Secret", VAPI)]),
        ),
        (
            "Retell `call_inbound` (`x-retell-signature`, HMAC-SHA256)",
            "/hooks/retell",
            script(scratch, "retell", &retell, &[json, ("x-retell-signature", &retell_sig)]),
        ),
        (
            "ElevenLabs initiation (header token)",
            "/hooks/elevenlabs/initiation",
            script(scratch, "el", &el, &[json, ("x-el-token", EL)]),
        ),
        (
            "Twilio voice webhook (`X-Twilio-Signature`, HMAC-SHA1), TwiML",
            "/hooks/twilio",
            script(
                scratch,
                "twilio",
                twilio_body,
                &[("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", &twilio_sig)],
            ),
        ),
    ];
    let mut out = String::from(
        "| request | requests/s (64 connections) | × resolve | p50 | p99 | p50, 2 connections | p99, 2 connections | errors |\n|---|---|---|---|---|---|---|---|\n",
    );
    let calm = light(&resolve_url, None);
    settle(port);
    row(&mut out, "`GET /v1/resolve` with a call id (the baseline)", &resolve, &resolve, &calm);
    for (what, path, lua) in &runs {
        let url = format!("{base}{path}");
        let load = wrk(&url, seconds, Some(lua));
        settle(port);
        let calm = light(&url, Some(lua));
        settle(port);
        println!(
            "{what}: {:.0}/s p99 {:.2} ms ({:.2}× resolve); at 2 connections p99 {:.2} ms",
            load.rps,
            load.p99_ms,
            load.rps / resolve.rps,
            calm.p99_ms
        );
        row(&mut out, what, &load, &resolve, &calm);
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    out
}

fn commands(av: &Path, dir: &Path) -> String {
    let file = dir.parent().unwrap().join("assistant.json");
    let status = agentver(av, dir, &["render", "sales", "--platform", "vapi", "-o", file.to_str().unwrap()])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let runs = 21;
    let show = median_run(av, dir, &["show", "sales", "--json"], runs);
    let mut out =
        String::from("| command (one agent, whole process, median of 21) | time | × `show --json` |\n|---|---|---|\n");
    writeln!(out, "| `show sales --json` | {:.2} ms | 1.00× |", show.as_secs_f64() * 1000.0).unwrap();
    for (what, args) in [
        ("`render sales --platform vapi`", vec!["render", "sales", "--platform", "vapi"]),
        ("`render sales --platform retell`", vec!["render", "sales", "--platform", "retell"]),
        ("`render sales --platform elevenlabs`", vec!["render", "sales", "--platform", "elevenlabs"]),
        (
            "`render sales --platform vapi --against FILE`",
            vec!["render", "sales", "--platform", "vapi", "--against", file.to_str().unwrap()],
        ),
        (
            "`import vapi FILE --id bench --dry-run`",
            vec!["import", "vapi", file.to_str().unwrap(), "--id", "bench", "--dry-run"],
        ),
    ] {
        let t = median_run(av, dir, &args, runs);
        println!("{what}: {:.2} ms ({:.2}× show)", t.as_secs_f64() * 1000.0, t.as_secs_f64() / show.as_secs_f64());
        writeln!(out, "| {what} | {:.2} ms | {:.2}× |", t.as_secs_f64() * 1000.0, t.as_secs_f64() / show.as_secs_f64())
            .unwrap();
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = arg("--duration").map_or(10, |d| d.parse().unwrap());
    ensure_tools();
    let av = PathBuf::from(env!("CARGO_BIN_EXE_agentver"));
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("repo");
    example_repo(&av, &dir);
    let hooks = hooks(&av, &dir, seconds);
    let commands = commands(&av, &dir);
    print!("{hooks}\n{commands}");
    if let Some(path) = arg("--out") {
        let results = format!(
            "## Platforms\n\nWritten by `cargo bench --bench platforms -- --out BENCHMARKS.md`. wrk 2 threads, 64 \
             connections, {seconds} s each, on loopback against one `serve` (release build, 2 cores, wrk on the same \
             cores); the split line +14155550199 (three variants, sticky by caller), so each hook resolves, \
             buckets and answers from the snapshot's cache, and records its decision where the platform gives a call \
             id (all but Retell's `call_inbound`); each phase starts once the store has committed the last one's \
             decisions. Budget: each hook ≥ 0.8× \
             resolve's requests/s and p99 ≤ 2 ms (at 64 connections the p99 is wrk's queue on the same two cores, resolve's too; at 2 connections it is one request's time); `render` and `import` ≤ 1.2× `show`.\n\n{hooks}\n{commands}"
        );
        common::write_block(&path, "platforms", &results);
        eprintln!("wrote {path}");
    }
}
