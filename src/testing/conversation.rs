//! One run of one test against one agent configuration: the agent speaks with its own system
//! prompt (variables filled), model, temperature, max tokens and tools; tools answer from the
//! test's mocks (none is ever called); the caller is the script or a simulated caller; checks
//! and the judge rule on the replies. Every request goes through the cassette or the provider.

use serde_json::{Value as Json, json};

use super::cassette::{self, Cassette};
use super::chat::{Client, Provider};
use super::check::{self, Call, Reply};
use crate::format::model::test::{EvalCheck, Mock, Simulate, Step, TestDoc};

/// How requests are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// From the provider; nothing recorded.
    Live,
    /// From the provider, each exchange kept in the test's cassette.
    Record,
    /// From the cassette alone; nothing is sent.
    Replay,
}

/// A model a role speaks with.
#[derive(Clone, Debug)]
pub struct Model {
    pub provider: Provider,
    pub model: String,
}

/// What every run of a test shares.
pub struct Env<'a> {
    pub client: &'a Client,
    pub mode: Mode,
    pub cassette: &'a Cassette,
    pub agent: Model,
    pub caller: Option<Model>,
    pub judge: Option<Model>,
}

/// The configuration under test.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Subject {
    pub agent: String,
    /// `draft` or `vN`.
    pub version: String,
    pub tree: String,
    #[serde(skip)]
    pub config: Json,
}

/// Tokens and requests of a run.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Usage {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// What the priced requests cost (the providers' `input_per_million`/`output_per_million`).
    pub cost: f64,
    /// Requests to a provider with no prices configured.
    pub unpriced: u64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cost += other.cost;
        self.unpriced += other.unpriced;
    }
}

/// Why a run failed: the check (or the request) and where.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Failure {
    /// The caller's turn the check was on (0: the welcome message); `None` for an evaluation.
    pub turn: Option<usize>,
    /// The test file's line of the step or evaluation.
    pub line: Option<u32>,
    pub message: String,
}

/// One side of the conversation.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Turn {
    pub speaker: &'static str,
    pub text: String,
    pub calls: Vec<Call>,
}

/// What one run did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunResult {
    pub run: u32,
    pub failure: Option<Failure>,
    pub transcript: Vec<Turn>,
    pub usage: Usage,
}

/// The most tool rounds in one reply before the agent is said to loop.
const MAX_TOOL_ROUNDS: usize = 5;

struct Conversation<'a> {
    env: &'a Env<'a>,
    test: &'a TestDoc,
    subject: &'a Subject,
    run: u32,
    order: usize,
    messages: Vec<Json>,
    transcript: Vec<Turn>,
    usage: Usage,
    /// The caller turns so far.
    turn: usize,
    ended: bool,
}

/// Runs `test` once (run number `run`) against `subject`.
pub fn run(env: &Env<'_>, test: &TestDoc, subject: &Subject, run: u32) -> RunResult {
    let mut c = Conversation {
        env,
        test,
        subject,
        run,
        order: 0,
        messages: Vec::new(),
        transcript: Vec::new(),
        usage: Usage::default(),
        turn: 0,
        ended: false,
    };
    let failure = c.go().err();
    RunResult { run, failure, transcript: c.transcript, usage: c.usage }
}

/// `{{name}}` (spaces allowed inside) replaced by the variable's value; others left as written.
pub fn fill(text: &str, variables: &serde_json::Map<String, Json>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let name = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        match variables.get(name) {
            Some(Json::String(s)) => out.push_str(s),
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

impl Conversation<'_> {
    fn fail(&self, line: Option<u32>, message: String) -> Failure {
        Failure { turn: Some(self.turn), line, message }
    }

    fn go(&mut self) -> Result<(), Failure> {
        let config = &self.subject.config;
        let mut variables = serde_json::Map::new();
        for (name, v) in config["variables"].as_object().into_iter().flatten() {
            if let Some(default) = v.get("default") {
                variables.insert(name.clone(), default.clone());
            }
        }
        for (name, value) in &self.test.variables {
            variables.insert(name.clone(), value.clone());
        }
        let system = fill(config["prompt"]["system"].as_str().unwrap_or_default(), &variables);
        self.messages.push(json!({ "role": "system", "content": system }));
        let mut last = None;
        if let Some(welcome) = config["prompt"]["welcome_message"].as_str() {
            let text = fill(welcome, &variables);
            self.messages.push(json!({ "role": "assistant", "content": text }));
            self.transcript.push(Turn { speaker: "agent", text: text.clone(), calls: Vec::new() });
            last = Some(Reply { text, calls: Vec::new() });
        }
        match &self.test.simulate {
            Some(sim) => self.simulate(sim)?,
            None => self.script(last)?,
        }
        self.evaluate()
    }

    fn script(&mut self, mut last: Option<Reply>) -> Result<(), Failure> {
        for step in &self.test.conversation {
            match step {
                Step::User { text, line } => {
                    if self.ended {
                        return Err(self.fail(Some(*line), "the agent ended the call before this turn".into()));
                    }
                    self.turn += 1;
                    self.caller_says(text);
                    last = Some(self.agent_turn(Some(*line))?);
                }
                Step::Expect { expect, line } => {
                    let Some(reply) = &last else {
                        let why = "there is no reply to check yet (the agent has no welcome message)";
                        return Err(self.fail(Some(*line), why.into()));
                    };
                    if let Some(why) = check::expect(reply, expect) {
                        return Err(self.fail(Some(*line), why));
                    }
                    if let Some(criterion) = &expect.judge {
                        let (pass, reason) = self.judge(criterion, Some(*line))?;
                        if !pass {
                            return Err(self.fail(Some(*line), format!("judge \"{criterion}\": {reason}")));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn caller_says(&mut self, text: &str) {
        self.messages.push(json!({ "role": "user", "content": text }));
        self.transcript.push(Turn { speaker: "caller", text: text.to_owned(), calls: Vec::new() });
    }

    fn simulate(&mut self, sim: &Simulate) -> Result<(), Failure> {
        let ends =
            |text: &str| sim.ends_when.as_deref().is_some_and(|w| text.to_lowercase().contains(&w.to_lowercase()));
        for _ in 0..sim.max_turns {
            self.turn += 1;
            let said = self.caller_turn(sim)?;
            self.caller_says(&said);
            let reply = self.agent_turn(None)?;
            if self.ended || ends(&said) || ends(&reply.text) {
                break;
            }
        }
        Ok(())
    }

    /// The simulated caller's next line: the conversation from its side (the agent's lines are
    /// what it hears, its own are its replies).
    fn caller_turn(&mut self, sim: &Simulate) -> Result<String, Failure> {
        let Some(model) = self.env.caller.clone() else {
            return Err(self.fail(
                None,
                "a simulated caller needs a caller model: set caller_model in agentver.toml's [test]".into(),
            ));
        };
        let persona = format!(
            "You are role-playing a caller phoning a voice agent, to test it. Persona and goal: {}\n\
             Speak as the caller only, one short turn at a time, as people do on the phone. When your goal is met or the call should end, say goodbye.",
            sim.caller
        );
        let mut messages = vec![json!({ "role": "system", "content": persona })];
        for t in &self.transcript {
            let role = if t.speaker == "agent" { "user" } else { "assistant" };
            let text = if t.text.is_empty() { "(silence)".to_owned() } else { t.text.clone() };
            messages.push(json!({ "role": role, "content": text }));
        }
        let body = json!({ "model": model.model, "messages": messages });
        let answer = self.ask(&model.provider, body, "the simulated caller")?;
        Ok(answer["choices"][0]["message"]["content"].as_str().unwrap_or_default().trim().to_owned())
    }

    /// The agent's reply to the conversation so far, answering its tool calls from the mocks.
    fn agent_turn(&mut self, line: Option<u32>) -> Result<Reply, Failure> {
        let mut reply = Reply::default();
        for _ in 0..MAX_TOOL_ROUNDS {
            let body = self.agent_body();
            let provider = self.env.agent.provider.clone();
            let answer = self.ask(&provider, body, "the agent").map_err(|f| Failure { line, ..f })?;
            let message = &answer["choices"][0]["message"];
            let calls: Vec<Json> = message["tool_calls"].as_array().cloned().unwrap_or_default();
            let text = message["content"].as_str().unwrap_or_default().trim().to_owned();
            let mut kept = json!({ "role": "assistant", "content": message["content"].clone() });
            if !calls.is_empty() {
                let sent: Vec<Json> = calls
                    .iter()
                    .map(|c| json!({ "id": c["id"], "type": "function", "function": { "name": c["function"]["name"], "arguments": c["function"]["arguments"] } }))
                    .collect();
                kept["tool_calls"] = Json::Array(sent);
            }
            self.messages.push(kept);
            if !text.is_empty() {
                reply.text = if reply.text.is_empty() { text } else { format!("{} {text}", reply.text) };
            }
            for call in &calls {
                let name = call["function"]["name"].as_str().unwrap_or_default().to_owned();
                let raw = call["function"]["arguments"].as_str().unwrap_or_default();
                let arguments = serde_json::from_str(raw).unwrap_or_else(|_| Json::String(raw.to_owned()));
                reply.calls.push(Call { name: name.clone(), arguments });
                let content = self.tool_answer(&name).map_err(|m| self.fail(line, m))?;
                self.messages.push(json!({ "role": "tool", "tool_call_id": call["id"], "content": content }));
            }
            if calls.is_empty() || self.ended {
                self.transcript.push(Turn { speaker: "agent", text: reply.text.clone(), calls: reply.calls.clone() });
                return Ok(reply);
            }
        }
        Err(self.fail(line, format!("the agent called tools {MAX_TOOL_ROUNDS} times in a row without answering")))
    }

    /// What a tool returns to the agent: its mock, or the end of the call for end_call and
    /// transfer_call; a tool without a mock fails the run (no tool is ever called).
    fn tool_answer(&mut self, name: &str) -> Result<String, String> {
        let tools = self.subject.config["tools"].as_array().cloned().unwrap_or_default();
        let Some(tool) = tools.iter().find(|t| t["name"] == name) else {
            return Err(format!("the agent called '{name}', which is not one of its tools"));
        };
        if matches!(tool["type"].as_str(), Some("end_call" | "transfer_call")) {
            self.ended = true;
            return Ok("the call ends here".into());
        }
        match self.test.mocks.get(name) {
            Some(Mock::Result(v)) => Ok(v.to_string()),
            Some(Mock::Error(e)) => Ok(json!({ "error": e }).to_string()),
            None => Err(format!(
                "the agent called '{name}', which has no mock (a test never calls a tool): add mocks: {{{name}: {{result: {{...}}}}}}"
            )),
        }
    }

    fn agent_body(&self) -> Json {
        let llm = &self.subject.config["llm"];
        let mut body = json!({ "model": self.env.agent.model, "messages": self.messages });
        for key in ["temperature", "max_tokens"] {
            if let Some(v) = llm.get(key) {
                body[key] = v.clone();
            }
        }
        let tools: Vec<Json> = self.subject.config["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let mut function = json!({ "name": t["name"], "parameters": t.get("parameters").cloned().unwrap_or(json!({ "type": "object", "properties": {} })) });
                if let Some(d) = t.get("description") {
                    function["description"] = d.clone();
                }
                json!({ "type": "function", "function": function })
            })
            .collect();
        if !tools.is_empty() {
            body["tools"] = Json::Array(tools);
        }
        body
    }

    /// Sends `body` (or answers it from the cassette), counting its tokens.
    fn ask(&mut self, provider: &Provider, body: Json, who: &str) -> Result<Json, Failure> {
        self.order += 1;
        let key = cassette::key(self.run, &body);
        let answer = match self.env.mode {
            Mode::Replay => self.env.cassette.answer(&key).ok_or_else(|| {
                self.fail(None, format!("{who}'s request is not in the test's cassette: the prompt, the test or the model changed since it was recorded; record it again"))
            })?,
            Mode::Live | Mode::Record => {
                let answer = self.env.client.complete(provider, &body).map_err(|e| self.fail(None, format!("{who}: {e}")))?;
                if self.env.mode == Mode::Record {
                    let subject = format!("{}@{}", self.subject.agent, self.subject.version);
                    self.env.cassette.record(&subject, self.run, self.order, key, &body, &answer);
                }
                answer
            }
        };
        let (input, output) = (
            answer["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            answer["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        );
        self.usage.requests += 1;
        self.usage.input_tokens += input;
        self.usage.output_tokens += output;
        match provider.prices {
            Some((i, o)) => self.usage.cost += (input as f64 * i + output as f64 * o) / 1e6,
            None => self.usage.unpriced += 1,
        }
        Ok(answer)
    }

    fn transcript_text(&self) -> String {
        let mut out = String::new();
        for t in &self.transcript {
            let who = if t.speaker == "agent" { "Agent" } else { "Caller" };
            out.push_str(&format!("{who}: {}\n", t.text));
            for call in &t.calls {
                out.push_str(&format!("Agent called tool {} with {}\n", call.name, call.arguments));
            }
        }
        out
    }

    /// Asks the judge for a JSON answer to `question` about the conversation so far.
    fn ask_judge(&mut self, question: String, line: Option<u32>) -> Result<Json, Failure> {
        let Some(model) = self.env.judge.clone() else {
            return Err(
                self.fail(line, "a judge needs a judge model: set judge_model in agentver.toml's [test]".into())
            );
        };
        let system = "You are a strict evaluator of a phone conversation between a caller and a voice agent. Answer with one JSON object and nothing else.";
        let body = json!({
            "model": model.model,
            "messages": [{ "role": "system", "content": system }, { "role": "user", "content": question }],
            "temperature": 0,
            "response_format": { "type": "json_object" },
        });
        let answer = self.ask(&model.provider, body, "the judge").map_err(|f| Failure { line, ..f })?;
        let content = answer["choices"][0]["message"]["content"].as_str().unwrap_or_default();
        serde_json::from_str(content)
            .map_err(|_| self.fail(line, format!("the judge's answer is not JSON: {}", check::quote(content))))
    }

    fn judge(&mut self, criterion: &str, line: Option<u32>) -> Result<(bool, String), Failure> {
        let question = format!(
            "Criterion: {criterion}\n\nTranscript:\n{}\nDoes the agent meet the criterion? Answer {{\"pass\": true or false, \"reason\": \"one sentence\"}}.",
            self.transcript_text()
        );
        let verdict = self.ask_judge(question, line)?;
        match (verdict["pass"].as_bool(), verdict["reason"].as_str()) {
            (Some(pass), reason) => Ok((pass, reason.unwrap_or("no reason given").to_owned())),
            _ => Err(self.fail(line, format!("the judge's answer has no boolean \"pass\": {verdict}"))),
        }
    }

    fn evaluate(&mut self) -> Result<(), Failure> {
        let calls: Vec<Call> = self.transcript.iter().flat_map(|t| t.calls.clone()).collect();
        for item in &self.test.evaluate {
            let line = Some(item.line);
            let failed = match &item.check {
                EvalCheck::Judge(criterion) => {
                    let (pass, reason) = self.judge(criterion, line)?;
                    (!pass).then(|| format!("judge \"{criterion}\": {reason}"))
                }
                EvalCheck::ToolCalled(c) => {
                    check::called(&calls, c).map(|why| format!("tool_called {}: {why}", c.name))
                }
                EvalCheck::NoToolCalled(n) => {
                    calls.iter().any(|c| &c.name == n).then(|| format!("no_tool_called {n}: the agent called it"))
                }
                EvalCheck::Extract { name, kind, description, equals } => {
                    let question = format!(
                        "Extract: {name} ({kind}): {description}\n\nTranscript:\n{}\nAnswer {{\"value\": the {kind}, or null when the conversation does not say}}.",
                        self.transcript_text()
                    );
                    let got = self.ask_judge(question, line)?["value"].clone();
                    (!check::same_value(&got, equals)).then(|| format!("extract {name}: {got}, not {equals}"))
                }
            };
            if let Some(message) = failed {
                return Err(Failure { turn: None, line, message });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_fill_the_prompt_and_unknown_ones_stay() {
        let mut vars = serde_json::Map::new();
        vars.insert("first_name".into(), json!("Dana"));
        vars.insert("n".into(), json!(3));
        assert_eq!(fill("Hi {{first_name}}, {{ n }} left, {{other}} {{", &vars), "Hi Dana, 3 left, {{other}} {{");
    }
}
