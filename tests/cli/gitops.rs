//! The pull-request and deployment loop: check, plan, publish --changed, push and export, against
//! repositories (and a bare remote on disk) built in the test.

use crate::env::TestEnv;

/// The example, every agent published and committed, as a merged `main` would be.
fn deployed() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@draft:20"]).ok();
    env.commit_all("deployed");
    env
}

/// Issue 18, item 33: the example's split pins v1 by number only (nothing is published when it
/// is written); once v1 exists, `check` says a forged tag would serve there, and `ab` records
/// the tree as `pin` does.
#[test]
fn a_numbered_pin_without_its_tree_is_warned_about_and_ab_records_the_tree() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    let run = env.av(&["check"]).ok();
    assert!(
        run.stdout.contains("warning: channels.toml:26: channel '+14155550199': pins agent/sales/v1 by number only"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hint: record the tree: run `agentver pin` (or `agentver ab` for a split)"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("check: 0 errors, 2 warnings"), "{}", run.stderr);
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@draft:20"]).ok();
    let tree = env.rev("agent/sales/v1^{tree}");
    assert!(
        env.read("channels.toml")
            .contains(&format!("name = \"control\", agent = \"sales\", version = 1, weight = 80, tree = \"{tree}\"")),
        "{}",
        env.read("channels.toml")
    );
}

#[test]
fn check_passes_a_clean_workspace_and_names_every_problem() {
    let env = deployed();
    let run = env.av(&["check"]).ok();
    assert!(run.stderr.contains("check: 0 errors, 0 warnings"), "{}", run.stderr);

    env.edit(
        "tools/lookup_order.yaml",
        "url: https://api.example.com/orders/lookup",
        "url: https://api.example.com/orders/lookup?api_key=9f8e7d6c5b4a3928",
    );
    env.edit("agents/intake.yaml", "temperature: 0.1", "temperature: 7");
    env.write("agents/notes.txt", "x");
    env.edit("channels.toml", "agent = \"intake\"\nversion = \"latest\"", "agent = \"intake\"\nversion = 9");
    let run = env.av(&["check"]).code(1);
    let out = &run.stdout;
    assert!(
        out.contains("error: tools/lookup_order.yaml:4: a credential in a URL query is written in the file"),
        "{out}"
    );
    assert!(out.contains("error: agents/intake.yaml:9:16: llm.temperature: 7 is out of range"), "{out}");
    assert!(out.contains("warning: agents/notes.txt: stray file"), "a README is only noted: {out}");
    assert!(out.contains("channel 'web-widget': agent/intake/v9 does not exist"), "{out}");
    assert!(!out.contains("channel '+14155550101'"), "support's draft is fine: {out}");

    let json = env.av(&["check", "--format", "json"]).code(1).json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["errors"], 3);
    let secret = json["problems"].as_array().unwrap().iter().find(|p| p["file"] == "tools/lookup_order.yaml").unwrap();
    assert_eq!(secret["severity"], "error");
    assert_eq!(secret["line"], 4);
    assert!(secret["hint"].as_str().unwrap().contains("${env:NAME}"));

    let github = env.av(&["check", "--format", "github"]).code(1).stdout;
    assert!(
        github.lines().any(|l| l
            .starts_with("::error file=tools/lookup_order.yaml,line=4,title=agentver::a credential in a URL query")),
        "{github}"
    );
    assert!(github.lines().all(|l| l.starts_with("::error ") || l.starts_with("::warning ")), "{github}");

    // A missing tool is named at its reference, with the likely intended one.
    env.edit("agents/support.yaml", "  - lookup_order\n", "  - lookup_ordr\n");
    let out = env.av(&["check"]).code(1).stdout;
    assert!(out.contains("error: agents/support.yaml:37:5: tool 'lookup_ordr' not found: tools/lookup_ordr.yaml does not exist\n  hint: did you mean 'lookup_order'?"), "{out}");

    // A problem with a draft that a channel follows is reported at the channel too.
    env.write("agents/support.yaml", "name: [broken\n");
    let out = env.av(&["check"]).code(1).stdout;
    assert!(out.contains("channel '+14155550101': follows support's draft, which does not validate"), "{out}");
}

#[test]
fn check_in_a_clone_without_tags_says_to_fetch_them() {
    let env = deployed();
    let clone = env.root.parent().unwrap().join("ci");
    env.git(&[
        "clone",
        "-q",
        "--no-tags",
        "--depth",
        "1",
        &format!("file://{}", env.root.display()),
        clone.to_str().unwrap(),
    ]);
    let run = env.av(&["-C", clone.to_str().unwrap(), "check"]).code(1);
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one message, not one per channel: {}", run.stdout);
    assert!(errors[0].contains("this shallow repository has no version tags"), "{}", run.stdout);
    assert!(run.stdout.contains("fetch them: agentver fetch"), "{}", run.stdout);
    env.av(&["-C", clone.to_str().unwrap(), "fetch"]).ok();
    env.av(&["-C", clone.to_str().unwrap(), "check"]).ok();
}

#[test]
fn plan_reports_each_kind_of_change() {
    let env = deployed();
    let v1_tree = env.rev("agent/sales/v1^{tree}");
    assert!(!env.av(&["plan", "--json"]).ok().json()["changed"].as_bool().unwrap());
    env.av(&["plan", "--detailed-exitcode"]).code(0);

    // A new version of the pinned prompt, the pin moved to it, a new split, a draft edit.
    env.edit("agents/sales.yaml", "Never quote prices", "Do not quote prices");
    env.av(&["publish", "sales", "-m", "stricter"]).ok();
    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    env.av(&["ab", "split-line", "a=sales@v1:75", "b=sales@v2:25"]).ok();
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.25");

    let plan = env.av(&["plan", "--json"]).ok().json();
    assert_eq!(plan["base"]["commit"], env.rev("HEAD"));
    assert_eq!(plan["head"], serde_json::json!({"rev": "work tree", "commit": null}));
    assert_eq!(plan["changed"], true);
    let channel = |name: &str| plan["channels"].as_array().unwrap().iter().find(|c| c["channel"] == name).cloned();

    let pinned = channel("+14155550100").expect("the moved pin");
    assert_eq!(pinned["change"], "changed");
    assert_eq!(pinned["before"]["targets"][0]["version"], 1);
    assert_eq!(pinned["before"]["targets"][0]["tree"], v1_tree);
    assert_eq!(pinned["after"]["targets"][0]["version"], 2);
    assert_eq!(pinned["moved_share"], 1.0);
    let diff = &pinned["diffs"][0];
    assert_eq!((&diff["from"]["version"], &diff["to"]["version"]), (&1.into(), &2.into()));
    assert_eq!(diff["changes"][0]["path"], "prompt.system");

    let split = channel("split-line").expect("the new split");
    assert_eq!(split["change"], "added");
    assert_eq!(split["before"], serde_json::Value::Null);
    assert_eq!(split["after"]["sticky"], "caller");
    assert_eq!(split["after"]["targets"][1]["share"], 0.25);

    // The split on +14155550199 followed sales' draft (same content as v1): it moves to v2's
    // content for its 20% test variant.
    let draft_split = channel("+14155550199").expect("draft-following variant changed");
    assert!((draft_split["moved_share"].as_f64().unwrap() - 0.2).abs() < 0.005, "{draft_split}");

    let staging = channel("+14155550101").expect("support's draft-following line");
    assert_eq!(staging["after"]["targets"][0]["version"], "draft");
    assert_eq!(staging["diffs"][0]["changes"][0]["path"], "llm.temperature");

    let drafts = plan["drafts"].as_array().unwrap();
    let support = drafts.iter().find(|d| d["agent"] == "support").unwrap();
    assert_eq!(support["change"], "modified");
    assert_eq!(support["latest"], 1);
    assert_eq!(support["channels"], serde_json::json!(["+14155550101"]));
    assert_eq!(support["changes"][0]["path"], "llm.temperature");
    assert!(channel("web-widget").is_none(), "unchanged channels are left out");

    env.av(&["plan", "--detailed-exitcode"]).code(2);
    env.av(&["plan", "--detailed-exitcode", "--base", "no-such-rev"]).code(1);

    let md = env.av(&["plan", "--format", "markdown"]).ok().stdout;
    assert!(md.starts_with("## agentver plan: 4 channels change, 2 drafts change\n"), "{md}");
    assert!(md.contains("| ~ | <code>+14155550100</code> | sales v1 | sales v2 | 100.0% |"), "{md}");
    assert!(md.contains("**Live on merge**"), "{md}");
    assert!(md.contains("<details><summary><code>+14155550100</code>: sales v1 → sales v2</summary>"), "{md}");

    // A draft that does not load at the base and loads at the head was modified, not added.
    env.write("agents/intake.yaml", "name: [broken\n");
    env.commit_all("broken intake");
    env.git(&["checkout", "-q", "HEAD~1", "--", "agents/intake.yaml"]);
    let fixed = env.av(&["plan", "--json"]).ok().json();
    let intake = fixed["drafts"].as_array().unwrap().iter().find(|d| d["agent"] == "intake").unwrap().clone();
    assert_eq!(intake["change"], "modified", "{intake}");
}

#[test]
fn plan_defaults_to_the_merge_base_with_upstream() {
    let env = deployed();
    env.add_remote();
    env.git(&["push", "-q", "origin", "main"]);
    env.git(&["fetch", "-q", "origin"]);
    let base = env.rev("HEAD");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.av(&["pin", "web-widget", "intake@v1"]).ok();
    env.commit_all("freeze the widget");
    let plan = env.av(&["plan", "--head", "HEAD", "--json"]).ok().json();
    assert_eq!(plan["base"]["commit"], base);
    assert_eq!(plan["head"]["commit"], env.rev("HEAD"));
    let widget = &plan["channels"][0];
    assert_eq!(
        (&widget["channel"], &widget["moved_share"]),
        (&"web-widget".into(), &0.0.into()),
        "latest was v1: nobody moves"
    );
}

#[test]
fn publish_changed_snapshots_the_revision_not_the_work_tree() {
    let env = deployed();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.commit_all("warmer sales");
    let committed = env.read("agents/sales.yaml");
    // Uncommitted noise in the work tree must not be published.
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 999");
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.9");
    let run = env.av(&["publish", "--changed", "--json"]).ok();
    let published = run.json();
    assert_eq!(published.as_array().unwrap().len(), 1, "only sales changed at HEAD: {}", run.stdout);
    assert_eq!(published[0]["agent"], "sales");
    assert_eq!(env.git(&["show", "agent/sales/v2:agents/sales.yaml"]) + "\n", committed);
    let tag = env.git(&["cat-file", "-p", "agent/sales/v2"]);
    assert!(tag.ends_with(&format!("Agentver-Source: {}", env.rev("HEAD"))), "{tag}");
    // Nothing changed at HEAD any more: a quiet success.
    env.av(&["publish", "--changed"]).ok();
    let rev = env.rev("HEAD~1");
    // HEAD~1 lacks the commit v2 was published from: publishing it would silently undo v2.
    let run = env.av(&["publish", "--changed", "--rev", &rev]).code(1);
    assert!(run.stderr.contains("sales v2 was published from commit"), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(env.git(&["tag", "-l", "agent/sales/v3"]).is_empty());
    let run = env.av(&["publish", "--changed", "--rev", &rev, "--force"]).ok();
    assert!(run.stdout.contains("published sales v3"), "HEAD~1's sales differs from latest v2: {}", run.stdout);
    assert_eq!(env.rev("agent/sales/v3^{tree}"), env.rev("agent/sales/v1^{tree}"));
}

#[test]
fn two_clones_race_to_push_and_the_loser_renumbers() {
    let env = deployed();
    let remote = env.add_remote();
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push"]).ok();
    let other = env.root.parent().unwrap().join("other");
    env.git(&["clone", "-q", remote.to_str().unwrap(), other.to_str().unwrap()]);
    let other_path = other.to_str().unwrap();
    env.git(&["-C", other_path, "fetch", "-q", "--tags"]);

    // Both publish sales v2; this clone pushes first.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales", "-m", "first", "--push"]).ok();
    let other_file = other.join("agents/sales.yaml");
    let text = std::fs::read_to_string(&other_file).unwrap();
    std::fs::write(&other_file, text.replace("temperature: 0.3 ", "temperature: 0.7 ")).unwrap();
    env.av(&["-C", other_path, "publish", "sales", "-m", "second"]).ok();
    std::fs::write(&other_file, text.replace("temperature: 0.3 ", "temperature: 0.8 ")).unwrap();
    env.av(&["-C", other_path, "publish", "sales", "-m", "third"]).ok();
    env.av(&["-C", other_path, "rollback", "sales@v2", "-m", "back"]).ok();
    let run = env.av(&["-C", other_path, "push", "--json"]).ok();
    let report = run.json();
    assert_eq!(
        report["renumbered"],
        serde_json::json!([
            {"agent": "sales", "from": 2, "to": 3, "tag": "agent/sales/v3"},
            {"agent": "sales", "from": 3, "to": 4, "tag": "agent/sales/v4"},
            {"agent": "sales", "from": 4, "to": 5, "tag": "agent/sales/v5"},
        ])
    );
    assert_eq!(report["pushed"], serde_json::json!(["agent/sales/v3", "agent/sales/v4", "agent/sales/v5"]));

    let bare = |args: &[&str]| {
        let mut all = vec!["--git-dir", remote.to_str().unwrap()];
        all.extend_from_slice(args);
        env.git(&all)
    };
    assert_eq!(
        bare(&["log", "--format=%s", "agent/sales/v5"]),
        "sales: back\nsales: third\nsales: second\nsales: first\nsales: sales v1"
    );
    let v5 = bare(&["cat-file", "-p", "agent/sales/v5"]);
    assert!(
        v5.contains("Agentver-Version: 5\n") && v5.ends_with("Agentver-Rollback-Of: 3"),
        "the rollback now points at v3: {v5}"
    );
    assert_eq!(bare(&["rev-parse", "agent/sales/v5^{tree}"]), bare(&["rev-parse", "agent/sales/v3^{tree}"]));
    bare(&["fsck", "--strict", "--no-progress"]);
    env.av(&["-C", other_path, "verify"]).ok();
    // The winner's local tags are untouched; after fetching it sees the loser's versions.
    env.git(&["fetch", "-q", "--tags", "origin"]);
    env.av(&["verify"]).ok();
    assert_eq!(env.av(&["push"]).ok().stdout, "");
}

#[test]
fn export_is_byte_identical_and_self_contained() {
    let env = deployed();
    let first = env.av(&["export"]).ok().raw;
    env.av(&["export", "-o", "bundle.json"]).ok();
    assert_eq!(std::fs::read(env.path("bundle.json")).unwrap(), first);
    // Same revision in another clone: same bytes.
    let clone = env.root.parent().unwrap().join("deploy");
    env.git(&["clone", "-q", env.root.to_str().unwrap(), clone.to_str().unwrap()]);
    env.git(&["-C", clone.to_str().unwrap(), "fetch", "-q", "--tags"]);
    assert_eq!(env.av(&["-C", clone.to_str().unwrap(), "export"]).ok().raw, first);
    // Work-tree edits do not leak into an export of HEAD.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.9 ");
    assert_eq!(env.av(&["export"]).ok().raw, first);

    let bundle: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(bundle["format"], 1);
    assert_eq!(bundle["revision"], env.rev("HEAD"));
    let channels = bundle["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 4);
    for channel in channels {
        for target in channel["targets"].as_array().unwrap() {
            let config = &bundle["configs"][target["config"].as_str().unwrap()];
            assert_eq!(config["tree"], target["tree"], "every target's config is in the bundle");
            assert!(config["config"]["llm"]["model"].is_string());
        }
    }
    let split = channels.iter().find(|c| c["channel"] == "+14155550199").unwrap();
    assert_eq!(split["salt"], "spring-prompt-test", "ab kept the file's salt");
    assert_eq!(split["targets"][1]["weight"], 20);
    assert_eq!(split["targets"][1]["version"], "draft");
    // A channel that cannot be served fails the export: no half bundle.
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.git(&["tag", "-f", "-a", "-m", "moved", "agent/sales/v1", "agent/intake/v1^{commit}"]);
    env.av(&["export", "-o", "broken.json"]).code(1);
    assert!(!env.path("broken.json").exists());
}

#[test]
fn the_pre_commit_hook_refuses_a_broken_config() {
    let env = deployed();
    let hook = env.path(".git/hooks/pre-commit");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/git-hooks/pre-commit"), &hook).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_agentver")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let commit = |message: &str| {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(&env.root)
            .env("PATH", &path)
            .env("HOME", env.root.parent().unwrap())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .args(["commit", "-q", "-m", message]);
        cmd.output().unwrap()
    };
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temprature: 0.3 ");
    env.git(&["add", "agents/sales.yaml"]);
    let out = commit("typo");
    assert!(!out.status.success(), "the hook let a broken config through");
    // git hands a hook's output to its own stderr.
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("unknown field 'temprature'"), "{said}");
    // Fix it in the index, leave an unrelated unstaged edit: the commit goes through and the
    // unstaged edit survives.
    env.edit("agents/sales.yaml", "temprature: 0.3 ", "temperature: 0.4 ");
    env.git(&["add", "agents/sales.yaml"]);
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.21");
    let out = commit("warmer");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.read("agents/support.yaml").contains("temperature: 0.21"), "unstaged work kept");
}
