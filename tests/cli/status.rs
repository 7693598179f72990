//! `agentver status`: latest version, draft state and routing channels per agent.

use crate::env::TestEnv;
use crate::screen::{self, snap};

#[test]
fn status_reports_every_agent() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("tools/lookup_order.yaml", "Finds an order", "Looks up an order");
    let json = env.av(&["status", "--json"]).ok().json();
    let rows = json.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["agent"].as_str().unwrap()).collect();
    assert_eq!(names, ["intake", "sales", "support"]);
    assert_eq!(rows[1]["latest"], 1);
    assert_eq!(rows[1]["draft"], "unchanged");
    assert_eq!(rows[1]["tree"], env.rev("agent/sales/v1^{tree}"));
    assert_eq!(rows[1]["channels"], serde_json::json!(["+14155550100", "+14155550199"]));
    assert_eq!(rows[2]["draft"], "new");
    assert_eq!(rows[0]["channels"], serde_json::json!(["web-widget"]));

    env.av(&["publish", "support"]).ok();
    env.edit("tools/transfer_to_human.yaml", "support queue", "help desk");
    let json = env.av(&["status", "--json"]).ok().json();
    assert_eq!(json[2]["draft"], "modified", "a linked tool's change modifies the agent");

    let text = env.av(&["status"]).ok().stdout;
    assert!(text.lines().any(|l| l.starts_with("sales") && l.contains("v1") && l.contains("unchanged")), "{text}");
    // A committed revision is read from git, not the work tree.
    let at_head = env.av(&["status", "--json", "--rev", "HEAD"]).ok().json();
    assert_eq!(at_head[2]["draft"], "modified", "support at HEAD still has the original lookup_order tool");
}

#[test]
fn status_lists_agents_whose_draft_was_deleted_and_ignores_stray_tags() {
    let env = TestEnv::example();
    env.av(&["publish", "sales", "support"]).ok();
    std::fs::remove_file(env.path("agents/support.yaml")).unwrap();
    env.git(&["tag", "-a", "-m", "not a version", "agent/ghost/latest", "HEAD"]);
    let check = |env: &TestEnv| {
        let json = env.av(&["status", "--json"]).ok().json();
        let rows: Vec<(String, String)> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["agent"].as_str().unwrap().to_owned(), r["draft"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            rows,
            [
                ("intake".into(), "new".into()),
                ("sales".into(), "unchanged".into()),
                ("support".into(), "deleted".into())
            ]
        );
    };
    check(&env);
    env.git(&["pack-refs", "--all"]);
    check(&env);
}

#[test]
fn screens() {
    let env = crate::env::TestEnv::example();
    snap!(env, "status_new", "status");
    env.av(&["publish", "--all", "-m", "Launch"]).ok();
    screen::warmer(&env);
    snap!(env, "status_modified", "status");
    snap!(env, "status_json", "status", "--json");
    snap!(env, "status_unknown_revision", "status", "--rev", "nowhere");
}
