//! Merging, platform payloads, signatures and statistics. Expected statistics were computed
//! independently with scipy by `scripts/stats_reference.py` (its output is quoted beside each).

use serde_json::{Value, json};

use super::platforms::{self, Parsed};
use super::stats;
use super::store::{Filter, Location, Store};
use super::*;

fn event(parsed: Parsed) -> Event {
    match parsed {
        Parsed::Event(e) => *e,
        Parsed::Ignored(why) => panic!("ignored: {why}"),
    }
}

const KEY: Callers = Callers::Hash([7; 32]);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

fn decision() -> Event {
    Event {
        source: Source::Agentver,
        record: Record {
            call_id: "c1".into(),
            channel: Some("+14155550199".into()),
            caller: Some(KEY.apply("+16505550123")),
            agent: Some("sales".into()),
            version: Some(3),
            tree: Some("9f1c".into()),
            variant: Some("test".into()),
            bucket: Some(42),
            revision: Some("abc".into()),
            resolved_at: Some("2026-11-30T10:00:00.000Z".into()),
            ..Record::default()
        },
    }
}

fn retell_ended() -> Value {
    json!({"event": "call_ended", "call": {
        "call_id": "c1", "agent_version": 7, "start_timestamp": 1_795_000_000_000i64, "end_timestamp": 1_795_000_095_500i64,
        "duration_ms": 95_500, "disconnection_reason": "user_hangup", "from_number": "+16505550123",
        "call_cost": {"combined_cost": 12.5},
        "metadata": {"agentver_agent": "sales", "agentver_version": "3", "agentver_tree": "9f1c",
                     "agentver_channel": "+14155550199", "agentver_variant": "test", "agentver_revision": "abc"}}})
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
        event(platforms::retell(&retell_ended(), &KEY).unwrap()),
        event(platforms::retell(&retell_analyzed(), &KEY).unwrap()),
        // A generic report that knows the outcome a different way: the platform's wins.
        Event {
            source: Source::Generic,
            record: Record { call_id: "c1".into(), success: Some(false), cost: Some(9.0), ..Record::default() },
        },
    ];
    let want = merge("c1", &events);
    assert_eq!(want.agent.as_deref(), Some("sales"));
    assert_eq!((want.version, want.variant.as_deref(), want.bucket), (Some(3), Some("test"), Some(42)));
    assert_eq!((want.success, want.sentiment, want.cost), (Some(true), Some(Sentiment::Positive), Some(0.125)));
    assert_eq!((want.duration_ms, want.ended_reason.as_deref()), (Some(95_500), Some("user_hangup")));
    assert_eq!(want.analysis.as_ref().unwrap()["team_size"], json!("small"));
    assert_eq!(want.source, Some(Source::Retell));
    assert_eq!(want.started_at.as_deref(), Some("2026-11-18T11:06:40.000Z"));
    // Every permutation, and every event twice.
    let mut order: Vec<usize> = (0..events.len()).collect();
    let mut count = 0;
    permute(&mut order, 0, &mut |o| {
        let shuffled: Vec<Event> = o.iter().chain(o.iter().rev()).map(|&i| events[i].clone()).collect();
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
    // Many later decisions, so content order alone would pick a later one for some of them.
    for v in 4..24 {
        let first = decision();
        let mut second = decision();
        second.record.version = Some(v);
        second.record.tree = Some(format!("tree{v}"));
        second.record.resolved_at = Some("2026-11-30T10:00:05.000Z".into());
        for events in [vec![first.clone(), second.clone()], vec![second, first]] {
            let r = merge("c1", &events);
            assert_eq!((r.version, r.tree.as_deref()), (Some(3), Some("9f1c")), "v{v}");
        }
    }
}

#[test]
fn a_later_platform_echo_never_erases_a_known_field() {
    let partial = Event {
        source: Source::Vapi,
        record: Record { call_id: "c1".into(), summary: Some("ok".into()), ..Record::default() },
    };
    let merged = merge("c1", &[decision(), partial]);
    assert_eq!((merged.agent.as_deref(), merged.tree.as_deref()), (Some("sales"), Some("9f1c")));
    assert_eq!(merged.summary.as_deref(), Some("ok"));
}

#[test]
fn vapi_end_of_call_report_normalises() {
    let body = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "startedAt": "2026-11-30T10:00:00.000+01:00", "endedAt": "2026-11-30T10:02:30.250+01:00", "cost": 0.42,
        "analysis": {"summary": "Asked about pricing.", "successEvaluation": "true",
                     "structuredData": {"demo_booked": false, "budget": 1200}},
        "call": {"id": "v-1", "customer": {"number": "+16505550123"},
                 "assistantOverrides": {"metadata": {"agentver_agent": "sales", "agentver_version": "draft",
                                                     "agentver_tree": "abcd", "agentver_channel": "web"}}},
        "unknownField": {"kept": "in raw"}}});
    let e = event(platforms::vapi(&body, &KEY).unwrap());
    let r = merge("v-1", &[e]);
    assert_eq!(r.started_at.as_deref(), Some("2026-11-30T09:00:00.000Z"));
    assert_eq!(r.duration_ms, Some(150_250));
    assert_eq!((r.success, r.cost, r.ended_reason.as_deref()), (Some(true), Some(0.42), Some("customer-ended-call")));
    assert_eq!((r.agent.as_deref(), r.version, r.tree.as_deref()), (Some("sales"), None, Some("abcd")));
    assert_eq!(r.analysis.unwrap()["budget"], json!(1200));
    assert_eq!(r.caller, Some(KEY.apply("+16505550123")));
    assert!(r.caller.unwrap().starts_with("h:"));
    // A rubric that is not pass/fail stays in the analysis.
    let scored = json!({"message": {"type": "end-of-call-report", "call": {"id": "v-2"},
        "analysis": {"successEvaluation": "8"}}});
    let r = event(platforms::vapi(&scored, &KEY).unwrap()).record;
    assert_eq!((r.success, r.analysis.unwrap()["success_evaluation"].clone()), (None, json!("8")));
    // Other message types are acknowledged, not stored.
    let status = json!({"message": {"type": "status-update", "call": {"id": "v-1"}}});
    assert!(matches!(platforms::vapi(&status, &KEY).unwrap(), Parsed::Ignored(_)));
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
                                                                      "agentver_tree": "feed"}}}});
    let r = merge("el-1", &[event(platforms::elevenlabs(&body, &KEY).unwrap())]);
    assert_eq!((r.success, r.duration_ms, r.cost), (Some(false), Some(61_000), Some(310.0)));
    assert_eq!((r.agent.as_deref(), r.version), (Some("support"), Some(2)));
    assert_eq!(r.analysis.unwrap()["team_size"], json!("solo"));
    assert_eq!(r.ended_at.as_deref(), Some("2026-11-18T11:07:41.000Z"));
}

#[test]
fn bad_payloads_are_refused_with_the_reason() {
    let cases = [
        (Source::Retell, json!({"event": "call_ended", "call": {"duration_ms": 5}}), "call.call_id is missing"),
        (
            Source::Retell,
            json!({"event": "call_ended", "call": {"call_id": "x", "duration_ms": "long"}}),
            "duration_ms must be a number",
        ),
        (
            Source::Retell,
            json!({"event": "call_analyzed", "call": {"call_id": "x", "call_analysis": {"call_successful": "yes"}}}),
            "true or false",
        ),
        (
            Source::Vapi,
            json!({"message": {"type": "end-of-call-report", "call": {"id": "x"}, "startedAt": "yesterday"}}),
            "not an RFC 3339 time",
        ),
        (
            Source::Elevenlabs,
            json!({"type": "post_call_transcription", "data": {"conversation_id": "x",
            "conversation_initiation_client_data": {"dynamic_variables": {"agentver_agent": "a", "agentver_version": "three"}}}}),
            "agentver_version",
        ),
        (Source::Generic, json!({"call_id": "x", "version": "three"}), "not a call record"),
        (Source::Generic, json!([1, 2]), "not a JSON object"),
    ];
    for (source, body, want) in cases {
        let e = platforms::parse(source, &body, &KEY).unwrap_err();
        assert!(e.0.contains(want), "{source:?} {body}: {e}");
    }
}

#[test]
fn signatures_are_accepted_and_refused() {
    let body = br#"{"event":"call_ended"}"#;
    let now = 1_795_000_000_000i64;
    let good = platforms::sign_retell("key_abc", body, now - 1000);
    assert!(platforms::verify_retell("key_abc", Some(&good), body, now).is_ok());
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
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&good), body, secs).is_ok());
    assert!(platforms::verify_elevenlabs("wsec_2", Some(&good), body, secs).is_err(), "wrong secret");
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&good), b"{}", secs).is_err(), "altered body");
    let old = platforms::sign_elevenlabs("wsec_1", body, secs - 31 * 60);
    assert!(platforms::verify_elevenlabs("wsec_1", Some(&old), body, secs).unwrap_err().0.contains("30 minutes"));

    assert!(platforms::verify_vapi("s3cret", Some("s3cret"), None).is_ok());
    assert!(platforms::verify_vapi("s3cret", None, Some("s3cret")).is_ok());
    assert!(platforms::verify_vapi("s3cret", Some("s3cre"), Some("nope")).is_err());
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

#[test]
fn the_sqlite_store_merges_idempotently_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::parse("sqlite:calls.sqlite", dir.path()).unwrap();
    let mut store = Store::open(&location).unwrap();
    let ended = event(platforms::retell(&retell_ended(), &KEY).unwrap());
    let analyzed = event(platforms::retell(&retell_analyzed(), &KEY).unwrap());
    store.merge(&[(analyzed.clone(), None)], "t").unwrap();
    store.merge(&[(ended.clone(), None), (decision(), None), (analyzed.clone(), None)], "t").unwrap();
    let record = store.get("c1").unwrap().unwrap();
    assert_eq!(record, merge("c1", &[decision(), ended, analyzed]));
    assert_eq!(store.events("c1").unwrap().len(), 3);
    // Reopening migrates nothing and keeps everything.
    drop(store);
    let mut store = Store::open(&location).unwrap();
    let by_version =
        store.list(&Filter { agent: Some("sales".into()), version: Some(Some(3)), ..Filter::default() }).unwrap();
    assert_eq!(by_version.len(), 1);
    assert!(store.list(&Filter { version: Some(Some(2)), ..Filter::default() }).unwrap().is_empty());
    assert_eq!(store.list(&Filter { success: Some(true), ..Filter::default() }).unwrap().len(), 1);
    assert!(
        store.list(&Filter { since: Some("2026-12-01T00:00:00.000Z".into()), ..Filter::default() }).unwrap().is_empty()
    );
}

#[test]
fn a_store_failure_keeps_the_drivers_error_as_its_source() {
    let dir = tempfile::tempdir().unwrap();
    // A folder is not a database file.
    let e = match Store::open(&Location::Sqlite(dir.path().to_owned())) {
        Err(e) => e,
        Ok(_) => panic!("a folder opened as a store"),
    };
    assert!(e.to_string().starts_with("call store: opening: "), "{e}");
    let source = std::error::Error::source(&e).expect("the driver's error is kept");
    assert!(source.downcast_ref::<rusqlite::Error>().is_some(), "{source:?}");
}
