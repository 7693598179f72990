//! The console attacked as a page on another site, a stale tab or a guesser would: each refusal
//! here is one the console lacked before (issue 31's attack list), asked over raw HTTP.

use crate::console::{Page, TOKEN, csrf, fixture, hidden_after, was};
use crate::env::TestEnv;

fn channels(env: &TestEnv) -> serde_json::Value {
    env.av(&["channels", "--json"]).ok().json()
}

/// The name of the cookie a `Set-Cookie` header sets.
fn cookie_name(set_cookie: &str) -> &str {
    set_cookie.split('=').next().unwrap()
}

#[test]
fn a_console_and_a_server_on_one_host_keep_their_own_sessions() {
    let env = fixture();
    let mut console = Page::console(&env);
    let mut serve = Page::serve(&env, &[]);
    let opened = console.open("/agents/sales");
    let console_cookie = opened.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let login = serve.post("/login", &[("token", TOKEN), ("next", "/")], None);
    assert_eq!(login.status, 303, "{}", login.body);
    let serve_cookie = login.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let (c, s) = (cookie_name(&console_cookie), cookie_name(&serve_cookie));
    let port = |base: &str| base.rsplit(':').next().unwrap().to_owned();
    assert_eq!(c, format!("agentver_console_{}", port(&console.base)));
    assert_eq!(s, format!("agentver_serve_{}", port(&serve.base)));
    // Cookies ignore ports: the browser sends both to each. The console's form still works.
    let token = csrf(&opened.body);
    let both = format!("{}; {}", serve_cookie.split(';').next().unwrap(), console_cookie.split(';').next().unwrap());
    let page = console.get_with("/agents/sales", &[("Cookie", &both)]);
    assert_eq!(csrf(&page.body), token, "the console's session, not a new one");
}

#[test]
fn a_login_never_sends_the_browser_to_another_site() {
    let env = fixture();
    let mut serve = Page::serve(&env, &[]);
    // Browsers drop tabs and newlines from URLs: "/\t/evil.example" is "//evil.example".
    for next in ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "//evil.example", "/\\evil.example"] {
        let got = serve.post("/login", &[("token", TOKEN), ("next", next)], None);
        assert_eq!(got.status, 303, "{next:?}: {}", got.body);
        assert_eq!(got.headers.get("location").unwrap(), "/", "{next:?}");
        let page =
            serve.get(&format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()));
        assert!(page.body.contains("name=\"next\" value=\"/\""), "{next:?}: {}", page.body);
    }
}

#[test]
fn a_form_that_sends_a_field_twice_is_refused() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/agents/sales").body);
    let forged = [
        ("csrf", "0".repeat(64).leak() as &str),
        ("csrf", token.as_str()),
        ("channel", "+14155550100"),
        ("spec", "sales@v2"),
    ];
    let got = page.post("/channels/pin", &forged, None);
    assert_eq!(got.status, 400, "{}", got.body);
    assert!(
        got.body.contains("the form sends the field &#39;csrf&#39; twice")
            || got.body.contains("the form sends the field 'csrf' twice"),
        "{}",
        got.body
    );
    let twice = [("csrf", token.as_str()), ("channel", "+14155550100"), ("spec", "sales@v1"), ("spec", "sales@v2")];
    assert_eq!(page.post("/channels/pin", &twice, None).status, 400);
    assert_eq!(channels(&env)[0]["targets"][0]["pin"], 1, "nothing changed");
}

#[test]
fn an_origin_with_another_scheme_is_another_origin() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/agents/sales").body);
    let made = was(&page.get("/channels").body, "+14155550100");
    let good = [("csrf", token.as_str()), ("channel", "+14155550100"), ("spec", "sales@v2"), ("was", &made)];
    let https = page.base.replace("http://", "https://");
    assert_eq!(page.post("/channels/pin", &good, Some(&https)).status, 403);
    assert_eq!(channels(&env)[0]["targets"][0]["pin"], 1, "nothing changed");
    assert_eq!(page.post("/channels/pin", &good, None).status, 303);
}

#[test]
fn wrong_tokens_at_the_login_are_throttled() {
    let env = fixture();
    let mut serve = Page::serve(&env, &[]);
    for _ in 0..10 {
        assert_eq!(serve.post("/login", &[("token", "wrong-token-wrong-token"), ("next", "/")], None).status, 401);
    }
    // The eleventh try, even with the right token, waits for the minute to pass.
    let got = serve.post("/login", &[("token", TOKEN), ("next", "/")], None);
    assert_eq!(got.status, 429, "{}", got.body);
    assert!(got.body.contains("too many wrong tokens"), "{}", got.body);
}

#[test]
fn a_page_that_fails_is_logged() {
    let env = fixture();
    // A call store that cannot be reached: the calls page says so, and the console's log why.
    env.write("agentver.toml", "[calls]\nstore = \"postgres://agentver@127.0.0.1:1/none\"\n");
    let page = Page::console(&env);
    let got = page.get("/calls");
    assert_eq!(got.status, 503, "{}", got.body);
    page.wait_for_log("call store");
}

#[test]
fn a_stale_split_form_never_reverts_what_the_command_line_changed() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/channels").body);
    let made = was(&page.get("/channels").body, "+14155550199");
    // Meanwhile the command line reshapes the split.
    env.av(&["ab", "+14155550199", "control=sales@v1:60", "test=sales@v2:40"]).ok();
    let written = env.read("channels.toml");
    let stale = [
        ("csrf", token.as_str()),
        ("channel", "+14155550199"),
        ("was", &made),
        ("name", "control"),
        ("spec", "sales@v1"),
        ("weight", "90"),
        ("name", "test"),
        ("spec", "sales@v2"),
        ("weight", "10"),
    ];
    // Refused, nothing written, landing on the channel as it is now (the command line's 60/40).
    let posted = page.post("/channels/ab", &stale, None);
    let got = page.landed(posted);
    assert!(got.body.contains("class=\"notice error\""), "{}", got.body);
    assert!(got.body.contains("changed in channels.toml since that page was made"), "{}", got.body);
    assert!(got.body.contains("value=\"60\"") && got.body.contains("value=\"40\""), "the fresh view: {}", got.body);
    assert_eq!(env.read("channels.toml"), written, "the command line's split stands");
    // The page made now carries the new state, and its form works.
    let fresh = was(&page.get("/channels").body, "+14155550199");
    let mut form = stale;
    form[2] = ("was", &fresh);
    assert_eq!(page.post("/channels/ab", &form, None).status, 303);
    // A "Pin a channel" form for a channel that exists by now is refused too.
    let new = [("csrf", token.as_str()), ("channel", "+14155550199"), ("spec", "sales@v1"), ("was", "absent")];
    let posted = page.post("/channels/pin", &new, None);
    assert!(page.landed(posted).body.contains("is in channels.toml already"));
}

#[test]
fn a_stale_save_version_publishes_nothing_nobody_saw() {
    let env = fixture();
    let mut page = Page::console(&env);
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.6");
    let shown = page.open("/agents/sales").body;
    let (token, draft) = (csrf(&shown), hidden_after(&shown, "Save version", "draft"));
    // The file changes on disk after the page was made.
    env.edit("agents/sales.yaml", "temperature: 0.6", "temperature: 1.9");
    let tags = env.tags();
    let posted = page.post("/agents/sales/publish", &[("csrf", &token), ("draft", &draft), ("label", "x")], None);
    let got = page.landed(posted);
    assert!(got.body.contains("changed on disk since that page was made: nothing was published"), "{}", got.body);
    assert_ne!(
        hidden_after(&got.body, "Save version", "draft"),
        draft,
        "the fresh view's form is made from the draft now"
    );
    assert_eq!(env.tags(), tags, "nothing published");
    let missing = page.post("/agents/sales/publish", &[("csrf", &token), ("label", "x")], None);
    assert!(
        page.landed(missing).body.contains("nothing was published"),
        "a form that says nothing of the draft is refused"
    );
    assert_eq!(env.tags(), tags, "nothing published");
}

#[test]
fn a_restore_overwrite_is_tied_to_the_content_it_showed() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/agents/sales").body);
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.9");
    let refused = page.post("/agents/sales/restore", &[("csrf", &token), ("version", "1")], None);
    let replaces = hidden_after(&refused.body, "Overwrite", "replaces");
    // More unsaved work arrives after the overwrite was offered: it was never shown, so it stays.
    env.edit("agents/sales.yaml", "temperature: 0.9", "temperature: 1.1");
    let overwrite = [("csrf", token.as_str()), ("version", "1"), ("overwrite", "yes"), ("replaces", &replaces)];
    let posted = page.post("/agents/sales/restore", &overwrite, None);
    assert!(page.landed(posted).body.contains("changed again since the overwrite was offered: nothing was written"));
    assert!(env.read("agents/sales.yaml").contains("temperature: 1.1"), "nothing written");
    let forged = [("csrf", token.as_str()), ("version", "1"), ("overwrite", "yes")];
    let posted = page.post("/agents/sales/restore", &forged, None);
    assert!(page.landed(posted).body.contains("nothing was written"));
    assert!(env.read("agents/sales.yaml").contains("temperature: 1.1"), "nothing written");
}
