//! Call records end to end with the real binary: a resolve with a call id, the platform's signed
//! webhooks, `calls --version`, `stats` (versions and a split), `replay` after the tag moved,
//! `calls import` all-or-nothing. Run against SQLite and against a real PostgreSQL server.

use crate::screen::{self, snap};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::env::TestEnv;
use crate::serve::{Server, published};

pub const RETELL_KEY: &str = "key_test_4b1d";

/// A PostgreSQL server for the tests: `AGENTVER_TEST_POSTGRES` (what `.ci/run` starts), else a
/// throwaway cluster started here from Debian's postgresql package (as `nobody` when root).
fn postgres_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("AGENTVER_TEST_POSTGRES") {
            return url;
        }
        let find = || {
            std::fs::read_dir("/usr/lib/postgresql")
                .ok()
                .and_then(|d| d.flatten().map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).max())
        };
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if find().is_none() && root {
            // As .ci/run does: Debian's package, so `cargo test` alone works on a fresh machine.
            let install = || {
                Command::new("apt-get")
                    .args(["install", "-y", "-qq", "postgresql"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !install() {
                let _ = Command::new("apt-get").args(["update", "-qq"]).status();
                install();
            }
        }
        let cluster = Cluster::create(find().expect("PostgreSQL is not installed: apt-get install postgresql, or set AGENTVER_TEST_POSTGRES"), root);
        cluster.start();
        // Tests have no teardown: a watchdog stops the cluster and removes it when this process ends.
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runuser}{pg_ctl} -D {data} -m immediate stop; rm -rf {dir}",
            pid = std::process::id(),
            runuser = if root { "runuser -u nobody -- " } else { "" },
            pg_ctl = cluster.bin.join("pg_ctl").display(),
            data = cluster.dir.join("data").display(),
            dir = cluster.dir.display(),
        );
        // `setsid -f` forks the watchdog off and returns at once; waiting reaps only setsid.
        Command::new("setsid")
            .args(["-f", "sh", "-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        let url = cluster.url();
        // Leaked on purpose: the cluster lives as long as the test process (the watchdog stops it).
        std::mem::forget(cluster);
        url
    })
}

/// A PostgreSQL cluster of Debian's package in a temporary folder, run as `nobody` when root:
/// what a test that stops and restarts the database owns.
pub struct Cluster {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
    root: bool,
}

impl Cluster {
    fn create(bin: std::path::PathBuf, root: bool) -> Cluster {
        let dir = tempfile::tempdir().unwrap().keep();
        if root {
            assert!(Command::new("chown").arg("nobody").arg(&dir).status().unwrap().success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { bin, dir, port, root };
        let data = cluster.dir.join("data");
        cluster.run("initdb", &["-D", data.to_str().unwrap(), "-U", "agentver", "--auth=trust", "-E", "UTF8"]);
        cluster
    }

    /// A cluster of its own (PostgreSQL installed as `postgres_server` installs it).
    pub fn private() -> Cluster {
        postgres_server();
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.flatten().map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).max())
            .expect("PostgreSQL is installed");
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        Cluster::create(bin, root)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd.args(args).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn start(&self) {
        let options = format!("-k {} -c listen_addresses=127.0.0.1 -p {} -c fsync=off", self.dir.display(), self.port);
        let (data, log) = (self.dir.join("data"), self.dir.join("log"));
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-o", &options, "-l", log.to_str().unwrap(), "-w", "start"]);
    }

    /// `pg_ctl stop -m fast`, as an orchestrator's restart or a failover does.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", self.dir.join("data").to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    pub fn url(&self) -> String {
        format!("postgres://agentver@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if self.root {
            let _ = Command::new("runuser")
                .args(["-u", "nobody", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        } else {
            let _ = Command::new(self.bin.join("pg_ctl"))
                .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database on the test server, as a store URL.
pub fn postgres_store() -> String {
    let server = postgres_server();
    let name = format!("t{}_{}", std::process::id(), rand_suffix());
    let mut client = postgres::Client::connect(server, postgres::NoTls).expect("the test PostgreSQL server");
    client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{}_{nanos}", N.fetch_add(1, Ordering::Relaxed))
}

/// `serve` with a call store, answering `(status, JSON)`.
pub struct Serve(pub Server);

impl Serve {
    pub fn start(env: &TestEnv, store: &str) -> Serve {
        let mut cmd = env.av_cmd(&["serve", "--listen", "127.0.0.1:0", "--interval", "1", "--calls", store]);
        cmd.env("AGENTVER_RETELL_API_KEY", RETELL_KEY);
        Serve::spawn(cmd)
    }

    pub fn spawn(cmd: Command) -> Serve {
        let server = Server::spawn(cmd, None);
        server.wait_for(|s| s.get("/readyz").status == 200, "ready");
        Serve(server)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self.0.get(path);
        (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let r = self.0.post_with(path, body, headers);
        (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Lines of generic records: `n` calls of `version` of sales in `env` (and `variant`),
/// `successes` of them successful, durations spread around `mean_ms`.
pub fn records(
    env: &TestEnv,
    prefix: &str,
    version: u64,
    variant: Option<&str>,
    n: u64,
    successes: u64,
    mean_ms: u64,
) -> String {
    let tree = env.rev(&format!("agent/sales/v{version}^{{tree}}"));
    (0..n)
        .map(|i| {
            json!({
                "call_id": format!("{prefix}-{i}"), "agent": "sales", "version": version, "tree": tree,
                "variant": variant, "channel": "+14155550199",
                "started_at": format!("2026-11-2{}T10:{:02}:{:02}Z", i % 5, i % 60, (i * 7) % 60),
                "duration_ms": mean_ms - 500 + (i * 37) % 1000, "success": i < successes, "cost": 0.10 + (i % 3) as f64 / 100.0,
                "sentiment": if i % 4 == 0 { "negative" } else { "positive" },
                "analysis": {"demo_booked": i % 2 == 0, "team_size": if i % 3 == 0 { "small" } else { "solo" }}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn calls_json(env: &TestEnv, store: &str, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["calls", "--json", "--limit", "10000", "--calls", store];
    args.extend_from_slice(filters);
    env.av(&args).ok().json().as_array().unwrap().clone()
}

fn end_to_end(env: &TestEnv, store: &str) {
    let v1_config = env.av(&["show", "sales@v1", "--json"]).ok().json()["config"].clone();
    recorded_over_http(env, store, &v1_config);

    // The tag moves; replay still gives the configuration that served the call, by tree.
    let v2 = env.rev("agent/sales/v2^{commit}");
    env.git(&["tag", "-f", "-a", "-m", "moved", "agent/sales/v1", &v2]);
    let replay = env.av(&["replay", "c-100", "--json", "--calls", store]).ok().json();
    assert_eq!(replay["config"], v1_config);
    assert_eq!(replay["call"]["call_id"], json!("c-100"));

    imported_and_compared(env, store);
}

/// A call resolved through the server, reported by signed Retell webhooks, then listed, counted
/// and replayed, over the command line and HTTP.
fn recorded_over_http(env: &TestEnv, store: &str, v1_config: &serde_json::Value) {
    let serve = Serve::start(env, store);

    // The runtime resolves at call start with the call's id...
    let (status, served) = serve.get("/v1/resolve?channel=%2B14155550100&caller=%2B16505550123&call_id=c-100");
    assert_eq!(status, 200, "{served}");
    // ...and Retell reports the call, echoing the attribution it was given as metadata.
    let ended = json!({"event": "call_ended", "call": {"call_id": "c-100", "start_timestamp": 1_795_000_000_000i64,
        "end_timestamp": 1_795_000_042_000i64, "duration_ms": 42_000, "disconnection_reason": "agent_hangup",
        "metadata": served["attribution"]}})
    .to_string();
    let analyzed = json!({"event": "call_analyzed", "call": {"call_id": "c-100",
        "call_analysis": {"call_successful": true, "user_sentiment": "Positive", "custom_analysis_data": {"demo_booked": true}}}})
    .to_string();
    // A wrong signature is refused and stores nothing.
    let forged = agentver::platforms::retell::sign_retell("key_wrong", ended.as_bytes(), now_ms());
    let (status, _) = serve.post("/hooks/retell", &ended, &[("x-retell-signature", &forged)]);
    assert_eq!(status, 401);
    for body in [&ended, &analyzed] {
        let signature = agentver::platforms::retell::sign_retell(RETELL_KEY, body.as_bytes(), now_ms());
        let (status, answer) = serve.post("/hooks/retell", body, &[("x-retell-signature", &signature)]);
        assert_eq!(status, 200, "{answer}");
    }
    // A Vapi hook with no secret configured is 404, a bad generic record 400.
    assert_eq!(serve.post("/hooks/vapi", "{}", &[]).0, 404);
    assert_eq!(serve.post("/v1/calls", r#"{"call_id": "x", "duration_ms": "long"}"#, &[]).0, 400);

    // `calls --version 1` shows it, merged: the decision's variant-less pin, Retell's outcome.
    let listed = calls_json(env, store, &["--version", "1"]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let call = &listed[0];
    assert_eq!((&call["call_id"], &call["agent"], &call["version"]), (&json!("c-100"), &json!("sales"), &json!(1)));
    assert_eq!(
        (&call["success"], &call["duration_ms"], &call["sentiment"]),
        (&json!(true), &json!(42000), &json!("positive"))
    );
    assert_eq!(call["tree"], served["tree"]);
    assert_eq!(call["source"], json!("retell"));
    assert!(call["caller"].as_str().unwrap().starts_with("h:"), "the number is hashed: {call}");
    assert!(calls_json(env, store, &["--version", "2"]).is_empty());
    let metrics = serve.0.get("/metrics").body;
    assert!(metrics.contains("agentver_call_decisions_recorded_total 1\n"), "{metrics}");
    // The server answers the same list and the replay.
    let (_, over_http) = serve.get("/v1/calls?version=1");
    assert_eq!(over_http.as_array().unwrap().len(), 1);
    let (_, replayed) = serve.get("/v1/calls/c-100");
    assert_eq!(&replayed["config"], v1_config);
}

/// Records imported from a file (twice: nothing changes), compared by version and by variant;
/// a bad line stores nothing.
fn imported_and_compared(env: &TestEnv, store: &str) {
    // stats: v1 against v2 (enough calls for a verdict), then the split's variants.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.jsonl");
    let mut lines = records(env, "a", 1, Some("control"), 80, 32, 60_000);
    lines += &records(env, "b", 2, Some("test"), 20, 17, 45_000);
    lines += &records(env, "c", 2, Some("test"), 60, 45, 45_000);
    std::fs::write(&file, &lines).unwrap();
    let imported = env.av(&["calls", "import", file.to_str().unwrap(), "--json", "--calls", store]).ok().json();
    assert_eq!((&imported["records"], &imported["new"], &imported["unchanged"]), (&json!(160), &json!(160), &json!(0)));
    // Importing the same file again changes nothing, and says so.
    let again = env.av(&["calls", "import", file.to_str().unwrap(), "--calls", store]).ok();
    assert_eq!(again.stdout, "imported 160 records: 0 new, 160 unchanged\n");
    assert_eq!(calls_json(env, store, &["--agent", "sales"]).len(), 161);

    let stats = env.av(&["stats", "sales", "--compare", "v1", "v2", "--json", "--calls", store]).ok().json();
    let arms = stats["arms"].as_array().unwrap();
    let v1 = arms.iter().find(|a| a["arm"] == "v1").unwrap();
    let v2 = arms.iter().find(|a| a["arm"] == "v2").unwrap();
    assert_eq!((&v1["calls"], &v2["calls"]), (&json!(81), &json!(80)));
    assert_eq!(v2["success"]["successes"], json!(62));
    let success = &stats["comparison"]["success_rate"];
    assert!(success["p_value"].as_f64().unwrap() < 0.001, "{success}");
    assert!(success["verdict"].as_str().unwrap().starts_with("v2 is higher"), "{success}");
    assert!(stats["comparison"]["duration_ms"]["difference"].as_f64().unwrap() < -10_000.0);
    assert_eq!(v1["fields"]["demo_booked"]["kind"], json!("rate"));
    let human = env.av(&["stats", "sales", "--calls", store]).ok().stdout;
    assert!(human.contains("v1 → v2") && human.contains("success rate"), "{human}");

    let split = env
        .av(&["stats", "sales", "--by", "variant", "--channel", "+14155550199", "--json", "--calls", store])
        .ok()
        .json();
    let ratio = &split["sample_ratio"];
    assert_eq!(ratio["observed"], json!({"control": 80, "test": 80}));
    assert_eq!(ratio["mismatch"], json!(true), "80/80 against 80/20 weights: {ratio}");

    // A bad line names itself and stores nothing.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        records(env, "d", 1, None, 3, 1, 1000) + "{\"call_id\": \"d-9\", \"success\": \"sometimes\"}\n",
    )
    .unwrap();
    let refused = env.av(&["calls", "import", bad.to_str().unwrap(), "--calls", store]).code(2);
    assert!(refused.stderr.contains("bad.jsonl:4: not a call record"), "{}", refused.stderr);
    assert_eq!(calls_json(env, store, &["--agent", "sales"]).len(), 161);
}

#[test]
fn call_records_end_to_end_on_sqlite() {
    let env = published();
    let store = format!("sqlite:{}", env.root.parent().unwrap().join("calls.sqlite").display());
    end_to_end(&env, &store);
    // The default store lives in the git directory and agentver.toml can name another.
    env.av(&["calls"]).ok();
    assert!(env.root.join(".git/agentver/calls.sqlite").exists());
}

#[test]
fn call_records_end_to_end_on_postgresql() {
    let env = published();
    end_to_end(&env, &postgres_store());
}

#[test]
fn vapi_and_elevenlabs_hooks_check_their_secrets_and_numbers_can_be_kept() {
    let env = published();
    env.write("agentver.toml", "[calls]\nkeep_caller_numbers = true\n");
    env.commit_all("keep numbers");
    let store = format!("sqlite:{}", env.root.parent().unwrap().join("hooks.sqlite").display());
    let mut cmd = env.av_cmd(&["serve", "--listen", "127.0.0.1:0", "--interval", "1", "--calls", &store]);
    cmd.env("AGENTVER_VAPI_SECRET", "vapi-s3cret").env("AGENTVER_ELEVENLABS_WEBHOOK_SECRET", "wsec_x");
    let serve = Serve::spawn(cmd);
    let tree = env.rev("agent/sales/v2^{tree}");
    let vapi = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "startedAt": "2026-11-30T10:00:00Z", "endedAt": "2026-11-30T10:01:00Z",
        "analysis": {"successEvaluation": "false"},
        "call": {"id": "vapi-1", "customer": {"number": "+16505550199"},
                 "metadata": {"agentver_agent": "sales", "agentver_version": "2", "agentver_tree": tree}}}})
    .to_string();
    assert_eq!(serve.post("/hooks/vapi", &vapi, &[("x-vapi-secret", "wrong")]).0, 401);
    assert_eq!(serve.post("/hooks/vapi", &vapi, &[]).0, 401);
    let (status, stored) = serve.post("/hooks/vapi", &vapi, &[("authorization", "Bearer vapi-s3cret")]);
    assert_eq!(status, 200, "{stored}");
    assert_eq!((&stored["call"]["duration_ms"], &stored["call"]["success"]), (&json!(60000), &json!(false)));
    // keep_caller_numbers = true: the number as given.
    assert_eq!(stored["call"]["caller"], json!("+16505550199"));
    // Other Vapi message types are acknowledged and not stored.
    let (status, ignored) =
        serve.post("/hooks/vapi", r#"{"message": {"type": "status-update"}}"#, &[("x-vapi-secret", "vapi-s3cret")]);
    assert_eq!((status, ignored["ignored"].is_string()), (200, true));

    let el = json!({"type": "post_call_transcription", "data": {"conversation_id": "el-1",
        "metadata": {"start_time_unix_secs": 1_795_000_000, "call_duration_secs": 30},
        "analysis": {"call_successful": "success"}}})
    .to_string();
    let secs = now_ms() / 1000;
    let old = agentver::platforms::elevenlabs::sign_elevenlabs("wsec_x", el.as_bytes(), secs - 31 * 60);
    assert_eq!(serve.post("/hooks/elevenlabs", &el, &[("elevenlabs-signature", &old)]).0, 401);
    let good = agentver::platforms::elevenlabs::sign_elevenlabs("wsec_x", el.as_bytes(), secs);
    let (status, stored) = serve.post("/hooks/elevenlabs", &el, &[("elevenlabs-signature", &good)]);
    assert_eq!((status, &stored["call"]["success"]), (200, &json!(true)), "{stored}");
    // Unattributed, it is kept all the same.
    assert!(stored["call"]["agent"].is_null());
    // Retell has no key configured here: 404, not a silent accept.
    assert_eq!(serve.post("/hooks/retell", "{}", &[]).0, 404);
    let all = calls_json(&env, &store, &[]);
    assert_eq!(all.len(), 2, "{all:?}");

    // Errors name the thing, over HTTP and on the command line.
    let (status, missing) = serve.get("/v1/calls/nobody");
    assert_eq!((status, &missing["error"]["code"]), (404, &json!("unknown_call")));
    let (status, _) = serve.get("/v1/stats/sales?by=variant");
    assert_eq!(status, 400);
    let replay = env.av(&["replay", "nobody", "--calls", &store]).code(2);
    assert!(
        replay.stderr.contains("no call 'nobody'") && replay.stderr.contains("hint: `agentver calls`"),
        "{}",
        replay.stderr
    );
    // el-1 was never attributed: replay says so rather than guessing.
    let unattributed = env.av(&["replay", "el-1", "--calls", &store]).code(2);
    assert!(unattributed.stderr.contains("never attributed"), "{}", unattributed.stderr);
    let split = env.av(&["stats", "sales", "--by", "variant", "--calls", &store]).code(2);
    assert!(split.stderr.contains("hint: add --channel C"), "{}", split.stderr);
}

#[test]
fn bad_times_stores_and_intervals_are_clear_errors() {
    let env = published();
    let time = env.av(&["calls", "--since", "yesterday"]).code(2);
    assert!(
        time.stderr.starts_with("error: 'yesterday' is not a time\nhint: give an RFC 3339 time"),
        "{}",
        time.stderr
    );
    let store = env.av(&["calls", "--calls", "mysql://db/calls"]).code(2);
    assert!(
        store.stderr.contains("'mysql://db/calls' is not a call store\nhint: a call store is sqlite:PATH"),
        "{}",
        store.stderr
    );
    let interval = env.av(&["serve", "--interval", "0"]).code(2);
    assert!(interval.stderr.contains("--interval: '0' is not a number of seconds, 1 or more"), "{}", interval.stderr);
    let listen = env.av(&["serve", "--listen", "localhost"]).code(2);
    assert!(
        listen.stderr.contains("--listen: 'localhost' is not an address and port like 127.0.0.1:8700"),
        "{}",
        listen.stderr
    );
    // A duration back from now is a time.
    env.av(&["calls", "--since", "7d", "--until", "1h"]).ok();
}

#[test]
fn screens() {
    let env = screen::two_versions();
    let call = |id: &str, version: u64| {
        format!(
            "{{\"call_id\": \"{id}\", \"agent\": \"sales\", \"version\": {version}, \"channel\": \"+14155550199\", \"started_at\": \"2026-11-02T10:00:00Z\", \"duration_ms\": 61000, \"success\": true}}\n"
        )
    };
    env.write("../few.jsonl", &(call("a-1", 1) + &call("a-2", 2)));
    snap!(env, "calls_import", "calls", "import", "../few.jsonl");
    env.write("../bad.jsonl", &(call("b-1", 1) + "{not json\n"));
    snap!(env, "calls_import_bad_line", "calls", "import", "../bad.jsonl");
    snap!(env, "calls", "calls");
    snap!(env, "calls_json", "calls", "--version", "2", "--json");
    snap!(env, "calls_bad_time", "calls", "--since", "yesterday-ish");
}

/// `calls` past the HTTP page size: no upper bound on --limit (0: all), --offset, JSON Lines and a
/// JSON array written as the rows come.
fn listed_without_a_bound(env: &TestEnv, store: &str) {
    let file = env.root.parent().unwrap().join("many.jsonl");
    std::fs::write(&file, records(env, "m", 1, None, 12_000, 6_000, 90_000)).unwrap();
    env.av(&["calls", "import", file.to_str().unwrap(), "--calls", store]).ok();
    let lines = env.av(&["calls", "--limit", "0", "--format", "jsonl", "--calls", store]).ok().stdout;
    let ids: std::collections::BTreeSet<String> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["call_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!((lines.lines().count(), ids.len()), (12_000, 12_000), "every call once");
    let all = env.av(&["calls", "--limit", "0", "--json", "--calls", store]).ok().json();
    assert_eq!(all.as_array().unwrap().len(), 12_000);
    assert_eq!(
        all[0]["call_id"],
        json!(lines.lines().next().map(|l| serde_json::from_str::<Value>(l).unwrap()["call_id"].clone()).unwrap())
    );
    // Pages: the last two calls, newest first as everywhere.
    let tail = env.av(&["calls", "--limit", "5", "--offset", "11998", "--json", "--calls", store]).ok().json();
    assert_eq!(tail.as_array().unwrap().len(), 2);
    assert_eq!(tail[1]["call_id"], all[11_999]["call_id"]);
    let table = env.av(&["calls", "--limit", "3", "--calls", store]).ok().stdout;
    assert_eq!(table.lines().count(), 4, "a head and three rows: {table}");
    assert_eq!(env.av(&["calls", "--agent", "nobody", "--json", "--calls", store]).ok().json(), json!([]));
}

#[test]
fn calls_are_listed_without_a_bound_on_sqlite() {
    let env = published();
    listed_without_a_bound(&env, &format!("sqlite:{}", env.root.parent().unwrap().join("calls.sqlite").display()));
}

#[test]
fn calls_are_listed_without_a_bound_on_postgresql() {
    let env = published();
    listed_without_a_bound(&env, &postgres_store());
}
