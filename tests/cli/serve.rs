//! `agentver serve`: the real binary on a free loopback port against a temporary repository,
//! asked with a real HTTP client (ureq), its answers checked against the CLI's and git's.

use crate::screen::{self, snap};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::env::TestEnv;

const TOKEN: &str = "tok-7f3a-9c41-e0b2-5d68";

/// A running `agentver serve` and the log lines it has written.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
    pub http: ureq::Agent,
    token: Option<String>,
}

pub struct Reply {
    pub status: u16,
    revision: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The token file, readable by its owner alone (as docs/serving.md tells people to make it).
fn write_token(env: &TestEnv, token: &str) {
    use std::os::unix::fs::PermissionsExt;
    env.write("../token", &format!("{token}\n"));
    std::fs::set_permissions(env.path("../token"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl Server {
    /// Starts serve with `args` (plus a free port) and waits for its "listening" line.
    fn start(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Server {
        let mut cmd = env.av_cmd(&["serve", "--listen", "127.0.0.1:0"]);
        cmd.args(args).envs(vars.iter().copied());
        let token = args.contains(&"--token-file").then(|| TOKEN.to_owned());
        Server::spawn(cmd, token)
    }

    /// Runs `cmd` (a `serve` on port 0) and waits for its "listening" line.
    pub fn spawn(mut cmd: std::process::Command, token: Option<String>) -> Server {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split(',').next().unwrap().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("serve did not start: {:?}", log.lock().unwrap())
        });
        Server { child, base: format!("http://{addr}"), log, http: client(), token }
    }

    /// Starts serve with a token file and waits until it is ready.
    fn ready(env: &TestEnv, extra: &[&str]) -> Server {
        write_token(env, TOKEN);
        let mut args = vec!["--interval", "1", "--token-file", "../token"];
        args.extend_from_slice(extra);
        let server = Server::start(env, &args, &[]);
        server.wait_for(|s| s.get_as("/readyz", None).status == 200, "ready");
        server
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.unwrap();
        let revision = response.headers().get("agentver-revision").map(|v| v.to_str().unwrap().to_owned());
        Reply { status: response.status().as_u16(), revision, body: response.body_mut().read_to_string().unwrap() }
    }

    pub fn get_as(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        Server::reply(request.call())
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_as(path, self.token.as_deref())
    }

    fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.post_with(path, body, &[])
    }

    pub fn post_with(&self, path: &str, body: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.post(format!("{}{path}", self.base)).content_type("application/json");
        if let Some(t) = &self.token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Server::reply(request.send(body.into()))
    }

    #[track_caller]
    pub fn wait_for(&self, mut done: impl FnMut(&Server) -> bool, what: &str) -> Duration {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if done(self) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("serve never became {what}: {:?}", self.log.lock().unwrap());
    }

    fn revision(&self) -> Option<String> {
        self.get_as("/healthz", None).json()["revision"].as_str().map(str::to_owned)
    }

    pub fn terminate(&mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example config with sales v1 and v2, support and intake v1, channels pinned and
/// committed.
pub fn published() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "--all", "-m", "first"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3", "temperature: 0.5");
    env.av(&["publish", "sales", "-m", "warmer"]).ok();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.av(&["ab", "+14155550199", "control=sales@v1:80", "test=sales@v2:20"]).ok();
    env.commit_all("pins");
    env
}

/// The CLI's JSON for the same revision.
fn cli(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--json", "--rev", "HEAD"]);
    env.av(&all).ok().json()
}

fn without(mut v: Value, keys: &[&str]) -> Value {
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

#[test]
fn every_route_answers_as_the_cli_does_for_the_same_revision() {
    let env = published();
    let server = Server::ready(&env, &[]);
    let head = env.rev("HEAD");

    // resolve: GET and POST, a pin and a split, with revision, header and attribution.
    let r = server.get("/v1/resolve?channel=%2B14155550199&caller=%2B15550001111");
    assert_eq!((r.status, r.revision.as_deref()), (200, Some(head.as_str())), "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["revision"], json!(head));
    let want = cli(&env, &["resolve", "+14155550199", "--caller", "+15550001111"]);
    assert_eq!(without(answer.clone(), &["revision", "attribution"]), want);
    assert_eq!(
        answer["attribution"],
        json!({
            "agentver_agent": "sales",
            "agentver_version": want["version"].to_string(),
            "agentver_tree": want["tree"],
            "agentver_channel": "+14155550199",
            "agentver_variant": want["variant"],
            "agentver_revision": head,
        })
    );
    let posted = server.post("/v1/resolve", r#"{"channel": "+14155550100", "call_id": "c-1", "agent_version": 2}"#);
    assert_eq!(posted.status, 200, "{}", posted.body);
    let want = cli(&env, &["resolve", "+14155550100", "--call-id", "c-1", "--agent-version", "2"]);
    assert_eq!(without(posted.json(), &["revision", "attribution"]), want);
    assert_eq!(posted.json()["version"], json!(2));

    // versions, one version, the draft, latest.
    let log = server.get("/v1/agents/sales/versions");
    assert_eq!(without(log.json(), &["revision"]), cli(&env, &["log", "sales"]));
    assert_eq!(log.json()["revision"], json!(head));
    for (reference, spec) in [("1", "sales@v1"), ("v2", "sales@v2"), ("latest", "sales"), ("draft", "sales@draft")] {
        let shown = server.get(&format!("/v1/agents/sales/versions/{reference}"));
        assert_eq!(shown.status, 200, "{reference}: {}", shown.body);
        assert_eq!(without(shown.json(), &["revision"]), cli(&env, &["show", spec]), "{reference}");
    }

    // channels and agents: arrays, the revision in the header.
    let channels = server.get("/v1/channels");
    assert_eq!(channels.json(), cli(&env, &["channels"]));
    assert_eq!(channels.revision.as_deref(), Some(head.as_str()));
    let agents = server.get("/v1/agents").json();
    let sales = agents.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap().clone();
    let status = cli(&env, &["status"]);
    let sales_status = status.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap();
    assert_eq!(sales["latest"], json!(2));
    assert_eq!(sales["draft_tree"], sales_status["tree"]);
    assert_eq!(sales["channels"], json!(["+14155550100", "+14155550199"]));

    // configs by tree: v1's tree names v1 and the config git holds.
    let v1 = cli(&env, &["show", "sales@v1"]);
    let tree = v1["tree"].as_str().unwrap();
    assert_eq!(env.git(&["rev-parse", "agent/sales/v1^{tree}"]), tree);
    let by_tree = server.get(&format!("/v1/configs/{tree}")).json();
    assert_eq!(
        (&by_tree["agent"], &by_tree["versions"], &by_tree["config"]),
        (&json!("sales"), &json!([1]), &v1["config"])
    );

    health_metrics_and_log(&server, &head);
}

/// After `every_route_…`'s requests: health and metrics (no token needed) count them, and the
/// log has one line each, without the query string.
fn health_metrics_and_log(server: &Server, head: &str) {
    let health = server.get_as("/healthz", None).json();
    assert_eq!((health["status"].as_str(), health["revision"].as_str()), (Some("ok"), Some(head)));
    assert!(health["error"].is_null() && health["loaded_at"].as_str().unwrap().ends_with('Z'));
    let metrics = server.get_as("/metrics", None).body;
    assert!(metrics.contains("agentver_http_requests_total{route=\"/v1/resolve\",status=\"200\"} 2"), "{metrics}");
    assert!(metrics.contains(&format!("agentver_revision_info{{revision=\"{head}\"}} 1")), "{metrics}");
    assert!(
        metrics.contains(
            "agentver_resolutions_total{channel=\"+14155550100\",agent=\"sales\",version=\"2\",variant=\"\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("agentver_reloads_total 1\n"), "{metrics}");

    // One log line per request, its facts as fields, without the query string (it holds
    // caller numbers).
    let line = |method: &str, path: &str| format!("request method={method} path={path} status=200");
    server.wait_for(|s| s.log.lock().unwrap().iter().any(|l| l.contains(&line("GET", "/v1/channels"))), "logged");
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains(&line("GET", "/v1/resolve")) && log.contains(&line("POST", "/v1/resolve")), "{log}");
    assert!(!log.contains("15550001111"), "a caller's number reached the log: {log}");
}

#[test]
fn errors_have_their_status_code_and_an_error_object() {
    let env = published();
    let server = Server::ready(&env, &[]);
    let cases: Vec<(Reply, u16, &str)> = vec![
        (server.get("/v1/resolve"), 400, "bad_request"),
        (server.get("/v1/resolve?channel=%2B14155550100&agent_version=0"), 400, "bad_request"),
        (server.get("/v1/resolve?channel=%2B14155550100&agent_version=abc"), 400, "bad_request"),
        (server.post("/v1/resolve", "{not json"), 400, "bad_request"),
        (server.get("/v1/agents/Bad..Id/versions"), 400, "bad_request"),
        (server.get("/v1/agents/sales/versions/v0"), 400, "bad_request"),
        (server.get("/v1/configs/not-a-tree"), 400, "bad_request"),
        (server.get_as("/v1/channels", None), 401, "unauthorized"),
        (server.get_as("/v1/channels", Some("tok-wrong")), 401, "unauthorized"),
        (server.get_as("/v1/channels", Some(&format!("{TOKEN}x"))), 401, "unauthorized"),
        (server.get("/v1/resolve?channel=nowhere"), 404, "unknown_channel"),
        (server.get("/v1/resolve?channel=%2B14155550100&agent_version=9"), 404, "version_not_found"),
        (server.get("/v1/agents/nobody/versions"), 404, "unknown_agent"),
        (server.get("/v1/agents/sales/versions/7"), 404, "version_not_found"),
        (server.get(&format!("/v1/configs/{}", "0".repeat(40))), 404, "unknown_tree"),
        (server.get("/v2/nothing"), 404, "no_route"),
        (server.post("/v1/resolve", vec![b' '; (1 << 20) + 1]), 413, "too_large"),
    ];
    for (i, (reply, status, code)) in cases.iter().enumerate() {
        assert_eq!(reply.status, *status, "case {i}: {}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["code"], json!(code), "case {i}: {}", reply.body);
        assert!(!error["message"].as_str().unwrap().is_empty(), "case {i}");
    }
    // The version-not-found answer says which versions exist.
    let missing = server.get("/v1/agents/sales/versions/7").json();
    assert_eq!(missing["error"]["hint"], json!("versions run from 1 to 2"));
}

#[test]
fn a_token_comes_from_a_file_or_the_environment_and_a_public_bind_needs_one() {
    let env = published();
    let server = Server::start(&env, &["--interval", "1"], &[("AGENTVER_TOKEN", "from-env-0123456789")]);
    server.wait_for(|s| s.get_as("/readyz", None).status == 200, "ready");
    assert_eq!(server.get_as("/v1/agents", None).status, 401);
    assert_eq!(server.get_as("/v1/agents", Some("from-env-0123456789")).status, 200);
    drop(server);

    // No token: loopback serves anyone; beyond loopback is refused unless told.
    let open = Server::start(&env, &["--interval", "1"], &[]);
    open.wait_for(|s| s.get_as("/v1/agents", None).status == 200, "open on loopback");
    drop(open);
    let refused = env.av(&["serve", "--listen", "0.0.0.0:0"]).code(2);
    assert!(refused.stderr.starts_with("error: refusing to listen on 0.0.0.0:0 with no token"), "{}", refused.stderr);
    assert!(refused.stderr.contains("hint: give a token"), "{}", refused.stderr);
    env.write("../empty-token", "\n");
    let empty = env.av(&["serve", "--token-file", "../empty-token"]).code(2);
    assert!(empty.stderr.contains("the token must be one line"), "{}", empty.stderr);
}

/// Issue 18, item 34: a token short enough to guess is refused; a token file others can read
/// is warned about.
#[test]
fn a_short_token_is_refused_and_a_readable_token_file_is_warned_about() {
    let env = published();
    env.write("../short", "x\n");
    let short = env.av(&["serve", "--token-file", "../short"]).code(2);
    assert!(
        short
            .stderr
            .contains("error: the token is shorter than 16 bytes\nhint: generate one with: openssl rand -hex 32"),
        "{}",
        short.stderr
    );
    let from_env = env.av_env(&["serve"], &[("AGENTVER_TOKEN", Some("tok"))]).code(2);
    assert!(from_env.stderr.contains("shorter than 16 bytes"), "{}", from_env.stderr);
    env.write("../token", &format!("{TOKEN}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(env.path("../token"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut server = Server::start(&env, &["--interval", "1", "--token-file", "../token"], &[]);
    server.wait_for(|s| s.get_as("/readyz", None).status == 200, "ready");
    server.terminate();
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        log.contains("warning: --token-file ../token: others can read the token (mode 644)\nhint: chmod 600 ../token"),
        "{log}"
    );
}

/// Issue 18, item 35: a followed ref that names nothing at start is an error with a hint, not a
/// server that stays degraded.
#[test]
fn a_followed_ref_that_names_nothing_is_refused_at_start() {
    let env = TestEnv::empty();
    let unborn = env.av(&["serve", "--listen", "127.0.0.1:0"]).code(2);
    assert!(
        unborn.stderr.contains("the repository has no commit yet") && unborn.stderr.contains("hint: commit"),
        "{}",
        unborn.stderr
    );
    let env = published();
    let typo = env.av(&["serve", "--listen", "127.0.0.1:0", "--follow", "mian"]).code(2);
    assert_eq!(typo.stderr, "error: --follow mian: no such branch, tag or commit\nhint: did you mean main?\n");
}

#[test]
fn a_new_pin_is_served_within_one_interval_and_a_bad_commit_keeps_the_last_good_one() {
    let env = published();
    let server = Server::ready(&env, &[]);
    let first = env.rev("HEAD");
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550100").json()["version"], json!(1));

    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    env.commit_all("move the line to v2");
    let second = env.rev("HEAD");
    let waited = server.wait_for(|s| s.revision().as_deref() == Some(second.as_str()), "the new revision");
    // One interval (1 s), plus the time to build: well inside two.
    assert!(waited < Duration::from_secs(2), "served after {waited:?}");
    let r = server.get("/v1/resolve?channel=%2B14155550100");
    assert_eq!((r.json()["version"].clone(), r.revision), (json!(2), Some(second.clone())));

    // A new tag alone (no commit) is served too: web-widget floats on intake's latest.
    assert_eq!(server.get("/v1/resolve?channel=web-widget").json()["version"], json!(1));
    env.edit("workflows/intake.json", "{", "{\"note\": \"v2\",");
    env.av(&["publish", "intake", "-m", "two"]).ok();
    env.git(&["checkout", "--", "workflows/intake.json"]);
    server.wait_for(|s| s.get("/v1/resolve?channel=web-widget").json()["version"] == json!(2), "the new tag");
    assert_eq!(server.revision(), Some(second.clone()));

    // An invalid channels.toml is not served: the last good snapshot stays, health degrades.
    env.write("channels.toml", "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = \"sometimes\"\n");
    env.commit_all("broken pins");
    let broken = env.rev("HEAD");
    server.wait_for(|s| s.get_as("/healthz", None).json()["status"] == "degraded", "degraded");
    // Without the token, only the kind of the problem; with it, the details.
    let health = server.get_as("/healthz", None).json();
    assert_eq!(
        (&health["revision"], &health["error"], &health["error_kind"]),
        (&json!(second), &json!("invalid_revision"), &json!("invalid_revision"))
    );
    let error = server.get("/healthz").json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains(&broken) && error.contains("channels.toml:3"), "{error}");
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550100").json()["version"], json!(2));
    let metrics = server.get_as("/metrics", None).body;
    assert!(metrics.contains("agentver_reload_failures_total 1\n"), "{metrics}");

    // Fixing it serves again and clears the error.
    env.git(&["revert", "--no-edit", "HEAD"]);
    let fixed = env.rev("HEAD");
    server.wait_for(|s| s.revision().as_deref() == Some(fixed.as_str()), "the fixed revision");
    assert_eq!(server.get_as("/healthz", None).json()["status"], json!("ok"));
    assert_ne!(first, fixed);
}

#[test]
fn a_moved_tag_under_a_tree_pinned_channel_answers_409() {
    let env = published();
    let server = Server::ready(&env, &[]);
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550100").status, 200);
    // Someone moves v1 onto v2's commit.
    let v2 = env.rev("agent/sales/v2^{commit}");
    env.git(&["tag", "-f", "-a", "-m", "moved", "agent/sales/v1", &v2]);
    server.wait_for(|s| s.get("/v1/resolve?channel=%2B14155550100").status == 409, "refusing the moved tag");
    let r = server.get("/v1/resolve?channel=%2B14155550100").json();
    assert_eq!(r["error"]["code"], json!("tree_mismatch"));
    assert!(r["error"]["message"].as_str().unwrap().contains("agent/sales/v1 holds tree"), "{r}");
    // The rest of the snapshot still serves; health names the channel that cannot (issue 29:
    // it said "ok" while half the callers got 409), its details only with the token.
    assert_eq!(server.get("/v1/resolve?channel=web-widget").status, 200);
    let open = server.get_as("/healthz", None).json();
    assert_eq!(open["status"], json!("degraded"), "{open}");
    assert!(open.get("unservable").is_none(), "{open}");
    let health = server.get("/healthz").json();
    let named: Vec<&str> =
        health["unservable"].as_array().unwrap().iter().filter_map(|u| u["channel"].as_str()).collect();
    assert!(named.contains(&"+14155550100") && !named.contains(&"web-widget"), "{health}");
    assert_eq!(open["unservable_count"], json!(named.len()));
}

/// "History that moves backwards is loud" (issue 29): a force-push that dropped the commit
/// being served was only an INFO line.
#[test]
fn a_followed_ref_that_goes_backwards_is_warned_about_counted_and_shown() {
    let env = published();
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.25");
    env.commit_all("a change that will be force-pushed away");
    let server = Server::ready(&env, &[]);
    let dropped = env.rev("HEAD");
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.3");
    env.commit_all("another history");
    let now = env.rev("HEAD");
    server.wait_for(|s| s.revision().as_deref() == Some(now.as_str()), "the new history");
    let health = server.get("/healthz").json();
    assert_eq!(health["status"], "degraded", "{health}");
    let error = health["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("{now} does not contain {dropped}")), "{health}");
    assert_eq!(server.get_as("/healthz", None).json()["error_kind"], "history_rewound");
    assert!(server.get_as("/metrics", None).body.contains("agentver_history_rewinds_total 1\n"));
    assert!(server.log.lock().unwrap().iter().any(|l| l.contains("WARN") && l.contains("history went backwards")));
    // It is said for a while, then health is ok again: the new commit is what is served.
    server.wait_for(|s| s.get_as("/healthz", None).json()["status"] == "ok", "ok again");
}

#[test]
fn before_the_first_good_snapshot_everything_is_503() {
    let env = published();
    env.write("channels.toml", "[channels.x]\nagent = \"nobody\"\nversion = 1\n");
    env.commit_all("pins an agent that does not exist");
    let server = Server::ready_or_not(&env);
    server.wait_for(|s| s.get_as("/healthz", None).json()["error"].is_string(), "reporting the failure");
    let health = server.get_as("/healthz", None);
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["status"], json!("degraded"));
    assert!(health.json()["revision"].is_null());
    for path in ["/readyz", "/v1/resolve?channel=x", "/v1/agents", "/v1/channels"] {
        let r = server.get(path);
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], json!("not_ready"), "{path}");
    }
}

impl Server {
    fn ready_or_not(env: &TestEnv) -> Server {
        write_token(env, TOKEN);
        Server::start(env, &["--interval", "1", "--token-file", "../token"], &[])
    }
}

/// Sends a request head and half its body, so the request is in flight when SIGTERM comes.
fn half_sent(base: &str, body: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /v1/resolve HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    stream
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_0() {
    let env = published();
    let mut server = Server::ready(&env, &[]);
    let body = r#"{"channel": "+14155550199", "caller": "+15550002222"}"#;
    let mut in_flight: Vec<TcpStream> = (0..8).map(|_| half_sent(&server.base, body)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let _ = std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused now; the ones in flight complete.
    assert!(TcpStream::connect(server.base.trim_start_matches("http://")).is_err(), "still accepting");
    for stream in &mut in_flight {
        stream.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        let json = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(serde_json::from_str::<Value>(json).unwrap()["channel"], json!("+14155550199"));
    }
    assert_eq!(server.terminate(), Some(0));
}

#[test]
fn reloading_under_load_fails_no_request_and_never_mixes_revisions() {
    let env = published();
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.7");
    env.av(&["publish", "sales", "-m", "warmest"]).ok();
    env.commit_all("v3");
    // What each committed revision pins the line to.
    let mut pinned: HashMap<String, u64> = HashMap::from([(env.rev("HEAD"), 1)]);
    let server = Arc::new(Server::ready(&env, &[]));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (server, stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut failures = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                let r = server.get("/v1/resolve?channel=%2B14155550100&caller=%2B15550003333");
                if r.status != 200 {
                    failures.push(format!("{}: {}", r.status, r.body));
                    continue;
                }
                let json = r.json();
                assert_eq!(json["revision"].as_str(), r.revision.as_deref(), "the header and the body disagree");
                seen.push((r.revision.unwrap(), json["version"].as_u64().unwrap(), json["tree"].clone()));
            }
            (seen, failures)
        })
    };
    for i in 0..20u64 {
        let version = (i + 1) % 3 + 1;
        env.av(&["pin", "+14155550100", &format!("sales@v{version}")]).ok();
        env.commit_all(&format!("pin {i}: v{version}"));
        pinned.insert(env.rev("HEAD"), version);
        std::thread::sleep(Duration::from_millis(150));
    }
    let last = env.rev("HEAD");
    server.wait_for(|s| s.revision().as_deref() == Some(last.as_str()), "the last revision");
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let (seen, failures) = client.join().unwrap();
    assert!(failures.is_empty(), "{} failed requests: {:?}", failures.len(), &failures[..failures.len().min(3)]);
    let trees: HashMap<u64, Value> =
        (1..=3).map(|n| (n, json!(env.rev(&format!("agent/sales/v{n}^{{tree}}"))))).collect();
    let mut revisions = std::collections::HashSet::new();
    for (revision, version, tree) in &seen {
        let want = pinned.get(revision).unwrap_or_else(|| panic!("{revision} was never committed"));
        assert_eq!((version, tree), (want, &trees[want]), "revision {revision}");
        revisions.insert(revision.clone());
    }
    assert!(seen.len() > 100 && revisions.len() >= 3, "{} answers over {} revisions", seen.len(), revisions.len());
}

/// The call-recording hook, in-process: a resolve with a call id hands the decision over.
#[test]
fn a_resolve_with_a_call_id_hands_its_decision_to_the_recorder() {
    use agentver::serve::record::{Decision, Recorder};
    #[derive(Default)]
    struct Kept(Mutex<Vec<Decision>>);
    impl Recorder for Kept {
        fn record(&self, decision: Decision) -> Result<(), agentver::serve::record::NotRecorded> {
            self.0.lock().unwrap().push(decision);
            Ok(())
        }
    }
    let env = published();
    let kept = Arc::new(Kept::default());
    let options = agentver::serve::Options {
        root: env.root.clone(),
        listen: "127.0.0.1:0".into(),
        follow: "HEAD".into(),
        fetch: None,
        interval: Duration::from_secs(1),
        token: None,
        insecure_no_auth: false,
        recorder: Some(kept.clone()),
        store: None,
        hooks: Default::default(),
        max_connections: None,
        public_url: None,
        twilio_stream_url: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(agentver::serve::bind(&options)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(agentver::serve::serve(listener, options, async {
        let _ = stopped.await;
    }));
    let http = client();
    let get = |path: &str| Server::reply(http.get(format!("{base}{path}")).call());
    let started = Instant::now();
    while get("/readyz").status != 200 {
        assert!(started.elapsed() < Duration::from_secs(20), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let answer = get("/v1/resolve?channel=%2B14155550199&caller=%2B15550004444&call_id=call-9").json();
    get("/v1/resolve?channel=%2B14155550199&caller=%2B15550004444");
    stop.send(()).unwrap();
    runtime.block_on(server).unwrap().unwrap();
    let kept = kept.0.lock().unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let d = &kept[0];
    assert_eq!(
        (d.call_id.as_str(), d.channel.as_str(), d.caller.as_deref()),
        ("call-9", "+14155550199", Some("+15550004444"))
    );
    assert_eq!(json!(d.version), answer["version"]);
    assert_eq!(
        (json!(d.tree), json!(d.variant), json!(d.revision)),
        (answer["tree"].clone(), answer["variant"].clone(), answer["revision"].clone())
    );
    assert_eq!(json!(d.bucket), answer["bucket"]);
}

#[test]
fn with_fetch_it_follows_the_remote_branch_and_its_tags() {
    let env = published();
    let origin = env.root.parent().unwrap().join("origin.git");
    env.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    env.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push", "origin"]).ok();
    let deploy = env.root.parent().unwrap().join("deploy");
    env.git(&["clone", "-q", origin.to_str().unwrap(), deploy.to_str().unwrap()]);
    let deploy = deploy.to_str().unwrap();
    let server = Server::ready(&env, &["-C", deploy, "--fetch", "origin", "--follow", "origin/main"]);
    assert_eq!(server.revision(), Some(env.rev("HEAD")));

    // A new version and a pin on it, pushed: the deploy clone fetches both and serves them.
    env.edit("agents/sales.yaml", "temperature: 0.5", "temperature: 0.9");
    env.av(&["publish", "sales", "-m", "hot"]).ok();
    env.av(&["pin", "+14155550100", "sales@v3"]).ok();
    env.commit_all("v3 on the line");
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push", "origin"]).ok();
    let head = env.rev("HEAD");
    server.wait_for(|s| s.revision().as_deref() == Some(head.as_str()), "the pushed revision");
    let r = server.get("/v1/resolve?channel=%2B14155550100").json();
    assert_eq!((r["version"].clone(), r["tag"].clone()), (json!(3), json!("agent/sales/v3")));
    // The deploy clone's own branch did not move.
    let deploy_main = std::process::Command::new("git").args(["-C", deploy, "rev-parse", "main"]).output().unwrap();
    assert_ne!(String::from_utf8_lossy(&deploy_main.stdout).trim(), head);
}

#[test]
fn with_fetch_a_version_tag_that_moved_on_the_remote_is_left_out_and_named() {
    let (env, remote) = crate::trust::with_remote();
    let deploy = crate::trust::clone(&env, &remote, "deploy", &[]);
    let server = Server::ready(&env, &["-C", &deploy, "--fetch", "origin", "--follow", "origin/main"]);
    // web-widget follows intake's latest, v1; +14155550100 pins sales v1 by number and tree.
    assert_eq!(server.get("/v1/resolve?channel=web-widget").json()["tag"], "agent/intake/v1");

    // Someone force-pushes other content under both tags.
    for tag in ["agent/intake/v1", "agent/sales/v1"] {
        env.git(&["tag", "-f", "-a", "-m", "forged", tag, "HEAD"]);
        env.git(&["push", "-q", "-f", "origin", tag]);
    }
    server.wait_for(|s| s.get("/healthz").json()["left_out_count"] == json!(2), "the moved tags left out");
    let health = server.get("/healthz").json();
    assert_eq!(health["status"], "degraded", "{health}");
    let named: Vec<&str> = health["left_out"].as_array().unwrap().iter().map(|l| l["tag"].as_str().unwrap()).collect();
    assert_eq!(named, ["agent/intake/v1", "agent/sales/v1"], "{health}");
    assert!(health["left_out"][0]["error"].as_str().unwrap().contains("moved"), "{health}");
    // Neither the pin by number nor the channel following latest serves the version.
    for channel in ["web-widget", "%2B14155550100"] {
        let r = server.get(&format!("/v1/resolve?channel={channel}"));
        assert_eq!(r.status, 409, "{channel}: {}", r.body);
        assert!(r.body.contains("moved"), "{}", r.body);
    }
    // The clone's own tags stay as they were (the genuine ones), and other channels serve.
    assert_eq!(server.get("/v1/resolve?channel=%2B14155550101").status, 200);
    assert!(server.log.lock().unwrap().iter().any(|l| l.contains("agent/intake/v1 moved on the remote")));
}

#[test]
fn a_client_that_never_finishes_its_request_head_is_cut_off() {
    let env = published();
    let server = Server::ready(&env, &[]);
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let mut reply = Vec::new();
    // The connection ends (with or without a 408) once the 10 s head timeout passes.
    let _ = stream.read_to_end(&mut reply);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(20), "cut off after {waited:?}");
    assert!(reply.is_empty() || reply.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&reply));
    // The server itself is fine, asked on a new connection: the one the start-up check left in
    // the client's pool has been idle as long, and the same 10 s timeout may close it just as it
    // is reused (a reset, which made this test flaky).
    let fresh = client().get(format!("{}/healthz", server.base)).call().unwrap();
    assert_eq!(fresh.status(), 200);
}

/// Reads one answer from `stream`: its head, lower-cased, and its body (by Content-Length).
fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        assert_ne!(reader.read_line(&mut head).unwrap(), 0, "the connection ended inside a head: {head}");
    }
    let head = head.to_ascii_lowercase();
    let length = head.lines().find_map(|l| l.strip_prefix("content-length: ")).map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// Sends `head` alone (its body is `{}`, sent only after the answer) to `addr`: the answer must
/// come before the body, say `Connection: close`, and be the last on that connection.
fn answered_before_the_body(addr: &str, head: &str, status: &str) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(format!("{head}Content-Length: 2\r\n\r\n").as_bytes()).unwrap();
    let (answer, body) = read_answer(&mut stream);
    assert!(answer.starts_with(&format!("http/1.1 {status}")), "{answer}{body}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    stream.write_all(b"{}").unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the server answered again on a closed connection: {}", String::from_utf8_lossy(&rest));
}

/// The flake behind a red CI run: a hook answered 404 before its body arrived, hyper wrote the
/// answer as keep-alive and then closed the connection, and the client's next request on it
/// failed. An answer that leaves the body unread now says so, in serve and in `agentver
/// console` alike; one that read it keeps the connection.
#[test]
fn an_answer_that_leaves_the_body_unread_closes_the_connection() {
    let env = published();
    let server = Server::ready(&env, &[]);
    let addr = server.base.trim_start_matches("http://");
    // The hook has no secret, so it answers before the body is sent.
    answered_before_the_body(
        addr,
        "POST /hooks/vapi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
        "404",
    );
    // The console refuses a form from another origin before reading it.
    let console = crate::console::Page::console(&env);
    answered_before_the_body(
        console.base.trim_start_matches("http://"),
        "POST /agents/sales/restore HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n",
        "403",
    );

    // A body that was read: two requests on one connection, neither closing it.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = r#"{"channel": "+14155550100"}"#;
    for _ in 0..2 {
        let request = format!(
            "POST /v1/resolve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let (head, answer) = read_answer(&mut stream);
        assert!(head.starts_with("http/1.1 200"), "{head}{answer}");
        assert!(!head.contains("connection: close"), "{head}");
    }
}

#[test]
fn screens() {
    let env = screen::published();
    snap!(env, "serve_public_without_token", "serve", "--listen", "0.0.0.0:0");
    snap!(env, "serve_bad_interval", "serve", "--interval", "0");

    // What a runtime sees: each route's status, revision header and JSON body, filtered.
    let server = Server::ready(&env, &[]);
    let exchange = |method: &str, path: &str, reply: Reply| {
        let body = match serde_json::from_str::<Value>(&reply.body) {
            Ok(json) => serde_json::to_string_pretty(&json).unwrap(),
            Err(_) => reply.body.clone(),
        };
        let revision = reply.revision.as_deref().unwrap_or("-");
        screen::filtered(
            &env,
            &format!("{method} {path}\nstatus: {}\nagentver-revision: {revision}\n{body}\n", reply.status),
        )
    };
    for (name, path) in [
        ("serve_resolve_split", "/v1/resolve?channel=%2B14155550199&caller=%2B15550001111"),
        ("serve_channels", "/v1/channels"),
        ("serve_versions", "/v1/agents/support/versions"),
        ("serve_unknown_channel", "/v1/resolve?channel=nowhere"),
    ] {
        insta::assert_snapshot!(name, exchange("GET", path, server.get(path)));
    }
    let posted = server.post("/v1/resolve", r#"{"channel": "+14155550100", "call_id": "c-1"}"#);
    insta::assert_snapshot!("serve_resolve_post", exchange("POST", "/v1/resolve", posted));
    let unauthorized = server.get_as("/v1/channels", None);
    insta::assert_snapshot!("serve_unauthorized", exchange("GET", "/v1/channels (no token)", unauthorized));
}

/// One raw request on a new connection (any `Host`, any header); returns the status and body.
fn raw(addr: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let (head, body) = read_answer(&mut stream);
    (head[9..12].parse().unwrap(), body)
}

/// "Browsers are not clients of the API" (issue 29): a page on another origin could POST a call
/// record and a prune with text/plain, and a rebound DNS name read every page. Without a token
/// as with one, another Host is 403, another Origin's write is 403, a JSON route's body must be
/// application/json (415), and the server's own origin and the platforms' requests still pass.
#[test]
fn a_page_on_another_origin_cannot_drive_the_api() {
    let env = published();
    let store = format!("sqlite:{}", env.path("../calls.db").display());
    let server = Server::start(&env, &["--interval", "1", "--calls", &store], &[]);
    server.wait_for(|s| s.get_as("/readyz", None).status == 200, "ready");
    let addr = server.base.trim_start_matches("http://").to_owned();
    let record = r#"{"call_id": "c-1", "success": true}"#;
    let post = |headers: &str| {
        raw(
            &addr,
            &format!(
                "POST /v1/calls HTTP/1.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{record}",
                record.len()
            ),
        )
    };
    let (status, body) =
        raw(&addr, "GET /v1/channels HTTP/1.1\r\nHost: rebound.evil.example:8700\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":\"wrong_host\""), "{body}");
    let (status, body) =
        post(&format!("Host: {addr}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\n"));
    assert_eq!(status, 403, "{body}");
    let (status, body) =
        post(&format!("Host: {addr}\r\nSec-Fetch-Site: cross-site\r\nContent-Type: application/json\r\n"));
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(&format!("Host: {addr}\r\nContent-Type: text/plain\r\n"));
    assert_eq!((status, body.contains("not_json")), (415, true), "{body}");
    assert_eq!(server.get("/v1/calls/c-1").status, 404, "nothing refused was stored");
    let (status, body) =
        post(&format!("Host: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/json; charset=utf-8\r\n"));
    assert_eq!(status, 200, "the server's own origin: {body}");
    let (status, _) = raw(
        &addr,
        &format!(
            "GET /v1/channels HTTP/1.1\r\nHost: localhost:{}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n",
            addr.rsplit(':').next().unwrap()
        ),
    );
    assert_eq!(status, 200, "reads are not writes");
}
