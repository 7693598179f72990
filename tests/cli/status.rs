//! `agentver status`: latest version, draft state and routing channels per agent.

use crate::env::TestEnv;

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
