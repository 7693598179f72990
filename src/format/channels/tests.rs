//! Table tests for channels.toml parsing: good files and at least twenty bad ones.

use super::*;

const GOOD: &str = r#"# Production lines
[channels."+14155550100"]
agent = "sales"
version = 3
tree = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c"

[channels.web-widget]
agent = "support"
version = "draft"

[channels."+14155550199"]
sticky = "call"
salt = "spring-test"
variants = [
  { name = "control", agent = "sales", version = 3, weight = 80 },
  { name = "test", agent = "sales", version = "latest", weight = 20 },
]
"#;

#[test]
fn parses_a_good_file() {
    let c = parse(GOOD, FILE).unwrap();
    assert_eq!(c.channels.len(), 3);
    let pinned = c.get("+14155550100").unwrap();
    assert_eq!(pinned.line, 2);
    let Route::Single(t) = &pinned.route else { panic!() };
    assert_eq!((t.agent.as_str(), t.pin), ("sales", Pin::Version(3)));
    assert!(t.tree.is_some());
    let Route::Split { sticky, salt, variants } = &c.get("+14155550199").unwrap().route else { panic!() };
    assert_eq!((*sticky, salt.as_str(), variants.len()), (Sticky::Call, "spring-test", 2));
    assert_eq!(variants[1].target.pin, Pin::Latest);
    assert_eq!(routes(&c).len(), 3);
}

#[test]
fn a_channel_is_found_by_name_even_after_the_list_changed() {
    let mut c = parse(GOOD, FILE).unwrap();
    assert_eq!(c.get("web-widget").unwrap().name, "web-widget");
    assert!(c.get("+10000000000").is_none());
    c.channels.remove(0);
    assert_eq!(c.get("web-widget").unwrap().name, "web-widget", "the index is stale: found by scan");
    assert!(c.get("+14155550100").is_none());
    let moved = c.channels.pop().unwrap();
    c.channels.insert(0, moved);
    assert_eq!(c.get("+14155550199").unwrap().name, "+14155550199");
}

#[test]
fn default_salt_is_the_channel_name() {
    let c = parse("[channels.x]\nvariants = [{name=\"a\",agent=\"s\",version=1,weight=1},{name=\"b\",agent=\"s\",version=2,weight=1}]\n", FILE).unwrap();
    let Route::Split { salt, sticky, .. } = &c.channels[0].route else { panic!() };
    assert_eq!((salt.as_str(), *sticky), ("x", Sticky::Caller));
}

#[test]
fn bad_files() {
    let v = |rest: &str| format!("[channels.x]\n{rest}\n");
    let two = |a: &str, b: &str| {
        format!(
            "[channels.x]\nvariants = [\n  {{ name = \"a\", agent = \"s\", version = 1, {a} }},\n  {{ name = \"b\", agent = \"s\", version = 2, {b} }},\n]\n"
        )
    };
    let cases: Vec<(String, &str, Option<u32>)> = vec![
        ("[channels.x\nagent = 1".into(), "invalid TOML", Some(1)),
        (v("agent = \"sales\""), "missing 'version'", Some(1)),
        (v("version = 1"), "missing 'agent'", Some(1)),
        (v("agent = \"Sales!\"\nversion = 1"), "invalid agent id", Some(2)),
        (v("agent = \"sales\"\nversion = 0"), "version must be", Some(3)),
        (v("agent = \"sales\"\nversion = \"v3\""), "must be written as a number", Some(3)),
        (v("agent = \"sales\"\nversion = \"newest\""), "version must be", Some(3)),
        (v("agent = \"sales\"\nversion = 1.5"), "version must be", Some(3)),
        (v("agent = \"sales\"\nversion = 1\ntree = \"xyz\""), "not a full object id", Some(4)),
        (v("agent = \"sales\"\nversion = \"draft\"\ntree = \"9f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c\""), "applies only to numbered", Some(4)),
        (v("agent = \"sales\"\nversion = 1\nweight = 3"), "unknown key 'weight'", Some(4)),
        (v("agnet = \"sales\"\nversion = 1"), "unknown key 'agnet'", Some(2)),
        (v("agent = \"sales\"\nversion = 1\nsalt = \"s\""), "applies only to splits", Some(4)),
        (v("agent = 7\nversion = 1"), "must be a string", Some(2)),
        (two("weight = 1", "weight = -1"), "weight must be", Some(4)),
        (two("weight = 0", "weight = 0"), "add up to 0", Some(2)),
        (two("weight = 1", "weight = \"2\""), "weight must be", Some(4)),
        (two("weight = 1", "wieght = 2"), "unknown key 'wieght'", None),
        (two("weight = 1", "weight = 2000000"), "weight must be", Some(4)),
        ("[channels.x]\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 1 }]\n".into(), "at least two variants", Some(2)),
        ("[channels.x]\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 1 }, { name = \"a\", agent = \"s\", version = 2, weight = 1 }]\n".into(), "used twice", Some(2)),
        ("[channels.x]\nvariants = [{ name = \"A B\", agent = \"s\", version = 1, weight = 1 }, { name = \"b\", agent = \"s\", version = 2, weight = 1 }]\n".into(), "variant name", Some(2)),
        ("[channels.x]\nvariants = \"a\"\n".into(), "list of tables", Some(2)),
        ("[channels.x]\nvariants = [1, 2]\n".into(), "each variant", Some(2)),
        ("[channels.x]\nsticky = \"session\"\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 1 }, { name = \"b\", agent = \"s\", version = 2, weight = 1 }]\n".into(), "sticky", Some(2)),
        ("[channels.\"+0123\"]\nagent = \"s\"\nversion = 1\n".into(), "E.164", Some(1)),
        ("[channels.\"a b\"]\nagent = \"s\"\nversion = 1\n".into(), "not a valid channel name", Some(1)),
        ("[channels]\nx = 3\n".into(), "expected a table", Some(2)),
        ("channels = 3\n".into(), "must be a table", Some(1)),
        ("[chanels.x]\nagent = \"s\"\nversion = 1\n".into(), "unknown key 'chanels'", Some(1)),
        ("[channels.x]\nagent = \"s\"\nversion = 1\n[channels.x]\nagent = \"t\"\n".into(), "invalid TOML", Some(4)),
    ];
    assert!(cases.len() >= 20);
    for (text, want, line) in cases {
        let errors = parse(&text, FILE).expect_err(&text);
        let e = &errors[0];
        assert!(e.message.contains(want), "{text:?}: got {e}, wanted '{want}'");
        assert_eq!(e.file, FILE);
        if let Some(line) = line {
            assert_eq!(e.line, Some(line), "{text:?}: {e}");
        }
    }
}

#[test]
fn bad_bytes() {
    assert!(parse_bytes(b"\xEF\xBB\xBF[channels]", FILE).unwrap_err()[0].message.contains("byte-order mark"));
    assert!(parse_bytes(b"[channels.\xFF]", FILE).unwrap_err()[0].message.contains("UTF-8"));
}

#[test]
fn channel_names() {
    assert!(channel_problem("+14155550100").is_none());
    assert!(channel_problem("web-widget").is_none());
    for bad in ["", "+", "+0", "../x", "a/b", "a b", &"x".repeat(65)] {
        assert!(channel_problem(bad).is_some(), "{bad}");
    }
}
