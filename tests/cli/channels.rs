//! `pin`, `ab`, `unpin`, `channels` and `resolve` against repositories built in the test.

use crate::env::TestEnv;
use crate::screen::{self, snap};

/// The example with sales v1 and v2 published and everything committed.
fn published() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales"]).ok();
    env.commit_all("v2");
    env
}

#[test]
fn pin_ab_unpin_change_only_their_channel() {
    let env = published();
    let original = env.read("channels.toml");
    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    let tree = env.rev("agent/sales/v2^{tree}");
    let want = original.replacen(
        "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 1\n",
        &format!("[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 2\ntree = \"{tree}\"\n"),
        1,
    );
    assert_eq!(env.read("channels.toml"), want, "only the pinned channel changed");

    // Back again: bare id freezes latest's number, which is v2 here.
    env.av(&["pin", "+14155550100", "sales@latest"]).ok();
    let floating = env.read("channels.toml");
    assert!(
        floating.contains("[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = \"latest\"\n\n"),
        "{floating}"
    );

    env.av(&["ab", "+14155550100", "a=sales@v1:50", "b=sales@v2:50", "--salt", "s1"]).ok();
    let split = env.read("channels.toml");
    assert!(
        split.contains(
            "# Production sales line, frozen on v1.\n[channels.\"+14155550100\"]\nsalt = \"s1\"\nvariants = [\n"
        ),
        "{split}"
    );
    env.av(&["unpin", "+14155550100"]).ok();
    let without = env.read("channels.toml");
    assert!(!without.contains("+14155550100\"]"), "{without}");
    // Every other line of the original survives the round trip.
    for line in original.lines().filter(|l| !l.is_empty()) {
        if !line.contains("14155550100")
            && !line.starts_with("agent = \"sales\"")
            && line != "version = 1"
            && !line.contains("Production sales line")
        {
            assert!(without.contains(line), "lost {line:?}\n{without}");
        }
    }
    env.av(&["pin", "new-line", "support@v1"]).ok();
    assert!(env.read("channels.toml").ends_with(&format!(
        "\n[channels.new-line]\nagent = \"support\"\nversion = 1\ntree = \"{}\"\n",
        env.rev("agent/support/v1^{tree}")
    )));
    env.av(&["unpin", "new-line"]).ok();
    assert_eq!(env.read("channels.toml"), without, "pin then unpin of a new channel is a no-op");
}

#[test]
fn refused_edits_leave_the_file_byte_for_byte() {
    let env = published();
    let before = std::fs::read(env.path("channels.toml")).unwrap();
    let refused: &[&[&str]] = &[
        &["pin", "+14155550100", "sales@v9"],
        &["pin", "+14155550100", "nobody"],
        &["pin", "+14155550100", "intake@draft"],
        &["pin", "not a channel", "sales"],
        &["pin", "+0123", "sales"],
        &["pin", "x", "Sales@v1"],
        &["ab", "x", "a=sales@v1:1"],
        &["ab", "x", "a=sales@v1:0", "b=sales@v2:0"],
        &["ab", "x", "a=sales@v1:1", "a=sales@v2:1"],
        &["ab", "x", "a=sales@v1:1", "b=sales@v2"],
        &["ab", "x", "a=sales@v1:1", "b=sales@v2:-3"],
        &["ab", "x", "A B=sales@v1:1", "b=sales@v2:1"],
        &["ab", "x", "a=sales@v1:1", "b=sales@v7:1"],
        &["unpin", "+19999999999"],
    ];
    std::fs::remove_file(env.path("agents/intake.yaml")).unwrap();
    for args in refused {
        let run = env.av(args);
        assert_ne!(run.code, 0, "{args:?} should be refused");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(env.path("channels.toml")).unwrap(), before, "{args:?} changed the file");
    }
    assert!(!env.path("channels.toml.lock").exists());

    // An invalid file is not edited: the error names it and its line.
    env.write("channels.toml", "[channels.x]\nagent = \"sales\"\nversoin = 1\n");
    let run = env.av(&["pin", "y", "sales"]).code(2);
    assert!(run.stderr.starts_with("error: channels.toml:3: channel 'x': unknown key 'versoin'"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: did you mean 'version'?"), "{}", run.stderr);

    // Another agentver holding the edit lock: refused after a short wait, file untouched.
    env.write("channels.toml", "");
    let held = agentver::git::lock::exclusive(&env.path(".git/agentver-channels.lock")).unwrap();
    let run = env.av(&["pin", "y", "sales"]).code(1);
    assert!(run.stderr.contains("being edited by another agentver process"), "{}", run.stderr);
    assert_eq!(env.read("channels.toml"), "");
    drop(held);
    env.av(&["pin", "y", "sales"]).ok();
    assert!(env.git(&["status", "--porcelain"]).lines().all(|l| !l.contains(".lock")), "no lock file in the work tree");
}

#[test]
fn resolve_every_kind_of_pin() {
    let env = published();
    let v1_tree = env.rev("agent/sales/v1^{tree}");
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.av(&["pin", "floating", "sales@latest"]).ok();
    env.av(&["pin", "testing", "sales@draft"]).ok();

    let r = env.av(&["resolve", "+14155550100"]).ok().json();
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["channel", "variant", "agent", "version", "tag", "tree", "bucket", "config"]);
    assert_eq!((&r["version"], &r["tag"], &r["tree"]), (&1.into(), &"agent/sales/v1".into(), &v1_tree.clone().into()));
    assert_eq!((&r["variant"], &r["bucket"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert_eq!(r["config"]["tools"][0]["type"], "webhook");

    assert_eq!(env.av(&["resolve", "floating"]).ok().json()["version"], 2);
    let over = env.av(&["resolve", "+14155550100", "--agent-version", "2"]).ok().json();
    assert_eq!((&over["version"], &over["config"]["llm"]["temperature"]), (&2.into(), &0.5.into()));
    env.av(&["resolve", "+14155550100", "--agent-version", "9"]).code(2);

    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 123");
    let draft = env.av(&["resolve", "testing"]).ok().json();
    assert_eq!((&draft["version"], &draft["tag"]), (&"draft".into(), &serde_json::Value::Null));
    assert_eq!(draft["config"]["llm"]["max_tokens"], 123);
    // The draft's tree is what its snapshot would be: publishing it produces exactly that tree.
    env.av(&["publish", "sales"]).ok();
    assert_eq!(draft["tree"], env.rev("agent/sales/v3^{tree}"));

    // --rev reads channels.toml and drafts from the commit; versions still come from tags.
    let at_head = env.av(&["resolve", "testing", "--rev", "HEAD"]);
    assert_eq!(at_head.code, 2, "HEAD's channels.toml has no 'testing' channel: {}", at_head.stderr);
    env.commit_all("pins");
    let at_head = env.av(&["resolve", "testing", "--rev", "HEAD"]).ok().json();
    assert_eq!(at_head["config"]["llm"]["max_tokens"], 123);
    let r = env.av(&["resolve", "+14155550199", "--rev", "HEAD~1", "--caller", "+16505550123"]).ok().json();
    assert_eq!(r["variant"], "control");
    env.av(&["resolve", "nowhere"]).code(2);
}

#[test]
fn splits_bucket_stickily() {
    let env = published();
    env.av(&["ab", "line", "control=sales@v1:80", "test=sales@v2:20"]).ok();
    // Vector from the published set: salt = channel name, caller +16505550124 → bucket 3, control.
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@v2:20", "--salt", "+14155550199"]).ok();
    let r = env.av(&["resolve", "+14155550199", "--caller", "+16505550124"]).ok().json();
    assert_eq!(r["bucket"], serde_json::json!({"key": "caller", "value": 3}));
    assert_eq!(r["variant"], "control");
    let r = env.av(&["resolve", "+14155550199", "--call-id", "call_000001"]).ok().json();
    assert_eq!(r["bucket"], serde_json::json!({"key": "call", "value": 91}));
    assert_eq!((&r["variant"], &r["version"]), (&"test".into(), &2.into()));

    // sticky = call prefers the call id, and falls back to the caller.
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@v2:20", "--sticky", "call"]).ok();
    assert!(env.read("channels.toml").contains("sticky = \"call\"\nsalt = \"+14155550199\"\n"), "the salt was kept");
    let r = env.av(&["resolve", "+14155550199", "--caller", "+16505550124", "--call-id", "call_000001"]).ok().json();
    assert_eq!(r["bucket"]["key"], "call");
    let r = env.av(&["resolve", "+14155550199"]).ok().json();
    assert_eq!(r["bucket"]["key"], "random");

    let listing = env.av(&["channels", "--json"]).ok().json();
    let split = listing.as_array().unwrap().iter().find(|c| c["channel"] == "line").unwrap();
    assert_eq!(split["targets"][0]["share"], 0.8);
    assert_eq!(split["targets"][1]["tag"], "agent/sales/v2");
}

#[test]
fn a_moved_tag_refuses_to_serve_a_tree_pinned_channel() {
    let env = published();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.av(&["resolve", "+14155550100"]).ok();
    // Someone force-moves v1 onto v2's commit.
    env.git(&["tag", "-f", "-a", "-m", "moved", "agent/sales/v1", "agent/sales/v2^{commit}"]);
    let run = env.av(&["resolve", "+14155550100"]).code(1);
    assert!(run.stderr.contains("channel '+14155550100': agent/sales/v1 holds tree"), "{}", run.stderr);
    assert!(run.stderr.contains("the tag was moved or replaced"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let listing = env.av(&["channels"]).ok().stdout;
    assert!(listing.contains("cannot serve"), "{listing}");
    // A per-call override names a version explicitly and is not held to the pinned tree.
    env.av(&["resolve", "+14155550100", "--agent-version", "2"]).ok();
}

#[test]
fn the_first_pin_after_init_keeps_the_header_on_top() {
    let env = TestEnv::empty();
    env.av(&["init"]).ok();
    env.av(&["new", "front-desk"]).ok();
    env.av(&["publish", "front-desk"]).ok();
    let header = env.read("channels.toml");
    env.av(&["pin", "web", "front-desk@latest"]).ok();
    assert_eq!(
        env.read("channels.toml"),
        format!("{header}\n[channels.web]\nagent = \"front-desk\"\nversion = \"latest\"\n")
    );
    env.av(&["unpin", "web"]).ok();
    assert_eq!(env.read("channels.toml"), header, "pin then unpin gives the file back");
}

#[test]
fn screens() {
    let env = screen::two_versions();
    env.av(&["ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1"]).ok();
    snap!(env, "channels", "channels");
    snap!(env, "channels_json", "channels", "--json");
    snap!(env, "channels_unknown_revision", "channels", "--rev", "nowhere");
}
