//! `agentver show`: the published bytes, or the resolved config as JSON.

use crate::env::TestEnv;
use crate::screen::{self, snap};

#[test]
fn show_prints_the_published_bytes() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let published = std::fs::read(env.path("agents/sales.yaml")).unwrap();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    for spec in ["sales@v1", "sales@1", "sales@latest", "sales"] {
        assert_eq!(env.av(&["show", spec]).ok().raw, published, "{spec}");
    }
    assert_eq!(env.av(&["show", "sales@draft"]).ok().raw, std::fs::read(env.path("agents/sales.yaml")).unwrap());
    let run = env.av(&["show", "sales@v9"]).code(2);
    assert!(run.stderr.contains("sales has no version 9"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: versions run from v1 to v1"), "{}", run.stderr);
    let run = env.av(&["show", "support"]).code(2);
    assert!(run.stderr.contains("bring the versions: agentver fetch"), "{}", run.stderr);
}

#[test]
fn show_json_resolves_tools_and_workflows() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    let sales = env.av(&["show", "sales@v1", "--json"]).ok().json();
    assert_eq!(sales["agent"], "sales");
    assert_eq!(sales["version"], 1);
    assert_eq!(sales["tree"], env.rev("agent/sales/v1^{tree}"));
    let tools = sales["config"]["tools"].as_array().unwrap();
    assert_eq!(tools[0]["name"], "book_appointment");
    assert_eq!(tools[0]["type"], "webhook");
    assert_eq!(tools[0]["parameters"]["required"][0], "date");
    assert_eq!(
        tools[1],
        serde_json::json!({"name": "end_call", "type": "end_call", "description": "Hang up politely once the caller is done."})
    );
    assert_eq!(sales["config"]["llm"]["temperature"], 0.3);

    let intake = env.av(&["show", "intake", "--json"]).ok().json();
    assert_eq!(intake["config"]["workflow"]["name"], "intake");
    assert_eq!(intake["config"]["workflow"]["graph"]["start"], "greet");

    let draft = env.av(&["show", "sales@draft", "--json"]).ok().json();
    assert_eq!(draft["version"], "draft");
    assert_eq!(draft["tree"], sales["tree"], "an unchanged draft has its version's tree");
}

#[test]
fn show_reads_drafts_at_a_revision() {
    let env = TestEnv::example();
    let committed = std::fs::read(env.path("agents/sales.yaml")).unwrap();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    assert_eq!(env.av(&["show", "sales@draft", "--rev", "HEAD"]).ok().raw, committed);
    env.av(&["show", "sales@draft", "--rev", "no-such-branch"]).code(2);
}

#[test]
fn screens() {
    let env = screen::published();
    snap!(env, "show", "show", "support");
    snap!(env, "show_json", "show", "support", "--json");
    snap!(env, "show_unknown_agent", "show", "sals");
    snap!(env, "show_no_such_version", "show", "support@v9");
}
