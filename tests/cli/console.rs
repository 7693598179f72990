//! The console: `agentver console` over the work tree (pages and the editor's actions) and the
//! read-only pages of `agentver serve` behind a login, asked with a real HTTP client; the
//! actions checked by the CLI and git; a real browser drives both (tests/browser/console.py).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::env::TestEnv;

pub const TOKEN: &str = "tok-console-0123456789abcdef";
const HOSTILE_LABEL: &str = "<script>alert('label')</script>";
const HOSTILE_PROMPT: &str = "<script>alert('prompt')</script>\"><img src=x onerror=alert('prompt')>";
const HOSTILE_CALL: &str = "\"><img src=x onerror=alert('call')>";

/// A running console or server, its base URL and the session cookie it gave.
pub struct Page {
    child: Child,
    pub base: String,
    http: ureq::Agent,
    cookie: Option<String>,
    /// What it wrote on stderr so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Got {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Page {
    /// Runs `cmd` (listening on port 0) and waits for the line naming its address (`marker`).
    fn spawn(mut cmd: std::process::Command, marker: &'static str) -> Page {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split(marker).nth(1) {
                    let addr: String =
                        rest.chars().take_while(|c| !c.is_whitespace() && *c != ',' && *c != '/').collect();
                    let _ = tx.send(addr);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(20)).expect("the server did not start");
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Page { child, base: format!("http://{addr}"), http, cookie: None, log }
    }

    /// Waits (10 s at most) for a line of its log holding `text`.
    pub fn wait_for_log(&self, text: &str) {
        for _ in 0..200 {
            if self.log.lock().unwrap().iter().any(|l| l.contains(text)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no log line holds {text:?}: {:?}", self.log.lock().unwrap());
    }

    pub fn console(env: &TestEnv) -> Page {
        Page::spawn(env.av_cmd(&["console", "--listen", "127.0.0.1:0"]), "console at http://")
    }

    pub fn serve(env: &TestEnv, extra: &[&str]) -> Page {
        let mut cmd = env.av_cmd(&["serve", "--listen", "127.0.0.1:0", "--interval", "1"]);
        cmd.args(extra).env("AGENTVER_TOKEN", TOKEN);
        let page = Page::spawn(cmd, "listening on http://");
        for _ in 0..200 {
            if page.get("/readyz").status == 200 {
                return page;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not become ready");
    }

    fn keep_cookie(&mut self, got: &Got) {
        if let Some(c) = got.headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            self.cookie = Some(c.split(';').next().unwrap().to_owned());
        }
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Got {
        let mut r = response.unwrap();
        Got { status: r.status().as_u16(), headers: r.headers().clone(), body: r.body_mut().read_to_string().unwrap() }
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Got {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Page::reply(request.call())
    }

    pub fn get(&self, path: &str) -> Got {
        self.get_with(path, &[])
    }

    /// GET that keeps the session cookie it is given.
    pub fn open(&mut self, path: &str) -> Got {
        let got = self.get(path);
        self.keep_cookie(&got);
        got
    }

    /// The page an action landed on: its answer is a redirect (POST, redirect, GET), followed
    /// with this session's cookie.
    pub fn landed(&mut self, got: Got) -> Got {
        assert_eq!(got.status, 303, "an action lands on its result: {}", got.body);
        let to = got.headers.get("location").unwrap().to_str().unwrap().to_owned();
        self.open(&to)
    }

    /// A form POST from this origin (or `origin`).
    pub fn post(&mut self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Got {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", origin.unwrap_or(&self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let got = Page::reply(request.send(body));
        self.keep_cookie(&got);
        got
    }
}

/// The value of the hidden field `name` in the first form after `marker` on a page.
pub fn hidden_after(body: &str, marker: &str, name: &str) -> String {
    let from = body.find(marker).unwrap_or_else(|| panic!("{marker} is not on the page"));
    let key = format!("name=\"{name}\" value=\"");
    let at = body[from..].find(&key).unwrap_or_else(|| panic!("no field {name} after {marker}")) + from + key.len();
    body[at..at + body[at..].find('"').unwrap()].to_owned()
}

/// What the channels page says a channel's forms were made from.
pub fn was(body: &str, channel: &str) -> String {
    hidden_after(body, &format!("name=\"channel\" value=\"{channel}\""), "was")
}

/// The session's CSRF token, from a page's forms.
pub fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    body[at..at + 64].to_owned()
}

/// sales v1 and v2 (v2 labelled with markup), support and intake, a pin and a split committed,
/// and 120 calls recorded across both versions and variants (one with a hostile call id).
pub fn fixture() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "--all", "-m", "first"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3", "temperature: 0.5");
    env.av(&["publish", "sales", "-m", HOSTILE_LABEL]).ok();
    env.edit(
        "agents/support.yaml",
        "    Look the order up",
        &format!("    Never say {HOSTILE_PROMPT}.\n    Look the order up"),
    );
    env.av(&["publish", "support", "-m", "hostile prompt"]).ok();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@v2:20"]).ok();
    env.commit_all("pins");
    let mut lines = crate::calls::records(&env, "a", 1, Some("control"), 80, 52, 60_000);
    lines += &crate::calls::records(&env, "b", 2, Some("test"), 40, 30, 50_000);
    let tree = env.rev("agent/sales/v2^{tree}");
    lines += &serde_json::json!({
        "call_id": HOSTILE_CALL, "agent": "sales", "version": 2, "tree": tree, "variant": "test",
        "channel": "+14155550199", "started_at": "2026-11-24T11:00:00Z", "success": true,
        "analysis": {"note": "<script>alert('analysis')</script>"}
    })
    .to_string();
    env.write("../calls.jsonl", &lines);
    env.av(&["calls", "import", "../calls.jsonl"]).ok();
    env
}

#[test]
fn the_console_renders_every_page_from_the_work_tree() {
    let env = fixture();
    let mut page = Page::console(&env);
    let home = page.open("/");
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(home.headers["set-cookie"].to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
    for agent in ["sales", "support", "intake"] {
        assert!(home.body.contains(&format!("href=\"/agents/{agent}\"")), "{agent} missing");
    }
    // 121 calls of sales this week? The fixture's calls are dated November 2026, not recent.
    assert!(home.body.contains("Calls, 7 days"));

    let history = page.get("/agents/sales").body;
    let (draft, v2, v1) =
        (history.find("Draft").unwrap(), history.find(">v2<").unwrap(), history.find(">v1<").unwrap());
    assert!(draft < v2 && v2 < v1, "the draft on top, then newest first");
    assert!(history.contains("serves +14155550100"), "the pin shows on v1");
    assert!(history.contains("serves +14155550199 (test)"));
    assert!(history.contains("&lt;script&gt;alert('label')&lt;/script&gt;"), "the label is text");
    assert!(!history.contains(HOSTILE_LABEL));
    assert!(history.contains("Save version") || history.contains("unchanged"));

    let support = page.get("/agents/support/versions/v2").body;
    assert!(support.contains("&lt;script&gt;alert('prompt')") && !support.contains("<script>alert"), "{support}");
    assert!(!support.contains("<img src=x"));
    let v1 = page.get("/agents/sales/versions/v1");
    assert_eq!(v1.status, 200);
    assert!(v1.body.contains("agent/sales/v1") && v1.body.contains(&env.rev("agent/sales/v1^{tree}")));
    let compare = page.get("/agents/sales/compare?from=1&to=2").body;
    assert!(compare.contains("llm.temperature") && compare.contains("0.3") && compare.contains("0.5"), "{compare}");
    let fragment = page.get_with("/agents/sales/compare?from=1&to=draft", &[("HX-Request", "true")]);
    assert!(!fragment.body.contains("<html") && fragment.body.contains("llm.temperature"));
    assert!(fragment.headers["vary"].to_str().unwrap().contains("HX-Request"));

    let channels = page.get("/channels").body;
    assert!(channels.contains("+14155550100") && channels.contains("<meter") && channels.contains("80 (80.0%)"));
    assert_eq!(page.get("/agents/nobody").status, 404);
    assert_eq!(page.get("/agents/sales/versions/v9").status, 404);
    assert_eq!(page.get("/assets/htmx-2.0.11.min.js").status, 200);
}

#[test]
fn calls_and_stats_pages_filter_page_and_escape() {
    let env = fixture();
    let page = Page::console(&env);
    let v2 = page.get("/calls?agent=sales&version=2").body;
    assert_eq!(v2.matches("href=\"/calls/b-").count(), 40, "v2's 40 calls and the hostile one");
    assert!(!v2.contains("href=\"/calls/a-"));
    let first = page.get("/calls?agent=sales&version=1").body;
    assert_eq!(first.matches("href=\"/calls/a-").count(), 50, "a page holds 50");
    assert!(first.contains("rel=\"next\""));
    let second = page.get("/calls?agent=sales&version=1&page=2").body;
    assert_eq!(second.matches("href=\"/calls/a-").count(), 30);
    assert_eq!(page.get("/calls?version=zz").status, 400);
    // The hostile call id is text in the list and a percent-encoded link.
    assert!(!v2.contains("<img src=x") && v2.contains("&quot;&gt;&lt;img src=x onerror=alert('call')&gt;"));
    let encoded = "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%28%27call%27%29%3E";
    let call = page.get(&format!("/calls/{encoded}"));
    assert_eq!(call.status, 200, "{}", call.body);
    assert!(call.body.contains("&lt;script&gt;alert('analysis')") && !call.body.contains("<script>alert"));
    assert!(call.body.contains("Configuration that served it") && call.body.contains("temperature"));

    let stats = page.get("/agents/sales/stats?by=variant&channel=%2B14155550199").body;
    assert!(stats.contains("<svg") && stats.contains("<title id=\"forest-t\">"), "a chart with its title");
    assert!(stats.contains("Figures per arm") && stats.contains("control") && stats.contains("test"));
    assert!(stats.contains("Sample ratio mismatch") || stats.contains("match the split's weights"));
    let cli = env.av(&["stats", "sales", "--by", "variant", "--channel", "+14155550199", "--json"]).ok().json();
    let control = &cli["arms"].as_array().unwrap().iter().find(|a| a["arm"] == "control").unwrap()["success"];
    let shown = format!("{:.1}%", control["rate"].as_f64().unwrap() * 100.0);
    assert!(stats.contains(&shown), "the page's rate is the CLI's: {shown}");
    let csv = page.get("/agents/sales/stats.csv?by=variant&channel=%2B14155550199");
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.lines().any(|l| l.starts_with("control,80,80,52,")), "{}", csv.body);
    // Cost, sentiment and each analysis field, as `stats` has them, in the page and the CSV.
    let head: Vec<&str> = csv.body.lines().next().unwrap().split(',').collect();
    for column in ["cost_mean_usd", "sentiment_positive", "field_demo_booked", "field_team_size"] {
        assert!(head.contains(&column), "{column}: {head:?}");
    }
    let control_row: Vec<&str> = csv.body.lines().find(|l| l.starts_with("control,")).unwrap().split(',').collect();
    let at = |name: &str| control_row[head.iter().position(|h| *h == name).unwrap()].parse::<f64>().unwrap();
    let arm = cli["arms"].as_array().unwrap().iter().find(|a| a["arm"] == "control").unwrap().clone();
    assert!((at("cost_mean_usd") - arm["cost"]["usd"]["mean"].as_f64().unwrap()).abs() < 1e-9);
    assert!((at("field_demo_booked") - arm["fields"]["demo_booked"]["rate"].as_f64().unwrap()).abs() < 1e-9);
    assert!(
        stats.contains(&format!("{:.4} usd", arm["cost"]["usd"]["mean"].as_f64().unwrap())),
        "mean cost on the page"
    );
    assert!(stats.contains("Mean cost: ") && stats.contains(" usd, 95% CI "), "the cost comparison in its unit");
    assert!(stats.contains("Calls per day per variant"), "the calls per day by variant");
}

/// The row of `agent` on the agents page.
fn agent_row(home: &str, agent: &str) -> String {
    let at = home.find(&format!("href=\"/agents/{agent}\"")).expect("the agent's row");
    home[at..].split("</tr>").next().unwrap().to_owned()
}

/// The row of `channel` on the channels page.
fn channel_row(listing: &str, channel: &str) -> String {
    let at = listing.find(&format!("<th scope=\"row\">{channel}</th>")).expect("the channel's row");
    listing[at..].split("</tr>").next().unwrap().to_owned()
}

#[test]
fn the_work_tree_pages_follow_every_edit_after_the_view_is_kept() {
    let env = fixture();
    let page = Page::console(&env);
    // Past the settling time the console keeps what it read; every later change must still show.
    std::thread::sleep(Duration::from_millis(2_600));
    for _ in 0..2 {
        assert!(agent_row(&page.get("/").body, "sales").contains("<td>unchanged</td>"));
        assert!(channel_row(&page.get("/channels").body, "+14155550100").contains("sales</a> v1"));
        assert!(!page.get("/agents/sales").body.contains(">v3<"));
    }

    // An edit in place, the same length: the draft is modified at once.
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.7");
    assert!(agent_row(&page.get("/").body, "sales").contains("<td>modified</td>"), "the edit shows");
    assert!(page.get("/agents/sales").body.contains("Changed since v2"));

    // The CLI pins and publishes behind the console's back.
    env.av(&["pin", "+14155550100", "support@v1"]).ok();
    let row = channel_row(&page.get("/channels").body, "+14155550100");
    assert!(row.contains("support</a> v1") && !row.contains("/agents/sales\""), "{row}");
    env.av(&["publish", "sales", "-m", "third"]).ok();
    let history = page.get("/agents/sales").body;
    assert!(history.contains(">v3<") && history.contains("third"), "the new tag shows");
    assert!(agent_row(&page.get("/").body, "sales").contains("<td>v3</td>"));

    // Settled again, then a tag deleted with git itself.
    std::thread::sleep(Duration::from_millis(2_600));
    assert!(page.get("/agents/sales").body.contains(">v3<"));
    env.git(&["tag", "-d", "agent/sales/v3"]);
    assert!(!page.get("/agents/sales").body.contains(">v3<"), "the deleted tag is gone");
}

#[test]
fn the_channels_page_is_paged_and_filtered() {
    let env = fixture();
    let mut toml = env.read("channels.toml");
    for i in 0..230 {
        let agent = if i % 2 == 0 { "support" } else { "intake" };
        toml += &format!("\n[channels.\"line-{i:03}\"]\nagent = \"{agent}\"\nversion = 1\n");
    }
    env.write("channels.toml", &toml);
    assert_eq!(channels(&env).as_array().unwrap().len(), 234, "the CLI reads the same file");
    let page = Page::console(&env);

    let first = page.get("/channels").body;
    assert!(first.contains("Channels 1–100 of 234") && first.contains("Page 1 of 3"), "{first}");
    assert_eq!(first.matches("<th scope=\"row\">").count(), 100);
    assert!(first.contains("href=\"/channels?page=2\"") && !first.contains("rel=\"prev\""));
    let last = page.get("/channels?page=3").body;
    assert!(last.contains("Channels 201–234 of 234") && last.contains(">line-229<"));
    assert_eq!(last.matches("<th scope=\"row\">").count(), 34);
    assert!(last.contains("rel=\"prev\"") && !last.contains("rel=\"next\""));

    let intake = page.get("/channels?q=INTAKE").body;
    assert!(intake.contains("of 116 holding “INTAKE”"), "115 lines and web-widget: {intake}");
    assert!(!intake.contains(">line-000<") && intake.contains(">line-001<"));
    assert!(intake.contains("href=\"/channels?q=INTAKE&amp;page=2\""));
    let one = page.get("/channels?q=line-042").body;
    assert!(one.contains("Channels 1–1 of 1") && one.contains(">line-042<") && !one.contains("Page 1"));
    assert!(page.get("/channels?q=nothing-like-it").body.contains("No channel matches."));
    let fragment = page.get_with("/channels?q=line-042", &[("HX-Request", "true")]);
    assert!(!fragment.body.contains("<html") && fragment.body.contains(">line-042<"));
    for bad in ["0", "x", "-1"] {
        let got = page.get(&format!("/channels?page={bad}"));
        assert_eq!(got.status, 400, "page={bad}");
        assert!(got.body.contains("page must be a number"), "{}", got.body);
    }
    assert!(page.get("/channels?page=9").body.contains("No channel matches."));
}

fn channels(env: &TestEnv) -> Value {
    env.av(&["channels", "--json"]).ok().json()
}

#[test]
fn the_console_actions_are_the_commands_with_csrf_and_origin_checked() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/agents/sales").body);

    let listed = page.get("/channels").body;
    let (was_pin, was_split) = (was(&listed, "+14155550100"), was(&listed, "+14155550199"));

    // Refused: no token, a wrong token, another origin, another host name.
    let pin = [("channel", "+14155550100"), ("spec", "sales@v2")];
    assert_eq!(page.post("/channels/pin", &pin, None).status, 403);
    let wrong = [("csrf", "0".repeat(64).leak() as &str), ("channel", "+14155550100"), ("spec", "sales@v2")];
    assert_eq!(page.post("/channels/pin", &wrong, None).status, 403);
    let good = [("csrf", token.as_str()), ("channel", "+14155550100"), ("spec", "sales@v2"), ("was", &was_pin)];
    assert_eq!(page.post("/channels/pin", &good, Some("http://evil.example")).status, 403);
    assert_eq!(page.get_with("/", &[("Host", "evil.example")]).status, 403);
    assert_eq!(channels(&env)[0]["targets"][0]["pin"], 1, "nothing changed");

    // Pin with the dropdown's value: channels.toml as `agentver pin` writes it.
    let before = env.read("channels.toml");
    let posted = page.post("/channels/pin", &good, None);
    let got = page.landed(posted);
    assert!(got.body.contains("Pinned +14155550100 to sales v2."), "{}", got.body);
    assert_eq!(channels(&env)[0]["targets"][0]["pin"], 2);
    let from_console = env.read("channels.toml");
    env.write("channels.toml", &before);
    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    assert_eq!(env.read("channels.toml"), from_console, "byte for byte as the CLI writes it");

    // Split weights.
    let weights = [
        ("csrf", token.as_str()),
        ("channel", "+14155550199"),
        ("was", &was_split),
        ("name", "control"),
        ("spec", "sales@v1"),
        ("weight", "50"),
        ("name", "test"),
        ("spec", "sales@v2"),
        ("weight", "50"),
    ];
    let posted = page.post("/channels/ab", &weights, None);
    assert!(page.landed(posted).body.contains("Split +14155550199: control 50, test 50."));
    let split = channels(&env);
    let split = split.as_array().unwrap().iter().find(|c| c["channel"] == "+14155550199").unwrap().clone();
    assert_eq!(split["targets"][0]["weight"], 50);
    assert_eq!(split["targets"][1]["weight"], 50);

    // Save version: a tag as `publish` makes it.
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.6");
    let draft = hidden_after(&page.get("/agents/sales").body, "Save version", "draft");
    let saved = page.post(
        "/agents/sales/publish",
        &[("csrf", &token), ("draft", &draft), ("label", "Cooler"), ("notes", "from the console")],
        None,
    );
    let saved = page.landed(saved);
    assert!(saved.body.contains("Published agent/sales/v3."), "{}", saved.body);
    assert!(!page.get("/agents/sales").body.contains("Published agent/sales/v3."), "the note is shown once");
    assert!(env.tags().contains(&"agent/sales/v3".to_owned()));
    let log = env.av(&["log", "sales", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["label"], "Cooler");
    assert_eq!(log["versions"][0]["notes"], "from the console");

    env.fsck();
}

#[test]
fn serve_pages_need_a_session_from_the_token() {
    let env = fixture();
    let mut page = Page::serve(&env, &["--public-url", "https://agents.example.com"]);
    // Behind https, a form's Origin is https too (the proxy keeps the Host).
    let origin = page.base.replace("http://", "https://");
    let before = page.get("/agents/sales");
    assert_eq!(before.status, 303);
    assert_eq!(before.headers["location"], "/login?next=%2Fagents%2Fsales");
    assert!(!before.body.contains("sales"));
    assert_eq!(page.get("/assets/htmx-2.0.11.min.js").status, 401);
    assert_eq!(page.get("/calls").status, 303);
    let login = page.get("/login?next=/agents/sales");
    assert!(login.body.contains("type=\"password\"") && !login.body.contains("Sales"));
    assert_eq!(page.post("/login", &[("token", "wrong-token-0123456789"), ("next", "/")], Some(&origin)).status, 401);
    assert!(page.cookie.is_none());
    let ok = page.post("/login", &[("token", TOKEN), ("next", "/agents/sales")], Some(&origin));
    assert_eq!(ok.status, 303);
    assert_eq!(ok.headers["location"], "/agents/sales");
    let cookie = ok.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"), "{cookie}");
    assert!(cookie.starts_with("__Host-agentver_serve_"), "behind https, a __Host- cookie: {cookie}");
    assert!(!cookie.contains(TOKEN));
    let history = page.get("/agents/sales");
    assert_eq!(history.status, 200);
    assert!(history.body.contains(">v2<") && history.body.contains("read-only"));
    assert!(!history.body.contains("Roll back to"), "serve has no actions");
    assert_eq!(page.post("/channels/pin", &[("channel", "x"), ("spec", "sales@v1")], Some(&origin)).status, 404);
    let calls = page.get("/calls?agent=sales&version=2");
    assert_eq!(calls.body.matches("href=\"/calls/b-").count(), 40);
    // An open redirect is not possible through next=.
    let elsewhere = page.post("/login", &[("token", TOKEN), ("next", "//evil.example/")], Some(&origin));
    assert_eq!(elsewhere.headers["location"], "/");
    // Logout ends the session.
    let token = csrf(&page.get("/").body);
    let live = page.cookie.clone();
    assert_eq!(page.post("/logout", &[("csrf", &token)], Some(&origin)).status, 303);
    page.cookie = live;
    assert_eq!(page.get("/agents/sales").status, 303, "the old cookie no longer works");
}

#[test]
fn a_real_browser_drives_the_console() {
    if std::env::var_os("AGENTVER_SKIP_BROWSER").is_some() {
        eprintln!("AGENTVER_SKIP_BROWSER is set: the browser test did not run");
        return;
    }
    crate::env::ensure_packages(&[
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
        ("python3:selenium", "python3-selenium"),
        ("npm", "npm"),
    ]);
    let env = fixture();
    let console = Page::console(&env);
    let serve = Page::serve(&env, &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.py");
    // Debian's python3, whose python3-selenium `.ci/run` installs beside chromium.
    let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script).arg(&console.base).arg(&serve.base).arg(TOKEN).arg(env!("CARGO_BIN_EXE_agentver"));
    env.configure(&mut cmd);
    // AGENTVER_SCREENSHOTS=DIR saves each page (docs/console/*.png are made so).
    if let Some(dir) = std::env::var_os("AGENTVER_SCREENSHOTS") {
        cmd.env("AGENTVER_SCREENSHOTS", dir);
    }
    let out = cmd.output().expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser run failed:\n{text}");
    assert!(text.contains("browser: all checks passed"), "{text}");
}

/// The `<main>` of `html`, one tag per line, volatile values (ids, dates, tokens) filtered.
fn main_of(env: &TestEnv, html: &str) -> String {
    let start = html.find("<main id=\"main\">").expect("a main element");
    let end = html.rfind("</main>").expect("a main element") + 7;
    let tokens = regex_lite_hex64(&html[start..end]);
    crate::screen::filtered(env, &tokens.replace("><", ">\n<"))
}

/// 64-hex-digit runs (session CSRF tokens) replaced.
fn regex_lite_hex64(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "[TOKEN]" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[test]
fn each_page_renders_as_its_snapshot() {
    let env = fixture();
    let mut page = Page::console(&env);
    page.open("/");
    for (name, path) in [
        ("console_agents", "/"),
        ("console_history", "/agents/sales"),
        ("console_version", "/agents/support/versions/v1"),
        ("console_compare", "/agents/sales/compare?from=1&to=2"),
        ("console_channels", "/channels"),
        ("console_calls", "/calls?agent=sales&version=2&success=false"),
        ("console_stats", "/agents/sales/stats?by=variant&channel=%2B14155550199"),
    ] {
        let got = page.get(path);
        assert_eq!(got.status, 200, "{path}: {}", got.body);
        insta::assert_snapshot!(name, main_of(&env, &got.body));
    }
}

#[test]
fn a_channels_toml_that_does_not_load_is_a_banner_not_a_broken_console() {
    let env = fixture();
    let mut text = env.read("channels.toml");
    text.push_str("\n[channels.\"bad name!\"]\nagent = \"sales\"\nversion = 1\n");
    env.write("channels.toml", &text);
    let page = Page::console(&env);
    for path in ["/", "/agents/sales", "/channels"] {
        let got = page.get(path);
        assert_eq!(got.status, 200, "{path}: {}", got.body);
        assert!(got.body.contains("channels.toml does not load, so no channel is shown"), "{path}: {}", got.body);
        assert!(
            got.body.contains("&#39;bad name!&#39; is not a valid channel name")
                || got.body.contains("'bad name!' is not a valid channel name"),
            "{path}"
        );
    }
    assert!(page.get("/").body.contains("href=\"/agents/sales\""), "the agents are listed still");
}

#[test]
fn a_page_that_is_not_there_is_the_consoles_own_404() {
    let env = fixture();
    let page = Page::console(&env);
    let got = page.get("/agents/sales/nothing-here");
    assert_eq!(got.status, 404);
    assert!(
        got.body.contains("there is no page at this address") && got.body.contains("Back to the agents"),
        "{}",
        got.body
    );
    assert!(got.headers.get("content-security-policy").is_some(), "the page's headers, as every page's");
}

#[test]
fn the_draft_editor_writes_a_checked_draft_and_lands_on_its_history() {
    let env = fixture();
    let mut page = Page::console(&env);
    let opened = page.open("/agents/sales/edit");
    assert_eq!(opened.status, 200, "{}", opened.body);
    let (token, base) = (csrf(&opened.body), hidden_after(&opened.body, "action=\"/agents/sales/edit\"", "base"));
    let file = env.read("agents/sales.yaml");
    assert!(
        opened.body.contains("The fields of an agent file") && opened.body.contains("<code>turn_taking</code>"),
        "the schema's fields beside the editor"
    );
    assert!(opened.body.contains(&format!(
        "<textarea class=\"editor\" name=\"text\" spellcheck=\"false\" autocapitalize=\"off\">\n{}",
        file.lines().next().unwrap()
    )));
    // A browser sends the text area's lines with CRLF: the file keeps LF, as it had.
    let edited = file.replace("temperature: 0.5", "temperature: 0.7").replace('\n', "\r\n");
    let saved = page.post("/agents/sales/edit", &[("csrf", &token), ("base", &base), ("text", &edited)], None);
    let landed = page.landed(saved);
    assert!(
        landed.body.contains("Saved agents/sales.yaml. It is a draft: Save version publishes it."),
        "{}",
        landed.body
    );
    assert_eq!(env.read("agents/sales.yaml"), file.replace("temperature: 0.5", "temperature: 0.7"));
    let status = env.av(&["status", "--json"]).ok().json();
    let sales = status.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap().clone();
    assert_eq!(sales["draft"], "modified", "{sales}");
}

#[test]
fn the_headline_fields_change_their_lines_only_and_keep_the_comments() {
    let env = fixture();
    let mut page = Page::console(&env);
    let opened = page.open("/agents/sales/edit");
    let (token, base) = (csrf(&opened.body), hidden_after(&opened.body, "action=\"/agents/sales/fields\"", "base"));
    for shown in
        ["name=\"llm.model\" value=\"gpt-4o\"", "name=\"speech.tts.voice_id\" value=\"rachel\"", "value=\"0.5\""]
    {
        assert!(opened.body.contains(shown), "{shown}");
    }
    let file = env.read("agents/sales.yaml");
    let prompt = "You are Ava.\r\nAsk about team size first.\r\n";
    let form = |temperature: &str, base: &str| {
        vec![
            ("csrf", token.clone()),
            ("base", base.to_owned()),
            ("prompt.system", prompt.to_owned()),
            ("prompt.welcome_message", "Hi {{first_name}}, this is Ava from Acme Robotics. How can I help?".to_owned()),
            ("llm.model", "gpt-4o".to_owned()),
            ("llm.temperature", temperature.to_owned()),
            ("speech.tts.voice_id", "adam".to_owned()),
        ]
    };
    let post = |page: &mut Page, fields: &[(&str, String)]| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        page.post("/agents/sales/fields", &pairs, None)
    };
    // Out of range: check's error, nothing written; not a number: named, nothing written.
    let refused = post(&mut page, &form("5", &base));
    assert!(
        refused.body.contains("Nothing was written: with these fields agents/sales.yaml has 1 error(s)."),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"adam\""), "what was sent is kept in the form");
    assert!(
        post(&mut page, &form("warm", &base)).body.contains("Temperature: &#39;warm&#39; is not a number")
            || post(&mut page, &form("warm", &base)).body.contains("Temperature: 'warm' is not a number")
    );
    assert_eq!(env.read("agents/sales.yaml"), file);

    let saved = post(&mut page, &form("0.7", &base));
    let landed = page.landed(saved);
    assert!(
        landed.body.contains("Saved prompt.system, llm.temperature, speech.tts.voice_id in agents/sales.yaml."),
        "{}",
        landed.body
    );
    let system_at = file.find("  system: |").unwrap();
    let welcome_at = file.find("  welcome_message:").unwrap();
    let want = format!(
        "{}  system: |\n    You are Ava.\n    Ask about team size first.\n{}",
        &file[..system_at],
        &file[welcome_at..]
    )
    .replace("temperature: 0.5      # 0 to 2", "temperature: 0.7      # 0 to 2")
    .replace("voice_id: rachel", "voice_id: adam");
    assert_eq!(env.read("agents/sales.yaml"), want, "only the three values changed; every comment kept");
    let diff = env.git(&["diff", "--numstat", "--", "agents/sales.yaml"]);
    assert!(diff.starts_with("4\t6\t"), "{diff}");

    // The form made from the file before that save is stale now.
    let stale = post(&mut page, &form("0.9", &base));
    assert!(stale.body.contains("changed on disk since this page was loaded: nothing was written"), "{}", stale.body);
    assert!(env.read("agents/sales.yaml").contains("temperature: 0.7 "));
}

/// Every page of one agent, each of which has the agent's head.
const AGENT_PAGES: [&str; 5] = [
    "/agents/sales",
    "/agents/sales/versions/v1",
    "/agents/sales/compare?from=1&to=2",
    "/agents/sales/stats",
    "/agents/sales/edit",
];

#[test]
fn save_version_is_in_the_head_of_every_page_of_the_agent() {
    let env = fixture();
    let mut page = Page::console(&env);
    page.open("/");
    for path in AGENT_PAGES {
        let got = page.get(path).body;
        assert!(got.contains("Nothing to save: the draft is v2."), "{path}: {got}");
        assert!(!got.contains("<summary class=\"button primary\">Save version</summary>"), "{path}");
    }
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.6");
    let log = env.av(&["log", "sales", "--json"]).ok().json();
    let draft = log["draft"]["tree"].as_str().expect("the draft's tree").to_owned();
    for path in AGENT_PAGES {
        let got = page.get(path).body;
        assert!(got.contains("<summary class=\"button primary\">Save version</summary>"), "{path}: {got}");
        let from_head = hidden_after(&got, "action=\"/agents/sales/publish\"", "draft");
        assert_eq!(from_head, draft, "{path}: the form carries the draft's tree");
        assert!(got.contains("aria-label=\"Agent sales\""), "{path}: the agent's tabs");
    }
    // Published from the head of the stats page: it lands on the history.
    let stats = page.get("/agents/sales/stats").body;
    let from_head = hidden_after(&stats, "action=\"/agents/sales/publish\"", "draft");
    let done = page.post(
        "/agents/sales/publish",
        &[("csrf", &csrf(&stats)), ("draft", &from_head), ("label", "warmer"), ("notes", "")],
        None,
    );
    assert!(page.landed(done).body.contains("Published agent/sales/v3."));
}

/// The stats page over `store` shows new calls as soon as they are committed, though a report
/// is kept between reloads while the store has had no commit.
fn stats_follow_the_store(env: &TestEnv, store: &str) {
    env.av(&["calls", "import", "--calls", store, "../calls.jsonl"]).ok();
    let page = Page::spawn(env.av_cmd(&["console", "--listen", "127.0.0.1:0", "--calls", store]), "console at http://");
    let csv = |page: &Page| page.get("/agents/sales/stats.csv?compare=1,2").body;
    let before = csv(&page);
    assert!(before.contains("v2,"), "{before}");
    assert_eq!(csv(&page), before, "a reload with nothing new");
    env.write("../more.jsonl", &crate::calls::records(env, "late", 2, Some("test"), 7, 7, 40_000));
    env.av(&["calls", "import", "--calls", store, "../more.jsonl"]).ok();
    let after = csv(&page);
    assert_ne!(after, before, "seven more calls of v2 are counted: {after}");
    let v2 = |text: &str| text.lines().find(|l| l.starts_with("v2,")).map(str::to_owned).unwrap_or_default();
    assert!(v2(&before).starts_with("v2,41,") && v2(&after).starts_with("v2,48,"), "{}\n{}", v2(&before), v2(&after));
}

#[test]
fn the_stats_page_follows_new_calls_on_sqlite() {
    let env = fixture();
    stats_follow_the_store(&env, &format!("sqlite:{}", env.path("../other.db").display()));
}

#[test]
fn the_stats_page_follows_new_calls_on_postgresql() {
    let env = fixture();
    stats_follow_the_store(&env, &crate::calls::postgres_store());
}

#[test]
fn the_history_panel_shows_what_agentver_test_found_on_each_tree() {
    let env = fixture();
    let page = Page::console(&env);
    assert!(!page.get("/agents/sales").body.contains("tests 0/3"), "no test ran yet");
    // The fixture's draft is not the example's: its requests are not in the cassettes.
    env.av_env(&["test", "sales"], &[("CI", Some("true"))]).code(1);
    let body = page.get("/agents/sales").body;
    let badge = r#"<span class="badge fail" title="the results of agentver test on this tree">tests 0/3 passed</span>"#;
    assert!(body.contains(badge), "{body}");
}

#[test]
fn the_draft_editor_writes_nothing_with_an_error_or_over_a_file_changed_since() {
    let env = fixture();
    let mut page = Page::console(&env);
    let opened = page.open("/agents/sales/edit");
    let (token, base) = (csrf(&opened.body), hidden_after(&opened.body, "action=\"/agents/sales/edit\"", "base"));
    let file = env.read("agents/sales.yaml");

    // A typo: the page names it as `check` does, keeps the text, and the file is untouched.
    let typo = file.replace("temperature:", "temprature:");
    let refused = page.post("/agents/sales/edit", &[("csrf", &token), ("base", &base), ("text", &typo)], None);
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(refused.body.contains("Nothing was written: agents/sales.yaml has 1 error(s)."), "{}", refused.body);
    assert!(
        refused.body.contains("unknown field &#39;temprature&#39; in &#39;llm&#39;")
            || refused.body.contains("unknown field 'temprature' in 'llm'"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("did you mean"), "the hint too");
    assert!(refused.body.contains("temprature: "), "the text as sent is kept");
    assert_eq!(env.read("agents/sales.yaml"), file);

    // Someone saves the file meanwhile: the editor's text does not overwrite it unseen.
    let theirs = file.replace("temperature: 0.5", "temperature: 0.1");
    env.write("agents/sales.yaml", &theirs);
    let mine = file.replace("temperature: 0.5", "temperature: 0.9");
    let stale = page.post("/agents/sales/edit", &[("csrf", &token), ("base", &base), ("text", &mine)], None);
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert!(stale.body.contains("changed on disk since this editor opened it: nothing was written"), "{}", stale.body);
    assert_eq!(env.read("agents/sales.yaml"), theirs);
    let diff_at = stale.body.find("The file as it is now, against your text").expect("the difference shown");
    assert!(
        stale.body[diff_at..].contains("0.1") && stale.body[diff_at..].contains("0.9"),
        "{}",
        &stale.body[diff_at..]
    );
    // Saving again from that page, having seen the file as it is, replaces it.
    let seen = hidden_after(&stale.body, "action=\"/agents/sales/edit\"", "base");
    let again = page.post("/agents/sales/edit", &[("csrf", &token), ("base", &seen), ("text", &mine)], None);
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(env.read("agents/sales.yaml"), mine);
    assert_eq!(page.get("/agents/nobody/edit").status, 404);
}

#[test]
fn restore_and_roll_back_from_the_console() {
    let env = fixture();
    let mut page = Page::console(&env);
    let token = csrf(&page.open("/agents/sales").body);
    // Restore v1 over unsaved work: refused, with the overwrite offered; then overwritten.
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.9");
    let refused = page.post("/agents/sales/restore", &[("csrf", &token), ("version", "1")], None);
    assert!(refused.body.contains("Overwrite the unsaved changes"), "{}", refused.body);
    assert!(env.read("agents/sales.yaml").contains("temperature: 0.9"), "nothing written");
    let replaces = hidden_after(&refused.body, "Overwrite", "replaces");
    let overwrite = [("csrf", token.as_str()), ("version", "1"), ("overwrite", "yes"), ("replaces", &replaces)];
    let done = page.post("/agents/sales/restore", &overwrite, None);
    let done = page.landed(done);
    assert!(done.body.contains("Restored sales v1"), "{}", done.body);
    assert_eq!(
        env.git_bytes("agent/sales/v1:agents/sales.yaml"),
        std::fs::read(env.path("agents/sales.yaml")).unwrap()
    );

    // Roll back: a new version holding v1's tree.
    let rolled = page.post("/agents/sales/rollback", &[("csrf", &token), ("version", "1")], None);
    let rolled = page.landed(rolled);
    assert!(rolled.body.contains("Rolled back: agent/sales/v3"), "{}", rolled.body);
    assert_eq!(env.rev("agent/sales/v3^{tree}"), env.rev("agent/sales/v1^{tree}"));
    env.fsck();
}

/// Posts the split form of `channel` as the page made it, with `change` applied to its fields.
fn post_split(page: &mut Page, channel: &str, change: impl Fn(&mut Vec<(String, String)>)) -> Got {
    let listed =
        page.get(&format!("/channels?q={}", form_urlencoded::byte_serialize(channel.as_bytes()).collect::<String>()));
    let at = listed.body.find("action=\"/channels/ab\"").expect("a split form");
    let form = &listed.body[at..at + listed.body[at..].find("</form>").unwrap()];
    let mut fields = Vec::new();
    let mut rest = form;
    // Each input's and select's name and value (a select's: its selected option), in order.
    while let Some(i) = rest.find("name=\"") {
        rest = &rest[i + 6..];
        let name = rest[..rest.find('"').unwrap()].to_owned();
        let value = if rest.find("<option").is_some_and(|o| rest.find("name=\"").is_none_or(|n| o < n))
            && rest.starts_with(&format!("{name}\" aria-label"))
        {
            let block = &rest[..rest.find("</select>").unwrap()];
            block
                .find(" selected")
                .map(|s| {
                    let open = block[..s].rfind("value=\"").unwrap() + 7;
                    block[open..open + block[open..].find('"').unwrap()].to_owned()
                })
                .unwrap_or_default()
        } else {
            rest.find("value=\"")
                .map(|v| rest[v + 7..v + 7 + rest[v + 7..].find('"').unwrap()].to_owned())
                .unwrap_or_default()
        };
        fields.push((name, value));
    }
    change(&mut fields);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    page.post("/channels/ab", &pairs, None)
}

#[test]
fn the_split_forms_start_reshape_and_end_an_ab_test() {
    let env = fixture();
    let mut page = Page::console(&env);
    page.open("/channels");
    let variants = |env: &TestEnv, channel: &str| -> Vec<(String, u64, u64)> {
        let all = channels(env);
        let ch = all.as_array().unwrap().iter().find(|c| c["channel"] == channel).cloned();
        ch.map(|c| {
            c["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["variant"].as_str().unwrap_or("").to_owned(),
                        t["pin"].as_u64().unwrap_or(0),
                        t["weight"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
    };

    // Start an A/B test on a pinned number: control keeps v1, test gets v2, 80/20.
    let got = post_split(&mut page, "+14155550100", |f| {
        let specs: Vec<usize> = f.iter().enumerate().filter(|(_, (k, _))| k == "spec").map(|(i, _)| i).collect();
        f[specs[1]].1 = "sales@v2".into();
        let weights: Vec<usize> = f.iter().enumerate().filter(|(_, (k, _))| k == "weight").map(|(i, _)| i).collect();
        f[weights[0]].1 = "80".into();
        f[weights[1]].1 = "20".into();
    });
    assert!(page.landed(got).body.contains("Split +14155550100: control 80, test 20."));
    assert_eq!(variants(&env, "+14155550100"), [("control".into(), 1, 80), ("test".into(), 2, 20)]);

    // Add a third variant in the empty row, then remove the test variant.
    let got = post_split(&mut page, "+14155550100", |f| {
        let n = f.len();
        f[n - 3].1 = "warm".into();
        f[n - 2].1 = "sales@v2".into();
        f[n - 1].1 = "10".into();
    });
    assert_eq!(page.landed(got).status, 200);
    assert_eq!(variants(&env, "+14155550100").len(), 3);
    let got = post_split(&mut page, "+14155550100", |f| {
        let at = f.iter().position(|(k, v)| k == "name" && v == "test").unwrap();
        f[at + 1].1 = String::new();
    });
    assert_eq!(page.landed(got).status, 200);
    assert_eq!(variants(&env, "+14155550100"), [("control".into(), 1, 80), ("warm".into(), 2, 10)]);

    // A name for a variant that serves something is required.
    let got = post_split(&mut page, "+14155550100", |f| {
        let n = f.len();
        f[n - 2].1 = "sales@v1".into();
    });
    assert_eq!(got.status, 400, "{}", got.body);

    // Unpin ends it: channels.toml no longer has the channel, as `agentver unpin` leaves it.
    let listed = page.get("/channels?q=%2B14155550100").body;
    let token = csrf(&listed);
    let made = was(&listed, "+14155550100");
    let got = page.post("/channels/unpin", &[("csrf", &token), ("channel", "+14155550100"), ("was", &made)], None);
    assert!(page.landed(got).body.contains("Unpinned +14155550100"));
    assert!(variants(&env, "+14155550100").is_empty());
}

#[test]
fn the_console_reads_the_call_store_it_is_given() {
    let env = fixture();
    // The fixture's calls are in the default store; another store holds one call of its own.
    let other = env.root.parent().unwrap().join("other.sqlite");
    let store = format!("sqlite:{}", other.display());
    let tree = env.rev("agent/sales/v1^{tree}");
    let record = serde_json::json!({"call_id": "elsewhere-1", "agent": "sales", "version": 1, "tree": tree,
        "started_at": "2026-11-30T10:00:00Z", "success": true});
    let file = env.root.parent().unwrap().join("one.jsonl");
    std::fs::write(&file, format!("{record}\n")).unwrap();
    env.av(&["calls", "import", file.to_str().unwrap(), "--calls", &store]).ok();
    let page =
        Page::spawn(env.av_cmd(&["console", "--listen", "127.0.0.1:0", "--calls", &store]), "console at http://");
    let calls = page.get("/calls").body;
    assert!(calls.contains("elsewhere-1"), "{calls}");
    assert_eq!(calls.matches("href=\"/calls/").count(), 1, "that store's calls only");
    let bad = env.av(&["console", "--listen", "127.0.0.1:0", "--calls", "mysql://nowhere"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("mysql://nowhere"), "{}", bad.stderr);
}

#[test]
fn a_call_reads_as_what_happened_with_dates_and_units_for_people() {
    let env = fixture();
    let page = Page::console(&env);
    let list = page.get("/calls?agent=sales&version=1").body;
    let at = list.find("href=\"/calls/").expect("a call") + 6;
    let link = &list[at..at + list[at..].find('"').unwrap()];
    assert!(list.contains(" Nov 2026, ") && list.contains(" UTC</time>"), "dates for people in the list");
    let call = page.get(link).body;
    for shown in [
        "<dt>Outcome</dt>",
        "<dt>Served by</dt>",
        "<dt>Duration</dt>",
        "<dt>Cost</dt>",
        "<dt>demo_booked</dt>",
        "The whole record",
    ] {
        assert!(call.contains(shown), "{shown}: {call}");
    }
    assert!(call.contains(" min ") || call.contains(" s</dd>"), "a duration in minutes and seconds, not ms");
    assert!(!call.contains("<dd>null</dd>"), "no null shown as a value");
    let history = page.get("/agents/sales").body;
    assert!(history.contains("<time datetime=\"2026-11-01T10:00:00+00:00\" title=\"1 Nov 2026, 10:00:00 UTC\" data-date>1 Nov 2026, 10:00 UTC</time>"), "{history}");
}

#[test]
fn the_pages_say_what_is_only_in_this_work_tree() {
    let env = fixture();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--allow-empty", "-m", "everything committed"]);
    env.add_remote();
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push"]).ok();
    let page = Page::console(&env);
    assert!(!page.get("/").body.contains("Only in this work tree"), "all committed and pushed");

    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.6");
    let home = page.get("/").body;
    assert!(
        home.contains("Only in this work tree: </strong>1 file(s) changed since the last commit (agents/sales.yaml)"),
        "{home}"
    );
    env.av(&["publish", "sales", "-m", "local"]).ok();
    let history = page.get("/agents/sales").body;
    assert!(history.contains("1 version(s) not pushed to origin (agent/sales/v3)"), "{history}");
    for path in ["/agents/sales/versions/v1", "/agents/sales/compare?from=1&to=2", "/calls", "/agents/sales/stats"] {
        assert!(page.get(path).body.contains("Only in this work tree"), "every page says it: {path}");
    }

    env.commit_all("v3");
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push"]).ok();
    assert!(!page.get("/channels").body.contains("Only in this work tree"), "committed and pushed again");
}
