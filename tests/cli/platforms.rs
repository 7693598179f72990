//! The platforms (issue 19) with the real binary: every corpus object imported, checked and
//! rendered back; the drift check; and each call-start hook over HTTP, signed the platform's
//! way, followed by that platform's end-of-call webhook into one attributed record.

use std::path::Path;

use serde_json::{Value, json};

use crate::calls::{RETELL_KEY, Serve, calls_json, now_ms};
use crate::env::TestEnv;
use crate::serve::published;

fn corpus(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/platforms").join(rel).display().to_string()
}

/// JSON numbers by value, as the round-trip law compares them.
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn without(mut v: Value, paths: &[Value]) -> Value {
    for p in paths {
        let parts: Vec<&str> = p.as_str().unwrap().split('.').collect();
        let mut at = &mut v;
        for k in &parts[..parts.len() - 1] {
            at = at.get_mut(*k).unwrap();
        }
        at.as_object_mut().unwrap().shift_remove(parts[parts.len() - 1]);
    }
    v
}

fn read(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_corpus_object_imports_checks_and_renders_back() {
    let env = TestEnv::empty();
    env.av(&["init"]).ok();
    let mut cases: Vec<(&str, String, Option<String>, Option<&str>)> = Vec::new();
    for f in [
        "inbound-customer-support",
        "inbound-customer-support-company-1",
        "receptionist",
        "recording-consent",
        "scheduler",
    ] {
        cases.push(("vapi", corpus(&format!("vapi/{f}.json")), None, None));
    }
    for n in ["santi", "valentina", "aria", "british-heat", "booking-test"] {
        cases.push((
            "retell",
            corpus(&format!("retell/{n}.agent.json")),
            Some(corpus(&format!("retell/{n}.llm.json"))),
            Some(n),
        ));
    }
    for f in ["assistant", "customer-service", "default", "minimal", "text-only", "voice-only"] {
        cases.push(("elevenlabs", corpus(&format!("elevenlabs/{f}.json")), None, None));
    }
    let mut imported = Vec::new();
    for (platform, file, llm, id) in &cases {
        let mut args = vec!["import", platform, file.as_str(), "--json"];
        if let Some(llm) = llm {
            args.extend(["--llm", llm.as_str()]);
        }
        if let Some(id) = id {
            args.extend(["--id", id]);
        }
        let report = env.av(&args).ok().json();
        imported.push(report);
    }
    env.av(&["check"]).ok();
    env.commit_all("imported");
    for ((platform, file, llm, _), report) in cases.iter().zip(&imported) {
        let agent = report["agent"].as_str().unwrap();
        let mut original = read(file);
        if let Some(llm) = llm {
            original = json!({"agent": original, "llm": read(llm)});
        }
        let expected = without(original, report["read_only"].as_array().unwrap());
        let first = env.av(&["render", &format!("{agent}@draft"), "--platform", platform]).ok();
        let second = env.av(&["render", &format!("{agent}@draft"), "--platform", platform]).ok();
        assert_eq!(first.stdout, second.stdout, "{file}: render is deterministic");
        assert_eq!(norm(&first.json()), norm(&expected), "{file}: render(import(X)) == X less read-only fields");
        assert!(report["filled"].as_array().unwrap().is_empty(), "{file}: {report}");
    }
    // A published import renders the same as its draft.
    env.av(&["publish", "receptionist"]).ok();
    let draft = env.av(&["render", "receptionist@draft", "--platform", "vapi"]).ok().stdout;
    assert_eq!(env.av(&["render", "receptionist", "--platform", "vapi"]).ok().stdout, draft);
    // Tools shared by name across agents are never overwritten: the second gets the agent's prefix.
    assert!(env.path("tools/end_call.yaml").exists() && env.path("tools/santi-end_call.yaml").exists());
}

#[test]
fn import_never_overwrites_without_force_and_dry_run_writes_nothing() {
    let env = TestEnv::empty();
    env.av(&["init"]).ok();
    let file = corpus("vapi/scheduler.json");
    let dry = env.av(&["import", "vapi", &file, "--dry-run", "--json"]).ok().json();
    assert_eq!(dry["dry_run"], true);
    assert!(!env.path("agents/scheduler.yaml").exists(), "a dry run writes nothing");
    let out = env.av(&["import", "vapi", &file]).ok();
    assert!(out.stdout.starts_with("imported scheduler from Vapi: agents/scheduler.yaml (new)"));
    // The same import again changes nothing; an edited draft is refused, every file kept.
    env.av(&["import", "vapi", &file]).ok();
    env.edit("agents/scheduler.yaml", "temperature: 0.3", "temperature: 0.4");
    let refused = env.av(&["import", "vapi", &file]).code(1);
    assert!(refused.stderr.contains("agents/scheduler.yaml already exists with other content"));
    assert!(env.read("agents/scheduler.yaml").contains("temperature: 0.4"));
    env.av(&["import", "vapi", &file, "--force"]).ok();
    assert!(env.read("agents/scheduler.yaml").contains("temperature: 0.3"));
    // Bad input: one line naming the file.
    env.write("broken.json", "{\"name\": ");
    let e = env.av(&["import", "vapi", "broken.json"]).code(2);
    assert!(e.stderr.starts_with("error: broken.json: not JSON"), "{}", e.stderr);
    let e = env
        .av(&[
            "import",
            "retell",
            &corpus("vapi/scheduler.json"),
            "--llm",
            &corpus("vapi/scheduler.json"),
            "--id",
            "odd",
        ])
        .ok();
    assert!(e.stdout.contains("filled in"), "a Retell object missing its fields says what it filled");
}

#[test]
fn render_against_reports_drift_path_by_path() {
    let env = published();
    let out = env.path("../vapi.json");
    let out = out.to_str().unwrap();
    let rendered = env.av(&["render", "sales@v1", "--platform", "vapi", "-o", out]).ok();
    assert!(rendered.stdout.is_empty(), "-o writes the file, not standard output");
    assert!(rendered.stderr.contains("warning: description has no place on Vapi"));
    env.av(&["render", "sales@v1", "--platform", "vapi", "--against", out]).ok();
    // The platform adds its read-only fields: no drift. A changed temperature: drift, exit 1.
    let mut current = read(out);
    current["id"] = json!("asst_123");
    current["createdAt"] = json!("2026-11-01T00:00:00Z");
    current["model"]["temperature"] = json!(0.9);
    std::fs::write(out, current.to_string()).unwrap();
    let drift = env.av(&["render", "sales@v1", "--platform", "vapi", "--against", out]).code(1);
    let text = &drift.stdout;
    assert!(text.contains("model.temperature: 0.9 → 0.3"), "{text}");
    assert!(!text.contains("createdAt") && !text.contains("asst_123"), "{text}");
    let json = env.av(&["render", "sales@v1", "--platform", "vapi", "--against", out, "--json"]).code(1).json();
    assert_eq!(json.as_array().unwrap().len(), 1, "{json}");
}

const VAPI_SECRET: &str = "vapi-s3cret-0001";
const EL_SECRET: &str = "wsec_test_7";
const EL_TOKEN: &str = "el-init-token-42";
const TWILIO_TOKEN: &str = "twilio-auth-token-9";

fn hooked(env: &TestEnv, store: &str, public: &str) -> Serve {
    let mut cmd =
        env.av_cmd(&["serve", "--listen", "127.0.0.1:0", "--interval", "1", "--calls", store, "--public-url", public]);
    cmd.env("AGENTVER_RETELL_API_KEY", RETELL_KEY)
        .env("AGENTVER_VAPI_SECRET", VAPI_SECRET)
        .env("AGENTVER_ELEVENLABS_WEBHOOK_SECRET", EL_SECRET)
        .env("AGENTVER_ELEVENLABS_INITIATION_TOKEN", EL_TOKEN)
        .env("AGENTVER_TWILIO_AUTH_TOKEN", TWILIO_TOKEN);
    Serve::spawn(cmd)
}

fn store(env: &TestEnv) -> String {
    format!("sqlite:{}", env.root.parent().unwrap().join("calls.sqlite").display())
}

fn assistant_request(channel: &str, caller: &str, call_id: &str) -> String {
    json!({"message": {"type": "assistant-request", "timestamp": now_ms(),
        "call": {"id": call_id, "type": "inboundPhoneCall", "orgId": "org_1"},
        "phoneNumber": {"id": "pn_1", "number": channel}, "customer": {"number": caller}}})
    .to_string()
}

#[test]
fn vapi_assistant_request_follows_the_pin_and_the_call_comes_back_attributed() {
    let env = published();
    env.write("agentver.toml", "[platforms.twilio]\nstream_url = \"wss://bot.example/ws\"\n");
    env.commit_all("twilio");
    let store = store(&env);
    let serve = hooked(&env, &store, "https://agentver.example");
    let secret = [("x-vapi-secret", VAPI_SECRET)];

    // Unsigned: 401, nothing recorded.
    let (status, _) = serve.post("/hooks/vapi", &assistant_request("+14155550100", "+16505550100", "v-0"), &[]);
    assert_eq!(status, 401);
    let (status, answer) =
        serve.post("/hooks/vapi", &assistant_request("+14155550100", "+16505550100", "v-1"), &secret);
    assert_eq!(status, 200, "{answer}");
    let v1 = env.av(&["render", "sales@v1", "--platform", "vapi"]).ok().json();
    assert_eq!(answer["assistant"]["model"], v1["model"], "the pinned version, rendered");
    assert_eq!(answer["assistant"]["metadata"]["agentver_version"], "1");
    assert_eq!(answer["assistantOverrides"]["variableValues"]["first_name"], "there", "{answer}");
    // The split: the variant is /v1/resolve's for the same caller.
    for caller in ["+16505550101", "+16505550102", "+16505550103"] {
        let (_, a) =
            serve.post("/hooks/vapi", &assistant_request("+14155550199", caller, &format!("v-{caller}")), &secret);
        let (_, r) = serve.get(&format!("/v1/resolve?channel=%2B14155550199&caller={}", caller.replace('+', "%2B")));
        assert_eq!(a["assistant"]["metadata"]["agentver_variant"], r["variant"], "{caller}");
    }
    // Unknown channel: Vapi's error shape, which it speaks before ending the call.
    let (status, refused) = serve.post("/hooks/vapi", &assistant_request("+19995550000", "+1650", "v-x"), &secret);
    assert_eq!((status, refused["error"].is_string()), (200, true), "{refused}");

    // The end-of-call report echoes the assistant's metadata: one record, exactly v1.
    let report = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "call": {"id": "v-1", "type": "inboundPhoneCall"}, "assistant": {"metadata": answer["assistant"]["metadata"]},
        "startedAt": "2026-12-01T10:00:00Z", "endedAt": "2026-12-01T10:01:00Z", "analysis": {"successEvaluation": "true"}}})
    .to_string();
    assert_eq!(serve.post("/hooks/vapi", &report, &secret).0, 200);
    let listed = calls_json(&env, &store, &["--version", "1", "--agent", "sales"]);
    let call = listed.iter().find(|c| c["call_id"] == "v-1").expect("the call is listed under v1");
    assert_eq!(call["attribution"], "decided");
    assert_eq!(call["success"], true);
    assert!(!listed.iter().any(|c| c["call_id"] == "v-0"), "an unsigned request records nothing");
    let replay = env.av(&["replay", "v-1", "--json", "--calls", &store]).ok().json();
    assert_eq!(replay["config"], env.av(&["show", "sales@v1", "--json"]).ok().json()["config"]);

    // A changed pin is answered after the next reload.
    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    env.commit_all("pin v2");
    serve.0.wait_for(
        |s| {
            let r = s.post_with("/hooks/vapi", assistant_request("+14155550100", "+1650", "v-2"), &secret);
            serde_json::from_str::<Value>(&r.body).unwrap()["assistant"]["metadata"]["agentver_version"] == "2"
        },
        "following the new pin",
    );
    twilio_connects_the_stream(&env, &serve, &store);
}

/// Twilio: signed over the public URL and the form, answered with TwiML; the bot's report by
/// CallSid lands on the decision's record.
fn twilio_connects_the_stream(env: &TestEnv, serve: &Serve, store: &str) {
    let fields = [("CallSid", "CA0001"), ("From", "+16505550199"), ("To", "+14155550199"), ("AccountSid", "AC1")];
    let owned: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let body: String =
        fields.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&");
    let signature = agentver::platforms::twilio::sign(TWILIO_TOKEN, "https://agentver.example/hooks/twilio", &owned);
    let forged = agentver::platforms::twilio::sign(TWILIO_TOKEN, "https://elsewhere.example/hooks/twilio", &owned);
    assert_eq!(serve.0.post_with("/hooks/twilio", body.clone(), &[("x-twilio-signature", &forged)]).status, 401);
    let reply = serve.0.post_with("/hooks/twilio", body, &[("x-twilio-signature", &signature)]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<Connect><Stream url=\"wss://bot.example/ws\">"), "{}", reply.body);
    let (_, resolved) = serve.get("/v1/resolve?channel=%2B14155550199&caller=%2B16505550199");
    let variant = resolved["variant"].as_str().unwrap();
    assert!(
        reply.body.contains(&format!("<Parameter name=\"agentver_variant\" value=\"{variant}\"/>")),
        "{}",
        reply.body
    );
    // A number that is not a channel: the caller hears a sentence, then the call ends.
    let unknown = [("CallSid", "CA0002"), ("From", "+16505550199"), ("To", "+19995550000")];
    let owned: Vec<(String, String)> = unknown.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let body: String =
        unknown.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&");
    let signature = agentver::platforms::twilio::sign(TWILIO_TOKEN, "https://agentver.example/hooks/twilio", &owned);
    let refused = serve.0.post_with("/hooks/twilio", body, &[("x-twilio-signature", &signature)]);
    assert!(
        refused.status == 200 && refused.body.contains("<Say>") && refused.body.contains("<Hangup/>"),
        "{}",
        refused.body
    );
    let (status, _) = serve.post("/v1/calls", &json!({"call_id": "CA0001", "success": true}).to_string(), &[]);
    assert_eq!(status, 200);
    let call = calls_json(env, store, &["--agent", "sales"]).into_iter().find(|c| c["call_id"] == "CA0001").unwrap();
    assert_eq!((call["variant"].as_str(), call["attribution"].as_str()), (Some(variant), Some("decided")), "{call}");
}

fn retell_signed(serve: &Serve, body: &str) -> (u16, Value) {
    let signature = agentver::platforms::retell::sign_retell(RETELL_KEY, body.as_bytes(), now_ms());
    serve.post("/hooks/retell", body, &[("x-retell-signature", &signature)])
}

#[test]
fn retell_call_inbound_and_elevenlabs_initiation_answer_and_the_calls_come_back() {
    let env = published();
    // Retell's own agent id and version, kept under provider_options, become the overrides.
    let text = env.read("agents/sales.yaml")
        + "\nprovider_options:\n  retell:\n    agent:\n      agent_id: agent_abc\n      version: 3\n";
    env.write("agents/sales.yaml", &text);
    env.av(&["publish", "sales", "-m", "retell ids"]).ok();
    env.av(&["pin", "+14155550100", "sales@v3"]).ok();
    env.commit_all("v3");
    let store = store(&env);
    let serve = hooked(&env, &store, "https://agentver.example");

    let inbound = json!({"event": "call_inbound", "call_inbound": {"agent_id": "agent_default", "from_number": "+16505550111", "to_number": "+14155550100"}}).to_string();
    assert_eq!(serve.post("/hooks/retell", &inbound, &[]).0, 401, "unsigned");
    let (status, answer) = retell_signed(&serve, &inbound);
    assert_eq!(status, 200, "{answer}");
    let inbound_answer = &answer["call_inbound"];
    assert_eq!(inbound_answer["override_agent_id"], "agent_abc");
    assert_eq!(inbound_answer["override_agent_version"], 3);
    assert_eq!(inbound_answer["metadata"]["agentver_version"], "3");
    assert_eq!(inbound_answer["dynamic_variables"]["first_name"], "there");
    assert!(inbound_answer["agent_override"]["agent"].get("agent_id").is_none());
    let unknown =
        json!({"event": "call_inbound", "call_inbound": {"from_number": "+1650", "to_number": "+19990000000"}})
            .to_string();
    assert_eq!(
        retell_signed(&serve, &unknown).1,
        json!({"call_inbound": {}}),
        "no override: the number's own agent, or hang up"
    );

    // Retell starts the call with the metadata it was given; the record is v3's.
    let started = json!({"event": "call_started", "call": {"call_id": "r-1", "from_number": "+16505550111", "to_number": "+14155550100",
        "direction": "inbound", "start_timestamp": now_ms(), "metadata": inbound_answer["metadata"]}}).to_string();
    assert_eq!(retell_signed(&serve, &started).0, 200);
    let call = calls_json(&env, &store, &["--version", "3"])
        .into_iter()
        .find(|c| c["call_id"] == "r-1")
        .expect("r-1 under v3");
    assert_eq!(call["attribution"], "echoed");
    let v3_config = env.av(&["show", "sales@v3", "--json"]).ok().json()["config"].clone();
    assert_eq!(env.av(&["replay", "r-1", "--json", "--calls", &store]).ok().json()["config"], v3_config);

    // ElevenLabs: the initiation token, then the post-call report under the call's SID.
    let init = json!({"caller_id": "+16505550122", "agent_id": "agent_el", "called_number": "+14155550100", "call_sid": "CA-el-1"}).to_string();
    assert_eq!(serve.post("/hooks/elevenlabs/initiation", &init, &[("authorization", "Bearer wrong")]).0, 401);
    let bearer = format!("Bearer {EL_TOKEN}");
    let (status, data) = serve.post("/hooks/elevenlabs/initiation", &init, &[("authorization", &bearer)]);
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["type"], "conversation_initiation_client_data");
    assert_eq!(data["dynamic_variables"]["agentver_version"], "3");
    let v3 = env.av(&["show", "sales@v3", "--json"]).ok().json();
    assert_eq!(data["conversation_config_override"]["agent"]["prompt"]["prompt"], v3["config"]["prompt"]["system"]);
    let elsewhere = json!({"caller_id": "+1650", "called_number": "+19995550000", "call_sid": "CA-el-2"}).to_string();
    let (status, refused) = serve.post("/hooks/elevenlabs/initiation", &elsewhere, &[("authorization", &bearer)]);
    assert_eq!((status, refused["error"]["code"].as_str()), (404, Some("not_placed")), "{refused}");
    let post = json!({"type": "post_call_transcription", "event_timestamp": now_ms() / 1000, "data": {
        "conversation_id": "conv_1", "agent_id": "agent_el", "status": "done",
        "metadata": {"start_time_unix_secs": 1_795_000_000, "call_duration_secs": 30,
                     "phone_call": {"call_sid": "CA-el-1", "external_number": "+16505550122", "agent_number": "+14155550100"}},
        "analysis": {"call_successful": "success"},
        "conversation_initiation_client_data": {"dynamic_variables": data["dynamic_variables"]}}}).to_string();
    let signature = agentver::platforms::elevenlabs::sign_elevenlabs(EL_SECRET, post.as_bytes(), now_ms() / 1000);
    assert_eq!(serve.post("/hooks/elevenlabs", &post, &[("elevenlabs-signature", &signature)]).0, 200);
    let calls = calls_json(&env, &store, &["--version", "3"]);
    let el: Vec<&Value> = calls.iter().filter(|c| c["call_id"] == "CA-el-1" || c["call_id"] == "conv_1").collect();
    assert_eq!(el.len(), 1, "one call, one record: {calls:?}");
    assert_eq!((el[0]["attribution"].as_str(), el[0]["success"].as_bool()), (Some("decided"), Some(true)));
    assert_eq!(env.av(&["replay", "CA-el-1", "--json", "--calls", &store]).ok().json()["config"], v3_config);
}

#[test]
fn hooks_without_their_secret_answer_404_and_record_nothing() {
    let env = published();
    let store = store(&env);
    let serve = Serve::start(&env, &store);
    for path in ["/hooks/vapi", "/hooks/elevenlabs/initiation", "/hooks/twilio"] {
        let (status, body) = serve.post(path, "{}", &[]);
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_configured", "{path}: {body}");
    }
    assert!(calls_json(&env, &store, &[]).is_empty());
}
