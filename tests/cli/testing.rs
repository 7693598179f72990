//! `agentver test` without a provider: the example's tests replayed from their committed
//! cassettes (recorded from the contract suite's OpenAI-compatible fake, which checks every
//! request against the openai package's types), bad test files, the results in git notes and
//! what reads them (log, publish's require_tests), the notes carried by push and fetch, JUnit
//! and JSON. The runner against a live server is the contract suite's (test_runner.py).

use crate::env::TestEnv;
use crate::trust::{clone, with_remote};

/// Replay, whatever the environment says: no key, in CI.
const REPLAY: &[(&str, Option<&str>)] = &[("CI", Some("true")), ("OPENAI_API_KEY", None)];

fn draft_tree(env: &TestEnv, dir: &str, agent: &str) -> String {
    let shown = env.av(&["-C", dir, "show", &format!("{agent}@draft"), "--json"]).ok().json();
    shown["tree"].as_str().unwrap().to_owned()
}

#[test]
fn the_examples_replay_offline_and_their_results_are_kept_on_the_draft_tree() {
    let env = TestEnv::example();
    let run = env.av_env(&["test"], REPLAY).ok();
    for line in [
        "sales-books-demo        sales@draft  1/1 passed (95% CI 21%–100%)  ok",
        "sales-no-prices         sales@draft  3/3 passed (95% CI 44%–100%)  ok",
        "sales-simulated-caller  sales@draft  1/1 passed (95% CI 21%–100%)  ok",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    assert!(
        run.stdout.contains("3 tests: 3 passed, 0 failed · 18 requests (replayed from tests/.cassettes)"),
        "{}",
        run.stdout
    );
    assert_eq!(env.git(&["status", "--porcelain"]), "", "a run touches no file of the work tree");

    // The results, on the draft's tree, as git reads them.
    let tree = draft_tree(&env, ".", "sales");
    let note: serde_json::Value =
        serde_json::from_str(&env.git(&["notes", "--ref", "agentver/tests", "show", &tree])).unwrap();
    let tests = note["tests"].as_object().unwrap();
    assert_eq!(tests.len(), 3);
    assert!(tests.values().all(|t| t["ok"] == true && t["mode"] == "replay" && t["agent"] == "sales"), "{note}");
    assert_eq!(note["tests"]["sales-no-prices"]["runs"], 3);
    let log = env.av(&["log", "sales"]).ok();
    assert!(log.stdout.starts_with("draft new (tree "), "{}", log.stdout);
    assert!(log.stdout.lines().next().unwrap().ends_with("tests 3/3 passed"), "{}", log.stdout);
    // Published, the version carries them: its tree is the draft's.
    env.av(&["publish", "sales"]).ok();
    let log = env.av(&["log", "sales", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["tests"], serde_json::json!({"passed": 3, "total": 3}));
}

#[test]
fn a_changed_prompt_fails_replay_naming_each_test() {
    let env = TestEnv::example();
    env.edit("agents/sales.yaml", "    Never quote prices", "    Be brief.\n    Never quote prices");
    let run = env.av_env(&["test", "sales"], REPLAY).code(1);
    for name in ["sales-books-demo", "sales-no-prices", "sales-simulated-caller"] {
        let line = run.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        assert!(line.ends_with("FAILED"), "{name}: {}", run.stdout);
    }
    assert!(
        run.stdout.contains(
            "  run 1, turn 1 (tests/sales-books-demo.yaml:7): the agent's request is not in the test's cassette: \
             the prompt, the test or the model changed since it was recorded; record it again"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3 tests: 0 passed, 3 failed"), "{}", run.stdout);
    // The failure is kept too: publish with require_tests refuses this draft.
    env.write("agentver.toml", &format!("{}\n[publish]\nrequire_tests = true\n", env.read("agentver.toml")));
    let refused = env.av(&["publish", "sales"]).code(1);
    assert!(
        refused.stderr.contains("publish refused: sales's tests are required ([publish] require_tests) and 3 of its 3 tests failed on this draft"),
        "{}",
        refused.stderr
    );
}

#[test]
fn publish_requires_a_passing_run_unless_skipped_and_says_so_in_the_tag() {
    let env = TestEnv::example();
    env.write("agentver.toml", &format!("{}\n[publish]\nrequire_tests = true\n", env.read("agentver.toml")));
    env.commit_all("require tests");
    let refused = env.av(&["publish", "sales"]).code(1);
    assert!(refused.stderr.contains("and no test has run on this draft"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("hint: run its tests on the draft first (agentver test sales)"),
        "{}",
        refused.stderr
    );
    assert!(env.tags().is_empty());
    env.av_env(&["test", "sales"], REPLAY).ok();
    env.av(&["publish", "sales"]).ok();
    let message = env.git(&["tag", "-l", "--format=%(contents)", "agent/sales/v1"]);
    assert!(!message.contains("Agentver-Tests"), "{message}");
    // support has no test at all: refused, then published past the rule, which the tag says.
    env.av(&["publish", "support"]).code(1);
    env.av(&["publish", "support", "--skip-tests"]).ok();
    let message = env.git(&["tag", "-l", "--format=%(contents)", "agent/support/v1"]);
    assert!(message.trim_end().ends_with("Agentver-Tests: skipped"), "{message}");
}

#[test]
fn a_bad_test_file_is_named_with_its_line_and_nothing_runs() {
    let env = TestEnv::example();
    env.write("tests/typo.yaml", "agent: sales\nconversation:\n  - user: hi\n  - expect: {contians: [hello]}\n");
    let run = env.av_env(&["test"], REPLAY).code(2);
    assert!(run.stderr.contains("error: tests/typo.yaml:4:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field 'contians'") && run.stderr.contains("did you mean 'contains'?"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "nothing ran");
    assert!(env.git(&["notes", "--ref", "agentver/tests", "list"]).is_empty(), "no note written");
    let check = env.av(&["check"]).code(1);
    assert!(check.stdout.contains("tests/typo.yaml:4"), "check reports it too: {}", check.stdout);
    env.write("tests/typo.yaml", "agent: sals\nconversation:\n  - user: hi\n");
    let check = env.av(&["check"]).code(1);
    assert!(
        check.stdout.contains("tests/typo.yaml: tests agent 'sals', which has no draft in agents/"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("hint: did you mean 'sales'?"), "{}", check.stdout);
}

#[test]
fn junit_and_json_report_the_same_runs() {
    let env = TestEnv::example();
    let junit = env.av_env(&["test", "--format", "junit"], REPLAY).ok().stdout;
    assert!(
        junit.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"agentver test\" tests=\"3\" failures=\"0\">"
        ),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase ").count(), 3);
    assert!(junit.contains("name=\"sales-no-prices (sales@draft)\" file=\"tests/sales-no-prices.yaml\""), "{junit}");
    env.edit("agents/sales.yaml", "    Never quote prices", "    Be brief.\n    Never quote prices");
    let failed = env.av_env(&["test", "sales-no-prices", "--format", "junit"], REPLAY).code(1).stdout;
    assert!(
        failed.contains("tests=\"1\" failures=\"1\"")
            && failed.contains("<failure message=\"0/3 runs passed, 3 needed\">run 1: the agent&apos;s request"),
        "{failed}"
    );
    let json = env.av_env(&["test", "sales-no-prices", "--json"], REPLAY).code(1).json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["mode"], "replay");
    let t = &json["tests"][0];
    assert_eq!(
        (t["test"].as_str(), t["agent"].as_str(), t["version"].as_str(), t["runs"].as_u64()),
        (Some("sales-no-prices"), Some("sales"), Some("draft"), Some(3))
    );
    assert_eq!(t["results"][0]["failure"]["line"], 10);
}

#[test]
fn the_schema_for_test_files_accepts_the_examples_and_refuses_a_typo() {
    let env = TestEnv::example();
    let schema = env.av(&["schema", "--for", "test"]).ok().json();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in ["sales-no-prices", "sales-books-demo", "sales-simulated-caller"] {
        let text = env.read(&format!("tests/{name}.yaml"));
        let doc = agentver::format::yaml::parse(&text).unwrap().to_json().unwrap();
        assert!(
            validator.is_valid(&doc),
            "{name}: {:?}",
            validator.iter_errors(&doc).map(|e| e.to_string()).collect::<Vec<_>>()
        );
    }
    let typo = serde_json::json!({"agent": "sales", "conversation": [{"user": "hi"}], "repat": 2});
    assert!(!validator.is_valid(&typo));
    let both = serde_json::json!({"agent": "sales", "conversation": [], "simulate": {"caller": "x"}});
    assert!(!validator.is_valid(&both), "a script or a simulated caller, not both");
}

#[test]
fn the_results_travel_with_push_and_fetch_and_two_clones_merge() {
    let (env, remote) = with_remote();
    // Clones a and b each run a test; a pushes, then b, whose push merges a's notes first.
    let a = clone(&env, &remote, "a", &[]);
    let b = clone(&env, &remote, "b", &[]);
    for (dir, test) in [(&a, "sales-no-prices"), (&b, "sales-books-demo")] {
        env.av(&["-C", dir, "fetch"]).ok();
        env.av_env(&["-C", dir, "test", test], REPLAY).ok();
    }
    for dir in [&a, &b] {
        let pushed = env.av(&["-C", dir, "push", "--json"]).ok().json();
        assert_eq!(pushed["notes"], serde_json::json!(["tests"]), "{pushed}");
    }
    let fetched = env.av(&["-C", &a, "fetch", "--json"]).ok().json();
    assert_eq!(fetched["notes"], serde_json::json!(["tests"]), "{fetched}");
    let tree = draft_tree(&env, &a, "sales");
    for dir in [&a, &b] {
        let note = env.git(&["-C", dir, "notes", "--ref", "agentver/tests", "show", &tree]);
        let note: serde_json::Value = serde_json::from_str(&note).unwrap();
        let names: Vec<&String> = note["tests"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["sales-books-demo", "sales-no-prices"], "{dir}: {note}");
    }
    let log = env.av(&["-C", &a, "log", "sales"]).ok().stdout;
    assert!(log.lines().nth(1).unwrap().ends_with("tests 2/2 passed"), "v1's tree is the draft's: {log}");
    // The remote's notes are a fast-forward of each push: nothing forced.
    let remote_log =
        env.git(&["--git-dir", remote.to_str().unwrap(), "log", "--format=%s", "refs/notes/agentver/tests"]);
    assert!(remote_log.starts_with("agentver: notes merged from another clone"), "{remote_log}");
}

#[test]
fn plan_shows_each_changed_drafts_tests_before_and_after() {
    let env = TestEnv::example();
    env.av_env(&["test"], REPLAY).ok();
    env.av(&["publish", "--all"]).ok();
    env.edit("agents/sales.yaml", "    Never quote prices", "    Be brief.\n    Never quote prices");
    let plan = env.av(&["plan", "--base", "HEAD"]).ok().stdout;
    assert!(plan.contains("  tests: 3/3 passed → not run\n"), "{plan}");
    env.av_env(&["test", "sales"], REPLAY).code(1);
    let plan = env.av(&["plan", "--base", "HEAD"]).ok().stdout;
    assert!(plan.contains("  tests: 3/3 passed → 0/3 passed\n"), "{plan}");
    let markdown = env.av(&["plan", "--base", "HEAD", "--format", "markdown"]).ok().stdout;
    assert!(markdown.contains("**Tests** of `sales`: 3/3 passed → 0/3 passed"), "{markdown}");
    let json = env.av(&["plan", "--base", "HEAD", "--json"]).ok().json();
    assert_eq!(
        json["drafts"][0]["tests"],
        serde_json::json!({"before": {"passed": 3, "total": 3}, "after": {"passed": 0, "total": 3}})
    );
}
