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
        let mut expected = without(original, report["read_only"].as_array().unwrap());
        if *platform == "elevenlabs" {
            // Every ElevenLabs render enables the initiation overrides its hook answers with,
            // beneath what the object itself says of them.
            let mut derived = json!({"platform_settings": {"overrides": {"conversation_config_override": {
                "agent": {"prompt": {"prompt": true}, "first_message": true, "language": true}, "tts": {"voice_id": true}}}}});
            agentver::platforms::map::merge(&mut derived, &expected);
            expected = derived;
        }
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
}

#[test]
fn import_refuses_another_platforms_file_and_invents_nothing() {
    let env = TestEnv::empty();
    env.av(&["init"]).ok();
    let vapi = corpus("vapi/scheduler.json");
    let e = env.av(&["import", "retell", &vapi, "--llm", &vapi, "--id", "odd"]).code(2);
    assert_eq!(e.stderr.lines().count(), 2, "{}", e.stderr);
    assert!(
        e.stderr.starts_with(&format!("error: {vapi}: not an agent of Retell: it has the keys of an agent of Vapi (")),
        "{}",
        e.stderr
    );
    assert!(e.stderr.contains("hint: if it is, import it as one: agentver import vapi FILE"), "{}", e.stderr);
    let e = env.av(&["import", "vapi", &corpus("elevenlabs/minimal.json")]).code(2);
    assert!(e.stderr.contains("has the keys of an agent of ElevenLabs ('conversation_config'"), "{}", e.stderr);
    assert!(!env.path("agents/odd.yaml").exists() && !env.path("agents/acme-minimal.yaml").exists());
    // An assistant without a model imports without one, and renders without one.
    env.write("bare.json", r#"{"name": "Bare", "firstMessage": "Hello"}"#);
    env.av(&["import", "vapi", "bare.json"]).ok();
    let draft = env.read("agents/bare.yaml");
    assert!(!draft.contains("llm") && !draft.contains("unknown"), "{draft}");
    let rendered = env.av(&["render", "bare@draft", "--platform", "vapi"]).ok().json();
    assert_eq!(rendered, json!({"name": "Bare", "firstMessage": "Hello"}));
    // Two system messages are kept whole, with a warning, and a typed prompt written later is
    // named as not sent rather than silently shadowed.
    env.write(
        "two.json",
        r#"{"name": "Two", "model": {"provider": "openai", "model": "gpt-4o", "messages": [
            {"role": "system", "content": "A"}, {"role": "system", "content": "B"}]}}"#,
    );
    let out = env.av(&["import", "vapi", "two.json"]).ok();
    assert!(out.stderr.contains("warning: model.messages holds 2 messages, not one system message"), "{}", out.stderr);
    env.edit("agents/two.yaml", "system: \"\"", "system: Something new");
    let out = env.av(&["render", "two@draft", "--platform", "vapi"]).ok();
    assert!(
        out.stderr.contains("warning: prompt.system is not sent: provider_options.vapi.model.messages"),
        "{}",
        out.stderr
    );
    // The platforms' secret placeholders are references, not literal secrets.
    env.write(
        "secret.json",
        r#"{"name": "Sec", "model": {"provider": "openai", "model": "gpt-4o"}, "server": {"url": "https://x.example/hook", "secret": "{{VAPI_SERVER_SECRET}}"}}"#,
    );
    env.av(&["import", "vapi", "secret.json"]).ok();
    env.av(&["check"]).ok();
}

#[test]
fn check_refuses_a_number_that_serves_a_workflow_agent_to_the_hosted_hooks() {
    let env = crate::env::TestEnv::example();
    env.write("channels.toml", "[channels.\"+14155550123\"]\nagent = \"intake\"\nversion = \"draft\"\n");
    let out = env.av(&["check"]).code(1);
    assert!(
        out.stdout.contains("error: channels.toml:1: channel '+14155550123': intake draft is a workflow agent, which the Vapi, Retell and ElevenLabs call-start hooks cannot run"),
        "{}",
        out.stdout
    );
    // A self-hosted runtime behind /hooks/twilio runs it: then it is a warning.
    env.write("agentver.toml", "[platforms.twilio]\nstream_url = \"wss://bot.example/stream\"\n");
    let out = env.av(&["check"]).ok();
    assert!(out.stdout.contains("warning: channels.toml:1: channel '+14155550123'"), "{}", out.stdout);
    assert!(out.stdout.contains("only the self-hosted runtime behind /hooks/twilio can"), "{}", out.stdout);
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
    let signature = agentver::platforms::twilio::sign(
        TWILIO_TOKEN,
        "https://agentver.example/hooks/twilio",
        &owned,
        agentver::platforms::twilio::Algorithm::Sha1,
    );
    let forged = agentver::platforms::twilio::sign(
        TWILIO_TOKEN,
        "https://elsewhere.example/hooks/twilio",
        &owned,
        agentver::platforms::twilio::Algorithm::Sha1,
    );
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
    let signature = agentver::platforms::twilio::sign(
        TWILIO_TOKEN,
        "https://agentver.example/hooks/twilio",
        &owned,
        agentver::platforms::twilio::Algorithm::Sha1,
    );
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

/// The example published, sales v3 carrying the Retell ids an import of an older release kept,
/// +14155550100 pinned to it, and serve answering the hooks.
fn v3_served() -> (TestEnv, String, Serve) {
    let env = published();
    // Retell's own agent id and version, as an import of an older release kept them under
    // provider_options: they name another Retell version than v3, so they are never answered.
    let text = env.read("agents/sales.yaml")
        + "\nprovider_options:\n  retell:\n    agent:\n      agent_id: agent_abc\n      version: 3\n";
    env.write("agents/sales.yaml", &text);
    env.av(&["publish", "sales", "-m", "retell ids"]).ok();
    env.av(&["pin", "+14155550100", "sales@v3"]).ok();
    env.commit_all("v3");
    let store = store(&env);
    let serve = hooked(&env, &store, "https://agentver.example");
    (env, store, serve)
}

#[test]
fn retell_call_inbound_answers_what_retell_allows_and_the_call_comes_back_not_deployed() {
    let (env, store, serve) = v3_served();
    let inbound = json!({"event": "call_inbound", "call_inbound": {"agent_id": "agent_default", "from_number": "+16505550111", "to_number": "+14155550100", "call_id": "r-0"}}).to_string();
    assert_eq!(serve.post("/hooks/retell", &inbound, &[]).0, 401, "unsigned");
    let (status, answer) = retell_signed(&serve, &inbound);
    assert_eq!(status, 200, "{answer}");
    let inbound_answer = &answer["call_inbound"];
    assert!(
        inbound_answer.get("override_agent_id").is_none() && inbound_answer.get("override_agent_version").is_none()
    );
    assert_eq!(inbound_answer["metadata"]["agentver_version"], "3");
    assert_eq!(inbound_answer["metadata"]["agentver_deployed"], "false");
    assert_eq!(inbound_answer["dynamic_variables"]["first_name"], "there");
    assert_eq!(
        inbound_answer["agent_override"],
        json!({"retell_llm": {"model_temperature": 0.5, "begin_message": "Hi {{first_name}}, this is Ava from Acme Robotics. How can I help?",
            "knowledge_base_ids": ["kb_pricing"], "kb_config": {"top_k": 4, "filter_score": 0.6}}}),
        "what Retell lets a call override, and no model: gpt-4o is not among Retell's"
    );
    // The decision is recorded under call_inbound.call_id, as not deployed: no arm of any statistic.
    let decided = calls_json(&env, &store, &[]).into_iter().find(|c| c["call_id"] == "r-0").expect("r-0 recorded");
    assert_eq!((decided["attribution"].as_str(), decided["agent"].as_str()), (Some("not_deployed"), None), "{decided}");
    let unknown =
        json!({"event": "call_inbound", "call_inbound": {"from_number": "+1650", "to_number": "+19990000000"}})
            .to_string();
    assert_eq!(
        retell_signed(&serve, &unknown).1,
        json!({"call_inbound": {}}),
        "no override: the number's own agent, or hang up"
    );

    // Retell starts a call with the metadata it was given: its echo says not deployed too, and
    // replay refuses what never ran; an echo without that mark is v3's.
    let started = json!({"event": "call_started", "call": {"call_id": "r-1", "from_number": "+16505550111", "to_number": "+14155550100",
        "direction": "inbound", "start_timestamp": now_ms(), "metadata": inbound_answer["metadata"]}}).to_string();
    assert_eq!(retell_signed(&serve, &started).0, 200);
    let call = calls_json(&env, &store, &[]).into_iter().find(|c| c["call_id"] == "r-1").expect("r-1 recorded");
    assert_eq!(call["attribution"], "not_deployed", "{call}");
    let refused = env.av(&["replay", "r-1", "--calls", &store]).code(2);
    assert!(
        refused.stderr.contains("did not run the version decided for it: sales v3 was decided but is not deployed"),
        "{}",
        refused.stderr
    );
    let mut echoed = inbound_answer["metadata"].clone();
    echoed.as_object_mut().unwrap().shift_remove("agentver_deployed");
    let started = json!({"event": "call_started", "call": {"call_id": "r-2", "from_number": "+16505550111", "to_number": "+14155550100",
        "direction": "inbound", "start_timestamp": now_ms(), "metadata": echoed}}).to_string();
    assert_eq!(retell_signed(&serve, &started).0, 200);
    let call = calls_json(&env, &store, &["--version", "3"])
        .into_iter()
        .find(|c| c["call_id"] == "r-2")
        .expect("r-2 under v3");
    assert_eq!(call["attribution"], "echoed");
    let v3_config = env.av(&["show", "sales@v3", "--json"]).ok().json()["config"].clone();
    assert_eq!(env.av(&["replay", "r-2", "--json", "--calls", &store]).ok().json()["config"], v3_config);
}

#[test]
fn elevenlabs_initiation_answers_and_the_call_comes_back_under_its_sid() {
    let (env, store, serve) = v3_served();
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
    assert_eq!(env.av(&["replay", "CA-el-1", "--json", "--calls", &store]).ok().json()["config"], v3["config"]);
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
