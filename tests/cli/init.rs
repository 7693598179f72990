//! `agentver init`, `new` and `schema`.

use crate::env::TestEnv;
use crate::screen::snap;

#[test]
fn init_creates_a_workspace_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let env = TestEnv::empty();
    let target = dir.path().join("fresh");
    let run = env.av(&["init", "--example", "-C", target.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("initialized a git repository"), "{}", run.stdout);
    assert!(target.join(".git").is_dir());
    for f in
        ["agentver.toml", "channels.toml", "agents/sales.yaml", "tools/book_appointment.yaml", "workflows/intake.json"]
    {
        assert!(target.join(f).is_file(), "{f}");
    }
    std::fs::write(target.join("agents/sales.yaml"), "mine").unwrap();
    let run = env.av(&["-C", target.to_str().unwrap(), "init", "--example"]).ok();
    assert!(run.stdout.contains("kept    agents/sales.yaml (already exists)"), "{}", run.stdout);
    assert!(!run.stdout.contains("initialized"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(target.join("agents/sales.yaml")).unwrap(), "mine");

    // Plain init in an existing repository: folders and a commented channels.toml.
    let run = env.av(&["init"]).ok();
    assert!(run.stdout.contains("created channels.toml"), "{}", run.stdout);
    assert!(env.read("channels.toml").starts_with("# "));
    assert!(env.path("agents").is_dir() && env.path("tools").is_dir() && env.path("workflows").is_dir());
}

#[test]
fn new_scaffolds_a_valid_draft() {
    let env = TestEnv::example();
    let run = env.av(&["new", "front-desk"]).ok();
    assert_eq!(run.stdout.trim(), "created agents/front-desk.yaml");
    let run = env.av(&["publish", "front-desk"]).ok();
    assert!(run.stderr.is_empty(), "no warnings from the template: {}", run.stderr);
    env.av(&["new", "front-desk"]).code(1);
    env.av(&["new", "Front Desk"]).code(2);
}

#[test]
fn schema_is_json_schema() {
    let env = TestEnv::example();
    let schema = env.av(&["schema"]).ok().json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["properties"]["turn_taking"]["properties"]["vad_threshold"]["maximum"], 1.0);
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn outside_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let env = TestEnv::empty();
    let run = env.av(&["-C", dir.path().to_str().unwrap(), "status"]).code(2);
    assert!(run.stderr.starts_with("error: not inside a git repository"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: run `agentver init`"), "{}", run.stderr);
}

#[test]
fn screens() {
    let empty = crate::env::TestEnv::empty();
    snap!(empty, "init", "init");
    snap!(empty, "init_again_json", "init", "--json");
    snap!(empty, "init_example_keeps_files", "init", "--example");
}

/// Issue 18, item 37: the files `init`, `new` and `restore` create get what any program's new
/// file gets (0644 under umask 022), not the staged temporary file's 0600.
#[test]
fn new_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::empty();
    let under_umask = |args: &str| {
        let mut cmd = std::process::Command::new("sh");
        env.configure(&mut cmd);
        let out = cmd
            .args(["-c", &format!("umask 022 && exec \"$0\" {args}")])
            .arg(env!("CARGO_BIN_EXE_agentver"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let mode = |rel: &str| std::fs::metadata(env.path(rel)).unwrap().permissions().mode() & 0o777;
    under_umask("init --example");
    for file in ["channels.toml", "agents/sales.yaml", "tools/book_appointment.yaml"] {
        assert_eq!(mode(file), 0o644, "{file}");
    }
    under_umask("new billing");
    assert_eq!(mode("agents/billing.yaml"), 0o644);
    env.commit_all("scaffold");
    under_umask("publish billing");
    std::fs::remove_file(env.path("agents/billing.yaml")).unwrap();
    under_umask("restore billing@v1");
    assert_eq!(mode("agents/billing.yaml"), 0o644);
}
