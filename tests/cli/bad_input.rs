//! Malformed agents, tools and workflows: each is exit 2, one error line naming the file (and the
//! line where known), and no tag.

use crate::env::TestEnv;

const HEAD: &str = "name: Bad\nllm: {provider: openai, model: gpt-4o}\nprompt: {system: hi}\n";

struct Case {
    what: &'static str,
    agent: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    /// Expected in the error line: the file (with line where known) and a phrase.
    location: &'static str,
    phrase: &'static str,
}

fn agent(what: &'static str, text: &str, location: &'static str, phrase: &'static str) -> Case {
    Case { what, agent: "bad", files: vec![("agents/bad.yaml", text.as_bytes().to_vec())], location, phrase }
}

fn with_tool(what: &'static str, tool: &str, location: &'static str, phrase: &'static str) -> Case {
    let agent_text = format!("{HEAD}tools: [t1]\n");
    Case {
        what,
        agent: "bad",
        files: vec![("agents/bad.yaml", agent_text.into_bytes()), ("tools/t1.yaml", tool.as_bytes().to_vec())],
        location,
        phrase,
    }
}

fn with_workflow(what: &'static str, json: &str, location: &'static str, phrase: &'static str) -> Case {
    Case {
        what,
        agent: "bad",
        files: vec![
            ("agents/bad.yaml", b"name: W\nllm: {provider: openai, model: gpt-4o}\nworkflow: w\n".to_vec()),
            ("workflows/w.json", json.as_bytes().to_vec()),
        ],
        location,
        phrase,
    }
}

fn cases() -> Vec<Case> {
    let deep = format!("{HEAD}provider_options:\n  x: {}1{}\n", "[".repeat(80), "]".repeat(80));
    let mut bomb = format!("{HEAD}provider_options:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d"), ("f", "e")] {
        bomb += &format!("  {name}: &{name} [{}]\n", vec![format!("*{prev}"); 10].join(", "));
    }
    let huge = format!("{HEAD}description: \"{}\"\n", "x".repeat(1_100_000));
    vec![
        agent(
            "unclosed flow",
            "name: [unclosed\nllm: {provider: openai, model: gpt-4o}\n",
            "agents/bad.yaml:2",
            "invalid YAML",
        ),
        agent("tab indentation", "name: X\nllm:\n\tprovider: openai\n", "agents/bad.yaml:3", "indented with a tab"),
        agent("unknown top-level key", &format!("{HEAD}promt: x\n"), "agents/bad.yaml:4", "unknown field 'promt'"),
        agent(
            "misspelled nested key",
            "name: X\nllm:\n  provider: openai\n  model: m\n  temprature: 0.3\nprompt: {system: hi}\n",
            "agents/bad.yaml:5",
            "temprature",
        ),
        agent(
            "mapping expected",
            "name: X\nllm: gpt-4o\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "expected a mapping",
        ),
        agent(
            "temperature out of range",
            "name: X\nllm: {provider: o, model: m, temperature: 2.5}\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "out of range",
        ),
        agent(
            "quoted number",
            "name: X\nllm: {provider: o, model: m, temperature: \"0.3\"}\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "expected a number",
        ),
        agent(
            "fractional max_tokens",
            "name: X\nllm: {provider: o, model: m, max_tokens: 400.5}\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "expected an integer",
        ),
        agent(
            "zero max_tokens",
            "name: X\nllm: {provider: o, model: m, max_tokens: 0}\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "out of range",
        ),
        agent(
            "vad above 1",
            &format!("{HEAD}turn_taking: {{vad_threshold: 1.5}}\n"),
            "agents/bad.yaml:4",
            "out of range",
        ),
        agent(
            "negative volume",
            &format!("{HEAD}background_sound: {{preset: office, volume: -0.1}}\n"),
            "agents/bad.yaml:4",
            "out of range",
        ),
        agent("bad language tag", &format!("{HEAD}speech: {{language: english!}}\n"), "agents/bad.yaml:4", "BCP 47"),
        agent(
            "missing name",
            "llm: {provider: o, model: m}\nprompt: {system: hi}\n",
            "agents/bad.yaml:1",
            "missing required field 'name'",
        ),
        agent("missing model", "name: X\nllm: {provider: o}\nprompt: {system: hi}\n", "agents/bad.yaml:2", "llm.model"),
        agent(
            "no prompt and no workflow",
            "name: X\nllm: {provider: o, model: m}\n",
            "agents/bad.yaml",
            "prompt.system",
        ),
        agent("missing tool file", &format!("{HEAD}tools: [no_such_tool]\n"), "agents/bad.yaml:4", "no_such_tool"),
        agent(
            "missing workflow file",
            "name: X\nllm: {provider: o, model: m}\nworkflow: nowhere\n",
            "agents/bad.yaml:3",
            "workflow 'nowhere' not found",
        ),
        agent(
            "path-like tool name",
            &format!("{HEAD}tools: [\"../../etc/passwd\"]\n"),
            "agents/bad.yaml:4",
            "not a valid name",
        ),
        agent(
            "duplicate key",
            "name: X\nname: Y\nllm: {provider: o, model: m}\nprompt: {system: hi}\n",
            "agents/bad.yaml:2",
            "duplicate key 'name'",
        ),
        agent("two documents", &format!("{HEAD}---\nname: Y\n"), "agents/bad.yaml:4", "second YAML document"),
        agent(
            "enum without values",
            &format!("{HEAD}analysis: {{fields: [{{name: a, type: enum}}]}}\n"),
            "agents/bad.yaml:4",
            "needs 'values'",
        ),
        agent(
            "unknown analysis type",
            &format!("{HEAD}analysis: {{fields: [{{name: a, type: bool}}]}}\n"),
            "agents/bad.yaml:4",
            "not one of",
        ),
        agent(
            "top_k zero",
            &format!("{HEAD}knowledge_bases: [{{id: kb, top_k: 0}}]\n"),
            "agents/bad.yaml:4",
            "out of range",
        ),
        agent(
            "inline webhook without url",
            &format!("{HEAD}tools: [{{name: hook, type: webhook}}]\n"),
            "agents/bad.yaml:4",
            "needs 'url'",
        ),
        agent(
            "tool listed twice",
            "name: X\nllm: {provider: o, model: m}\nprompt: {system: hi}\ntools: [{name: e, type: end_call}, {name: e, type: end_call}]\n",
            "agents/bad.yaml:4",
            "listed twice",
        ),
        agent(
            "bad variable name",
            &format!("{HEAD}variables: {{first-name: {{default: x}}}}\n"),
            "agents/bad.yaml:4",
            "not a valid variable name",
        ),
        agent("YAML tag", &format!("{HEAD}description: !!binary aGk=\n"), "agents/bad.yaml:4", "tags"),
        agent("a list, not a mapping", "- name: X\n", "agents/bad.yaml:1", "expected a mapping"),
        agent("empty file", "", "agents/bad.yaml:1", "expected a mapping"),
        agent(
            "infinite number",
            &format!("{HEAD}provider_options: {{x: .inf}}\n"),
            "agents/bad.yaml:4",
            "cannot be stored",
        ),
        agent("nesting too deep", &deep, "agents/bad.yaml:5", "deeper than 64"),
        agent("alias bomb", &bomb, "agents/bad.yaml", "aliases expand"),
        agent("file over 1 MiB", &huge, "agents/bad.yaml", "limit"),
        Case {
            what: "byte-order mark",
            agent: "bad",
            files: vec![("agents/bad.yaml", [b"\xEF\xBB\xBF".as_slice(), HEAD.as_bytes()].concat())],
            location: "agents/bad.yaml:1",
            phrase: "byte-order mark",
        },
        Case {
            what: "not UTF-8",
            agent: "bad",
            files: vec![("agents/bad.yaml", b"name: \xFF\xFE\n".to_vec())],
            location: "agents/bad.yaml:1",
            phrase: "UTF-8",
        },
        with_tool(
            "tool with unknown key",
            "name: t1\ntype: end_call\nmethod: POST\n",
            "tools/t1.yaml:3",
            "unknown field 'method'",
        ),
        with_tool(
            "tool named after another file",
            "name: t2\ntype: end_call\n",
            "tools/t1.yaml:1",
            "does not match its file name",
        ),
        with_tool(
            "unquoted phone number",
            "name: t1\ntype: transfer_call\nnumber: +14155550100\n",
            "tools/t1.yaml:3",
            "must be quoted",
        ),
        with_tool(
            "unknown tool type",
            "name: t1\ntype: webhok\nurl: https://x.example\n",
            "tools/t1.yaml:2",
            "not one of",
        ),
        with_tool(
            "non-http url",
            "name: t1\ntype: webhook\nurl: ftp://x.example\n",
            "tools/t1.yaml:3",
            "not an http(s) URL",
        ),
        with_tool(
            "parameters not an object schema",
            "name: t1\ntype: function\nparameters: {type: array}\n",
            "tools/t1.yaml:3",
            "type object",
        ),
        with_tool("tool YAML syntax", "name: t1\ntype: [end_call\n", "tools/t1.yaml", "invalid YAML"),
        with_workflow("workflow JSON syntax", "{\n  \"start\": \"a\",\n}\n", "workflows/w.json:3", "invalid JSON"),
        with_workflow("workflow not an object", "[1, 2, 3]\n", "workflows/w.json:1", "JSON object"),
        with_workflow("workflow empty", "", "workflows/w.json:1", "invalid JSON"),
    ]
}

#[test]
fn malformed_files_are_clear_input_errors_and_publish_nothing() {
    let env = TestEnv::example();
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for case in &cases {
        for (path, bytes) in &case.files {
            std::fs::create_dir_all(env.path(path).parent().unwrap()).unwrap();
            std::fs::write(env.path(path), bytes).unwrap();
        }
        let run = env.av(&["publish", case.agent]);
        let first = run.stderr.lines().next().unwrap_or_default().to_owned();
        let ok = run.code == 2
            && first.starts_with(&format!("error: {}", case.location))
            && first.contains(case.phrase)
            && run.stderr.lines().count() <= 2
            && !run.stderr.contains("panicked");
        if !ok {
            failures.push(format!("{}: exit {}, stderr {:?}", case.what, run.code, run.stderr));
        }
        for (path, _) in &case.files {
            std::fs::remove_file(env.path(path)).unwrap();
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(env.tags().is_empty(), "no case may leave a tag");
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn bad_ids_and_specs_are_refused_before_any_path_is_built() {
    let env = TestEnv::example();
    for spec in ["../etc", "Sales", "sales/v1", "a b", "sales@v0", "sales@nope", "x@"] {
        let run = env.av(&["show", spec]);
        assert_eq!(run.code, 2, "{spec}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: invalid"), "{spec}: {}", run.stderr);
    }
    env.write("agents/Bad.yaml", HEAD);
    env.av(&["publish", "Bad"]).code(2);
    env.av(&["publish", "ghost"]).code(2);
    // `status` reports a stray file, it does not fail on it.
    env.av(&["status"]).ok();
    assert!(env.tags().is_empty());
}

#[test]
fn symlinks_out_of_the_workspace_are_refused() {
    let env = TestEnv::example();
    let outside = env.root.parent().unwrap().join("secret.yaml");
    std::fs::write(&outside, "name: t1\ntype: end_call\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.path("tools/t1.yaml")).unwrap();
    env.write("agents/bad.yaml", &format!("{HEAD}tools: [t1]\n"));
    let run = env.av(&["publish", "bad"]).code(2);
    assert!(run.stderr.contains("tools/t1.yaml: is a symlink"), "{}", run.stderr);
    assert!(env.tags().is_empty());
}
