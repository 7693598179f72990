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

/// What a wrk script sends on each request.
enum Body {
    /// The same body every time (Retell's `call_inbound` carries no call id).
    Fixed(String),
    /// A fresh call id in the body each time, where `@ID@` stands.
    Fresh(String),
    /// A fresh call id in the query (`GET /v1/resolve`).
    Query,
    /// Twilio's forms, each with a fresh `CallSid` and signed in advance (Twilio signs each
    /// body): `count` of them for each run, never one call id twice, sent with `header`.
    Signed { count: usize, header: &'static str },
}

/// A wrk Lua script for `body` with `headers`. Call ids are fresh on each request, as a
/// platform's are on each call (one call id on every request would make the store merge one
/// call of hundreds of thousands of events). `paced`: each connection waits a millisecond
/// before each request, so the latency measured is one request's, not a queue's.
fn script(dir: &Path, name: &str, body: &Body, headers: &[(&str, &str)], paced: bool) -> PathBuf {
    let prefix = format!("{name}-{}-{}", if paced { "p" } else { "f" }, now_ms());
    let mut lua = String::from(
        "local threads = 0\nfunction setup(thread) thread:set(\"tid\", threads); threads = threads + 1 end\n",
    );
    writeln!(lua, "local n = 0\nlocal function id() n = n + 1; return \"{prefix}-\" .. tid .. \"-\" .. n end").unwrap();
    if !matches!(body, Body::Query) {
        lua.push_str("wrk.method = \"POST\"\n");
    }
    for (k, v) in headers {
        writeln!(lua, "wrk.headers[\"{k}\"] = \"{v}\"").unwrap();
    }
    match body {
        Body::Fixed(text) => writeln!(lua, "wrk.body = [==[{text}]==]").unwrap(),
        Body::Fresh(text) => {
            let (pre, post) = text.split_once("@ID@").expect("a body with @ID@");
            writeln!(
                lua,
                "request = function() return wrk.format(nil, nil, nil, [==[{pre}]==] .. id() .. [==[{post}]==]) end"
            )
            .unwrap();
        }
        Body::Query => {
            lua.push_str("request = function() return wrk.format(nil, wrk.path .. \"&call_id=\" .. id()) end\n")
        }
        Body::Signed { count, header } => {
            // Each wrk run signs its own calls: a call id sent again would make the store merge
            // that call's history, which is not what a platform sends. Two threads, two halves.
            let file = twilio_bodies(dir, &prefix, &format!("{PUBLIC}/hooks/twilio"), *count);
            writeln!(
                lua,
                "local bodies, sigs = {{}}, {{}}\n\
                 for line in io.lines([==[{}]==]) do local b, s = line:match(\"([^\\t]*)\\t(.*)\"); bodies[#bodies + 1] = b; sigs[#sigs + 1] = s end\n\
                 local i = -1\n\
                 request = function()\n  if i < 0 then i = tid * math.floor(#bodies / 2) end\n  i = i % #bodies + 1\n  \
                 wrk.headers[\"{header}\"] = sigs[i]\n  return wrk.format(nil, nil, nil, bodies[i])\nend",
                file.display()
            )
            .unwrap();
        }
    }
    if paced {
        lua.push_str("function delay() return 1 end\n");
    }
    let path = dir.join(format!("{prefix}.lua"));
    std::fs::write(&path, lua).unwrap();
    path
}

/// Twilio voice webhooks for `n` calls, each form signed for `url`: `body<TAB>signature` lines,
/// in `<prefix>.tsv`. The call ids hold the prefix's hash, so no two runs share one.
fn twilio_bodies(dir: &Path, prefix: &str, url: &str, n: usize) -> PathBuf {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(prefix.as_bytes());
    let run = u128::from(hasher.finish());
    let mut out = String::with_capacity(n * 112);
    for i in 0..n {
        let sid = format!("CA{:032x}", run << 64 | i as u128);
        let form = [("CallSid", sid.as_str()), ("From", "+16505550123"), ("To", "+14155550199")];
        let owned: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let signature =
            agentver::platforms::twilio::sign(TWILIO, url, &owned, agentver::platforms::twilio::Algorithm::Sha1);
        writeln!(out, "CallSid={sid}&From=%2B16505550123&To=%2B14155550199\t{signature}").unwrap();
    }
    let path = dir.join(format!("{prefix}.tsv"));
    std::fs::write(&path, out).unwrap();
    path
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Each command's median time over `rounds`, the commands taken in turn within each round, so
/// a machine that drifts during the bench shifts them all alike.
fn medians(av: &Path, dir: &Path, commands: &[Vec<&str>], rounds: usize) -> Vec<Duration> {
    let mut times = vec![Vec::with_capacity(rounds); commands.len()];
    for _ in 0..rounds {
        for (args, times) in commands.iter().zip(&mut times) {
            let started = Instant::now();
            let status = agentver(av, dir, args).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
            assert!(status.success(), "{args:?}");
            times.push(started.elapsed());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[rounds / 2]
        })
        .collect()
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

/// A row: what is asked, its path, what it sends, and its headers.
type Hook<'a> = (&'a str, &'a str, Body, Vec<(&'a str, &'a str)>);

/// One hook's figures: flat out at 64 connections, flat out at 2, and paced at 2 ([`PACED_ROUNDS`]
/// runs, each after a paced run of resolve).
struct Runs {
    load: Load,
    flat: Load,
    paced: Vec<Load>,
    /// Resolve's paced runs, one just before each of the hook's.
    resolve_paced: Vec<Load>,
}

/// Paced runs per hook: the p99 of a few thousand requests moves with whatever else the machine
/// does in those seconds, so the figure is the median of three, with their range beside it.
const PACED_ROUNDS: usize = 3;

/// The run with the median p99.
fn median(runs: &[Load]) -> &Load {
    let mut sorted: Vec<&Load> = runs.iter().collect();
    sorted.sort_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms));
    sorted[sorted.len() / 2]
}

fn row(out: &mut String, what: &str, runs: &Runs, resolve: &Load) {
    let Runs { load, flat, paced, resolve_paced } = runs;
    let (middle, low, high) = (
        median(paced),
        paced.iter().map(|l| l.p99_ms).fold(f64::INFINITY, f64::min),
        paced.iter().map(|l| l.p99_ms).fold(0.0, f64::max),
    );
    let errors: u64 = [load, flat].iter().map(|l| l.errors).sum::<u64>()
        + paced.iter().chain(resolve_paced).map(|l| l.errors).sum::<u64>();
    writeln!(
        out,
        "| {what} | {:.0} | {:.2}× ({:.0}) | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms ({low:.2}–{high:.2}) | {:.2} ms | {errors} |",
        load.rps,
        load.rps / resolve.rps,
        resolve.rps,
        load.p50_ms,
        load.p99_ms,
        flat.rps,
        flat.p99_ms,
        middle.rps,
        middle.p50_ms,
        middle.p99_ms,
        median(resolve_paced).p99_ms,
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

/// The baseline and the four call-start hooks, each in its platform's documented shape.
/// `retell_sig` is Retell's signature of `retell`; `seconds`, a run's length, sizes Twilio's
/// supply of signed calls.
fn hook_list<'a>(seconds: u64, retell: &str, retell_sig: &'a str) -> [Hook<'a>; 5] {
    let vapi = serde_json::json!({"message": {"type": "assistant-request", "call": {"id": "@ID@"},
        "phoneNumber": {"number": "+14155550199"}, "customer": {"number": "+16505550123"}}})
    .to_string();
    let el = serde_json::json!({"caller_id": "+16505550123", "called_number": "+14155550199", "call_sid": "@ID@", "agent_id": "a"}).to_string();
    let json = ("Content-Type", "application/json");
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    [
        (
            "`GET /v1/resolve` with a call id (the baseline)",
            "/v1/resolve?channel=%2B14155550199&caller=%2B16505550123",
            Body::Query,
            vec![],
        ),
        (
            "Vapi `assistant-request` (`X-Vapi-Secret`)",
            "/hooks/vapi",
            Body::Fresh(vapi),
            vec![json, ("X-Vapi-Secret", VAPI)],
        ),
        (
            "Retell `call_inbound` (`x-retell-signature`, HMAC-SHA256)",
            "/hooks/retell",
            Body::Fixed(retell.to_owned()),
            vec![json, ("x-retell-signature", retell_sig)],
        ),
        (
            "ElevenLabs initiation (header token)",
            "/hooks/elevenlabs/initiation",
            Body::Fresh(el),
            vec![json, ("x-el-token", EL)],
        ),
        (
            "Twilio voice webhook (`X-Twilio-Signature`, HMAC-SHA1), TwiML",
            "/hooks/twilio",
            // More calls than the fastest run answers (about 40,000/s here), so none repeats.
            Body::Signed { count: 60_000 * seconds as usize, header: "X-Twilio-Signature" },
            vec![form],
        ),
    ]
}

fn hooks(av: &Path, dir: &Path, seconds: u64) -> (String, f64) {
    let (mut child, port) = start_serve(av, dir);
    let base = format!("http://127.0.0.1:{port}");
    let scratch = dir.parent().unwrap();
    let retell = serde_json::json!({"event": "call_inbound", "call_inbound": {"from_number": "+16505550123", "to_number": "+14155550199"}}).to_string();
    let retell_sig = agentver::platforms::retell::sign_retell(RETELL, retell.as_bytes(), now_ms());
    let hooks = hook_list(seconds, &retell, &retell_sig);
    let mut out = String::from(
        "| request | requests/s, 64 connections | × resolve (resolve's requests/s just before) | p50 | p99 | requests/s, 2 connections flat out | p99 | requests/s, 2 connections paced | p50 | p99, median of 3 (range) | resolve's paced p99, same rounds | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut worst_paced: f64 = 0.0;
    let (resolve_path, resolve_body) = (hooks[0].1, &hooks[0].2);
    for (i, (what, path, body, headers)) in hooks.iter().enumerate() {
        let url = format!("{base}{path}");
        let name = format!("hook{i}");
        // Resolve again just before each hook: the store grows and the machine drifts during
        // the run, so each hook is compared with the resolve run next to it.
        let baseline = if i == 0 {
            None
        } else {
            let load = wrk(
                &format!("{base}{resolve_path}"),
                seconds,
                Some(&script(scratch, "base", resolve_body, &[], false)),
            );
            settle(port);
            Some(load)
        };
        let load = wrk(&url, seconds, Some(&script(scratch, &name, body, headers, false)));
        settle(port);
        // Two connections flat out: wrk alone keeps both cores busy, so this p99 is scheduling.
        let flat = wrk_with(&url, seconds.div_ceil(2), Some(&script(scratch, &name, body, headers, false)), 1, 2);
        settle(port);
        // Two connections, each a millisecond between requests: one request's own time, in
        // rounds that alternate with resolve's, so both meet the same moments of the machine.
        let paced_run = |url: &str, name: &str, body: &Body, headers: &[(&str, &str)]| {
            let load = wrk_with(url, seconds.div_ceil(3), Some(&script(scratch, name, body, headers, true)), 1, 2);
            settle(port);
            load
        };
        let (mut paced, mut resolve_paced) = (Vec::new(), Vec::new());
        for _ in 0..PACED_ROUNDS {
            resolve_paced.push(paced_run(&format!("{base}{resolve_path}"), "base", resolve_body, &[]));
            paced.push(paced_run(&url, &name, body, headers));
        }
        let baseline = baseline.unwrap_or(Load { ..load });
        let runs = Runs { load, flat, paced, resolve_paced };
        println!(
            "{what}: {:.0}/s p99 {:.2} ms ({:.2}× resolve); 2 connections flat out p99 {:.2} ms, paced p99 {:?} ms \
             (resolve's {:?})",
            runs.load.rps,
            runs.load.p99_ms,
            runs.load.rps / baseline.rps,
            runs.flat.p99_ms,
            runs.paced.iter().map(|l| l.p99_ms).collect::<Vec<_>>(),
            runs.resolve_paced.iter().map(|l| l.p99_ms).collect::<Vec<_>>(),
        );
        worst_paced = worst_paced.max(median(&runs.paced).p99_ms);
        row(&mut out, what, &runs, &baseline);
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    (out, worst_paced)
}

fn commands(av: &Path, dir: &Path) -> String {
    let file = dir.parent().unwrap().join("assistant.json");
    let status = agentver(av, dir, &["render", "sales", "--platform", "vapi", "-o", file.to_str().unwrap()])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let file = file.to_str().unwrap();
    let rounds = 101;
    let commands = [
        ("`show sales --json`", vec!["show", "sales", "--json"]),
        ("`render sales --platform vapi`", vec!["render", "sales", "--platform", "vapi"]),
        ("`render sales --platform retell`", vec!["render", "sales", "--platform", "retell"]),
        ("`render sales --platform elevenlabs`", vec!["render", "sales", "--platform", "elevenlabs"]),
        (
            "`render sales --platform vapi --against FILE`",
            vec!["render", "sales", "--platform", "vapi", "--against", file],
        ),
        ("`import vapi FILE --id bench --dry-run`", vec!["import", "vapi", file, "--id", "bench", "--dry-run"]),
    ];
    let args: Vec<Vec<&str>> = commands.iter().map(|(_, args)| args.clone()).collect();
    let times = medians(av, dir, &args, rounds);
    let mut out = format!(
        "| command (one agent, whole process; median of {rounds} rounds, the commands in turn) | time | × `show --json` |\n|---|---|---|\n"
    );
    for ((what, _), t) in commands.iter().zip(&times) {
        let ratio = t.as_secs_f64() / times[0].as_secs_f64();
        println!("{what}: {:.2} ms ({ratio:.2}× show)", t.as_secs_f64() * 1000.0);
        writeln!(out, "| {what} | {:.2} ms | {ratio:.2}× |", t.as_secs_f64() * 1000.0).unwrap();
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
    let (hooks, worst_paced) = hooks(&av, &dir, seconds);
    let commands = commands(&av, &dir);
    print!("{hooks}\n{commands}");
    if let Some(path) = arg("--out") {
        let results = format!(
            "## Platforms\n\nWritten by `cargo bench --bench platforms -- --out BENCHMARKS.md`. wrk 2 threads, 64 \
             connections, {seconds} s each, on loopback against one `serve` (release build, 2 cores, wrk on the same \
             cores); the split line +14155550199 (three variants, sticky by caller), so each hook resolves, \
             buckets and answers from the snapshot's cache, and records its decision where the platform gives a call \
             id (all but Retell's `call_inbound`); each phase starts once the store has committed the last one's \
             decisions, and each hook is compared with a resolve run just before it. Budget: each hook ≥ 0.8× \
             resolve's requests/s and p99 ≤ 2 ms. Flat out, wrk keeps both cores busy even at 2 connections \
             (tens of thousands of requests a second), so those p99s are the scheduler's queue, resolve's as much as a \
             hook's, and answers held back (50 ms at most) while the store's writer is more than 2,048 decisions \
             behind; paced, each of 2 connections sends a request a millisecond after the last answer, well above any \
             phone system's call rate, and the p99 is one request's time: three runs of {} s per hook, each just after \
             a paced run of resolve, the median p99 of each (worst of the five: {worst_paced:.2} ms, budget {}). Call ids are fresh on every request, as a platform's are on \
             every call (Twilio: forms signed in advance for each run, more than it answers, none sent twice). \
             `render` and `import` ≤ 1.2× `show`.\n\n{hooks}\n{commands}",
            seconds.div_ceil(3),
            if worst_paced <= 2.0 { "met" } else { "missed" }
        );
        common::write_block(&path, "platforms", &results);
        eprintln!("wrote {path}");
    }
}
