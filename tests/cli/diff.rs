//! `agentver diff`: structured differences in text, markdown and JSON.

use crate::env::TestEnv;
use crate::screen::{self, snap};

fn two_versions() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.edit("agents/sales.yaml", "Never quote prices", "Do not quote prices");
    env.edit("agents/sales.yaml", "top_k: 4", "top_k: 6");
    env.edit("tools/book_appointment.yaml", "Books a demo slot", "Books a slot");
    env.av(&["publish", "sales"]).ok();
    env
}

#[test]
fn text_diff_names_fields_by_path() {
    let env = two_versions();
    let run = env.av(&["diff", "sales@v1", "sales@v2"]).ok();
    let out = &run.stdout;
    assert!(out.starts_with("sales: v1 → v2\n"), "{out}");
    assert!(out.contains("~ llm.temperature: 0.3 → 0.5"), "{out}");
    assert!(out.contains("~ knowledge_bases[kb_pricing].top_k: 4 → 6"), "{out}");
    assert!(out.contains("~ tools[book_appointment].description: \"Books a demo slot in the sales calendar.\" → \"Books a slot in the sales calendar.\""), "{out}");
    assert!(out.contains("~ prompt.system:"), "{out}");
    assert!(out.contains("[-Never-]"), "{out}");
    assert!(out.contains("{+Do not+}") || out.contains("{+Do+}"), "{out}");
    assert!(!out.contains("\x1b["), "no colour without a terminal");
}

#[test]
fn exit_code_and_defaults() {
    let env = two_versions();
    env.av(&["diff", "sales@v1", "sales@v2", "--exit-code"]).code(1);
    env.av(&["diff", "sales", "--exit-code"]).code(0);
    assert_eq!(env.av(&["diff", "sales"]).ok().stdout, "");
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 500");
    let run = env.av(&["diff", "sales", "--exit-code"]).code(1);
    assert!(run.stdout.contains("sales: v2 → draft"), "{}", run.stdout);
    let run = env.av(&["diff", "sales@v1"]).ok();
    assert!(run.stdout.contains("sales: v1 → draft") && run.stdout.contains("max_tokens: 400 → 500"), "{}", run.stdout);
    env.av(&["diff", "sales@v1", "support@v1"]).code(2);
}

#[test]
fn json_and_markdown() {
    let env = two_versions();
    let json = env.av(&["diff", "sales@v1", "sales@v2", "--format", "json"]).ok().json();
    assert_eq!(json["agent"], "sales");
    assert_eq!(json["from"]["version"], 1);
    assert_eq!(json["to"]["tree"], env.rev("agent/sales/v2^{tree}"));
    let changes = json["changes"].as_array().unwrap();
    let temp = changes.iter().find(|c| c["path"] == "llm.temperature").unwrap();
    assert_eq!(*temp, serde_json::json!({"path": "llm.temperature", "kind": "changed", "old": 0.3, "new": 0.5}));
    assert_eq!(env.av(&["diff", "sales@v1", "sales@v2", "--json"]).ok().json(), json);

    let md = env.av(&["diff", "sales@v1", "sales@v2", "--format", "markdown"]).ok().stdout;
    assert!(md.starts_with("### sales: v1 → v2\n"), "{md}");
    assert!(md.contains("| <code>llm.temperature</code> | <code>0.3</code> | <code>0.5</code> |"), "{md}");
    assert!(md.contains("<details><summary><code>prompt.system</code> changed</summary>"), "{md}");
    assert!(md.contains("-Never quote prices") && md.contains("+Do not quote prices"), "{md}");
}

#[test]
fn added_and_removed_list_items() {
    let env = TestEnv::example();
    env.av(&["publish", "support"]).ok();
    env.edit("agents/support.yaml", "  - lookup_order\n", "");
    env.edit("agents/support.yaml", "  - transfer_to_human\n", "  - transfer_to_human\n  - book_appointment\n");
    let out = env.av(&["diff", "support"]).ok().stdout;
    assert!(out.contains("- tools[lookup_order]: {"), "{out}");
    assert!(out.contains("+ tools[book_appointment]: {"), "{out}");
}

#[test]
fn screens() {
    let env = screen::published();
    screen::warmer(&env);
    snap!(env, "diff", "diff", "sales");
    snap!(env, "diff_markdown", "diff", "sales", "--format", "markdown");
    snap!(env, "diff_json", "diff", "sales", "--json");
    snap!(env, "diff_no_such_version", "diff", "sales@v7");
}
