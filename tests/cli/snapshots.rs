//! Whole screens: every command's human and JSON output, stdout, stderr and exit status together,
//! as insta snapshots (`tests/cli/snapshots/`). Runs are hermetic (fixed identity and dates), so
//! ids are stable; the temporary folder is filtered out. After an intended change of output, run
//! `INSTA_UPDATE=always cargo test --test cli snapshots` and review the diff of the .snap files.

use crate::env::TestEnv;

/// One command's whole result as text.
fn screen(env: &TestEnv, args: &[&str]) -> String {
    let run = env.av(args);
    let tmp = env.root.parent().unwrap().display().to_string();
    let text = format!(
        "$ agentver {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    text.replace(&tmp, "[TMP]")
}

macro_rules! snap {
    ($env:expr, $name:expr, $($arg:expr),+) => {
        insta::assert_snapshot!($name, screen(&$env, &[$($arg),+]))
    };
}

#[test]
fn every_command_as_people_and_programs_see_it() {
    let empty = TestEnv::empty();
    snap!(empty, "init", "init");
    snap!(empty, "new", "new", "billing");
    snap!(empty, "new_json", "new", "hotline", "--json");

    let env = TestEnv::example();
    snap!(env, "status_new", "status");
    snap!(env, "publish_all", "publish", "--all", "-m", "Launch");
    snap!(env, "status_json", "status", "--json");
    snap!(env, "log", "log", "sales");
    snap!(env, "log_json", "log", "sales", "--json");
    snap!(env, "show_json", "show", "support", "--json");

    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.edit("agents/sales.yaml", "Never quote prices", "Do not quote prices");
    snap!(env, "diff", "diff", "sales");
    snap!(env, "diff_markdown", "diff", "sales", "--format", "markdown");
    snap!(env, "diff_json", "diff", "sales", "--json");
    snap!(env, "publish_json", "publish", "sales", "-m", "Warmer", "--json");
    snap!(env, "publish_unchanged", "publish", "sales");
    snap!(env, "restore_dry_run", "restore", "sales@v1", "--dry-run");
    snap!(env, "rollback_json", "rollback", "sales@v1", "--json");

    snap!(env, "pin_json", "pin", "+14155550100", "sales@v2", "--json");
    snap!(env, "ab", "ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1");
    snap!(env, "unpin_json", "unpin", "web-widget", "--json");
    snap!(env, "channels", "channels");
    snap!(env, "channels_json", "channels", "--json");
    snap!(env, "resolve", "resolve", "+14155550199", "--caller", "+14155550123");
    snap!(env, "check", "check");
    snap!(env, "check_github", "check", "--format", "github");
    snap!(env, "plan", "plan");
    snap!(env, "plan_markdown", "plan", "--format", "markdown");
    snap!(env, "verify", "verify");
    snap!(env, "verify_json", "verify", "--json");
    env.commit_all("deployed");
    snap!(env, "export", "export");

    // Call records: imported (fixed ids and times), listed, compared, replayed.
    let v1_tree = env.rev("agent/sales/v1^{tree}");
    let lines: String = (0..40)
        .map(|i| {
            let version = 1 + i % 2;
            format!(
                "{{\"call_id\": \"c-{i:02}\", \"agent\": \"sales\", \"version\": {version}, \"tree\": \"{v1_tree}\", \"channel\": \"+14155550199\", \"variant\": \"{}\", \"started_at\": \"2026-11-{:02}T10:00:00Z\", \"duration_ms\": {}, \"success\": {}, \"sentiment\": \"positive\", \"analysis\": {{\"demo_booked\": {}}}}}\n",
                if version == 1 { "old" } else { "new" },
                1 + i / 2,
                60_000 + i * 1000,
                i % 3 != 0,
                i % 4 == 0
            )
        })
        .collect();
    env.write("../calls.jsonl", &lines);
    snap!(env, "calls_import", "calls", "import", "../calls.jsonl");
    snap!(env, "calls", "calls", "--version", "2", "--limit", "5");
    snap!(env, "stats", "stats", "sales", "--compare", "v1", "v2");
    snap!(env, "stats_by_variant_json", "stats", "sales", "--by", "variant", "--channel", "+14155550199", "--json");
    snap!(env, "replay", "replay", "c-01");

    // The errors people hit first.
    snap!(env, "error_unknown_agent", "show", "sals");
    snap!(env, "error_unknown_channel", "resolve", "nowhere");
    snap!(env, "error_bad_spec", "pin", "x", "sales@v0");
}
