//! `agentver publish`: snapshot commits and annotated tags, checked with git.

use crate::env::{SpawnOutput, TestEnv};
use crate::screen::{self, snap};

#[test]
fn publish_writes_an_annotated_tag_over_a_byte_exact_snapshot() {
    let env = TestEnv::example();
    let head = env.rev("HEAD");
    let run = env.av(&["publish", "sales", "-m", "Launch", "--notes", "First prompt."]).ok();
    assert_eq!(run.stdout.trim(), "published sales v1 (agent/sales/v1)");

    assert_eq!(env.git(&["cat-file", "-t", "agent/sales/v1"]), "tag");
    assert_eq!(env.git(&["cat-file", "-t", "agent/sales/v1^{commit}"]), "commit");
    for file in ["agents/sales.yaml", "tools/book_appointment.yaml"] {
        assert_eq!(env.git_bytes(&format!("agent/sales/v1:{file}")), std::fs::read(env.path(file)).unwrap(), "{file}");
    }
    // Exactly the agent and what it links: nothing else in the snapshot.
    let files = env.git(&["ls-tree", "-r", "--name-only", "agent/sales/v1"]);
    assert_eq!(files, "agents/sales.yaml\ntools/book_appointment.yaml");

    let tag = env.git(&["cat-file", "-p", "agent/sales/v1"]);
    assert!(tag.contains("\ntag agent/sales/v1\n"), "{tag}");
    assert!(tag.contains("tagger Ada Tester <ada@example.com> 1793527200 +0000"), "{tag}");
    assert!(
        tag.ends_with(&format!(
            "Launch\n\nFirst prompt.\n\nAgentver-Agent: sales\nAgentver-Version: 1\nAgentver-Source: {head}"
        )),
        "{tag}"
    );
    assert_eq!(env.git(&["log", "--format=%P", "-1", "agent/sales/v1"]), "", "v1 has no parent");

    // Nothing else moved: HEAD, branch, index, work tree.
    assert_eq!(env.rev("HEAD"), head);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    env.fsck();
}

#[test]
fn unchanged_drafts_are_not_published_again() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let run = env.av(&["publish", "sales"]).code(1);
    assert!(run.stderr.contains("nothing to publish"), "{}", run.stderr);
    assert_eq!(env.tags(), vec!["agent/sales/v1"]);
    // A shared tool's change is a change of the agent.
    env.edit("tools/book_appointment.yaml", "Books a demo slot", "Books a slot");
    env.av(&["publish", "sales"]).ok();
    assert_eq!(env.git(&["cat-file", "-t", "agent/sales/v2"]), "tag");
}

#[test]
fn versions_chain_and_default_labels() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    let run = env.av(&["publish", "sales", "--json"]).ok();
    let json = run.json();
    assert_eq!(json[0]["version"], 2);
    assert_eq!(json[0]["label"], "sales v2");
    assert_eq!(json[0]["tag"], "agent/sales/v2");
    assert_eq!(json[0]["commit"], env.rev("agent/sales/v2^{commit}"));
    assert_eq!(json[0]["tree"], env.rev("agent/sales/v2^{tree}"));
    assert_eq!(env.rev("agent/sales/v2^{commit}^"), env.rev("agent/sales/v1^{commit}"));
    assert!(env.git(&["cat-file", "-p", "agent/sales/v2"]).contains("\nsales v2\n"));
    // `git log` on a version is the agent's history.
    assert_eq!(env.git(&["log", "--format=%s", "agent/sales/v2"]), "sales: sales v2\nsales: sales v1");
}

#[test]
fn identical_content_has_identical_tree_ids() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let v1 = env.rev("agent/sales/v1^{tree}");
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales", "-m", "x"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.5 ", "temperature: 0.3 ");
    env.av_env(&["publish", "sales", "-m", "y"], &[("GIT_COMMITTER_DATE", Some("2027-01-01T00:00:00Z"))]).ok();
    assert_eq!(env.rev("agent/sales/v3^{tree}"), v1, "tree ids depend on content only");
    assert_ne!(env.rev("agent/sales/v3^{commit}"), env.rev("agent/sales/v1^{commit}"));
}

#[test]
fn all_skips_unchanged_and_named_unchanged_refuses_everything() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.25");
    // support changed, sales did not: naming both publishes neither.
    let run = env.av(&["publish", "sales", "support"]).code(1);
    assert!(run.stderr.contains("sales's draft is identical to v1"), "{}", run.stderr);
    assert_eq!(env.tags(), vec!["agent/sales/v1"]);

    let run = env.av(&["publish", "--all", "--json"]).ok();
    let json = run.json();
    let agents: Vec<&str> = json.as_array().unwrap().iter().map(|p| p["agent"].as_str().unwrap()).collect();
    assert_eq!(agents, vec!["intake", "support"]);
    assert!(run.stderr.contains("sales unchanged since v1, skipped"), "{}", run.stderr);
    assert_eq!(
        env.git(&["show", "agent/intake/v1:workflows/intake.json"]),
        env.read("workflows/intake.json").trim_end()
    );

    let run = env.av(&["publish", "--all"]).ok();
    assert!(run.stderr.contains("nothing to publish"), "{}", run.stderr);
    env.fsck();
}

#[test]
fn source_trailer_marks_dirty_drafts() {
    let env = TestEnv::example();
    let head = env.rev("HEAD");
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.4 ");
    env.av(&["publish", "sales"]).ok();
    let tag = env.git(&["cat-file", "-p", "agent/sales/v1"]);
    assert!(tag.contains(&format!("Agentver-Source: {head}+dirty")), "{tag}");
}

#[test]
fn identity_comes_from_git_or_author_flag() {
    let env = TestEnv::example();
    let no_identity = [
        ("GIT_COMMITTER_NAME", None),
        ("GIT_COMMITTER_EMAIL", None),
        ("GIT_AUTHOR_NAME", None),
        ("GIT_AUTHOR_EMAIL", None),
        ("EMAIL", None),
    ];
    let run = env.av_env(&["publish", "sales"], &no_identity).code(2);
    assert!(run.stderr.contains("no git identity"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    assert!(env.tags().is_empty());

    env.git(&["config", "user.name", "Config User"]);
    env.git(&["config", "user.email", "config@example.com"]);
    env.av_env(&["publish", "sales"], &no_identity).ok();
    assert!(env.git(&["cat-file", "-p", "agent/sales/v1"]).contains("tagger Config User <config@example.com>"));

    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.4 ");
    env.av(&["publish", "sales", "--author", "Bo Bot <bo@example.com>"]).ok();
    assert!(env.git(&["cat-file", "-p", "agent/sales/v2"]).contains("tagger Bo Bot <bo@example.com>"));
    env.av(&["publish", "support", "--author", "nobody"]).code(2);
}

#[test]
fn labels_must_be_one_line() {
    let env = TestEnv::example();
    env.av(&["publish", "sales", "-m", "two\nlines"]).code(2);
    env.av(&["publish", "sales", "-m", "  "]).code(2);
    assert!(env.tags().is_empty());
    env.write("notes.md", "Longer notes.\n\nWith paragraphs.\n");
    env.av(&["publish", "sales", "--notes-file", "notes.md"]).ok();
    let log = env.av(&["log", "sales", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["notes"], "Longer notes.\n\nWith paragraphs.");
}

#[test]
fn workspace_in_a_subfolder_with_its_own_prefix() {
    let env = TestEnv::empty();
    crate::env::copy_dir(std::path::Path::new(crate::env::EXAMPLE), &env.path("config"));
    env.write("config/agentver.toml", "tag_prefix = \"voice/prod\"\n");
    env.commit_all("config in a subfolder");
    let run = env.av(&["-C", "config/agents", "publish", "sales"]).ok();
    assert_eq!(run.stdout.trim(), "published sales v1 (voice/prod/sales/v1)");
    // Paths in the snapshot are workspace-relative; the source is clean (it matches HEAD).
    assert_eq!(
        env.git(&["ls-tree", "-r", "--name-only", "voice/prod/sales/v1"]),
        "agents/sales.yaml\ntools/book_appointment.yaml"
    );
    let tag = env.git(&["cat-file", "-p", "voice/prod/sales/v1"]);
    assert!(!tag.contains("+dirty"), "{tag}");
    env.fsck();
}

#[test]
fn requires_is_checked_against_this_binary() {
    let env = TestEnv::example();
    env.write("agentver.toml", "requires = \">=99\"\n");
    let run = env.av(&["publish", "sales"]).code(2);
    assert!(run.stderr.contains("agentver.toml:1: requires agentver >=99"), "{}", run.stderr);
    env.write("agentver.toml", "requires = \">=0.1, <99\"\n");
    env.av(&["publish", "sales"]).ok();
}

#[test]
fn parallel_publishes_all_land_with_contiguous_numbers() {
    const WRITERS: u64 = 6;
    let env = TestEnv::example();
    // Linked worktrees of one repository, each with its own draft of the same agent.
    let mut dirs = Vec::new();
    for i in 0..WRITERS {
        let dir = env.root.parent().unwrap().join(format!("wt{i}"));
        env.git(&["worktree", "add", "-q", "--detach", dir.to_str().unwrap()]);
        let file = dir.join("agents/sales.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("max_tokens: 400", &format!("max_tokens: {}", 401 + i))).unwrap();
        dirs.push(dir);
    }
    // Start every publisher before waiting for any.
    let children: Vec<_> = dirs
        .iter()
        .map(|d| env.av_cmd(&["-C", d.to_str().unwrap(), "publish", "sales", "--json"]).spawn_output())
        .collect();
    let mut reported = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        reported.push(json[0]["version"].as_u64().unwrap());
    }
    reported.sort();
    assert_eq!(reported, (1..=WRITERS).collect::<Vec<_>>(), "each publisher got its own number");

    let mut trees = std::collections::BTreeSet::new();
    for v in 1..=WRITERS {
        let tag = format!("agent/sales/v{v}");
        assert_eq!(env.git(&["cat-file", "-t", &tag]), "tag", "{tag}");
        trees.insert(env.rev(&format!("{tag}^{{tree}}")));
        if v > 1 {
            let parent = env.rev(&format!("{tag}^{{commit}}^"));
            assert_eq!(parent, env.rev(&format!("agent/sales/v{}^{{commit}}", v - 1)), "{tag}'s parent");
        }
    }
    assert_eq!(trees.len() as u64, WRITERS, "every draft landed as its own version");
    assert_eq!(env.tags().len() as u64, WRITERS, "no extra or missing versions");
    env.fsck();
}

#[test]
fn screens() {
    let env = crate::env::TestEnv::example();
    snap!(env, "publish_all", "publish", "--all", "-m", "Launch");
    screen::warmer(&env);
    snap!(env, "publish_json", "publish", "sales", "-m", "Warmer", "--json");
    snap!(env, "publish_unchanged", "publish", "sales");
    snap!(env, "publish_unknown_agent", "publish", "sals");
}
