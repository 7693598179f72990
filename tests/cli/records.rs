//! Call records under load, restarts and hostile or odd input (issue 18): the real binary, a real
//! HTTP client, the store read back with SQLite itself. Each test names the items it guards.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::calls::{RETELL_KEY, Serve, calls_json, now_ms, postgres_store, records};
use crate::env::TestEnv;
use crate::serve::{Server, published};

/// A SQLite store beside the repository: its `--calls` value and its file.
fn sqlite(env: &TestEnv, name: &str) -> (String, PathBuf) {
    let path = env.root.parent().unwrap().join(name);
    (format!("sqlite:{}", path.display()), path)
}

fn stored(path: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .map(|r| r.unwrap().unwrap_or_default())
        .collect()
}

fn count(path: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(path).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn stored_calls(path: &Path) -> HashSet<String> {
    stored(path, "SELECT call_id FROM calls").into_iter().collect()
}

/// What a flood of resolves with call ids got: the ids answered 200, and any other answers.
#[derive(Default)]
struct Flood {
    acknowledged: Vec<String>,
    other: Vec<u16>,
}

/// `threads` clients resolving the split with fresh call ids for `time`, as fast as the server
/// answers.
fn flood(base: &str, prefix: &str, threads: usize, time: Duration) -> Flood {
    let deadline = Instant::now() + time;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (base, prefix) = (base.to_owned(), prefix.to_owned());
            std::thread::spawn(move || {
                let http = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .new_agent();
                let mut flood = Flood::default();
                let mut i = 0;
                while Instant::now() < deadline {
                    let id = format!("{prefix}-{t}-{i}");
                    let url = format!("{base}/v1/resolve?channel=%2B14155550199&caller=%2B1650555{i:04}&call_id={id}");
                    match http.get(&url).call() {
                        Ok(r) if r.status() == 200 => flood.acknowledged.push(id),
                        Ok(r) => flood.other.push(r.status().as_u16()),
                        // The server going away mid-flood: not acknowledged.
                        Err(_) => break,
                    }
                    i += 1;
                }
                flood
            })
        })
        .collect();
    let mut all = Flood::default();
    for w in workers {
        let f = w.join().unwrap();
        all.acknowledged.extend(f.acknowledged);
        all.other.extend(f.other);
    }
    all
}

/// Items 1, 2 and 3: under a flood of resolves with call ids, reports are answered, an import
/// runs beside the server, and SIGTERM loses no acknowledged decision; then a flood ended by
/// kill -9 loses none either (the next start replays the spool).
#[test]
fn nothing_acknowledged_is_lost_under_load_sigterm_or_kill_9() {
    let env = published();
    let (store, path) = sqlite(&env, "load.sqlite");
    let mut serve = Serve::start(&env, &store);
    let base = serve.0.base.clone();
    // Beside the flood: reports posted one after another, and an import of 6,000 records.
    let reports = Arc::new(AtomicUsize::new(0));
    let (counted, report_base) = (reports.clone(), base.clone());
    let reporter = std::thread::spawn(move || {
        let started = Instant::now();
        let mut failures = Vec::new();
        while started.elapsed() < Duration::from_millis(2500) {
            let body = json!({"call_id": format!("report-{}", counted.load(Relaxed)), "success": true}).to_string();
            match ureq::post(format!("{report_base}/v1/calls")).content_type("application/json").send(body) {
                Ok(r) if r.status() == 200 => counted.fetch_add(1, Relaxed),
                other => {
                    failures.push(format!("{other:?}"));
                    0
                }
            };
        }
        failures
    });
    let file = env.root.parent().unwrap().join("import.jsonl");
    std::fs::write(&file, records(&env, "imp", 1, Some("control"), 6000, 3000, 60_000)).unwrap();
    let mut import = env.av_cmd(&["calls", "import", file.to_str().unwrap(), "--calls", &store]);
    let importer = std::thread::spawn(move || import.output().unwrap());
    let first = flood(&base, "term", 4, Duration::from_millis(2500));
    let imported = importer.join().unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let failures = reporter.join().unwrap();
    assert!(failures.is_empty(), "reports were refused during the flood: {failures:?}");
    assert!(first.other.is_empty(), "the flood got answers other than 200: {:?}", first.other);
    assert!(first.acknowledged.len() > 200 && reports.load(Relaxed) > 5, "{} decisions", first.acknowledged.len());
    assert_eq!(serve.0.terminate(), Some(0));
    let calls = stored_calls(&path);
    let lost: Vec<&String> = first.acknowledged.iter().filter(|id| !calls.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged decisions lost to SIGTERM", lost.len(), first.acknowledged.len());
    assert_eq!(calls.iter().filter(|c| c.starts_with("imp-")).count(), 6000);
    let answered = reports.load(Relaxed) as i64;
    assert_eq!(count(&path, "SELECT COUNT(*) FROM calls WHERE call_id LIKE 'report-%'"), answered);

    // kill -9 in the middle of a flood: the next start replays what was acknowledged.
    let mut serve = Serve::start(&env, &store);
    let base = serve.0.base.clone();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        serve.0.child.kill().unwrap();
        serve.0.child.wait().unwrap();
    });
    let second = flood(&base, "kill", 4, Duration::from_secs(3));
    killer.join().unwrap();
    assert!(second.acknowledged.len() > 100, "{} decisions", second.acknowledged.len());
    let restarted = Serve::start(&env, &store);
    let started = Instant::now();
    loop {
        let calls = stored_calls(&path);
        let missing: Vec<&String> = second.acknowledged.iter().filter(|id| !calls.contains(*id)).collect();
        if missing.is_empty() {
            break;
        }
        let log = restarted.0.log.lock().unwrap().join("\n");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {} lost to kill -9, e.g. {:?}\n{log}",
            missing.len(),
            second.acknowledged.len(),
            &missing[..missing.len().min(5)]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = restarted.0.get("/metrics").body;
    assert!(!metrics.contains("agentver_call_decisions_replayed_total 0\n"), "{metrics}");
}

/// Item 4: PostgreSQL imports a file of any size on a stock cluster (no lock per call in the
/// shared lock table), and a second import says nothing is new.
#[test]
fn postgres_imports_15000_records_on_a_stock_cluster() {
    let env = published();
    let store = postgres_store();
    let file = env.root.parent().unwrap().join("big.jsonl");
    std::fs::write(&file, records(&env, "pg", 1, None, 15_000, 7_000, 60_000)).unwrap();
    let run = env.av(&["calls", "import", file.to_str().unwrap(), "--calls", &store]).ok();
    assert_eq!(run.stdout, "imported 15000 records: 15000 new, 0 unchanged\n");
    let again = env.av(&["calls", "import", file.to_str().unwrap(), "--calls", &store]).ok();
    assert_eq!(again.stdout, "imported 15000 records: 0 new, 15000 unchanged\n");
    let stats = env.av(&["stats", "sales", "--json", "--calls", &store]).ok().json();
    assert_eq!(stats["arms"][0]["calls"], json!(15000));
}

/// Items 5 and 19: no caller number and no transcript reaches the store (a long call's report
/// with its transcript is taken whole); a call can be forgotten and old calls pruned, on the
/// command line and over HTTP.
#[test]
fn numbers_and_transcripts_never_reach_the_store_and_calls_can_be_forgotten() {
    let env = published();
    let (store, path) = sqlite(&env, "private.sqlite");
    let serve = Serve::start(&env, &store);
    let (status, served) = serve.get("/v1/resolve?channel=%2B14155550100&caller=%2B16505550123&call_id=long-1");
    assert_eq!(status, 200, "{served}");
    // A 60-minute call: over a megabyte of transcript.
    let turns: Vec<Value> = (0..12_000)
        .map(|i| json!({"role": "user", "content": format!("turn {i}: please call me back on +1 650 555 0123"), "words": []}))
        .collect();
    let analyzed = json!({"event": "call_analyzed", "call": {"call_id": "long-1", "direction": "inbound",
        "from_number": "+16505550123", "to_number": "+14155550100", "transcript": "Agent: hello ... +16505550123",
        "transcript_object": turns, "metadata": served["attribution"],
        "call_analysis": {"call_successful": true, "call_summary": "Asked for a call back on 650-555-0123."}}})
    .to_string();
    assert!(analyzed.len() > 1 << 20, "{} bytes", analyzed.len());
    let signature = agentver::platforms::retell::sign_retell(RETELL_KEY, analyzed.as_bytes(), now_ms());
    let (status, answer) = serve.post("/hooks/retell", &analyzed, &[("x-retell-signature", &signature)]);
    assert_eq!(status, 200, "{answer}");
    let everything = stored(&path, "SELECT COALESCE(raw, '') || record FROM events").join("\n")
        + &stored(&path, "SELECT COALESCE(caller, '') || COALESCE(summary, '') FROM calls").join("\n");
    for digits in ["6505550123", "650 555 0123", "650-555-0123"] {
        assert!(!everything.contains(digits), "{digits} is in the store");
    }
    assert!(!everything.contains("turn 17") && !everything.contains("transcript"), "a transcript is in the store");
    assert!(count(&path, "SELECT MAX(LENGTH(raw)) FROM events") < 4096, "the raw body kept more than the report");
    // Item 7: the store, its WAL and the caller key are its owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let key = env.path(".git/agentver/caller-key");
    for file in [path.clone(), PathBuf::from(format!("{}-wal", path.display())), key] {
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
    }

    // Forgotten over HTTP: the record and its events go; a late report does not bring it back.
    let mut forget = serve.0.http.delete(format!("{}/v1/calls/long-1", serve.0.base)).call().unwrap();
    let said = forget.body_mut().read_to_string().unwrap();
    assert_eq!((forget.status().as_u16(), said.as_str()), (200, r#"{"forgotten":["long-1"]}"#));
    let (status, _) = serve.post("/hooks/retell", &analyzed, &[("x-retell-signature", &signature)]);
    assert_eq!(status, 200);
    let left = stored(&path, "SELECT source || ' ' || received_at FROM events WHERE call_id = 'long-1'");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(serve.get("/v1/calls/long-1").0, 404);
    // Pruned by age, over HTTP and on the command line.
    for (id, at) in
        [("old-1", "2025-01-01T00:00:00Z"), ("old-2", "2025-02-01T00:00:00Z"), ("new-1", "2026-11-01T00:00:00Z")]
    {
        let body = json!({"call_id": id, "started_at": at}).to_string();
        assert_eq!(serve.post("/v1/calls", &body, &[]).0, 200);
    }
    let (status, pruned) = serve.post("/v1/calls/prune", r#"{"before": "2025-01-15T00:00:00Z"}"#, &[]);
    assert_eq!((status, &pruned["pruned"]), (200, &json!(1)), "{pruned}");
    let run = env.av(&["calls", "prune", "--before", "2025-06-01T00:00:00Z", "--calls", &store]).ok();
    assert_eq!(run.stdout, "pruned 1 call that started before 2025-06-01T00:00:00.000Z\n");
    let run = env.av(&["calls", "forget", "new-1", "gone-0", "--calls", &store]).ok();
    assert_eq!(run.stdout, "forgot 1 of 2 calls\n");
    assert!(calls_json(&env, &store, &[]).is_empty());
}

/// Item 5: with `keep_transcripts = true` the raw body keeps the transcript.
#[test]
fn transcripts_are_kept_when_the_workspace_says_so() {
    let env = published();
    env.write("agentver.toml", "[calls]\nkeep_transcripts = true\n");
    env.commit_all("keep transcripts");
    let (store, path) = sqlite(&env, "kept.sqlite");
    let file = env.root.parent().unwrap().join("one.jsonl");
    std::fs::write(
        &file,
        json!({"event": "call_ended", "call": {"call_id": "t-1", "transcript": "Agent: hello there"}}).to_string()
            + "\n",
    )
    .unwrap();
    env.av(&["calls", "import", file.to_str().unwrap(), "--source", "retell", "--calls", &store]).ok();
    assert!(stored(&path, "SELECT raw FROM events")[0].contains("Agent: hello there"));
}

/// Serve with a token and a store, and the platforms' secrets for the hooks.
fn serve_with_token(env: &TestEnv, store: &str) -> Server {
    use std::os::unix::fs::PermissionsExt;
    env.write("../token", &format!("{TOKEN}\n"));
    std::fs::set_permissions(env.path("../token"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = env.av_cmd(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "1",
        "--calls",
        store,
        "--token-file",
        "../token",
    ]);
    cmd.env("AGENTVER_RETELL_API_KEY", RETELL_KEY).env("AGENTVER_ELEVENLABS_WEBHOOK_SECRET", EL_SECRET);
    let server = Server::spawn(cmd, Some(TOKEN.into()));
    server.wait_for(|s| s.get_as("/readyz", None).status == 200, "ready");
    server
}

const TOKEN: &str = "tok-records-0123456789";
const EL_SECRET: &str = "wsec_records";

fn retell_hook(server: &Server, body: &Value) -> (u16, Value) {
    let text = body.to_string();
    let signature = agentver::platforms::retell::sign_retell(RETELL_KEY, text.as_bytes(), now_ms());
    let reply = server.post_with("/hooks/retell", text, &[("x-retell-signature", &signature)]);
    (reply.status, serde_json::from_str(&reply.body).unwrap_or(Value::Null))
}

/// Items 8 and 30: out-of-range and unknown parameters are 400 naming them, never SQL; the
/// scheme of the bearer token is case-insensitive; an unattributed call reads as a record.
#[test]
fn bad_parameters_are_named_and_errors_carry_no_sql() {
    let env = published();
    let (store, _) = sqlite(&env, "params.sqlite");
    let server = serve_with_token(&env, &store);
    for (path, want) in [
        ("/v1/calls?limit=9223372036854775808", "limit must be a number from 0 to 10000"),
        ("/v1/calls?agnet=sales", "unknown query parameter 'agnet'"),
        ("/v1/stats/sales?by=varient", "by must be version or variant, not 'varient'"),
        ("/v1/stats/sales?bye=variant", "unknown query parameter 'bye'"),
        ("/v1/resolve?channel=%2B14155550100&call=1", "unknown query parameter 'call'"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        let error = &reply.json()["error"];
        assert!(error["message"].as_str().unwrap().contains(want), "{path}: {}", reply.body);
        assert!(!reply.body.contains("SELECT") && !reply.body.contains("FROM calls"), "{path}: {}", reply.body);
    }
    assert_eq!(server.get("/v1/calls?agnet=sales").json()["error"]["hint"], json!("did you mean 'agent'?"));
    assert_eq!(server.get_as("/v1/calls", Some(TOKEN)).status, 200);
    let lower = server
        .http
        .get(format!("{}/v1/calls", server.base))
        .header("Authorization", format!("bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(lower.status(), 200, "the Bearer scheme is case-insensitive");
    // An unattributed call is a record with no configuration, not a 404.
    assert_eq!(server.post_with("/v1/calls", r#"{"call_id": "anon-1", "success": true}"#, &[]).status, 200);
    let replay = server.get("/v1/calls/anon-1");
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!((&replay.json()["call"]["call_id"], &replay.json()["config"]), (&json!("anon-1"), &Value::Null));
}

/// Item 8: `/healthz` without the token says what kind of problem there is, never its details
/// (a refused commit's values); with the token it says everything.
#[test]
fn healthz_keeps_the_details_of_a_refused_revision_for_the_token() {
    let env = published();
    let (store, _) = sqlite(&env, "health.sqlite");
    let server = serve_with_token(&env, &store);
    // A refused commit whose error names a value from it (here, a key pasted where a field goes).
    env.write(
        "channels.toml",
        &format!(
            "{}\n[channels.x]\nagent = \"sales\"\nversion = 1\nsk-proj-abcdef0123456789 = 1\n",
            env.read("channels.toml")
        ),
    );
    env.commit_all("a secret-looking key");
    server.wait_for(|s| s.get_as("/healthz", None).json()["status"] == "degraded", "degraded");
    let open = server.get_as("/healthz", None);
    assert!(!open.body.contains("sk-proj") && !open.body.contains("channels.toml"), "{}", open.body);
    assert_eq!(open.json()["error"], json!("invalid_revision"));
    let full = server.get("/healthz").json();
    assert!(full["error"].as_str().unwrap().contains("channels.toml:39: channel 'x': unknown key 'sk-proj-"), "{full}");
}

/// Items 9 and 10: replay reads only trees that are a version's snapshot; a version pinned with
/// a tree is refused however it is asked for once its tag is forged.
#[test]
fn forged_tags_and_forged_trees_serve_nothing() {
    let env = published();
    let (store, _) = sqlite(&env, "forged.sqlite");
    // A record naming the branch's commit (and so its whole tree) as the call's tree.
    let commit = env.rev("HEAD");
    let file = env.root.parent().unwrap().join("forged.jsonl");
    std::fs::write(&file, json!({"call_id": "f-1", "agent": "sales", "tree": commit}).to_string() + "\n").unwrap();
    env.av(&["calls", "import", file.to_str().unwrap(), "--calls", &store]).ok();
    let call = &calls_json(&env, &store, &[])[0];
    assert_eq!(call["attribution"], json!("invalid"), "{call}");
    let replay = env.av(&["replay", "f-1", "--calls", &store]).code(2);
    assert!(replay.stderr.contains("invalid attribution"), "{}", replay.stderr);
    // Forge v1 (pinned with its tree on +14155550100 and in the split): a channel refuses, and so
    // does a call asking for v1 by number, over HTTP and on the command line.
    let v2 = env.rev("agent/sales/v2^{commit}");
    env.git(&["tag", "-f", "-a", "-m", "forged", "agent/sales/v1", &v2]);
    let server = serve_with_token(&env, &store);
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550100").status, 409);
    let by_number = server.get("/v1/resolve?channel=%2B14155550100&agent_version=1&call_id=f-2");
    assert_eq!(
        (by_number.status, by_number.json()["error"]["code"].clone()),
        (409, json!("tree_mismatch")),
        "{}",
        by_number.body
    );
    assert_eq!(server.get("/v1/agents/sales/versions/1").status, 409);
    let cli = env.av(&["resolve", "+14155550100", "--agent-version", "1"]).code(1);
    assert!(cli.stderr.contains("pins tree"), "{}", cli.stderr);
    drop(server);
    assert_eq!(calls_json(&env, &store, &[]).len(), 1, "the refused call was not recorded");
}

/// Items 11, 13, 14 and 15: echoed attribution is checked (a forged one is kept, marked invalid
/// and counted apart); an overridden call has no variant; an empty caller is no bucketing key.
#[test]
fn attribution_is_checked_overrides_have_no_variant_and_empty_values_are_absent() {
    let env = published();
    let (store, _) = sqlite(&env, "attribution.sqlite");
    let server = serve_with_token(&env, &store);
    let support_tree = env.rev("agent/support/v1^{tree}");
    for (id, metadata) in [
        ("bad-1", json!({"agentver_agent": "sales", "agentver_version": "999", "agentver_tree": support_tree})),
        ("bad-2", json!({"agentver_agent": "../../../etc/passwd", "agentver_version": "1"})),
        ("bad-3", json!({"agentver_agent": "sales", "agentver_version": "1", "agentver_tree": support_tree})),
    ] {
        let (status, answer) =
            retell_hook(&server, &json!({"event": "call_ended", "call": {"call_id": id, "metadata": metadata}}));
        assert_eq!((status, &answer["call"]["attribution"]), (200, &json!("invalid")), "{answer}");
        assert!(answer["call"]["agent"].is_null(), "{answer}");
    }
    let stats = server.get("/v1/stats/sales").json();
    assert_eq!((&stats["invalid_attribution"], &stats["arms"]), (&json!(3), &json!([])), "{stats}");
    // An override is served outside the split's assignment: no variant, no bucket.
    let over =
        server.get("/v1/resolve?channel=%2B14155550199&caller=%2B16505550000&agent_version=2&call_id=o-1").json();
    assert_eq!(
        (&over["variant"], &over["bucket"], &over["attribution"]["agentver_variant"]),
        (&Value::Null, &Value::Null, &json!(""))
    );
    // An empty caller is no key: the call id decides.
    let empty = server.get("/v1/resolve?channel=%2B14155550199&caller=&call_id=e-1").json();
    assert_eq!(empty["bucket"]["key"], json!("call"), "{empty}");
    let cli = env.av(&["resolve", "+14155550199", "--caller", "", "--call-id", "e-1"]).ok().json();
    assert_eq!(cli["bucket"], empty["bucket"]);
    server.wait_for(|s| s.get("/v1/calls/o-1").status == 200, "the override recorded");
    let record = server.get("/v1/calls/o-1").json()["call"].clone();
    assert_eq!((&record["override"], &record["variant"], &record["version"]), (&json!(true), &Value::Null, &json!(2)));
    let by_variant = server.get("/v1/stats/sales?by=variant&channel=%2B14155550199").json();
    let counted: u64 = by_variant["arms"].as_array().unwrap().iter().map(|a| a["calls"].as_u64().unwrap()).sum();
    assert_eq!(counted, 1, "only the split's own call is an arm: {by_variant}");
}

/// Issue 30, item 8: a report echoing a version the server has not loaded yet is stored invalid;
/// once the version is published and the server swaps in a snapshot that serves it, the claim is
/// checked again and the call is attributed, through a platform's webhook and a runtime's own
/// report alike. A claim naming the wrong tree for that version stays invalid.
#[test]
fn an_invalid_attribution_is_checked_again_when_the_server_loads_the_version() {
    let env = published();
    let (store, _) = sqlite(&env, "late.sqlite");
    checked_again(&env, &store);
}

#[test]
fn an_invalid_attribution_is_checked_again_on_postgresql() {
    checked_again(&published(), &postgres_store());
}

fn checked_again(env: &TestEnv, store: &str) {
    let server = serve_with_token(env, store);
    let support_tree = env.rev("agent/support/v1^{tree}");
    let late = json!({"agentver_agent": "sales", "agentver_version": "3", "agentver_channel": "+14155550100"});
    let (status, answer) = retell_hook(
        &server,
        &json!({"event": "call_ended", "call": {"call_id": "late-retell", "duration_ms": 61_000, "metadata": late}}),
    );
    assert_eq!((status, &answer["call"]["attribution"]), (200, &json!("invalid")), "{answer}");
    assert!(answer["call"]["attribution_reason"].as_str().unwrap().contains("no version 3"), "{answer}");
    for (id, tree) in [("late-generic", None), ("forged", Some(&support_tree))] {
        let report = json!({"call_id": id, "agent": "sales", "version": 3, "tree": tree, "success": true});
        let reply = server.post_with("/v1/calls", report.to_string(), &[("content-type", "application/json")]);
        assert_eq!((reply.status, &reply.json()["attribution"]), (200, &json!("invalid")), "{}", reply.body);
    }

    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.6");
    env.av(&["publish", "sales", "-m", "v3"]).ok();
    let v3_tree = env.rev("agent/sales/v3^{tree}");
    let attribution = |s: &Server, id: &str| s.get(&format!("/v1/calls/{id}")).json()["call"]["attribution"].clone();
    server.wait_for(|s| attribution(s, "late-retell") == json!("echoed"), "attributing the late claim");
    for id in ["late-retell", "late-generic"] {
        let call = server.get(&format!("/v1/calls/{id}")).json()["call"].clone();
        assert_eq!(
            (&call["attribution"], &call["agent"], &call["version"], &call["tree"], &call["attribution_reason"]),
            (&json!("echoed"), &json!("sales"), &json!(3), &json!(v3_tree), &Value::Null),
            "{call}"
        );
    }
    assert_eq!(server.get("/v1/calls/late-retell").json()["call"]["duration_ms"], json!(61_000));
    assert_eq!(attribution(&server, "forged"), json!("invalid"));
    let stats = server.get("/v1/stats/sales").json();
    let v3 = stats["arms"].as_array().unwrap().iter().find(|a| a["arm"] == json!("v3")).cloned();
    assert_eq!(v3.map(|a| a["calls"].clone()), Some(json!(2)), "{stats}");
    assert_eq!(stats["invalid_attribution"], json!(1), "{stats}");
    // The command line reads the store as the server left it.
    let listed = calls_json(env, store, &["--version", "3"]);
    assert_eq!(listed.len(), 2, "{listed:?}");
}

/// Items 23 and 24: the platforms' own call objects import as calls; a file in which no line is
/// a call is an error naming why; standard input imports, and a second import says nothing is
/// new.
#[test]
fn platform_exports_import_and_a_file_of_no_calls_is_an_error() {
    let env = published();
    let (store, _) = sqlite(&env, "exports.sqlite");
    let dir = env.root.parent().unwrap();
    let retell: String = (0..3)
        .map(|i| {
            json!({"call_id": format!("rc-{i}"), "call_type": "phone_call", "direction": "inbound",
            "from_number": "+16505550123", "to_number": "+14155550100", "duration_ms": 1000 + i,
            "call_analysis": {"call_successful": true, "user_sentiment": "Mixed"}})
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(dir.join("retell.jsonl"), &retell).unwrap();
    let run = env
        .av(&["calls", "import", dir.join("retell.jsonl").to_str().unwrap(), "--source", "retell", "--calls", &store])
        .ok();
    assert_eq!(run.stdout, "imported 3 records: 3 new, 0 unchanged\n");
    let generic = json!({"call_id": "g-1", "success": true}).to_string() + "\n";
    std::fs::write(dir.join("generic.jsonl"), &generic).unwrap();
    let wrong = env
        .av(&["calls", "import", dir.join("generic.jsonl").to_str().unwrap(), "--source", "vapi", "--calls", &store])
        .code(2);
    assert!(
        wrong.stderr.starts_with("error: ")
            && wrong.stderr.contains(
                "generic.jsonl: no line is a call (1 lines: as --source vapi: not a Vapi server message or call object)"
            ),
        "{}",
        wrong.stderr
    );
    assert!(wrong.stderr.contains("hint: --source names what each line is"), "{}", wrong.stderr);
    // From standard input, twice.
    for want in ["imported 3 records: 0 new, 3 unchanged\n", "imported 3 records: 0 new, 3 unchanged\n"] {
        let mut cmd = env.av_cmd(&["calls", "import", "-", "--source", "retell", "--calls", &store]);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), retell.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mixed = &calls_json(&env, &store, &[])[0];
    assert_eq!(mixed["sentiment"], json!("mixed"));
    // On a terminal, a progress line with the rate (util-linux's `script` gives it one).
    let mut cmd = std::process::Command::new("script");
    env.configure(&mut cmd);
    let import = format!(
        "{} calls import {} --source retell --calls {store}",
        env!("CARGO_BIN_EXE_agentver"),
        dir.join("retell.jsonl").display()
    );
    let out = cmd.args(["-qec", &import, "/dev/null"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("importing: 3/3 records (") && shown.contains("records/s)"), "{shown}");
}

/// Items 25 and 26: call ids and fields are capped everywhere, long cells are cut for the
/// terminal, and control characters from records are shown escaped in every output.
#[test]
fn long_and_hostile_values_are_capped_and_escaped() {
    let env = published();
    let (store, _) = sqlite(&env, "hostile.sqlite");
    let dir = env.root.parent().unwrap();
    let long_id = "x".repeat(300);
    let resolve = env.av(&["resolve", "+14155550100", "--call-id", &long_id]).code(2);
    assert!(resolve.stderr.contains("--call-id must be 1 to 256 bytes"), "{}", resolve.stderr);
    let line = json!({"call_id": "c-1", "channel": "+1".repeat(200)}).to_string() + "\n";
    std::fs::write(dir.join("long.jsonl"), line).unwrap();
    let refused = env.av(&["calls", "import", dir.join("long.jsonl").to_str().unwrap(), "--calls", &store]).code(2);
    assert!(
        refused.stderr.contains("long.jsonl:1: channel is 400 bytes, over the 256-byte limit"),
        "{}",
        refused.stderr
    );
    let tree = env.rev("agent/sales/v1^{tree}");
    let hostile =
        json!({"call_id": "y".repeat(256), "channel": "\u{1b}[2J+1", "agent": "sales", "version": 1, "tree": tree,
        "success": true, "duration_ms": 1000, "analysis": {"mood": "\u{1b}]0;owned\u{7}"}})
        .to_string()
            + "\n";
    std::fs::write(dir.join("hostile.jsonl"), hostile).unwrap();
    env.av(&["calls", "import", dir.join("hostile.jsonl").to_str().unwrap(), "--calls", &store]).ok();
    let listed = env.av(&["calls", "--calls", &store]).ok();
    assert!(!listed.stdout.contains('\u{1b}') && listed.stdout.contains("\\u{1b}[2J+1"), "{}", listed.stdout);
    assert!(listed.stdout.contains(&format!("{}…", "y".repeat(39))), "{}", listed.stdout);
    let stats = env.av(&["stats", "sales", "--calls", &store]).ok();
    assert!(
        !stats.stdout.contains('\u{1b}') && stats.stdout.contains("mood: \\u{1b}]0;owned\\u{7} 100%"),
        "{}",
        stats.stdout
    );
    let replay = env.av(&["replay", "\u{1b}[2Jnobody", "--calls", &store]).code(2);
    assert!(!replay.stderr.contains('\u{1b}') && replay.stderr.contains("\\u{1b}[2Jnobody"), "{}", replay.stderr);
}

/// Item 29: statistics refuse what compares nothing, and read as people read them.
#[test]
fn stats_refuse_what_compares_nothing_and_read_plainly() {
    let env = published();
    let (store, _) = sqlite(&env, "stats.sqlite");
    let stats = |args: &[&str]| {
        let mut all = vec!["stats"];
        all.extend_from_slice(args);
        all.extend(["--calls", &store]);
        env.av(&all)
    };
    let unknown = stats(&["nobody"]).code(2);
    assert!(
        unknown.stderr.starts_with("error: unknown agent 'nobody'") && unknown.stderr.contains("hint: "),
        "{}",
        unknown.stderr
    );
    assert!(stats(&["sales", "--compare", "v1", "v7"]).code(2).stderr.contains("sales has no version 7"));
    assert!(stats(&["sales", "--compare", "v2", "v2"]).code(2).stderr.contains("comparing v2 with itself"));
    assert!(stats(&["sales", "--agent", "support"]).code(2).stderr.contains("cannot be filtered to agent 'support'"));
    let srm = stats(&["sales", "--by", "variant", "--channel", "+14155550199", "--variant", "test"]).code(2);
    assert!(srm.stderr.contains("--by variant compares the split's variants"), "{}", srm.stderr);
    let none = stats(&["sales"]).ok();
    assert_eq!(none.stdout, "sales by version: 0 arms, 0 calls\n");
    assert!(none.stderr.contains("note: no calls of sales are recorded\nhint: "), "{}", none.stderr);
    // One call: singular words; a tiny p-value is "p < 0.001"; durations in seconds.
    let dir = env.root.parent().unwrap();
    let mut lines = records(&env, "a", 1, None, 40, 5, 60_000);
    lines += &records(&env, "b", 2, None, 40, 38, 30_000);
    std::fs::write(dir.join("ab.jsonl"), lines).unwrap();
    env.av(&["calls", "import", dir.join("ab.jsonl").to_str().unwrap(), "--calls", &store]).ok();
    let out = stats(&["sales", "--compare", "v1", "v2"]).ok().stdout;
    assert!(out.contains("sales by version: 2 arms, 80 calls"), "{out}");
    assert!(out.contains("success rate  +82.5 pts") && out.contains("v2 is higher (p < 0.001)"), "{out}");
    assert!(out.contains("duration      -30.0 s"), "{out}");
    let (single, _) = sqlite(&env, "single.sqlite");
    std::fs::write(dir.join("one.jsonl"), records(&env, "s", 1, None, 1, 1, 1000)).unwrap();
    env.av(&["calls", "import", dir.join("one.jsonl").to_str().unwrap(), "--calls", &single]).ok();
    let one = env.av(&["stats", "sales", "--calls", &single]).ok().stdout;
    assert!(one.starts_with("sales by version: 1 arm, 1 call\n") && one.contains("     1 call  "), "{one}");
}

/// Makes `agent/sales/v3` a tag whose snapshot holds `agents/sales.yaml` as a symbolic link (a
/// damaged or forged tag no channel needs yet).
fn damaged_v3(env: &TestEnv) {
    let blob = env.git_stdin(&["hash-object", "-w", "--stdin"], b"support.yaml");
    let agents = env.git_stdin(&["mktree"], format!("120000 blob {blob}\tsales.yaml\n").as_bytes());
    let root = env.git_stdin(&["mktree"], format!("040000 tree {agents}\tagents\n").as_bytes());
    let parent = env.rev("agent/sales/v2^{commit}");
    let commit = env.git(&["commit-tree", &root, "-p", &parent, "-m", "sales v3"]);
    env.git(&["tag", "-a", "-m", "sales v3\n\nAgentver-Agent: sales\nAgentver-Version: 3", "agent/sales/v3", &commit]);
}

/// Items 31 and 36: one bad tag no channel needs does not stop the server serving, and is named
/// in `/healthz` (with the token) and by `verify`; a channel that needs it answers 409. Metrics
/// label every route by its pattern and each webhook by its platform.
#[test]
fn one_bad_tag_fails_only_what_needs_it() {
    let env = published();
    damaged_v3(&env);
    env.write(
        "channels.toml",
        &format!("{}\n[channels.v3-line]\nagent = \"sales\"\nversion = 3\n", env.read("channels.toml")),
    );
    env.commit_all("a line on v3");
    let (store, _) = sqlite(&env, "bad-tag.sqlite");
    let server = serve_with_token(&env, &store);
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550100").status, 200);
    let refused = server.get("/v1/resolve?channel=v3-line");
    assert_eq!(
        (refused.status, refused.json()["error"]["code"].clone()),
        (409, json!("version_unservable")),
        "{}",
        refused.body
    );
    let open = server.get_as("/healthz", None).json();
    assert_eq!(
        (&open["status"], &open["left_out_count"], open.get("left_out")),
        (&json!("degraded"), &json!(1), None),
        "{open}"
    );
    let full = server.get("/healthz").json();
    assert_eq!(full["left_out"][0]["tag"], json!("agent/sales/v3"), "{full}");
    let verify = env.av(&["verify"]).code(1);
    assert!(verify.stdout.contains("agent/sales/v3"), "{}", verify.stdout);
    // Metrics: the version route by its pattern, the webhook by its platform.
    server.get("/v1/agents/sales/versions/1");
    retell_hook(&server, &json!({"event": "call_ended", "call": {"call_id": "m-1"}}));
    let metrics = server.get_as("/metrics", None).body;
    for label in [
        "route=\"/v1/agents/{id}/versions/{reference}\",status=\"200\"",
        "route=\"/hooks/retell\",status=\"200\"",
        "agentver_versions_left_out 1",
    ] {
        assert!(metrics.contains(label), "{label} in {metrics}");
    }
}

/// Item 32: connections are capped below the descriptor limit, and a crowd of idle ones does not
/// lock a new client out (the oldest idle one is closed to make room).
#[test]
fn idle_connections_cannot_lock_new_clients_out() {
    let env = published();
    let mut cmd = std::process::Command::new("sh");
    env.configure(&mut cmd);
    cmd.args(["-c", "ulimit -n 96 && exec \"$0\" serve --listen 127.0.0.1:0 --interval 1"])
        .arg(env!("CARGO_BIN_EXE_agentver"));
    let server = Server::spawn(cmd, None);
    server.wait_for(|s| s.get("/readyz").status == 200, "ready");
    assert!(server.log.lock().unwrap()[0].contains("(at most 32 connections)"), "{:?}", server.log.lock().unwrap());
    let addr = server.base.trim_start_matches("http://").to_owned();
    let idle: Vec<std::net::TcpStream> = (0..60).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    // A new client is answered at once, long before the idle ones' 10 s header timeout.
    let http = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().new_agent();
    let reply = http.get(format!("{}/readyz", server.base)).call();
    assert!(reply.is_ok_and(|r| r.status() == 200), "a new client was locked out");
    drop(idle);
}

/// Item 36: under `--json`, errors are JSON on standard error too.
#[test]
fn json_errors_are_json() {
    let env = published();
    let run = env.av(&["show", "nobody", "--json"]).code(2);
    let error: Value = serde_json::from_str(run.stderr.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    assert_eq!((&error["error"]["kind"], &error["error"]["exit_code"]), (&json!("error"), &json!(2)));
    assert_eq!(error["error"]["message"], json!("nobody has no published version"));
    assert!(run.stdout.is_empty());
}

/// One call keeps at most 256 events from one source: a client sending one call id again and
/// again is refused beyond that (counted, never silently), in SQLite and PostgreSQL, on import
/// and over HTTP; another source's reports for the same call are still taken.
#[test]
fn one_call_id_sent_again_and_again_is_capped_per_source() {
    let env = published();
    let (store, path) = sqlite(&env, "capped.sqlite");
    let dir = env.root.parent().unwrap();
    let lines: String =
        (0..300).map(|i| json!({"call_id": "again", "duration_ms": 1000 + i}).to_string() + "\n").collect();
    std::fs::write(dir.join("again.jsonl"), &lines).unwrap();
    let want = "imported 300 records: 256 new, 0 unchanged, 44 refused (their calls already held 256 reports from one source)\n";
    for store in [store.clone(), postgres_store()] {
        let run = env.av(&["calls", "import", dir.join("again.jsonl").to_str().unwrap(), "--calls", &store]).ok();
        assert_eq!(run.stdout, want, "{store}");
        let again = env.av(&["calls", "import", dir.join("again.jsonl").to_str().unwrap(), "--calls", &store]).ok();
        assert_eq!(
            again.stdout,
            "imported 300 records: 0 new, 256 unchanged, 44 refused (their calls already held 256 reports from one source)\n",
            "{store}"
        );
    }
    assert_eq!(count(&path, "SELECT COUNT(*) FROM events WHERE call_id = 'again'"), 256);
    // The record is merged from the events kept, so the last one kept has the last word.
    let last = count(
        &path,
        "SELECT json_extract(record, '$.duration_ms') FROM events WHERE call_id = 'again' ORDER BY rowid DESC LIMIT 1",
    );
    let listed = env.av(&["calls", "--calls", &store, "--json"]).ok().json();
    assert_eq!(listed[0]["duration_ms"], json!(last), "{listed}");

    let server = serve_with_token(&env, &store);
    // Each resolve from another caller, so each is a decision of its own: two alike within one
    // millisecond would be one event, and how many were refused would depend on the clock.
    for i in 0..300 {
        let answer = server.get(&format!("/v1/resolve?channel=%2B14155550199&caller=%2B1650555{i:04}&call_id=loop-1"));
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    server
        .wait_for(|s| s.get("/metrics").body.contains("agentver_call_decisions_recorded_total 300\n"), "all recorded");
    let metrics = server.get("/metrics").body;
    assert!(metrics.contains("\nagentver_call_decisions_refused_total 44\n"), "{metrics}");
    assert_eq!(count(&path, "SELECT COUNT(*) FROM events WHERE call_id = 'loop-1'"), 256);
    // The same call's report comes from another source: taken.
    let report = server.post_with("/v1/calls", r#"{"call_id": "loop-1", "success": true}"#, &[]);
    assert_eq!(report.status, 200, "{}", report.body);
    let report: Value = serde_json::from_str(&report.body).unwrap();
    assert_eq!((report["success"].clone(), report["agent"].clone()), (json!(true), json!("sales")), "{report}");
    // Reports past the cap are refused with a JSON error, not acknowledged.
    let mut statuses = Vec::new();
    for i in 0..256 {
        let body = json!({"call_id": "loop-1", "duration_ms": 1000 + i}).to_string();
        statuses.push(server.post_with("/v1/calls", body, &[]).status);
    }
    assert!(statuses[..255].iter().all(|s| *s == 200) && statuses[255] == 409, "{statuses:?}");
    let refused = server.post_with("/v1/calls", r#"{"call_id": "loop-1", "duration_ms": 5}"#, &[]);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("\"too_many_events\""), "{}", refused.body);
    assert_eq!(count(&path, "SELECT COUNT(*) FROM events WHERE call_id = 'loop-1'"), 512);
}
