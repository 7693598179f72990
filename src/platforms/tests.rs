//! Merging, platform payloads, signatures and statistics. Expected statistics were computed
//! independently with scipy by `scripts/stats_reference.py` (its output is quoted beside each).
//! Tests named for an item of issue 18 fail without its fix.

use serde_json::{Value, json};

use crate::calls::read::Parsed;
use crate::calls::stats;
use crate::calls::store::{Filter, Location, Store};
use crate::calls::*;

/// The readers under the names these tests knew them by when they lived in `calls`.
mod platforms {
    pub use crate::calls::read::generic;
    pub use crate::platforms::elevenlabs::report::parse as elevenlabs;
    pub use crate::platforms::elevenlabs::{sign_elevenlabs, verify_elevenlabs};
    pub use crate::platforms::parse;
    pub use crate::platforms::retell::report::parse as retell;
    pub use crate::platforms::retell::{sign_retell, verify_retell};
    pub use crate::platforms::vapi::report::parse as vapi;
    pub use crate::platforms::vapi::{VapiAuth, sign_vapi, verify_vapi};
}

const TREE: &str = "9f1c9f1c9f1c9f1c9f1c9f1c9f1c9f1c9f1c9f1c";

fn privacy() -> Privacy {
    Privacy { callers: Callers::Hash([7; 32]), keep_transcripts: false }
}

fn event(parsed: Parsed) -> Event {
    match parsed {
        Parsed::Event(e) => *e,
        Parsed::Ignored(why) => panic!("ignored: {why}"),
    }
}

/// Events as the store would hold them: arriving in the given order, a second apart.
fn arrived(events: &[Event]) -> Vec<Stored> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| Stored {
            event: e.clone(),
            received_at: format!("2026-11-30T10:00:{:02}.000Z", i),
            seq: i as i64,
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

fn decision() -> Event {
    Event {
        source: Source::Agentver,
        at: Some("2026-11-30T10:00:00.000Z".into()),
        record: Record {
            call_id: "c1".into(),
            channel: Some("+14155550199".into()),
            caller: Some(privacy().caller("+16505550123")),
            agent: Some("sales".into()),
            version: Some(3),
            tree: Some(TREE.into()),
            variant: Some("test".into()),
            bucket: Some(42),
            revision: Some("abc".into()),
            attribution: Some(Attribution::Decided),
            resolved_at: Some("2026-11-30T10:00:00.000Z".into()),
            ..Record::default()
        },
    }
}

fn retell_ended() -> Value {
    json!({"event": "call_ended", "call": {
        "call_id": "c1", "agent_version": 7, "start_timestamp": 1_795_000_000_000i64, "end_timestamp": 1_795_000_095_500i64,
        "duration_ms": 95_500, "disconnection_reason": "user_hangup", "from_number": "+16505550123", "direction": "inbound",
        "call_cost": {"combined_cost": 12.5},
        "metadata": {"agentver_agent": "sales", "agentver_version": "3", "agentver_tree": TREE,
                     "agentver_channel": "+14155550199", "agentver_variant": "test"}}})
}

fn retell_analyzed() -> Value {
    json!({"event": "call_analyzed", "call": {
        "call_id": "c1",
        "call_analysis": {"call_successful": true, "user_sentiment": "Positive", "call_summary": "Booked a demo.",
                          "custom_analysis_data": {"demo_booked": true, "team_size": "small"}}}})
}

#[test]
fn merging_events_in_every_order_gives_the_same_record() {
    let events = vec![
        decision(),
        event(platforms::retell(&retell_ended(), &privacy()).unwrap()),
        event(platforms::retell(&retell_analyzed(), &privacy()).unwrap()),
        // A generic report of the cost, earlier than the platform's: the platform's wins.
        Event {
            at: Some("2026-11-30T09:00:00.000Z".into()),
            ..Event::new(Source::Generic, Record { call_id: "c1".into(), cost: Some(9.0), ..Record::default() })
        },
    ];
    let stored = arrived(&events);
    let want = merge("c1", &stored);
    assert_eq!(want.agent.as_deref(), Some("sales"));
    assert_eq!((want.version, want.variant.as_deref(), want.bucket), (Some(3), Some("test"), Some(42)));
    assert_eq!((want.success, want.sentiment, want.cost), (Some(true), Some(Sentiment::Positive), Some(0.125)));
    assert_eq!((want.duration_ms, want.ended_reason.as_deref()), (Some(95_500), Some("user_hangup")));
    assert_eq!(want.analysis.as_ref().unwrap()["team_size"], json!("small"));
    assert_eq!((want.source, want.attribution), (Some(Source::Retell), Some(Attribution::Decided)));
    assert_eq!(want.started_at.as_deref(), Some("2026-11-18T11:06:40.000Z"));
    // Every order of the same stored events.
    let mut order: Vec<usize> = (0..stored.len()).collect();
    let mut count = 0;
    permute(&mut order, 0, &mut |o| {
        let shuffled: Vec<Stored> = o.iter().map(|&i| stored[i].clone()).collect();
        assert_eq!(merge("c1", &shuffled), want, "order {o:?}");
        count += 1;
    });
    assert_eq!(count, 24);
}

fn permute(items: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
    if k == items.len() {
        return f(items);
    }
    for i in k..items.len() {
        items.swap(k, i);
        permute(items, k + 1, f);
        items.swap(k, i);
    }
}

#[test]
fn a_call_resolved_twice_keeps_the_first_decision_whatever_the_order() {
    for v in 4..24 {
        let first = decision();
        let mut second = decision();
        second.record.version = Some(v);
        second.record.tree = Some(format!("{v:040}"));
        second.record.resolved_at = Some("2026-11-30T10:00:05.000Z".into());
        for events in [vec![first.clone(), second.clone()], vec![second, first]] {
            let r = merge("c1", &arrived(&events));
            assert_eq!((r.version, r.tree.as_deref()), (Some(3), Some(TREE)), "v{v}");
        }
    }
}

#[test]
fn item_18_a_later_report_corrects_an_earlier_one() {
    let report = |success: bool, at: &str| Event {
        at: Some(at.into()),
        ..Event::new(Source::Generic, Record { call_id: "c1".into(), success: Some(success), ..Record::default() })
    };
    // By the platform's time first, whatever the arrival order...
    let early = report(false, "2026-11-30T10:00:00.000Z");
    let late = report(true, "2026-11-30T10:05:00.000Z");
    assert_eq!(merge("c1", &arrived(&[late.clone(), early.clone()])).success, Some(true));
    assert_eq!(merge("c1", &arrived(&[early, late])).success, Some(true));
    // ...then by arrival: the same report sent twice with another verdict, later wins.
    let (a, b) =
        (Event::new(Source::Retell, report(false, "x").record), Event::new(Source::Retell, report(true, "x").record));
    assert_eq!(merge("c1", &arrived(&[a.clone(), b.clone()])).success, Some(true));
    assert_eq!(merge("c1", &arrived(&[b, a])).success, Some(false));
}

#[test]
fn a_later_platform_echo_never_erases_a_known_field() {
    let partial =
        Event::new(Source::Vapi, Record { call_id: "c1".into(), summary: Some("ok".into()), ..Record::default() });
    let merged = merge("c1", &arrived(&[decision(), partial]));
    assert_eq!((merged.agent.as_deref(), merged.tree.as_deref()), (Some("sales"), Some(TREE)));
    assert_eq!(merged.summary.as_deref(), Some("ok"));
}

#[test]
fn item_12_a_report_cannot_change_what_the_decision_recorded() {
    let body = json!({"call_id": "c1", "agent": "support", "version": 1, "variant": "control", "channel": "+1999",
                      "success": true});
    let report = event(platforms::generic(&body, &privacy()).unwrap());
    let merged = merge("c1", &arrived(&[decision(), report]));
    assert_eq!(
        (merged.agent.as_deref(), merged.variant.as_deref(), merged.channel.as_deref()),
        (Some("sales"), Some("test"), Some("+14155550199"))
    );
    assert_eq!(merged.success, Some(true));
    // The source is the route's: a generic report naming another source is refused.
    let forged = json!({"call_id": "c1", "source": "elevenlabs", "success": false});
    assert!(platforms::generic(&forged, &privacy()).unwrap_err().0.contains("decided by where a report arrives"));
    for field in ["bucket", "resolved_at", "override"] {
        let body = json!({"call_id": "c1", field: 1});
        assert!(platforms::generic(&body, &privacy()).unwrap_err().0.starts_with(field), "{field}");
    }
}

#[test]
fn item_13_an_override_has_no_variant() {
    let mut d = decision();
    d.record.variant = None;
    d.record.bucket = None;
    d.record.overridden = true;
    let r = merge("c1", &arrived(&[d]));
    assert!(r.overridden && r.variant.is_none());
}

#[test]
fn vapi_end_of_call_report_normalises() {
    let body = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "startedAt": "2026-11-30T10:00:00.000+01:00", "endedAt": "2026-11-30T10:02:30.250+01:00", "cost": 0.42,
        "timestamp": 1_795_000_200_000i64,
        "analysis": {"summary": "Asked about pricing.", "successEvaluation": "true",
                     "structuredData": {"demo_booked": false, "budget": 1200}},
        "call": {"id": "v-1", "customer": {"number": "+16505550123"},
                 "assistantOverrides": {"metadata": {"agentver_agent": "sales", "agentver_version": "draft",
                                                     "agentver_tree": TREE, "agentver_channel": "web"}}},
        "unknownField": {"kept": "in raw"}}});
    let e = event(platforms::vapi(&body, &privacy()).unwrap());
    assert_eq!(e.at.as_deref(), Some("2026-11-18T11:10:00.000Z"), "the message's timestamp is the event's time");
    let r = merge("v-1", &arrived(&[e]));
    assert_eq!(r.started_at.as_deref(), Some("2026-11-30T09:00:00.000Z"));
    assert_eq!(r.duration_ms, Some(150_250));
    assert_eq!((r.success, r.cost, r.cost_unit), (Some(true), Some(0.42), Some(CostUnit::Usd)));
    assert_eq!((r.agent.as_deref(), r.version, r.tree.as_deref()), (Some("sales"), None, Some(TREE)));
    assert_eq!(r.analysis.unwrap()["budget"], json!(1200));
    assert_eq!(r.caller, Some(privacy().caller("+16505550123")));
    // A rubric that is not pass/fail stays in the analysis.
    let scored = json!({"message": {"type": "end-of-call-report", "call": {"id": "v-2"},
        "analysis": {"successEvaluation": "8"}}});
    let r = event(platforms::vapi(&scored, &privacy()).unwrap()).record;
    assert_eq!((r.success, r.analysis.unwrap()["success_evaluation"].clone()), (None, json!("8")));
    // Other message types are acknowledged, not stored.
    let status = json!({"message": {"type": "status-update", "call": {"id": "v-1"}}});
    assert!(matches!(platforms::vapi(&status, &privacy()).unwrap(), Parsed::Ignored(_)));
}

#[test]
fn item_22_vapi_caller_structured_outputs_summary_and_hmac() {
    let body = json!({"message": {"type": "end-of-call-report", "summary": "Top-level summary.",
        "customer": {"number": "+16505550123"},
        "artifact": {"structuredOutputs": {"so_1": {"name": "demo_booked", "result": true}, "so_2": {"name": "score", "result": 4}}},
        "call": {"id": "v-3"}}});
    let r = event(platforms::vapi(&body, &privacy()).unwrap()).record;
    assert_eq!(r.caller, Some(privacy().caller("+16505550123")));
    assert_eq!(r.summary.as_deref(), Some("Top-level summary."));
    let analysis = r.analysis.unwrap();
    assert_eq!((&analysis["demo_booked"], &analysis["score"]), (&json!(true), &json!(4)));
    let auth = platforms::VapiAuth { hmac: Some("hk".into()), ..Default::default() };
    let now = 1_795_000_000_000i64;
    let sig = platforms::sign_vapi("hk", b"{}", now);
    let headers = |sig: String, ts: i64| {
        move |name: &str| match name {
            "x-signature" => Some(sig.clone()),
            "x-timestamp" => Some(ts.to_string()),
            _ => None,
        }
    };
    assert!(platforms::verify_vapi(&auth, &headers(sig.clone(), now), b"{}", now).is_ok());
    assert!(platforms::verify_vapi(&auth, &headers(sig.clone(), now), b"{ }", now).is_err(), "altered body");
    assert!(platforms::verify_vapi(&auth, &headers(sig, now), b"{}", now + 10 * 60 * 1000).is_err(), "stale");
    // A bearer credential in a header of its own choosing, the scheme in any case.
    let auth = platforms::VapiAuth { secret: Some("s3cret".into()), header: Some("x-my-auth".into()), hmac: None };
    let custom = |name: &str| (name == "x-my-auth").then(|| "bearer s3cret".to_owned());
    assert!(platforms::verify_vapi(&auth, &custom, b"", now).is_ok());
    let lower = |name: &str| (name == "authorization").then(|| "bearer s3cret".to_owned());
    assert!(platforms::verify_vapi(&auth, &lower, b"", now).is_ok());
    assert!(platforms::verify_vapi(&auth, &|_: &str| None, b"", now).is_err());
}

#[test]
fn item_16_attribution_comes_from_one_bag() {
    let body = json!({"message": {"type": "end-of-call-report", "call": {"id": "v-4",
        "assistantOverrides": {"metadata": {"agentver_agent": "sales", "agentver_version": "2", "agentver_variant": "test"}},
        "metadata": {"agentver_agent": "sales", "agentver_version": "1", "agentver_variant": "control", "agentver_channel": "+1"}}}});
    let r = event(platforms::vapi(&body, &privacy()).unwrap()).record;
    assert_eq!((r.version, r.variant.as_deref(), r.channel.as_deref()), (Some(2), Some("test"), None));
}

#[test]
fn item_17_a_retell_outbound_call_records_the_person_called() {
    let mut body = retell_ended();
    body["call"]["direction"] = json!("outbound");
    body["call"]["from_number"] = json!("+14155550100");
    body["call"]["to_number"] = json!("+16505550123");
    let r = event(platforms::retell(&body, &privacy()).unwrap()).record;
    assert_eq!(r.caller, Some(privacy().caller("+16505550123")));
}

#[test]
fn item_15_a_numeric_version_in_dynamic_variables_is_that_version() {
    let body = json!({"type": "post_call_transcription", "data": {"conversation_id": "el-9",
        "conversation_initiation_client_data": {"dynamic_variables": {"agentver_agent": "support", "agentver_version": 2}}}});
    let r = event(platforms::elevenlabs(&body, &privacy()).unwrap()).record;
    assert_eq!((r.version, r.attribution), (Some(2), Some(Attribution::Echoed)));
    let body = json!({"type": "post_call_transcription", "data": {"conversation_id": "el-9",
        "conversation_initiation_client_data": {"dynamic_variables": {"agentver_agent": "support", "agentver_version": true}}}});
    let r = event(platforms::elevenlabs(&body, &privacy()).unwrap()).record;
    assert_eq!(r.attribution, Some(Attribution::Invalid));
}

#[test]
fn elevenlabs_post_call_transcription_normalises() {
    let body = json!({"type": "post_call_transcription", "event_timestamp": 1_795_000_200, "data": {
        "conversation_id": "el-1", "agent_id": "agent_x",
        "metadata": {"start_time_unix_secs": 1_795_000_000, "call_duration_secs": 61, "cost": 310,
                     "termination_reason": "end_call tool"},
        "analysis": {"call_successful": "failure", "transcript_summary": "Wrong number.",
                     "data_collection_results": {"team_size": {"data_collection_id": "team_size", "value": "solo", "rationale": "…"}}},
        "conversation_initiation_client_data": {"dynamic_variables": {"agentver_agent": "support", "agentver_version": "2",
                                                                      "agentver_tree": TREE}}}});
    let e = event(platforms::elevenlabs(&body, &privacy()).unwrap());
    assert_eq!(e.at.as_deref(), Some("2026-11-18T11:10:00.000Z"));
    let r = merge("el-1", &arrived(&[e]));
    assert_eq!((r.success, r.duration_ms), (Some(false), Some(61_000)));
    assert_eq!((r.agent.as_deref(), r.version), (Some("support"), Some(2)));
    assert_eq!(r.analysis.unwrap()["team_size"], json!("solo"));
    assert_eq!(r.ended_at.as_deref(), Some("2026-11-18T11:07:41.000Z"));
}

#[test]
fn item_20_costs_keep_their_unit() {
    let credits =
        json!({"type": "post_call_transcription", "data": {"conversation_id": "el-1", "metadata": {"cost": 310}}});
    let r = event(platforms::elevenlabs(&credits, &privacy()).unwrap()).record;
    assert_eq!((r.cost, r.cost_unit), (Some(310.0), Some(CostUnit::Credits)));
    let fiat = json!({"type": "post_call_transcription", "data": {"conversation_id": "el-1", "metadata": {"cost": 310, "cost_fiat": 0.19}}});
    let r = event(platforms::elevenlabs(&fiat, &privacy()).unwrap()).record;
    assert_eq!((r.cost, r.cost_unit), (Some(0.19), Some(CostUnit::Usd)));
    // Statistics keep each unit apart.
    let mut arm = stats::ArmBuilder::default();
    arm.add(&stats::Row { cost: Some(310.0), cost_unit: Some(CostUnit::Credits), ..stats::Row::default() });
    arm.add(&stats::Row { cost: Some(0.2), cost_unit: Some(CostUnit::Usd), ..stats::Row::default() });
    let arm = arm.finish("v1".into());
    assert_eq!((arm.cost[&CostUnit::Usd].mean, arm.cost[&CostUnit::Credits].mean), (0.2, 310.0));
}

#[test]
fn item_21_an_odd_optional_field_is_left_out_with_a_warning() {
    let body = json!({"event": "call_analyzed", "call": {"call_id": "c7", "duration_ms": "long",
        "call_analysis": {"call_successful": "yes", "user_sentiment": "Ecstatic", "custom_analysis_data": "n/a"}}});
    let r = event(platforms::retell(&body, &privacy()).unwrap()).record;
    assert_eq!((r.success, r.sentiment, &r.analysis, r.duration_ms), (None, None, &None, None));
    assert_eq!(r.warnings.len(), 4, "{:?}", r.warnings);
    let mixed =
        json!({"event": "call_analyzed", "call": {"call_id": "c7", "call_analysis": {"user_sentiment": "Mixed"}}});
    assert_eq!(event(platforms::retell(&mixed, &privacy()).unwrap()).record.sentiment, Some(Sentiment::Mixed));
    let array =
        json!({"message": {"type": "end-of-call-report", "call": {"id": "v"}, "analysis": {"structuredData": [1, 2]}}});
    let r = event(platforms::vapi(&array, &privacy()).unwrap()).record;
    assert!(r.warnings[0].contains("structuredData is not an object"), "{:?}", r.warnings);
}

#[test]
fn item_23_platform_call_objects_are_calls() {
    let vapi = json!({"id": "vc-1", "orgId": "org", "type": "inboundPhoneCall", "status": "ended", "cost": 0.3,
                      "startedAt": "2026-11-30T10:00:00Z", "endedAt": "2026-11-30T10:01:00Z"});
    let r = event(platforms::vapi(&vapi, &privacy()).unwrap()).record;
    assert_eq!((r.call_id.as_str(), r.cost, r.started_at.is_some()), ("vc-1", Some(0.3), true));
    let retell = json!({"call_id": "rc-1", "call_type": "phone_call", "direction": "inbound", "from_number": "+16505550123",
                        "to_number": "+14155550100", "duration_ms": 1000});
    assert_eq!(event(platforms::retell(&retell, &privacy()).unwrap()).record.duration_ms, Some(1000));
    let el =
        json!({"conversation_id": "ec-1", "agent_id": "a", "status": "done", "metadata": {"call_duration_secs": 3}});
    assert_eq!(event(platforms::elevenlabs(&el, &privacy()).unwrap()).record.duration_ms, Some(3000));
    // A generic record read as a platform's is not silently a call.
    let generic = json!({"call_id": "g-1", "success": true});
    assert!(matches!(platforms::vapi(&generic, &privacy()).unwrap(), Parsed::Ignored(_)));
}

#[test]
fn item_27_numbers_out_of_range_are_refused() {
    for (body, field) in [
        (json!({"call_id": "x", "duration_ms": u64::MAX}), "duration_ms"),
        (json!({"call_id": "x", "cost": -1e308}), "cost"),
        (serde_json::from_str::<Value>(r#"{"call_id": "x", "cost": 1e400}"#).unwrap(), "cost"),
        (
            serde_json::from_str::<Value>(r#"{"call_id": "x", "analysis": {"score": 1e999999}}"#).unwrap(),
            "analysis.score",
        ),
    ] {
        let e = platforms::generic(&body, &privacy()).unwrap_err();
        assert!(e.0.contains(field), "{body}: {e}");
    }
    // From a platform: the call is kept without the field.
    let body: Value =
        serde_json::from_str(r#"{"event": "call_ended", "call": {"call_id": "x", "duration_ms": 1e30}}"#).unwrap();
    let r = event(platforms::retell(&body, &privacy()).unwrap()).record;
    assert_eq!((r.duration_ms, r.warnings.len()), (None, 1));
}

#[test]
fn item_6_every_caller_value_from_outside_is_hashed() {
    let body = json!({"call_id": "x", "caller": "h:+14155550123 raw"});
    let r = event(platforms::generic(&body, &privacy()).unwrap()).record;
    assert_eq!(r.caller, Some(privacy().caller("h:+14155550123 raw")));
    assert!(!r.caller.unwrap().contains("4155550123"));
}

#[test]
fn bad_payloads_are_refused_with_the_reason() {
    let cases = [
        (Source::Retell, json!({"event": "call_ended", "call": {"duration_ms": 5}}), "call.call_id is missing"),
        (Source::Retell, json!({"event": "call_ended", "call": {"call_id": "x".repeat(257)}}), "1 to 256 bytes"),
        (Source::Generic, json!({"call_id": "x", "agent": "sales", "version": "three"}), "version must be"),
        (Source::Generic, json!({"call_id": "x", "duration_ms": "long"}), "not a call record"),
        (Source::Generic, json!({"call_id": "x", "started_at": "yesterday"}), "not an RFC 3339 time"),
        (Source::Generic, json!([1, 2]), "not a JSON object"),
    ];
    for (source, body, want) in cases {
        let e = platforms::parse(source, &body, &privacy()).unwrap_err();
        assert!(e.0.contains(want), "{source:?} {body}: {e}");
    }
}

#[test]
fn signatures_are_accepted_and_refused() {
    let body = br#"{"event":"call_ended"}"#;
    let now = 1_795_000_000_000i64;
    let good = platforms::sign_retell("key_abc", body, now - 1000);
    assert_eq!(platforms::verify_retell("key_abc", Some(&good), body, now), Ok(now - 1000));
    assert!(platforms::verify_retell("key_other", Some(&good), body, now).is_err(), "wrong key");
    assert!(
        platforms::verify_retell("key_abc", Some(&good), b"{\"event\":\"call_endeD\"}", now).is_err(),
        "altered body"
    );
    let old = platforms::sign_retell("key_abc", body, now - 6 * 60 * 1000);
    assert!(platforms::verify_retell("key_abc", Some(&old), body, now).unwrap_err().0.contains("older than 5 minutes"));
    assert!(platforms::verify_retell("key_abc", None, body, now).is_err());

    let secs = now / 1000;
    let good = platforms::sign_elevenlabs("wsec_1", body, secs - 60);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&good), body, now).is_ok());
    assert!(platforms::verify_elevenlabs("wsec_2", Some(&good), body, now).is_err(), "wrong secret");
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&good), b"{}", now).is_err(), "altered body");
    let old = platforms::sign_elevenlabs("wsec_1", body, secs - 31 * 60);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&old), body, now).unwrap_err().0.contains("30 minutes"));
}

#[test]
fn item_28_signature_times_cannot_wrap_or_come_from_the_future() {
    let body = b"{}";
    let now = 1_795_000_000_000i64;
    let wrapped = now / 1000 + i64::MIN / 1000;
    let forged = platforms::sign_elevenlabs("wsec_1", body, wrapped);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&forged), body, now).is_err());
    let min = platforms::sign_elevenlabs("wsec_1", body, i64::MIN);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&min), body, now).is_err());
    let ahead = platforms::sign_elevenlabs("wsec_1", body, now / 1000 + 5 * 60);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&ahead), body, now).unwrap_err().0.contains("future"));
    let ahead = platforms::sign_retell("k", body, now + 2 * 60 * 1000);
    assert!(platforms::verify_retell("k", Some(&ahead), body, now).unwrap_err().0.contains("future"));
    let slightly = platforms::sign_retell("k", body, now + 30 * 1000);
    assert!(platforms::verify_retell("k", Some(&slightly), body, now).is_ok(), "30 s of clock skew is fine");
}

#[test]
fn statistics_match_scipy() {
    // wilson(45, 60) = 0.6276792992295218 0.8422347746994333
    let [lo, hi] = stats::wilson(45, 60);
    assert!(close(lo, 0.6276792992295218) && close(hi, 0.8422347746994333), "{lo} {hi}");
    // two_proportions p = 0.03367206885634577; ci = 0.013152962213704239 0.2868470377862957
    let (d, ci, p) = stats::two_proportions(40, 100, 55, 100);
    assert!(close(d, 0.15) && close(p, 0.03367206885634577), "{d} {p}");
    assert!(close(ci[0], 0.013152962213704239) && close(ci[1], 0.2868470377862957), "{ci:?}");
    // welch t, p = 4.095492549176512 0.0013241648085915677; ci = 8.618928751056236 27.961626804499282
    let a = [120.0, 135.5, 128.0, 141.2, 119.9, 150.3, 133.3, 127.7];
    let b = [140.1, 155.0, 149.9, 161.4, 138.8, 158.2, 147.0, 152.6, 149.5];
    let (_, ci, p) = stats::welch(&a, &b).unwrap();
    assert!((p - 0.0013241648085915677).abs() < 1e-7, "{p}");
    assert!((ci[0] - 8.618928751056236).abs() < 1e-6 && (ci[1] - 27.961626804499282).abs() < 1e-6, "{ci:?}");
    // chi2 a = 3.6, p 0.05777957112359715; chi2 b = 3.1666666666666665, p 0.20528965757990925
    let (x, p) = stats::chi_square(&[530, 470], &[50.0, 50.0]).unwrap();
    assert!(close(x, 3.6) && (p - 0.05777957112359715).abs() < 1e-9, "{x} {p}");
    let (x, p) = stats::chi_square(&[820, 130, 50], &[80.0, 15.0, 5.0]).unwrap();
    assert!(close(x, 3.1666666666666665) && (p - 0.20528965757990925).abs() < 1e-9, "{x} {p}");
    // median, p90 = 3.5 6.9
    let mut xs = vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
    xs.sort_by(f64::total_cmp);
    assert!(close(stats::percentile(&xs, 0.5), 3.5) && close(stats::percentile(&xs, 0.9), 6.9));
    assert_eq!((stats::p_text(0.0002), stats::p_text(0.0421)), ("p < 0.001".to_owned(), "p = 0.042".to_owned()));
}

#[test]
fn small_arms_get_no_verdict_and_fields_are_summarised_by_type() {
    let analyses: Vec<String> = (0..10)
        .map(|i| {
            json!({"demo_booked": i % 2 == 0, "budget": 100, "team_size": if i < 3 { "solo" } else { "small" }})
                .to_string()
        })
        .collect();
    let arm = |name: &str| {
        let mut builder = stats::ArmBuilder::default();
        for (i, analysis) in analyses.iter().enumerate() {
            builder.add(&stats::Row {
                success: Some(i % 2 == 0),
                duration_ms: Some(1000.0),
                analysis: Some(analysis),
                ..stats::Row::default()
            });
        }
        builder.finish(name.into())
    };
    let (a, b) = (arm("v1"), arm("v2"));
    let c = stats::compare(&a, &b);
    assert!(c.success_rate.verdict.starts_with("not enough calls") && c.success_rate.p_value.is_none());
    assert_eq!(a.fields["demo_booked"], stats::Field::Rate { n: 10, rate: 0.5 });
    assert_eq!(a.fields["budget"], stats::Field::Mean { n: 10, mean: 100.0 });
    let stats::Field::Shares { shares, .. } = &a.fields["team_size"] else { panic!() };
    assert!(close(shares["solo"], 0.3) && close(shares["small"], 0.7));
    // A clear mismatch is flagged.
    let srm = stats::srm(&[("a".into(), 700, 50), ("b".into(), 300, 50)]).unwrap();
    assert!(srm.mismatch && srm.p_value < 1e-10);
}

fn sqlite_store(dir: &std::path::Path) -> (Location, Store) {
    let location = Location::parse("sqlite:calls.sqlite", dir).unwrap();
    let store = Store::open(&location, &privacy()).unwrap();
    (location, store)
}

#[test]
fn the_sqlite_store_merges_idempotently_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let (location, mut store) = sqlite_store(dir.path());
    let ended = event(platforms::retell(&retell_ended(), &privacy()).unwrap());
    let analyzed = event(platforms::retell(&retell_analyzed(), &privacy()).unwrap());
    let first = store.merge(&[(analyzed.clone(), None)], "2026-11-30T10:00:01.000Z", true).unwrap();
    assert_eq!((first.new, first.unchanged), (1, 0));
    let again = store
        .merge(&[(ended.clone(), None), (decision(), None), (analyzed.clone(), None)], "2026-11-30T10:00:02.000Z", true)
        .unwrap();
    assert_eq!((again.new, again.unchanged, again.records.len()), (2, 1, 1));
    let record = store.get("c1").unwrap().unwrap();
    assert_eq!(record, merge("c1", &store.events("c1").unwrap()));
    assert_eq!((record.attribution, record.success), (Some(Attribution::Decided), Some(true)));
    // Reopening migrates nothing and keeps everything.
    drop(store);
    let mut store = Store::open(&location, &privacy()).unwrap();
    let by_version =
        store.list(&Filter { agent: Some("sales".into()), version: Some(Some(3)), ..Filter::default() }).unwrap();
    assert_eq!(by_version.len(), 1);
    assert!(store.list(&Filter { version: Some(Some(2)), ..Filter::default() }).unwrap().is_empty());
    assert_eq!(store.list(&Filter { success: Some(true), ..Filter::default() }).unwrap().len(), 1);
    assert!(
        store.list(&Filter { since: Some("2026-12-01T00:00:00.000Z".into()), ..Filter::default() }).unwrap().is_empty()
    );
    // An absurd page size is capped, not handed to SQL.
    assert_eq!(
        store.list(&Filter { limit: Some(u64::MAX), offset: Some(u64::MAX), ..Filter::default() }).unwrap().len(),
        0
    );
}

#[test]
fn item_5_a_forgotten_call_stays_forgotten_and_prune_keeps_recent_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut store) = sqlite_store(dir.path());
    let ended = event(platforms::retell(&retell_ended(), &privacy()).unwrap());
    store.merge(&[(decision(), None), (ended, None)], "2026-11-30T10:00:00.000Z", false).unwrap();
    assert_eq!(store.forget(&["c1".into(), "nobody".into()], "2026-11-30T11:00:00.000Z").unwrap(), 1);
    assert!(store.get("c1").unwrap().is_none() && store.events("c1").unwrap().is_empty());
    // A late webhook for it is not stored.
    let late = event(platforms::retell(&retell_analyzed(), &privacy()).unwrap());
    let merged = store.merge(&[(late, None)], "2026-11-30T12:00:00.000Z", true).unwrap();
    assert!(merged.records.is_empty() && store.get("c1").unwrap().is_none());
    // In a batch beside another call's event, only the forgotten call's is left out.
    let other = Event::new(Source::Generic, Record { call_id: "c2".into(), success: Some(true), ..Record::default() });
    let late = event(platforms::retell(&retell_ended(), &privacy()).unwrap());
    let merged = store.merge(&[(late, None), (other, None)], "2026-11-30T12:00:00.000Z", true).unwrap();
    assert_eq!((merged.new, merged.unchanged), (1, 1));
    assert!(store.get("c1").unwrap().is_none() && store.get("c2").unwrap().unwrap().success == Some(true));
    let old = Event::new(
        Source::Generic,
        Record { call_id: "old".into(), started_at: Some("2026-01-01T00:00:00.000Z".into()), ..Record::default() },
    );
    let new = Event::new(
        Source::Generic,
        Record { call_id: "new".into(), started_at: Some("2026-11-01T00:00:00.000Z".into()), ..Record::default() },
    );
    store.merge(&[(old, None), (new, None)], "2026-11-30T12:00:00.000Z", false).unwrap();
    assert_eq!(store.prune("2026-06-01T00:00:00.000Z").unwrap(), 1);
    assert!(store.get("old").unwrap().is_none() && store.get("new").unwrap().is_some());
}

#[test]
fn a_decision_merged_from_its_spooled_json_is_the_same_event() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut store) = sqlite_store(dir.path());
    let body = serde_json::to_string(&decision().record).unwrap();
    let first = store.merge_serialised(&[(decision(), None)], &[body], "2026-11-30T10:00:00.000Z").unwrap();
    assert_eq!((first.new, first.unchanged), (1, 0));
    // Serialised by the store itself, it has the same digest: sent twice, it is one event.
    let again = store.merge(&[(decision(), None)], "2026-11-30T10:00:01.000Z", true).unwrap();
    assert_eq!((again.new, again.unchanged), (0, 1));
    assert_eq!(again.records[0].version, decision().record.version);
    assert_eq!(store.events("c1").unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn item_7_the_store_and_its_wal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (location, mut store) = sqlite_store(dir.path());
    store.merge(&[(decision(), None)], "2026-11-30T10:00:00.000Z", false).unwrap();
    let Location::Sqlite(path) = location else { unreachable!() };
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
}

#[test]
fn a_store_failure_keeps_the_drivers_error_as_its_source() {
    let dir = tempfile::tempdir().unwrap();
    // A folder is not a database file.
    let e = match Store::open(&Location::Sqlite(dir.path().to_owned()), &privacy()) {
        Err(e) => e,
        Ok(_) => panic!("a folder opened as a store"),
    };
    assert!(e.to_string().contains(dir.path().to_str().unwrap()), "{e}");
}
