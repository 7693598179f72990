//! `agentver verify`: every kind of damage a tag can suffer is found and names the tag.

use crate::env::TestEnv;
use crate::screen::{self, snap};

fn three_versions() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales"]).ok();
    env.av(&["rollback", "sales@v1"]).ok();
    env.av(&["publish", "support"]).ok();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env
}

#[test]
fn a_clean_repository_verifies() {
    let env = three_versions();
    let run = env.av(&["verify"]).ok();
    assert!(run.stderr.contains("4 tags of 2 agents checked, 0 problems"), "{}", run.stderr);
    let audit = env.av(&["verify", "--json"]).ok().json();
    assert_eq!(audit["findings"], serde_json::json!([]));
    env.git(&["pack-refs", "--all"]);
    env.av(&["verify"]).ok();
}

fn findings(env: &TestEnv) -> Vec<String> {
    let run = env.av(&["verify"]).code(1);
    run.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn a_moved_tag_breaks_the_chain_and_its_pin() {
    let env = three_versions();
    env.git(&[
        "tag",
        "-f",
        "-a",
        "-m",
        "moved\n\nAgentver-Agent: sales\nAgentver-Version: 1\n",
        "agent/sales/v1",
        "agent/sales/v2^{commit}",
    ]);
    let f = findings(&env);
    assert!(f.iter().any(|l| l.starts_with("agent/sales/v1: v1's commit has a parent")), "{f:?}");
    assert!(
        f.iter().any(|l| l.starts_with("agent/sales/v1: holds tree") && l.contains("channel '+14155550100' pins tree")),
        "{f:?}"
    );
    assert!(f.iter().any(|l| l.starts_with("agent/sales/v3: is a rollback to v1 but its tree differs")), "{f:?}");
}

#[test]
fn forged_and_damaged_tags_are_named() {
    let env = three_versions();
    // A lightweight tag, a tag whose trailers lie, a gap, a stray name, a tree without the agent.
    env.git(&["tag", "agent/support/v2", "HEAD"]);
    env.git(&[
        "tag",
        "-a",
        "-m",
        "forged\n\nAgentver-Agent: sales\nAgentver-Version: 9\n",
        "agent/support/v3",
        "agent/support/v1^{commit}",
    ]);
    env.git(&["tag", "-d", "agent/sales/v2"]);
    env.git(&["tag", "-a", "-m", "x", "agent/sales/latest", "HEAD"]);
    let empty_tree = env.git(&["mktree"]);
    let empty = env.git(&["commit-tree", &empty_tree, "-m", "empty"]);
    env.git(&["tag", "-a", "-m", "x\n\nAgentver-Agent: intake\nAgentver-Version: 1\n", "agent/intake/v1", &empty]);
    let f = findings(&env);
    let want = [
        "agent/intake/v1: its tree holds no agents/intake.yaml",
        "agent/sales/latest: is not a version tag name (agent/<id>/v<N>)",
        "agent/sales/v2: is missing: sales's versions run to v3",
        "agent/support/v2: is a lightweight tag, not an annotated one",
        "agent/support/v3: Agentver-Agent trailer is \"sales\", not support",
        "agent/support/v3: Agentver-Version trailer is 9, not 3",
        "agent/support/v3: its commit's parent is not v2's commit",
    ];
    for w in want {
        assert!(f.iter().any(|l| l == w), "missing {w:?} in {f:?}");
    }
    let audit = env.av(&["verify", "--json"]).code(1).json();
    assert!(audit["findings"].as_array().unwrap().iter().all(|f| f["tag"].as_str().unwrap().starts_with("agent/")));
}

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "verify", "verify");
    snap!(env, "verify_json", "verify", "--json");
    // A forged version: support's tag moved onto a commit that is not a snapshot.
    env.git(&["tag", "-f", "agent/support/v1", "HEAD"]);
    snap!(env, "verify_forged", "verify");
    snap!(env, "verify_forged_json", "verify", "--json");
}
