//! Property tests: generated and mutated agent YAML and channels.toml never panic, every error
//! names its file, valid documents survive parse → serialize → parse, and bucketing is
//! deterministic. PROPTEST_CASES raises the case count for long runs.

use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

use crate::format::channels;
use crate::format::model::{parse_agent, parse_tool};
use crate::format::yaml;

const SALES: &str = include_str!("../agents.example/agents/sales.yaml");
const CHANNELS: &str = include_str!("../agents.example/channels.toml");

/// Text with the characters that steer YAML and TOML parsers, plus anything printable.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec![
                ":", "-", " ", "  ", "\n", "\t", "[", "]", "{", "}", ",", "'", "\"", "#", "&a", "*a", "!", "|",
                ">", "?", "%", "@", "`", "=", ".", "0", "1.5", "true", "null", "~", "---", "...", "\\", "\u{feff}",
            ])
            .prop_map(str::to_owned),
            1 => "[a-z_]{1,8}",
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

/// A mutation of `base`: characters deleted, inserted or replaced at a few places.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, tricky_text(4)), 1..6).prop_map(move |edits| {
        let mut text = base.to_owned();
        for (at, kind, insert) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match kind {
                0 => text.insert_str(i, &insert),
                1 => {
                    let end = (i + insert.len().max(1)).min(text.len());
                    let mut end = end;
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(i..end, "");
                }
                _ => {
                    let mut end = (i + 1).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(i..end, &insert);
                }
            }
        }
        text
    })
}

fn printable() -> impl Strategy<Value = String> {
    "[^\\p{C}]{0,40}|[^\\p{C}\n]{0,20}\n[^\\p{C}]{0,40}|([^\\p{C}\n]{0,20}\n){1,4}[^\\p{C}\n]{0,20}\n?"
}

fn free_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        (-1e12f64..1e12).prop_map(Json::from),
        printable().prop_map(Json::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(printable(), inner, 0..4).prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid agent as JSON, covering every section of schema v1.
fn agent() -> impl Strategy<Value = Json> {
    let llm = ("[a-z]{2,10}", "[a-z0-9.-]{1,12}", prop::option::of(0.0f64..=2.0), prop::option::of(1i64..=100_000));
    let speech =
        prop::option::of((prop::sample::select(vec!["en-US", "en-GB", "es", "pt-BR"]), "[a-z]{3,8}", 0.25f64..=4.0));
    let kbs = prop::collection::btree_set("kb_[a-z]{1,6}", 0..3);
    let tools = prop::collection::btree_set("[a-z][a-z0-9_]{0,8}", 0..3);
    let fields = prop::collection::btree_set("[a-z]{1,8}", 0..3);
    (printable(), llm, printable(), speech, kbs, tools, fields, prop::option::of(free_value()), 0.0f64..=1.0).prop_map(
        |(name, (provider, model, temperature, max_tokens), system, speech, kbs, tools, fields, options, unit)| {
            let mut a = Map::new();
            a.insert("name".into(), json!(format!("n{name}")));
            let mut l = json!({"provider": provider, "model": model});
            if let Some(t) = temperature {
                l["temperature"] = json!(t);
            }
            if let Some(m) = max_tokens {
                l["max_tokens"] = json!(m);
            }
            a.insert("llm".into(), l);
            a.insert("prompt".into(), json!({"system": system, "welcome_message": "Hi {{first_name}}"}));
            a.insert("variables".into(), json!({"first_name": {"default": "there", "description": "d"}}));
            if let Some((language, voice, speed)) = speech {
                a.insert("speech".into(), json!({"language": language, "tts": {"provider": "p", "voice_id": voice, "speed": speed}}));
            }
            a.insert(
                "turn_taking".into(),
                json!({"vad_threshold": unit, "interruption_sensitivity": unit, "inactivity": {"timeout_ms": 1000, "max_reminders": 1}}),
            );
            a.insert("background_sound".into(), json!({"preset": "office", "volume": unit}));
            a.insert("knowledge_bases".into(), Json::Array(kbs.into_iter().map(|id| json!({"id": id, "top_k": 3, "min_score": unit})).collect()));
            a.insert(
                "tools".into(),
                Json::Array(tools.into_iter().map(|n| json!({"name": n, "type": "function", "parameters": {"type": "object"}})).collect()),
            );
            a.insert(
                "analysis".into(),
                json!({"prompt": "p", "fields": fields.into_iter().map(|f| json!({"name": f, "type": "enum", "values": ["a", "b"]})).collect::<Vec<_>>()}),
            );
            if let Some(o) = options {
                a.insert("provider_options".into(), json!({ "x": o }));
            }
            Json::Object(a)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic_and_errors_name_the_file(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(ds) = parse_agent("agents/x.yaml", &bytes) {
            prop_assert!(!ds.is_empty());
            prop_assert!(ds.iter().all(|d| d.file == "agents/x.yaml"));
        }
        let _ = parse_tool("tools/t.yaml", "t", &bytes);
        if let Err(ds) = channels::parse_bytes(&bytes, "channels.toml") {
            prop_assert!(ds.iter().all(|d| d.file == "channels.toml"));
        }
    }

    #[test]
    fn tricky_text_never_panics(text in tricky_text(64)) {
        if let Err(ds) = parse_agent("agents/x.yaml", text.as_bytes()) {
            prop_assert!(ds.iter().all(|d| d.file == "agents/x.yaml" && !d.message.is_empty()));
        }
        let _ = channels::parse(&text, "channels.toml");
    }

    #[test]
    fn mutated_agents_never_panic(text in mutated(SALES)) {
        match parse_agent("agents/sales.yaml", text.as_bytes()) {
            Ok(doc) => { doc.root.to_json().ok(); }
            Err(ds) => prop_assert!(ds.iter().all(|d| d.file == "agents/sales.yaml" && d.line.is_none_or(|l| l >= 1))),
        }
    }

    #[test]
    fn mutated_channels_never_panic(text in mutated(CHANNELS)) {
        let full = channels::parse(&text, "channels.toml");
        if let Err(ds) = &full {
            prop_assert!(ds.iter().all(|d| d.file == "channels.toml"));
        }
        // Whatever the damage, the one-channel read never accepts what the full parse accepts
        // differently: on a valid file they agree channel for channel.
        if let Ok(all) = &full {
            for channel in &all.channels {
                prop_assert_eq!(channels::parse_one(&text, "channels.toml", &channel.name).unwrap(), Some(channel.clone()));
            }
        }
        for name in ["+14155550100", "web-widget", "+14155550199"] {
            let _ = channels::parse_one(&text, "channels.toml", name);
        }
    }

    #[test]
    fn valid_agents_survive_parse_serialize_parse(value in agent()) {
        let text = yaml::emit(&value);
        let doc = parse_agent("agents/x.yaml", text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{text}\n{e:?}")))?;
        let back = doc.root.to_json().unwrap();
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(yaml::emit(&back), text);
    }

    #[test]
    fn any_json_survives_emit_and_parse(value in free_value()) {
        let text = yaml::emit(&value);
        let back = yaml::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}\n{e:?}")))?.to_json().unwrap();
        prop_assert_eq!(&back, &value, "{}", text);
    }

    #[test]
    fn bucketing_is_deterministic_and_in_range(
        salt in ".{0,20}", key in ".{0,40}", weights in prop::collection::vec(0u64..1000, 2..6)
    ) {
        let total: u64 = weights.iter().sum();
        prop_assume!(total > 0);
        let b = crate::routing::bucket::bucket(&salt, &key, total);
        prop_assert!(b < total);
        prop_assert_eq!(b, crate::routing::bucket::bucket(&salt, &key, total));
        let i = crate::routing::bucket::pick(weights.iter().copied(), b).unwrap();
        prop_assert!(weights[i] > 0, "a paused variant never gets a call");
    }

    #[test]
    fn channel_edits_keep_the_file_valid(
        names in prop::collection::vec("[a-z][a-z0-9-]{0,10}|\\+1[0-9]{10}", 1..6),
        version in 1u64..50
    ) {
        use channels::edit::{NewTarget, NewVariant, pin, split, unpin};
        let mut doc: toml_edit::DocumentMut = CHANNELS.parse().unwrap();
        let target = NewTarget { agent: "sales".into(), pin: channels::Pin::Version(version), tree: None };
        for (i, name) in names.iter().enumerate() {
            if i % 2 == 0 {
                pin(&mut doc, name, &target).unwrap();
            } else {
                let v = |n: &str, w| NewVariant { name: n.into(), target: target.clone(), weight: w };
                split(&mut doc, name, &[v("a", 1), v("b", 2)], None, None).unwrap();
            }
        }
        let text = doc.to_string();
        let parsed = channels::parse(&text, "channels.toml").map_err(|e| TestCaseError::fail(format!("{text}\n{e:?}")))?;
        for name in &names {
            prop_assert!(parsed.get(name).is_some());
        }
        prop_assert!(text.contains("# Which configuration answers each channel"));
        // Reading one channel's section gives exactly what the full parse gives.
        for channel in &parsed.channels {
            prop_assert_eq!(channels::parse_one(&text, "channels.toml", &channel.name).unwrap(), Some(channel.clone()));
        }
        for name in &names {
            let _ = unpin(&mut doc, name);
        }
        prop_assert!(channels::parse(&doc.to_string(), "channels.toml").is_ok());
    }
}
