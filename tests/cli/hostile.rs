//! Hostile input: damaged TOML, bombs, huge files, hostile names and revisions. Each is one clear
//! exit-2 error naming the file, within bounded time and memory, and writes nothing.

use std::time::{Duration, Instant};

use crate::env::TestEnv;

/// Runs agentver and checks exit 2, the error's first line, and a time bound. When GNU time is
/// installed, peak memory is checked too.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str], starts_with: &str) {
    let start = Instant::now();
    let run = env.av(args);
    let took = start.elapsed();
    assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with(starts_with), "{args:?}: {first:?} does not start with {starts_with:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stderr.lines().count() <= 2, "one error line and a hint at most: {}", run.stderr);
    assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
    if std::path::Path::new("/usr/bin/time").exists() {
        let out = std::process::Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_agentver"))
            .args(args)
            .current_dir(&env.root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        // GNU time's last line is the peak in KiB; anything else means the check did not run.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default().trim();
        let peak_kib: u64 = last.parse().unwrap_or_else(|_| panic!("{args:?}: GNU time printed {last:?}, not a size"));
        assert!(peak_kib < 100 * 1024, "{args:?} peaked at {peak_kib} KiB");
    }
}

#[test]
fn damaged_channels_toml() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage", b"\x00\x01 not toml ]]]".to_vec(), "error: channels.toml:1: invalid TOML"),
        (
            "byte-order mark",
            [b"\xEF\xBB\xBF".as_slice(), b"[channels.x]\n"].concat(),
            "error: channels.toml:1:1: file starts with a byte-order mark",
        ),
        (
            "not UTF-8",
            b"[channels.x]\nagent = \"\xFF\"\n".to_vec(),
            "error: channels.toml:2:10: file is not valid UTF-8",
        ),
        (
            "deep inline tables",
            format!("x = {}1{}\n", "{a = ".repeat(5000), "}".repeat(5000)).into_bytes(),
            "error: channels.toml:1: invalid TOML",
        ),
        (
            "deep arrays",
            format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            "error: channels.toml:1: invalid TOML",
        ),
        (
            "duplicate table",
            b"[channels.x]\nagent = \"sales\"\nversion = 1\n[channels.x]\n".to_vec(),
            "error: channels.toml:4: invalid TOML",
        ),
        ("over 16 MiB", vec![b'#'; 17 * 1024 * 1024], "error: channels.toml: file is"),
        (
            "huge string",
            format!("[channels.x]\nagent = \"{}\"\nversion = 1\n", "a".repeat(8 * 1024 * 1024)).into_bytes(),
            "error: channels.toml:2: channel 'x': invalid agent id",
        ),
    ];
    for (what, bytes, want) in &cases {
        std::fs::write(env.path("channels.toml"), bytes).unwrap();
        for args in [&["resolve", "x"][..], &["channels"][..], &["pin", "y", "sales"][..], &["status"][..]] {
            refused(&env, args, want);
        }
        assert_eq!(&std::fs::read(env.path("channels.toml")).unwrap(), bytes, "{what}: a refused edit wrote");
    }
}

#[test]
fn damaged_agentver_toml() {
    let env = TestEnv::example();
    for (text, want) in [
        ("requires = [", "error: agentver.toml:1: "),
        ("requires = 3", "error: agentver.toml:1: "),
        ("tag_prefix = \"../../escape\"", "error: agentver.toml:1: tag_prefix"),
        ("tag_prefix = \"Agent\"", "error: agentver.toml:1: tag_prefix"),
        ("\u{feff}requires = \">=0.1\"", "error: agentver.toml:1:1: file starts with a byte-order mark"),
        ("[section]\nx = 1", "error: agentver.toml:1: unknown field 'section'"),
    ] {
        env.write("agentver.toml", text);
        refused(&env, &["status"], want);
        refused(&env, &["publish", "sales"], want);
    }
    assert!(env.tags().is_empty());
    // Every text's byte problems read alike: line, column and hint, as for agent files.
    env.write("agentver.toml", "\u{feff}requires = \">=0.1\"");
    let run = env.av(&["status"]);
    assert_eq!(
        run.stderr,
        "error: agentver.toml:1:1: file starts with a byte-order mark\nhint: save the file as UTF-8 without a BOM\n"
    );
}

#[test]
fn hostile_names_and_revisions() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    refused(&env, &["pin", "../../etc/passwd", "sales"], "error: '../../etc/passwd' is not a valid channel name");
    refused(&env, &["pin", "a/b", "sales"], "error: 'a/b' is not a valid channel name");
    refused(&env, &["unpin", "x\ny"], "error: 'x\\ny' is not a valid channel name");
    refused(&env, &["ab", "x", "../a=sales@v1:1", "b=sales@v1:1"], "error: variant name '../a'");
    refused(&env, &["show", "sales@draft", "--rev", "../../../etc"], "error: unknown revision '../../../etc'");
    refused(&env, &["status", "--rev", "HEAD:agents"], "error: revision 'HEAD:agents' is not a commit");
    refused(&env, &["log", "sales", "--rev", ""], "error: unknown revision ''");
    refused(&env, &["resolve", "+14155550100", "--agent-version", "0"], "error: --agent-version: versions start at 1");
    refused(&env, &["show", "sales@v18446744073709551616"], "error: invalid version");
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn huge_and_deep_workflows_are_bounded() {
    let env = TestEnv::example();
    env.write("workflows/intake.json", &format!("{{\"x\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000)));
    refused(&env, &["publish", "intake"], "error: workflows/intake.json:1:133: invalid JSON: recursion limit exceeded");
    env.write("workflows/intake.json", &format!("{{\"x\": \"{}\"}}", "y".repeat(2 * 1024 * 1024)));
    refused(&env, &["publish", "intake"], "error: workflows/intake.json: file is");
    assert!(env.tags().is_empty());
}
