//! `agentver log`: versions newest first with the draft state on top, JSON as DESIGN.md gives it.

use crate::env::TestEnv;
use crate::screen::{self, snap};

#[test]
fn log_json_has_every_field() {
    let env = TestEnv::example();
    env.av(&["publish", "sales", "-m", "Launch", "--notes", "Notes one."]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av_env(&["publish", "sales", "-m", "Warmer"], &[("GIT_COMMITTER_DATE", Some("2026-11-02T09:30:00+02:00"))])
        .ok();

    let log = env.av(&["log", "sales", "--json"]).ok().json();
    assert_eq!(log["agent"], "sales");
    assert_eq!(log["draft"]["state"], "unchanged");
    assert_eq!(log["draft"]["tree"], env.rev("agent/sales/v2^{tree}"));
    let versions = log["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    let v2 = &versions[0];
    let keys: Vec<&str> = v2.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["version", "tag", "label", "notes", "author", "date", "commit", "tree", "source", "rollback_of"]);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["tag"], "agent/sales/v2");
    assert_eq!(v2["label"], "Warmer");
    assert_eq!(v2["notes"], "");
    assert_eq!(v2["author"], serde_json::json!({"name": "Ada Tester", "email": "ada@example.com"}));
    assert_eq!(v2["date"], "2026-11-02T09:30:00+02:00");
    assert_eq!(v2["commit"], env.rev("agent/sales/v2^{commit}"));
    assert_eq!(v2["tree"], env.rev("agent/sales/v2^{tree}"));
    assert_eq!(v2["source"], format!("{}+dirty", env.rev("HEAD")));
    assert_eq!(v2["rollback_of"], serde_json::Value::Null);
    assert_eq!(versions[1]["label"], "Launch");
    assert_eq!(versions[1]["notes"], "Notes one.");
    assert_eq!(versions[1]["date"], "2026-11-01T10:00:00+00:00");
}

#[test]
fn draft_states() {
    let env = TestEnv::example();
    assert_eq!(env.av(&["log", "sales", "--json"]).ok().json()["draft"]["state"], "new");
    env.av(&["publish", "sales"]).ok();
    env.edit("tools/book_appointment.yaml", "Books a demo slot", "Books a slot");
    assert_eq!(env.av(&["log", "sales", "--json"]).ok().json()["draft"]["state"], "modified");
    env.write("agents/sales.yaml", "name: [broken\n");
    let run = env.av(&["log", "sales", "--json"]).ok();
    assert_eq!(run.json()["draft"]["state"], "invalid");
    std::fs::remove_file(env.path("agents/sales.yaml")).unwrap();
    let run = env.av(&["log", "sales", "--json"]).ok();
    assert_eq!(run.json()["draft"], serde_json::json!({"state": "deleted", "tree": null}));
    assert_eq!(run.json()["versions"].as_array().unwrap().len(), 1, "history outlives the draft");
    env.av(&["log", "nobody"]).code(2);
}

#[test]
fn versions_sort_numerically_and_the_alias_works() {
    let env = TestEnv::example();
    for i in 0..11 {
        env.edit("agents/sales.yaml", &format!("max_tokens: {}", 400 + i), &format!("max_tokens: {}", 401 + i));
        env.av(&["publish", "sales"]).ok();
    }
    let log = env.av(&["versions", "sales", "--json"]).ok().json();
    let numbers: Vec<u64> =
        log["versions"].as_array().unwrap().iter().map(|v| v["version"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (1..=11).rev().collect::<Vec<_>>());
    let text = env.av(&["log", "sales"]).ok().stdout;
    assert!(text.starts_with("draft unchanged"), "{text}");
    assert!(text.find("v11 ").unwrap() < text.find("v10 ").unwrap());
}

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "log", "log", "sales");
    snap!(env, "log_json", "log", "sales", "--json");
    snap!(env, "log_unknown_agent", "log", "sals");
}
