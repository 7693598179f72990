//! `agentver rollback`: a new version with an old version's exact tree, then a restore.

use crate::env::TestEnv;
use crate::screen::{self, snap};

#[test]
fn rollback_publishes_the_old_tree_and_restores_it() {
    let env = TestEnv::example();
    env.av(&["publish", "sales", "-m", "Launch"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales", "-m", "Warmer"]).ok();

    let run = env.av(&["rollback", "sales@v1"]).ok();
    assert!(run.stdout.starts_with("published sales v3 (agent/sales/v3), a rollback to v1"), "{}", run.stdout);
    assert_eq!(env.rev("agent/sales/v3^{tree}"), env.rev("agent/sales/v1^{tree}"));
    assert_eq!(env.rev("agent/sales/v3^{commit}^"), env.rev("agent/sales/v2^{commit}"));
    let tag = env.git(&["cat-file", "-p", "agent/sales/v3"]);
    assert!(tag.contains("\nRollback to v1\n"), "{tag}");
    assert!(tag.contains("Agentver-Version: 3\n"), "{tag}");
    assert!(tag.ends_with("Agentver-Rollback-Of: 1"), "{tag}");
    assert_eq!(
        std::fs::read(env.path("agents/sales.yaml")).unwrap(),
        env.git_bytes("agent/sales/v1:agents/sales.yaml")
    );
    let log = env.av(&["log", "sales", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["rollback_of"], 1);
    assert_eq!(log["draft"]["state"], "unchanged");
    env.fsck();

    // Rolling back to what latest already holds is refused.
    let run = env.av(&["rollback", "sales@v1"]).code(1);
    assert!(run.stderr.contains("nothing to roll back"), "{}", run.stderr);
    env.av(&["rollback", "sales"]).code(2);
}

#[test]
fn refused_restore_publishes_nothing() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 999");
    let before = env.read("agents/sales.yaml");
    let run = env.av(&["rollback", "sales@v1", "-m", "Back"]).code(1);
    assert!(run.stderr.contains("restore refused"), "{}", run.stderr);
    assert_eq!(env.tags(), vec!["agent/sales/v1", "agent/sales/v2"]);
    assert_eq!(env.read("agents/sales.yaml"), before);
    env.av(&["rollback", "sales@v1", "-m", "Back", "--force"]).ok();
    assert!(env.git(&["cat-file", "-p", "agent/sales/v3"]).contains("\nBack\n"));
}

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "rollback", "rollback", "sales@v1");
    snap!(env, "rollback_nothing", "rollback", "sales@v1");
    snap!(env, "rollback_json", "rollback", "sales@v2", "--json");
}
