//! `agentver schema`: the JSON Schemas editors read, whole, and a table of valid and invalid
//! documents on which each schema and agentver's own validator agree.

use crate::screen::snap;

#[test]
fn screens() {
    let env = crate::env::TestEnv::empty();
    snap!(env, "schema", "schema");
}

fn schema_of(which: &str) -> serde_json::Value {
    let env = crate::env::TestEnv::empty();
    env.av(&["schema", "--for", which]).ok().json()
}

/// Each document's verdict from the schema and from the validator must be the same, and the
/// table's own: a row that both get wrong fails too.
fn agree(
    which: &str,
    rows: &[(bool, &str)],
    to_json: impl Fn(&str) -> serde_json::Value,
    valid: impl Fn(&str) -> bool,
) {
    let schema = schema_of(which);
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let mut wrong = Vec::new();
    for (want, text) in rows {
        let by_schema = validator.is_valid(&to_json(text));
        let by_check = valid(text);
        if by_schema != *want || by_check != *want {
            wrong.push(format!("want {want}, schema {by_schema}, check {by_check}: {text}"));
        }
    }
    assert!(wrong.is_empty(), "{which}: {} of {} rows disagree:\n{}", wrong.len(), rows.len(), wrong.join("\n"));
}

fn yaml_json(text: &str) -> serde_json::Value {
    agentver::format::yaml::parse(text).unwrap().to_json().unwrap()
}

const BASE: &str = "name: S\nllm: {provider: openai, model: gpt-4o}\n";

#[test]
fn the_agent_schema_and_check_agree() {
    let with = |extra: &str| format!("{BASE}{extra}");
    let rows: Vec<(bool, String)> = vec![
        (true, with("prompt: {system: hi}\n")),
        (false, BASE.to_owned()),
        (true, with("workflow: intake\n")),
        (false, with("prompt: {welcome_message: hi}\n")),
        (true, with("prompt: {system: hi, welcome_message: hello}\n")),
        (false, with("prompt: {system: hi}\nllm_extra: 1\n")),
        (false, "llm: {provider: openai, model: gpt-4o}\nprompt: {system: hi}\n".to_owned()),
        (false, "name: \" \"\nllm: {provider: openai, model: gpt-4o}\nprompt: {system: hi}\n".to_owned()),
        (false, "name: S\nllm: {provider: openai}\nprompt: {system: hi}\n".to_owned()),
        (true, "name: S\nllm: {provider: openai, model: gpt-4o, temperature: 2}\nprompt: {system: hi}\n".to_owned()),
        (false, "name: S\nllm: {provider: openai, model: gpt-4o, temperature: 2.1}\nprompt: {system: hi}\n".to_owned()),
        (false, "name: S\nllm: {provider: openai, model: gpt-4o, max_tokens: 0}\nprompt: {system: hi}\n".to_owned()),
        (false, "name: S\nllm: {provider: openai, model: gpt-4o, temprature: 1}\nprompt: {system: hi}\n".to_owned()),
        (true, with("prompt: {system: hi}\nvariables: {first_name: {default: there}}\n")),
        (false, with("prompt: {system: hi}\nvariables: {1st: {default: there}}\n")),
        (false, with("prompt: {system: hi}\nvariables: {a: {default: [1]}}\n")),
        (
            true,
            with(
                "prompt: {system: hi}\nspeech: {language: en-US, tts: {provider: elevenlabs, voice_id: r, speed: 1.0}}\n",
            ),
        ),
        (false, with("prompt: {system: hi}\nspeech: {language: english_us}\n")),
        (false, with("prompt: {system: hi}\nspeech: {tts: {voice_id: r}}\n")),
        (false, with("prompt: {system: hi}\nspeech: {tts: {provider: x, speed: 5}}\n")),
        (
            true,
            with(
                "prompt: {system: hi}\nturn_taking: {vad_threshold: 0.5, inactivity: {timeout_ms: 100, max_reminders: 2}}\n",
            ),
        ),
        (false, with("prompt: {system: hi}\nturn_taking: {vad_threshold: 1.5}\n")),
        (false, with("prompt: {system: hi}\nturn_taking: {silence_timeout_ms: -1}\n")),
        (true, with("prompt: {system: hi}\nbackground_sound: {preset: office, volume: 0.2}\n")),
        (false, with("prompt: {system: hi}\nbackground_sound: {volume: 0.2}\n")),
        (true, with("prompt: {system: hi}\nknowledge_bases: [{id: kb, top_k: 4, min_score: 0.5}]\n")),
        (false, with("prompt: {system: hi}\nknowledge_bases: [{top_k: 4}]\n")),
        (false, with("prompt: {system: hi}\nknowledge_bases: [{id: kb, top_k: 101}]\n")),
        (true, with("prompt: {system: hi}\ntools: [book, {name: hang_up, type: end_call}]\n")),
        (false, with("prompt: {system: hi}\ntools: [Book]\n")),
        (false, with("prompt: {system: hi}\ntools: [{name: x, type: webhook}]\n")),
        (true, with("prompt: {system: hi}\ntools: [{name: x, type: webhook, url: \"https://a.example/x\"}]\n")),
        (false, with("prompt: {system: hi}\ntools: [{name: x, type: webhook, url: \"https://a.example/x y\"}]\n")),
        (false, with("prompt: {system: hi}\ntools: [{name: x, type: end_call, url: \"https://a.example/x\"}]\n")),
        (true, with("prompt: {system: hi}\ntools: [{name: x, type: transfer_call, number: \"+14155550100\"}]\n")),
        (false, with("prompt: {system: hi}\ntools: [{name: x, type: transfer_call, number: \"4155550100\"}]\n")),
        (false, with("prompt: {system: hi}\ntools: [{name: x, type: function, parameters: {type: array}}]\n")),
        (true, with("prompt: {system: hi}\ntools: [{name: x, type: function, parameters: {type: object}}]\n")),
        (true, with("prompt: {system: hi}\nanalysis: {fields: [{name: booked, type: boolean}]}\n")),
        (true, with("prompt: {system: hi}\nanalysis: {fields: [{name: size, type: enum, values: [a, b]}]}\n")),
        (false, with("prompt: {system: hi}\nanalysis: {fields: [{name: size, type: enum}]}\n")),
        (false, with("prompt: {system: hi}\nanalysis: {fields: [{name: size, type: string, values: [a]}]}\n")),
        (false, with("prompt: {system: hi}\nanalysis: {fields: [{name: size, type: date}]}\n")),
        (false, with("prompt: {system: hi}\nworkflow: \"../x\"\n")),
        (true, with("prompt: {system: hi}\nprovider_options: {vapi: {anything: [1, {deep: true}]}}\n")),
        (false, with("prompt: {system: hi}\nprovider_options: [1]\n")),
        (true, with("prompt: {system: hi}\ndescription: \"\"\n")),
    ];
    let rows: Vec<(bool, &str)> = rows.iter().map(|(b, s)| (*b, s.as_str())).collect();
    agree("agent", &rows, yaml_json, |t| agentver::format::model::parse_agent("agents/s.yaml", t.as_bytes()).is_ok());
}

#[test]
fn the_tool_schema_and_check_agree() {
    let rows = [
        (true, "name: t\ntype: end_call\n"),
        (true, "name: t\ntype: webhook\nurl: https://x.example/a\n"),
        (false, "name: t\ntype: webhook\n"),
        (false, "name: t\ntype: webhok\nurl: https://x.example/a\n"),
        (false, "name: T\ntype: end_call\n"),
        (false, "type: end_call\n"),
        (true, "name: t\ntype: transfer_call\nnumber: \"+14155550100\"\n"),
        (false, "name: t\ntype: end_call\nnumber: \"+14155550100\"\n"),
        (
            true,
            "name: t\ntype: function\ndescription: looks up\nparameters: {type: object, properties: {id: {type: string}}}\n",
        ),
        (false, "name: t\ntype: function\nparameters: {type: string}\n"),
        (false, "name: t\ntype: function\nextra: 1\n"),
        (true, "name: t\ntype: function\nprovider_options: {vapi: {async: true}}\n"),
    ];
    agree("tool", &rows, yaml_json, |t| agentver::format::model::parse_tool("tools/t.yaml", "t", t.as_bytes()).is_ok());
}

#[test]
fn the_channels_schema_and_check_agree() {
    let rows = [
        (true, "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 3\n"),
        (true, "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = \"latest\"\n"),
        (true, "[channels.web-widget]\nagent = \"sales\"\nversion = \"draft\"\n"),
        (false, "[channels.\"+1\"]\nagent = \"sales\"\nversion = 3\n"),
        (false, "[channels.\"+14155550100\"]\nagent = \"sales\"\n"),
        (false, "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 0\n"),
        (false, "[channels.\"+14155550100\"]\nagent = \"Sales\"\nversion = 1\n"),
        (false, "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = \"newest\"\n"),
        (
            true,
            "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 1\ntree = \"0123456789abcdef0123456789abcdef01234567\"\n",
        ),
        (
            false,
            "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = \"latest\"\ntree = \"0123456789abcdef0123456789abcdef01234567\"\n",
        ),
        (false, "[channels.\"+14155550100\"]\nagent = \"sales\"\nversion = 1\ntree = \"abc\"\n"),
        (
            true,
            "[channels.ab]\nsticky = \"caller\"\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 80 }, { name = \"b\", agent = \"s\", version = \"draft\", weight = 20 }]\n",
        ),
        (
            false,
            "[channels.ab]\nsticky = \"phone\"\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 1 }]\n",
        ),
        (false, "[channels.ab]\nvariants = [{ name = \"a\", agent = \"s\", version = 1 }]\n"),
        (false, "[channels.ab]\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 2000000 }]\n"),
        (
            false,
            "[channels.ab]\nagent = \"s\"\nvariants = [{ name = \"a\", agent = \"s\", version = 1, weight = 1 }]\n",
        ),
        (false, "[channels.x]\nagent = \"s\"\nversion = 1\nsticky = \"call\"\n"),
        (false, "[other]\nx = 1\n"),
    ];
    let to_json = |t: &str| serde_json::to_value(toml::from_str::<toml::Value>(t).unwrap()).unwrap();
    agree("channels", &rows, to_json, |t| agentver::format::channels::parse(t, "channels.toml").is_ok());
}
