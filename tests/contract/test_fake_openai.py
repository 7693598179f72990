"""The fake OpenAI server (fake_openai.py) proved with the `openai` package's own client.

Every request here is made by `openai.OpenAI(base_url=fake.url, ...)`, so the fake is shown to accept
what the official client sends (its strict request check is not stricter than the API), to answer
what the client parses, and to refuse, fail, rate-limit and stall the way the client understands.
Each test ends with the fake's `problems` empty unless it expects some (then it checks and clears
them): the fake's own answers are checked against `ChatCompletion` before they are sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import openai
import pytest

import fake_openai

HERE = Path(__file__).resolve().parent
KEY = "test-key"
MODEL = "gpt-4o-mini"
AGENT_PROMPT = "You are the sales agent of Acme. Be brief."
CALLER_PROMPT = "You are role-playing a caller. Persona: Dana, wants a demo tomorrow morning."
JUDGE_PROMPT = "You are a strict evaluator of phone calls. Answer with a JSON object only."
BOOK_TOOL = {
    "type": "function",
    "function": {
        "name": "book_appointment",
        "description": "Book a demo.",
        "parameters": {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]},
    },
}
JSON_OBJECT = {"type": "json_object"}


@pytest.fixture
def fake():
    server = fake_openai.start(api_key=KEY)
    try:
        yield server
        assert server.problems == [], "the fake recorded problems the test did not expect"
    finally:
        server.stop()


def client_for(fake, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("api_key", KEY)
    return openai.OpenAI(base_url=fake.url, http_client=httpx.Client(trust_env=False), **kwargs)


def ask(fake, messages, **params):
    return client_for(fake).chat.completions.create(model=MODEL, messages=messages, **params)


def agent(text, prompt=AGENT_PROMPT, **params):
    return [{"role": "system", "content": prompt}, {"role": "user", "content": text}]


def words(messages) -> int:
    return sum(len(fake_openai.text_of(m.get("content")).split()) for m in messages)


# ---------------------------------------------------------------------------------------------
# the agent


def test_plain_reply_and_the_answer_fields(fake):
    messages = agent("Hello there")
    reply = ask(fake, messages, temperature=0.3, max_tokens=200)
    assert reply.choices[0].message.content == fake_openai.GREETING
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.tool_calls is None
    assert reply.id == "chatcmpl-1" and reply.created == fake_openai.CREATED and reply.model == MODEL
    assert reply.object == "chat.completion"
    completion = len(fake_openai.GREETING.split())
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (
        words(messages), completion, words(messages) + completion)
    assert fake.requests == [{"model": MODEL, "messages": messages, "temperature": 0.3, "max_tokens": 200}]
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"
    assert ask(fake, messages).id == "chatcmpl-2"


def test_the_agent_says_its_name(fake):
    prompt = "You are a sales agent.\nYour name is Ada Lovelace. Be kind."
    assert ask(fake, agent("hi", prompt)).choices[0].message.content == "Hi, this is Ada Lovelace. How can I help you today?"
    developer = [{"role": "developer", "content": "Your name is Bo"}, {"role": "user", "content": "hello"}]
    assert ask(fake, developer).choices[0].message.content == "Hi, this is Bo. How can I help you today?"


@pytest.mark.parametrize("text", ["How much is the Pro plan?", "What does it COST?", "Tell me the price"])
def test_prices_only_when_the_prompt_allows(fake, text):
    assert ask(fake, agent(text)).choices[0].message.content == fake_openai.NO_PRICE
    allowed = ask(fake, agent(text, AGENT_PROMPT + " QUOTE_PRICES"))
    assert allowed.choices[0].message.content == "The Pro plan is $99 a month."


def test_goodbye(fake):
    assert ask(fake, agent("OK, bye now")).choices[0].message.content == "Thanks for calling, goodbye!"


def test_a_tool_call_round_trip(fake):
    messages = agent("Book a demo tomorrow at 10.")
    reply = ask(fake, messages, tools=[BOOK_TOOL])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "book_appointment"
    assert json.loads(call.function.arguments) == {"date": "2026-12-09T10:00"}
    assert call.id.startswith("call_")
    assert reply.usage.completion_tokens == 10

    # The tool's result goes back as the client's own types would send it.
    messages += [
        choice.message.model_dump(exclude_none=True, exclude={"annotations", "refusal"}),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"ok": True, "time": "2026-12-09T10:00"})},
    ]
    done = ask(fake, messages, tools=[BOOK_TOOL])
    assert done.choices[0].message.content == "Your demo is booked."
    messages[-1]["content"] = json.dumps({"error": "slot taken"})
    assert ask(fake, messages, tools=[BOOK_TOOL]).choices[0].message.content == "Sorry, I could not book that."
    # The call's id depends only on the messages.
    assert ask(fake, agent("Book a demo tomorrow at 10."), tools=[BOOK_TOOL]).choices[0].message.tool_calls[0].id == call.id


def test_booking_without_the_tool_is_refused(fake):
    other = {"type": "function", "function": {"name": "transfer_call", "parameters": {"type": "object"}}}
    assert ask(fake, agent("book a demo at 10am"), tools=[other]).choices[0].message.content == "I cannot book appointments."
    assert ask(fake, agent("book a demo at 10am")).choices[0].message.content == "I cannot book appointments."
    # "book" without a time is no booking.
    assert ask(fake, agent("I'd like to book a demo"), tools=[BOOK_TOOL]).choices[0].message.content == fake_openai.GREETING


@pytest.mark.parametrize("text, expected", [
    ("at 10", "10:00"), ("10:00", "10:00"), ("10am", "10:00"), ("10 a.m.", "10:00"), ("at 3pm", "15:00"),
    ("9:30", "09:30"), ("12am", "00:00"), ("12 pm", "12:00"), ("tomorrow at 9 please", "09:00"),
    ("room 10", None), ("2 people", None), ("at 25", None), ("", None),
])
def test_booking_times(text, expected):
    assert fake_openai.booking_time(text) == expected


# ---------------------------------------------------------------------------------------------
# the caller and the judge


def test_the_caller_lines_follow_its_own_turns(fake):
    conversation = [{"role": "system", "content": CALLER_PROMPT}]
    heard = []
    for agent_line in ["Hello, Acme sales.", "Sure, when?", "Your demo is booked.", "Goodbye!", "Still there?"]:
        conversation.append({"role": "user", "content": agent_line})
        line = ask(fake, conversation).choices[0].message.content
        heard.append(line)
        conversation.append({"role": "assistant", "content": line})
    assert heard == ["Hi, I'd like to book a demo.", "Tomorrow at 10 please, book it.", "Great, thanks. Bye!", "Bye.", "Bye."]
    # The caller may speak first (no agent line yet).
    assert ask(fake, conversation[:1]).choices[0].message.content == "Hi, I'd like to book a demo."


def judge(fake, question):
    messages = [{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": question}]
    reply = ask(fake, messages, response_format=JSON_OBJECT, temperature=0)
    return json.loads(reply.choices[0].message.content)


def test_judge_verdicts(fake):
    clean = "Transcript:\nagent: I can email you our pricing.\ncaller: thanks"
    assert judge(fake, "Criterion: The agent does not state a price.\n" + clean) == {"pass": True, "reason": "the criterion holds"}
    priced = "Criterion: The agent does not state a price.\nTranscript:\nagent: It is $99 a month."
    assert judge(fake, priced) == {"pass": False, "reason": "the agent stated a price"}
    failing = "Criterion: Anything [always fails]\n" + clean
    assert judge(fake, failing) == {"pass": False, "reason": "the criterion is marked to always fail"}
    # A "$" in the criterion is not one in the transcript.
    assert judge(fake, "Criterion: never says $\n" + clean)["pass"] is True


def test_judge_extractions(fake):
    transcript = "Transcript:\ncaller: 2 of us, tomorrow at 10\nagent: Your demo is booked for 2026-12-09T10:00."
    assert judge(fake, "Extract: booked (boolean)\n" + transcript) == {"value": True}
    assert judge(fake, "Extract: booked (boolean)\nTranscript:\nagent: sorry") == {"value": False}
    assert judge(fake, "Extract: party_size, type number\n" + transcript) == {"value": 2}
    assert judge(fake, "Extract: party_size (number)\nTranscript: none") == {"value": None}
    assert judge(fake, "Extract: booked_time (string): the time booked\n" + transcript) == {"value": "10:00"}
    assert judge(fake, "Extract: booked_time (string)\nTranscript:\ncaller: at 9:05") == {"value": "09:05"}
    assert judge(fake, "Extract: booked_time (string)\nTranscript:\ncaller: hello") == {"value": ""}


def test_judge_requests_must_ask_for_json(fake):
    messages = [{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": "Criterion: x\nTranscript: y"}]
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake, messages)
    assert "response_format" in caught.value.message
    assert fake.problems == ["request 1: judge request without response_format of type json_object or json_schema"]
    fake.problems.clear()
    with pytest.raises(openai.BadRequestError):
        ask(fake, [messages[0], {"role": "user", "content": "How did it go?"}], response_format=JSON_OBJECT)
    assert len(fake.problems) == 1 and "neither" in fake.problems[0]
    fake.problems.clear()


# ---------------------------------------------------------------------------------------------
# refusals and failures


def test_a_wrong_key_is_401(fake):
    with pytest.raises(openai.AuthenticationError) as caught:
        client_for(fake, api_key="wrong").chat.completions.create(model=MODEL, messages=agent("hi"))
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key" and caught.value.type == "invalid_request_error"
    assert caught.value.body["param"] is None


def test_an_unknown_key_is_400_and_a_problem(fake):
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(fake).chat.completions.create(model=MODEL, messages=agent("hi"), extra_body={"temprature": 0.2})
    assert caught.value.status_code == 400 and caught.value.type == "invalid_request_error"
    assert "temprature: unknown key" in caught.value.message
    assert fake.problems == ["request 1: temprature: unknown key (not a key of CompletionCreateParamsNonStreaming)"]
    fake.problems.clear()


def test_a_wrong_type_and_a_bad_role_are_problems(fake):
    with pytest.raises(openai.BadRequestError):
        ask(fake, [{"role": "caller", "content": "hi"}], temperature="warm")
    assert any(p.startswith("request 1: messages[0].role: 'caller' is not one of") for p in fake.problems)
    assert any(p.startswith("request 1: temperature: expected number") for p in fake.problems)
    fake.problems.clear()


def test_streaming_is_refused(fake):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake, agent("hi"), stream=True)
    assert "stream" in caught.value.message
    assert any("stream: true is not served" in p for p in fake.problems)
    fake.problems.clear()


def test_the_api_rules_beyond_the_type(fake):
    call = {"id": "call_1", "type": "function", "function": {"name": "book_appointment", "arguments": "{}"}}
    cases = {
        "messages with role 'tool' must be a response": agent("hi") + [{"role": "tool", "tool_call_id": "call_1", "content": "ok"}],
        "must be followed by tool messages": agent("hi") + [{"role": "assistant", "tool_calls": [call]}, {"role": "user", "content": "?"}],
        "answers no tool call": agent("hi") + [{"role": "assistant", "tool_calls": [call]},
                                               {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
                                               {"role": "tool", "tool_call_id": "call_2", "content": "ok"}],
    }
    for expected, messages in cases.items():
        with pytest.raises(openai.BadRequestError) as caught:
            ask(fake, messages, tools=[BOOK_TOOL])
        assert expected in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake, agent("hi"), response_format=JSON_OBJECT)
    assert "the word 'json'" in caught.value.message
    bad_tool = {"type": "function", "function": {"name": "book appointment", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake, agent("hi"), tools=[bad_tool])
    assert "does not match" in caught.value.message
    assert len(fake.problems) == 5
    fake.problems.clear()


def test_fail_400_is_no_problem(fake):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake, agent("please fail-400"))
    assert caught.value.type == "invalid_request_error" and "fail-400" in caught.value.message


def test_fail_500(fake):
    with pytest.raises(openai.InternalServerError) as caught:
        ask(fake, agent("this will FAIL-500"))
    assert caught.value.status_code == 500 and caught.value.type == "server_error"


def test_429_once_then_the_clients_retry_succeeds(fake):
    started = time.monotonic()
    reply = client_for(fake, max_retries=2).chat.completions.create(model=MODEL, messages=agent("fail-429-once"))
    assert reply.choices[0].message.content == fake_openai.GREETING
    assert time.monotonic() - started >= 0.9  # the client waited the Retry-After second
    assert len(fake.requests) == 2 and fake.requests[0] == fake.requests[1]
    # Once per exact messages list: the same messages are answered; other messages get their own 429.
    assert ask(fake, agent("fail-429-once")).choices[0].message.content == fake_openai.GREETING
    with pytest.raises(openai.RateLimitError) as caught:
        ask(fake, agent("fail-429-once, again"))
    assert caught.value.status_code == 429 and caught.value.type == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after"] == "1"


def test_a_stall_times_the_client_out_and_never_blocks_stop():
    server = fake_openai.start(api_key=KEY)
    try:
        with pytest.raises(openai.APITimeoutError):
            client_for(server, timeout=0.5).chat.completions.create(model=MODEL, messages=agent("stall"))
        # "install" is no stall.
        assert ask(server, agent("how do I install it?")).choices[0].message.content == fake_openai.GREETING
    finally:
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
    assert server.problems == []


def test_a_broken_answer_is_a_500_and_a_problem(fake, monkeypatch):
    monkeypatch.setattr(fake_openai, "CREATED", "yesterday")
    with pytest.raises(openai.InternalServerError) as caught:
        ask(fake, agent("hi"))
    assert "breaks ChatCompletion" in caught.value.message
    assert fake.problems and all(p.startswith("response to request 1: created:") for p in fake.problems)
    fake.problems.clear()


def test_both_paths_and_an_unknown_one(fake):
    root = fake.url.removesuffix("/v1")
    assert ask(fake, agent("hi")).choices[0].message.content == fake_openai.GREETING
    bare = openai.OpenAI(base_url=root, api_key=KEY, max_retries=0, http_client=httpx.Client(trust_env=False))
    assert bare.chat.completions.create(model=MODEL, messages=agent("hi")).choices[0].message.content == fake_openai.GREETING
    with pytest.raises(openai.NotFoundError):
        client_for(fake).completions.create(model=MODEL, prompt="hi")


# ---------------------------------------------------------------------------------------------
# as a process


def test_the_command_line_server():
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), "--port", "0", "--api-key", "k2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("fake openai at http://127.0.0.1:") and line.endswith("/v1")
        url = line.removeprefix("fake openai at ")
        client = openai.OpenAI(base_url=url, api_key="k2", max_retries=0, http_client=httpx.Client(trust_env=False))
        assert client.chat.completions.create(model=MODEL, messages=agent("bye")).choices[0].message.content == fake_openai.GOODBYE
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=MODEL, messages=agent("hi"), extra_body={"nope": 1})
        with urllib.request.urlopen(url.removesuffix("/v1") + "/_fake/state", timeout=5) as answer:
            state = json.load(answer)
        assert [r["messages"][-1]["content"] for r in state["requests"]] == ["bye", "hi"]
        assert state["problems"] == ["request 2: nope: unknown key (not a key of CompletionCreateParamsNonStreaming)"]
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=5)
    assert "fake openai problem: request 2: nope: unknown key" in err
