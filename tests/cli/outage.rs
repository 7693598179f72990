//! The call store can fail; promises cannot (issue 30): a replica on PostgreSQL keeps recording
//! through a database restart without being restarted itself, starts while the database is down,
//! and stops within its budget when the database is gone — with every answered decision in the
//! store once the database is back. Real PostgreSQL clusters of the tests' own, stopped and
//! started with pg_ctl.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::calls::{Cluster, Serve};
use crate::serve::published;

/// Resolves `n` calls with fresh ids `prefix-i` on the pinned number; every answer must be 200.
fn resolve_calls(serve: &Serve, prefix: &str, n: usize) {
    for i in 0..n {
        let (status, body) =
            serve.get(&format!("/v1/resolve?channel=%2B14155550100&caller=%2B1650555{i:04}&call_id={prefix}-{i}"));
        assert_eq!(status, 200, "{body}");
    }
}

/// The call ids the store holds, read by the command line (its own connection).
fn stored(env: &crate::env::TestEnv, store: &str) -> Vec<String> {
    let out = env.av(&["calls", "--calls", store, "--limit", "10000", "--json"]);
    if out.code != 0 {
        return Vec::new();
    }
    out.json().as_array().unwrap().iter().filter_map(|c| c["call_id"].as_str().map(str::to_owned)).collect()
}

#[track_caller]
fn wait_until_stored(env: &crate::env::TestEnv, store: &str, want: usize) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if stored(env, store).len() >= want {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the store holds {} of {want} answered decisions after 60 s", stored(env, store).len());
}

fn health(serve: &Serve) -> Value {
    serve.get("/healthz").1
}

#[test]
fn a_replica_records_through_a_database_restart_without_being_restarted() {
    let env = published();
    let cluster = Cluster::private();
    cluster.start();
    let store = cluster.url();
    let serve = Serve::start(&env, &store);
    resolve_calls(&serve, "before", 50);
    wait_until_stored(&env, &store, 50);
    // A restart, as an orchestrator or a failover makes one: answers go on (spooled) meanwhile.
    cluster.stop();
    resolve_calls(&serve, "during", 50);
    assert_eq!(health(&serve)["store"]["connected"], false, "{}", health(&serve));
    assert_eq!(health(&serve)["status"], "degraded");
    // A read while the store is down says so, as a 503 to retry, not a server error.
    let (status, body) = serve.get("/v1/calls?limit=1");
    let code = body["error"]["code"].as_str().unwrap_or_default();
    assert!(status == 503 && matches!(code, "store_unavailable" | "store_failed"), "{status} {body}");
    cluster.start();
    resolve_calls(&serve, "after", 50);
    wait_until_stored(&env, &store, 150);
    let ids = stored(&env, &store);
    assert_eq!(ids.len(), 150, "every answered decision, once: {}", ids.len());
    let started = Instant::now();
    while health(&serve)["store"]["connected"] != true && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(health(&serve)["status"], "ok", "{}", health(&serve));
}

#[test]
fn a_replica_starts_while_the_database_is_down_and_stops_within_its_budget() {
    let env = published();
    let cluster = Cluster::private();
    // The database is created and migrated once, then goes down before serve starts.
    cluster.start();
    let store = cluster.url();
    env.av(&["calls", "--calls", &store, "--limit", "1"]).ok();
    cluster.stop();
    let serve = Serve::start(&env, &store);
    resolve_calls(&serve, "down", 40);
    assert_eq!(health(&serve)["store"]["backlog"], 40, "{}", health(&serve));
    // SIGTERM with the store down: out within the budget, the decisions left in the spool.
    let started = Instant::now();
    let Serve(mut server) = serve;
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "stopped after {:?}", started.elapsed());
    // The database back and a new server: the spool is replayed, nothing answered is lost.
    cluster.start();
    let serve = Serve::start(&env, &store);
    wait_until_stored(&env, &store, 40);
    resolve_calls(&serve, "up", 10);
    wait_until_stored(&env, &store, 50);
}

#[test]
fn a_replica_with_another_caller_key_refuses_to_start() {
    let env = published();
    let cluster = Cluster::private();
    cluster.start();
    let store = cluster.url();
    let mut first = env.av_cmd(&["serve", "--listen", "127.0.0.1:0", "--interval", "1", "--calls", &store]);
    first.env("AGENTVER_CALLER_KEY", "the team's shared key");
    let serve = Serve::spawn(first);
    resolve_calls(&serve, "keyed", 1);
    // Another key on the same store would hash the same caller apart: refused at start.
    let run = env.av_env(
        &["serve", "--listen", "127.0.0.1:0", "--calls", &store],
        &[("AGENTVER_CALLER_KEY", Some("someone else's key"))],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("replicas sharing a store must share AGENTVER_CALLER_KEY"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: give every server of this store the same AGENTVER_CALLER_KEY"),
        "{}",
        run.stderr
    );
}

/// The lost decision of issue 30: a disk full part-way through an append left half a line,
/// and the next decision was written onto it. Now the half line is cut back off. Runs on a
/// 64 KiB tmpfs where the tests can mount one (as root, as CI runs), and says so otherwise.
#[test]
fn an_append_the_disk_refuses_leaves_no_half_line() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: no tmpfs can be mounted here (not root)");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let (spool, _) = agentver::calls::spool::Spool::open(&dir.path().join("spool")).unwrap();
        let record = format!("{{\"call_id\":\"{}\"}}", "x".repeat(1000));
        let mut accepted = 0;
        while spool.append(record.as_bytes()).is_ok() {
            accepted += 1;
            assert!(accepted < 1000, "a 64 KiB disk took {accepted} KiB");
        }
        let bytes = std::fs::read(spool.path()).unwrap();
        assert!(bytes.is_empty() || bytes.ends_with(b"\n"), "a half line was left");
        // Room again: the next decision is a whole line of its own.
        let (spool2, _) = (&spool, ());
        let mut reader = spool2.reader().unwrap();
        let lines = reader.next_lines(10_000).unwrap();
        assert_eq!(lines.len(), accepted);
        std::fs::OpenOptions::new().write(true).open(spool.path()).unwrap().set_len(0).unwrap();
        spool.append(br#"{"call_id":"after"}"#).unwrap();
        let lines = spool.reader().unwrap().next_lines(10).unwrap();
        assert_eq!(
            lines.iter().map(|l| agentver::calls::spool::unframe(l)).collect::<Vec<_>>(),
            [Ok(br#"{"call_id":"after"}"#.as_slice())]
        );
    });
    let _ = std::process::Command::new("umount").arg(dir.path()).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// The writer creates a call it has never seen whole from its one decision (issue 30's
/// throughput), and merges every other call under its row's lock. A report that arrived first
/// (another replica's webhook, committed before this replica's decision) must still be merged
/// with the decision, and a call forgotten before its decision is committed must stay forgotten.
#[test]
fn decisions_merge_with_reports_that_came_first_and_never_bring_back_a_forgotten_call() {
    let env = published();
    let store = crate::calls::postgres_store();
    let serve = Serve::start(&env, &store);
    let report = r#"{"call_id": "early-1", "success": true, "duration_ms": 61000}"#;
    assert_eq!(serve.post("/v1/calls", report, &[]).0, 200);
    env.av(&["calls", "--calls", &store, "--limit", "1"]).ok();
    env.av(&["calls", "forget", "gone-1", "--calls", &store]).ok();
    resolve_calls(&serve, "fresh", 20);
    for id in ["early-1", "gone-1"] {
        let path = format!("/v1/resolve?channel=%2B14155550100&caller=%2B16505550999&call_id={id}");
        assert_eq!(serve.get(&path).0, 200);
    }
    wait_until_stored(&env, &store, 21);
    std::thread::sleep(Duration::from_millis(500));
    let ids = stored(&env, &store);
    assert_eq!(ids.len(), 21, "the fresh calls and early-1, and not gone-1: {ids:?}");
    let all = env.av(&["calls", "--calls", &store, "--limit", "100", "--json"]).ok().json();
    let early = all.as_array().unwrap().iter().find(|c| c["call_id"] == "early-1").unwrap();
    let merged = (&early["agent"], &early["version"], &early["success"], &early["duration_ms"]);
    assert_eq!(merged, (&json!("sales"), &json!(1), &json!(true), &json!(61000)), "{early}");
}
