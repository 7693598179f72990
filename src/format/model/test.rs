//! The conversation test format, `tests/<name>.yaml`: which agents it tests, its runs and their
//! pass mark, variables and tool mocks, and either a scripted conversation (caller turns and
//! checks on the agent's replies) or a simulated caller with evaluations. Validated like the
//! agent format: every problem in one run, each with its line and a did-you-mean.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::schema::{Field, Shape};
use super::validate::Checker;
use crate::format::diagnostic::Diagnostic;
use crate::format::yaml::{Node, Value};

const fn field(name: &'static str, shape: Shape, doc: &'static str) -> Field {
    Field { name, shape, required: false, doc }
}

const fn required(name: &'static str, shape: Shape, doc: &'static str) -> Field {
    Field { name, shape, required: true, doc }
}

pub const EXTRACT_TYPES: &[&str] = &["string", "number", "boolean"];

pub static MATCHER: &[Field] = &[
    field("equals", Shape::Scalar, "the argument equals this value"),
    field("regex", Shape::Text, "the argument (as text) matches this regular expression"),
    field("any", Shape::Bool, "the argument is present, whatever its value"),
];

pub static TOOL_CALL: &[Field] = &[
    required("name", Shape::Name, "the tool's name"),
    field("arguments", Shape::Dict(&Shape::Object(MATCHER)), "checks on arguments, by name"),
];

pub static EXPECT: &[Field] = &[
    field("contains", Shape::List(&Shape::Text), "texts the reply contains (case-insensitive)"),
    field("not_contains", Shape::List(&Shape::Text), "texts the reply does not contain (case-insensitive)"),
    field("regex", Shape::Text, "a regular expression the reply matches"),
    field("max_words", Shape::Int { min: 1, max: 10_000 }, "most words in the reply"),
    field("tool_call", Shape::Object(TOOL_CALL), "a tool the agent calls in this turn, with its arguments"),
    field("no_tool_call", Shape::Scalar, "true: no tool is called in this turn; a name: that tool is not"),
    field("judge", Shape::Text, "a criterion an LLM judge rules on, given the conversation so far"),
];

pub static STEP: &[Field] = &[
    field("user", Shape::Text, "what the caller says"),
    field("expect", Shape::Object(EXPECT), "checks on the agent's reply to the turn before"),
];

pub static SIMULATE: &[Field] = &[
    required("caller", Shape::Text, "the simulated caller: persona and goal"),
    field("max_turns", Shape::Int { min: 1, max: 100 }, "most caller turns (default 10)"),
    field("ends_when", Shape::Text, "the conversation ends once a reply contains this text"),
];

pub static EXTRACT: &[Field] = &[
    required("name", Shape::Word, "what is extracted"),
    required("type", Shape::Choice(EXTRACT_TYPES), "string, number or boolean"),
    field("description", Shape::Text, "what to look for in the conversation"),
];

pub static EVALUATION: &[Field] = &[
    field("judge", Shape::Text, "a criterion an LLM judge rules on, given the whole conversation"),
    field("tool_called", Shape::Object(TOOL_CALL), "a tool the agent called, with its arguments"),
    field("no_tool_called", Shape::Name, "a tool the agent never called"),
    field("extract", Shape::Object(EXTRACT), "a value the judge extracts from the conversation"),
    field("equals", Shape::Scalar, "what `extract` must equal"),
];

pub static MOCK: &[Field] = &[
    field("result", Shape::AnyMapping, "what the tool returns to the agent"),
    field("error", Shape::Text, "an error the tool returns instead"),
];

pub static TEST: &[Field] = &[
    field("agent", Shape::Name, "the agent under test"),
    field("agents", Shape::List(&Shape::Name), "the agents under test, when several share the test"),
    field("description", Shape::Text, "what the test shows"),
    field("repeat", Shape::Int { min: 1, max: 100 }, "runs of the test (LLMs vary; default 1)"),
    field("pass", Shape::Int { min: 1, max: 100 }, "runs that must pass (default: all)"),
    field("variables", Shape::Dict(&Shape::Scalar), "dynamic variables, as a call would fill them"),
    field("mocks", Shape::Dict(&Shape::Object(MOCK)), "tool results by tool name; no tool is ever called"),
    field("conversation", Shape::List(&Shape::Object(STEP)), "scripted caller turns and checks on the replies"),
    field("simulate", Shape::Object(SIMULATE), "a simulated caller instead of a script"),
    field("evaluate", Shape::List(&Shape::Object(EVALUATION)), "checks on the whole conversation"),
];

/// A test file, validated.
#[derive(Clone, Debug)]
pub struct TestDoc {
    pub agents: Vec<String>,
    pub description: String,
    pub repeat: u32,
    pub pass: Option<u32>,
    pub variables: BTreeMap<String, Json>,
    pub mocks: BTreeMap<String, Mock>,
    pub conversation: Vec<Step>,
    pub simulate: Option<Simulate>,
    pub evaluate: Vec<Evaluation>,
}

#[derive(Clone, Debug)]
pub enum Mock {
    Result(Json),
    Error(String),
}

#[derive(Clone, Debug)]
pub enum Step {
    User { text: String, line: u32 },
    Expect { expect: Expect, line: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub contains: Vec<String>,
    pub not_contains: Vec<String>,
    pub regex: Option<String>,
    pub max_words: Option<u64>,
    pub tool_call: Option<ToolCallCheck>,
    pub no_tool_call: Option<NoTool>,
    pub judge: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ToolCallCheck {
    pub name: String,
    pub arguments: BTreeMap<String, Matcher>,
}

#[derive(Clone, Debug)]
pub enum Matcher {
    Equals(Json),
    Regex(String),
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NoTool {
    Any,
    Named(String),
}

#[derive(Clone, Debug)]
pub struct Simulate {
    pub caller: String,
    pub max_turns: u32,
    pub ends_when: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Evaluation {
    pub line: u32,
    pub check: EvalCheck,
}

#[derive(Clone, Debug)]
pub enum EvalCheck {
    Judge(String),
    ToolCalled(ToolCallCheck),
    NoToolCalled(String),
    Extract { name: String, kind: String, description: String, equals: Json },
}

/// Parses and validates a test file; every problem at once, as `check` reports an agent file's.
pub fn parse_test(file: &str, bytes: &[u8]) -> Result<TestDoc, Vec<Diagnostic>> {
    let root = super::read_yaml(file, bytes)?;
    let mut checker = Checker::new(file);
    checker.object(&root, "", TEST, false);
    if !checker.has_errors() {
        rules(&mut checker, &root);
    }
    let mut diagnostics = checker.diagnostics;
    super::json_form_problems(file, &root, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.sort_by_key(|d| (d.severity, d.line));
        return Err(diagnostics);
    }
    Ok(build(&root))
}

/// Exactly one of two keys present, else an error on the node.
fn one_of(c: &mut Checker, node: &Node, path: &str, keys: &[&str], hint: &str) {
    let present: Vec<&str> = keys.iter().copied().filter(|k| node.get(k).is_some()).collect();
    if present.len() != 1 {
        let found = if present.is_empty() { "none".to_owned() } else { present.join(" and ") };
        let message = format!("{path} needs exactly one of {}, found {found}", keys.join(", "));
        c.error(node.line, node.col, message, Some(hint.to_owned()));
    }
}

/// The rules across fields that the table cannot say.
fn rules(c: &mut Checker, root: &Node) {
    one_of(c, root, "a test", &["agent", "agents"], "name the agent under test: agent: sales");
    one_of(
        c,
        root,
        "a test",
        &["conversation", "simulate"],
        "script the caller (conversation: [...]) or simulate one (simulate: {caller: ...})",
    );
    if let (Some(repeat), Some(pass)) = (root.get("repeat"), root.get("pass"))
        && let (Value::Int(r), Value::Int(p)) = (&repeat.value, &pass.value)
        && p > r
    {
        c.error(
            pass.line,
            pass.col,
            format!("pass: {p} of {r} runs cannot pass"),
            Some(format!("pass is at most repeat ({r})")),
        );
    }
    for step in root.get("conversation").and_then(Node::as_seq).unwrap_or_default() {
        one_of(
            c,
            step,
            "a conversation step",
            &["user", "expect"],
            "a step is either `- user: ...` or `- expect: {...}`",
        );
        if let Some(expect) = step.get("expect") {
            expect_rules(c, expect);
        }
    }
    for item in root.get("evaluate").and_then(Node::as_seq).unwrap_or_default() {
        let kinds = ["judge", "tool_called", "no_tool_called", "extract"];
        one_of(c, item, "an evaluation", &kinds, "each item of evaluate is one check");
        if (item.get("extract").is_some()) != (item.get("equals").is_some()) {
            c.error(
                item.line,
                item.col,
                "evaluate: `extract` and `equals` go together".into(),
                Some("extract: {name: booked, type: boolean}, equals: true".into()),
            );
        }
        if let Some(check) = item.get("tool_called") {
            regex_rules(c, check);
        }
    }
}

fn expect_rules(c: &mut Checker, expect: &Node) {
    if expect.as_map().is_some_and(<[_]>::is_empty) {
        c.error(
            expect.line,
            expect.col,
            "expect holds no check".into(),
            Some("e.g. expect: {contains: [demo]}".into()),
        );
    }
    if let Some(pattern) = expect.get("regex") {
        compiles(c, pattern);
    }
    if let Some(no) = expect.get("no_tool_call") {
        let ok = matches!(&no.value, Value::Bool(true))
            || no.as_str().is_some_and(|s| crate::names::id::id_problem(s).is_none());
        if !ok {
            c.error(
                no.line,
                no.col,
                "no_tool_call: expected true or a tool's name".into(),
                Some("no_tool_call: true, or no_tool_call: book_appointment".into()),
            );
        }
    }
    if let Some(check) = expect.get("tool_call") {
        regex_rules(c, check);
    }
}

fn regex_rules(c: &mut Checker, tool_call: &Node) {
    for (_, matcher) in tool_call.get("arguments").and_then(Node::as_map).unwrap_or_default() {
        let n = matcher.as_map().map_or(0, <[_]>::len);
        if n != 1 {
            c.error(
                matcher.line,
                matcher.col,
                "an argument's check is one of equals, regex or any".into(),
                Some("e.g. date: {regex: \"10:00\"}".into()),
            );
        }
        if let Some(pattern) = matcher.get("regex") {
            compiles(c, pattern);
        }
    }
}

fn compiles(c: &mut Checker, pattern: &Node) {
    if let Some(p) = pattern.as_str()
        && let Err(e) = regex_lite::Regex::new(p)
    {
        let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
        c.error(pattern.line, pattern.col, format!("regex '{}' does not compile: {first}", p.escape_debug()), None);
    }
}

fn text(node: Option<&Node>) -> String {
    node.and_then(Node::as_str).unwrap_or_default().to_owned()
}

fn json(node: &Node) -> Json {
    node.to_json().unwrap_or(Json::Null)
}

fn tool_call(node: &Node) -> ToolCallCheck {
    let arguments = node
        .get("arguments")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|(k, m)| {
            let matcher = match (m.get("equals"), m.get("regex")) {
                (Some(v), _) => Matcher::Equals(json(v)),
                (_, Some(r)) => Matcher::Regex(text(Some(r))),
                _ => Matcher::Any,
            };
            (k.name.clone(), matcher)
        })
        .collect();
    ToolCallCheck { name: text(node.get("name")), arguments }
}

fn texts(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_seq).unwrap_or_default().iter().filter_map(|n| n.as_str().map(str::to_owned)).collect()
}

fn expect(node: &Node) -> Expect {
    Expect {
        contains: texts(node.get("contains")),
        not_contains: texts(node.get("not_contains")),
        regex: node.get("regex").map(|n| text(Some(n))),
        max_words: node.get("max_words").and_then(|n| json(n).as_u64()),
        tool_call: node.get("tool_call").map(tool_call),
        no_tool_call: node.get("no_tool_call").map(|n| match n.as_str() {
            Some(name) => NoTool::Named(name.to_owned()),
            None => NoTool::Any,
        }),
        judge: node.get("judge").map(|n| text(Some(n))),
    }
}

fn evaluation(item: &Node) -> Evaluation {
    let check = if let Some(j) = item.get("judge") {
        EvalCheck::Judge(text(Some(j)))
    } else if let Some(t) = item.get("tool_called") {
        EvalCheck::ToolCalled(tool_call(t))
    } else if let Some(n) = item.get("no_tool_called") {
        EvalCheck::NoToolCalled(text(Some(n)))
    } else {
        let x = item.get("extract").expect("validated");
        EvalCheck::Extract {
            name: text(x.get("name")),
            kind: text(x.get("type")),
            description: text(x.get("description")),
            equals: item.get("equals").map(json).unwrap_or(Json::Null),
        }
    };
    Evaluation { line: item.line, check }
}

/// The typed test from a tree that passed validation.
fn build(root: &Node) -> TestDoc {
    let agents = match root.get("agent") {
        Some(a) => vec![text(Some(a))],
        None => texts(root.get("agents")),
    };
    let mocks = root.get("mocks").and_then(Node::as_map).unwrap_or_default();
    let steps = root.get("conversation").and_then(Node::as_seq).unwrap_or_default();
    TestDoc {
        agents,
        description: text(root.get("description")),
        repeat: root.get("repeat").and_then(|n| json(n).as_u64()).unwrap_or(1) as u32,
        pass: root.get("pass").and_then(|n| json(n).as_u64()).map(|p| p as u32),
        variables: root
            .get("variables")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k.name.clone(), json(v)))
            .collect(),
        mocks: mocks
            .iter()
            .map(|(k, m)| {
                let mock = match m.get("error") {
                    Some(e) => Mock::Error(text(Some(e))),
                    None => Mock::Result(m.get("result").map(json).unwrap_or(Json::Object(Default::default()))),
                };
                (k.name.clone(), mock)
            })
            .collect(),
        conversation: steps
            .iter()
            .map(|s| match s.get("user") {
                Some(u) => Step::User { text: text(Some(u)), line: u.line },
                None => {
                    let e = s.get("expect").expect("validated");
                    Step::Expect { expect: expect(e), line: e.line }
                }
            })
            .collect(),
        simulate: root.get("simulate").map(|s| Simulate {
            caller: text(s.get("caller")),
            max_turns: s.get("max_turns").and_then(|n| json(n).as_u64()).unwrap_or(10) as u32,
            ends_when: s.get("ends_when").map(|n| text(Some(n))),
        }),
        evaluate: root.get("evaluate").and_then(Node::as_seq).unwrap_or_default().iter().map(evaluation).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"agent: sales
description: No prices
repeat: 3
pass: 2
variables: {first_name: Dana}
mocks:
  book_appointment: {result: {ok: true}}
conversation:
  - user: How much is it?
  - expect:
      not_contains: ["$"]
      judge: No price is stated.
  - user: Book a demo at 10
  - expect: {tool_call: {name: book_appointment, arguments: {date: {regex: "10:00"}}}}
"#;

    fn problems(text: &str) -> Vec<String> {
        let found = parse_test("tests/t.yaml", text.as_bytes()).unwrap_err();
        found.iter().map(|d| format!("{d} ({})", d.hint.as_deref().unwrap_or_default())).collect()
    }

    #[test]
    fn a_good_test_reads_as_its_parts() {
        let t = parse_test("tests/t.yaml", GOOD.as_bytes()).unwrap();
        assert_eq!((t.agents.as_slice(), t.repeat, t.pass), (&["sales".to_owned()][..], 3, Some(2)));
        assert_eq!(t.conversation.len(), 4);
        let Step::Expect { expect, line } = &t.conversation[3] else { panic!() };
        assert_eq!(*line, 14);
        assert!(matches!(&expect.tool_call.as_ref().unwrap().arguments["date"], Matcher::Regex(r) if r == "10:00"));
        assert!(matches!(&t.mocks["book_appointment"], Mock::Result(v) if v["ok"] == true));
        let Step::Expect { expect, .. } = &t.conversation[1] else { panic!() };
        assert_eq!(
            (expect.not_contains.as_slice(), expect.judge.as_deref()),
            (&["$".to_owned()][..], Some("No price is stated."))
        );
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let got = problems("agent: sales\nrepat: 3\nconversation: []\n");
        assert!(
            got.iter().any(|p| p.contains(":2")
                && p.contains("unknown field 'repat'")
                && p.contains("did you mean 'repeat'")),
            "{got:?}"
        );
        let got = problems(
            "agent: sales\nconversation:\n  - user: hi\n    expect: {contains: [x]}\n  - expect: {}\n  - expect: {regex: \"(\"}\n",
        );
        assert!(
            got.iter().any(|p| p.contains(":3") && p.contains("exactly one of user, expect, found user and expect")),
            "{got:?}"
        );
        assert!(got.iter().any(|p| p.contains(":5") && p.contains("expect holds no check")), "{got:?}");
        assert!(got.iter().any(|p| p.contains(":6") && p.contains("regex '(' does not compile")), "{got:?}");
        let got = problems("description: x\nrepeat: 2\npass: 3\nconversation: []\nsimulate: {caller: x}\n");
        assert!(got.iter().any(|p| p.contains("exactly one of agent, agents, found none")), "{got:?}");
        assert!(got.iter().any(|p| p.contains("found conversation and simulate")), "{got:?}");
        assert!(got.iter().any(|p| p.contains("pass: 3 of 2 runs cannot pass")), "{got:?}");
    }
}
