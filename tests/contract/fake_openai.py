"""A deterministic OpenAI-compatible Chat Completions server: what `agentver test`'s runner is tested against.

Every request body is checked strictly (strict.py) against the `openai` package's own request type,
`CompletionCreateParamsNonStreaming`, plus a few rules the real API enforces beyond the type (tool
messages answering the assistant's tool calls, the word "json" with `response_format` json_object);
every answer is checked against `ChatCompletion` before it is sent. The answers are keyed on
content, by visible rules (below), so a test knows what each request gets.

Use:
    fake = start(api_key="test-key")   # in pytest; Fake.url is "http://127.0.0.1:PORT/v1"
    ... fake.requests, fake.headers, fake.problems ...
    fake.stop()

    target/contract-venv/bin/python tests/contract/fake_openai.py --port 0 --api-key K
        prints `fake openai at http://127.0.0.1:PORT/v1` (the port actually bound), serves until
        killed, and prints each problem to stderr as `fake openai problem: ...`. It needs the
        contract venv (openai, pydantic). From another process, `GET /_fake/state` (no auth)
        returns {"requests": [...], "problems": [...]}.

Endpoints: `POST /v1/chat/completions` and `POST /chat/completions`. Anything else is a 404 with an
OpenAI error body.

Requests (in this order):
- `Authorization: Bearer <api_key>` or 401 `invalid_api_key`.
- A body that is not a JSON object, breaks the request type, has `"stream": true`, or breaks the
  protocol rules: 400 `invalid_request_error` naming every problem; each is also recorded in
  `.problems` as `request N: ...` (N is the request's 1-based index in `.requests`).
- Who asks is told by the first message when its role is system or developer: containing
  "You are role-playing a caller" -> caller; "You are a strict evaluator" -> judge; else agent.
  A judge request must carry `response_format` of type json_object or json_schema (else 400 and
  a problem).

Agent (on the last message; texts are matched case-insensitively):
- role "tool": "Your demo is booked." if its content contains "ok", else "Sorry, I could not book
  that.";
- "fail-500" -> 500 server_error; "fail-429-once" -> 429 (`Retry-After: 1`) the first time those
  exact messages are seen by this server, answered normally after; "fail-400" -> 400;
  "stall" (as a word) -> waits 30 s (or until the server stops), then answers normally;
- "price", "cost" or "how much": "The Pro plan is $99 a month." if the system prompt contains
  "QUOTE_PRICES", else "I can't quote prices on the phone, but I can email you our pricing.";
- "book" or "demo" and a time ("at 10", "10:00", "10am", "3 pm", "at 3pm" -> 15): a call of
  `book_appointment` with arguments `{"date": "2026-12-09THH:MM"}` (content null, finish_reason
  "tool_calls") if the request's tools has that function, else "I cannot book appointments.";
- "bye" -> "Thanks for calling, goodbye!";
- else "Hi! How can I help you today?", or "Hi, this is X. How can I help you today?" when the
  system prompt says "Your name is X" (X runs to the end of the line or the first . , ! ? ;).

Caller: the count of assistant messages (the caller's own earlier lines) picks the line:
0 "Hi, I'd like to book a demo.", 1 "Tomorrow at 10 please, book it.", 2 "Great, thanks. Bye!",
later "Bye.".

Judge (on the last user message; the answer is a JSON object as the message content):
- "Extract:" -> `{"value": ...}`. The rest of the Extract line names the value and its type (the
  first of string/number/boolean on that line, default string). The transcript is the text after
  "Transcript:" if present, else the whole message. boolean: whether the transcript contains
  "booked"; number: its first integer (null if none); string: its first time "H:MM"/"HH:MM" (also
  inside "2026-12-09T10:00"), hour zero-padded, else "".
- "Criterion:" and "Transcript:" -> `{"pass": false, "reason": "the agent stated a price"}` if the
  transcript contains "$"; `{"pass": false, "reason": "the criterion is marked to always fail"}` if
  the criterion contains "[always fails]"; else `{"pass": true, "reason": "the criterion holds"}`.
- anything else: 400 and a problem (the runner's judge prompt is not one the fake knows).

Answers: id "chatcmpl-N" (N counts answers, from 1), created 1765000000, model echoed, one choice
with `logprobs` null, the message with `refusal` null and `annotations` []; a tool call's id is
"call_" + the first 24 hex digits of the SHA-256 of the request's messages (stable however
requests interleave). usage: prompt_tokens = the words (whitespace-split) of every message's text
content, completion_tokens = the reply's words (10 for a tool call), total their sum. An answer
that breaks `ChatCompletion` is a bug in the fake: 500, and a problem `response to request N: ...`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import strict  # noqa: E402  (needs the path above)
from openai.types.chat import ChatCompletion  # noqa: E402
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming  # noqa: E402

__all__ = ["Fake", "start", "CREATED", "STALL_SECONDS"]

CREATED = 1765000000
STALL_SECONDS = 30.0
PATHS = ("/v1/chat/completions", "/chat/completions")
OPENAI_VERSION = metadata.version("openai")

CALLER_MARK = "you are role-playing a caller"
JUDGE_MARK = "you are a strict evaluator"

CALLER_LINES = ("Hi, I'd like to book a demo.", "Tomorrow at 10 please, book it.", "Great, thanks. Bye!")
CALLER_LAST = "Bye."

BOOKED = "Your demo is booked."
NOT_BOOKED = "Sorry, I could not book that."
PRICE = "The Pro plan is $99 a month."
NO_PRICE = "I can't quote prices on the phone, but I can email you our pricing."
NO_BOOKING_TOOL = "I cannot book appointments."
GOODBYE = "Thanks for calling, goodbye!"
GREETING = "Hi! How can I help you today?"
BOOKING_DATE = "2026-12-09"
TOOL_CALL_TOKENS = 10

# "at 10", "10:00", "10am", "10 a.m.", "at 3pm"; an hour must come with "at", minutes or am/pm.
_TIME = re.compile(
    r"(?P<at>\bat\s+)?\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?:\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z]))?(?![\d:])"
)
_NAME = re.compile(r"your name is\s+([^\n.,!?;]+)", re.IGNORECASE)
_CLOCK = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")
_INT = re.compile(r"-?\d+")


@dataclass
class Reply:
    """What the server answers: a status, a JSON body and extra headers."""

    status: int
    body: dict
    headers: dict = field(default_factory=dict)


def _error(status: int, message: str, type_: str, code: str | None = None, param: str | None = None, headers=None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": param, "code": code}}, headers or {})


def text_of(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def booking_time(text: str) -> str | None:
    """The first time of day said in `text` as "HH:MM", or None."""
    for m in _TIME.finditer(text.lower()):
        if not (m.group("at") or m.group("m") or m.group("ap")):
            continue
        hour, minute = int(m.group("h")), int(m.group("m") or 0)
        ap = (m.group("ap") or "").replace(".", "")
        if ap:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ap == "pm" else 0)
        if hour > 23 or minute > 59:
            continue
        return f"{hour:02d}:{minute:02d}"
    return None


class Fake:
    """A running fake server. `url` ends in /v1; `requests` holds every JSON body received (in
    order, whatever its answer), `headers` the matching request headers (names lower-cased),
    `problems` every validation problem; all three are appended under a lock."""

    def __init__(self, api_key: str = "test-key", host: str = "127.0.0.1", port: int = 0,
                 on_problem: Callable[[str], None] | None = None, stall_seconds: float = STALL_SECONDS):
        self.api_key = api_key
        self.requests: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.problems: list[str] = []
        self.stall_seconds = stall_seconds
        self._on_problem = on_problem
        self._lock = threading.Lock()
        self._seen_429: set[str] = set()
        self._answers = 0
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True)

    def serve_in_background(self) -> "Fake":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wakes stalled handlers (their threads are daemons) and closes the socket."""
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> "Fake":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- bookkeeping --------------------------------------------------------------------------

    def _record(self, body: Any, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return len(self.requests)

    def _problem(self, line: str) -> None:
        with self._lock:
            self.problems.append(line)
        if self._on_problem:
            self._on_problem(line)

    def state(self) -> dict:
        with self._lock:
            return {"requests": list(self.requests), "problems": list(self.problems)}

    # -- one request --------------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        if path.split("?")[0].rstrip("/") not in PATHS:
            return _error(404, f"Unknown request URL: POST {path}.", "invalid_request_error", "unknown_url")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            n = self._record(None, headers)
            self._problem(f"request {n}: the body is not JSON ({exc})")
            return _error(400, f"We could not parse the JSON body of your request. ({exc})", "invalid_request_error")
        n = self._record(body, headers)

        if headers.get("authorization", "") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")

        problems = self._request_problems(body)
        role = _who(body) if not problems else None
        if role == "judge" and not problems:
            fmt = body.get("response_format")
            if not (isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")):
                problems.append("judge request without response_format of type json_object or json_schema")
        if problems:
            for p in problems:
                self._problem(f"request {n}: {p}")
            return _error(400, f"Invalid request ({len(problems)} problem(s) against openai=={OPENAI_VERSION} "
                          f"CompletionCreateParamsNonStreaming and the API's rules): " + "; ".join(problems),
                          "invalid_request_error")

        if role == "caller":
            answer = self._caller(body)
        elif role == "judge":
            answer = self._judge(body, n)
        else:
            answer = self._agent(body)
        if isinstance(answer, Reply):
            return answer
        return self._completion(body, n, answer)

    def _request_problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return [f"the body must be a JSON object, got {type(body).__name__}"]
        found = strict.errors(CompletionCreateParamsNonStreaming, body)
        if body.get("stream") is True:
            found.append("stream: true is not served by the fake (the runner must not stream)")
        messages = body.get("messages")
        if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
            found += _protocol_problems(body, messages)
        return found

    # -- the three roles ----------------------------------------------------------------------

    def _agent(self, body: dict) -> Reply | str | dict:
        messages = body["messages"]
        system = _system_text(messages)
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            return BOOKED if "ok" in text_of(last.get("content")).lower() else NOT_BOOKED
        text = text_of(last.get("content")).lower()
        if "fail-500" in text:
            return _error(500, "The server had an error while processing your request (fail-500).", "server_error")
        if "fail-429-once" in text:
            key = json.dumps(messages, sort_keys=True)
            with self._lock:
                first = key not in self._seen_429
                self._seen_429.add(key)
            if first:
                return _error(429, "Rate limit reached (fail-429-once). Please try again in 1s.",
                              "rate_limit_exceeded", "rate_limit_exceeded", headers={"Retry-After": "1"})
        if "fail-400" in text:
            return _error(400, "Invalid request (fail-400).", "invalid_request_error")
        if re.search(r"\bstall\b", text):
            self._stopping.wait(self.stall_seconds)
        if any(w in text for w in ("price", "cost", "how much")):
            return PRICE if "quote_prices" in system.lower() else NO_PRICE
        if "book" in text or "demo" in text:
            when = booking_time(text)
            if when is not None:
                if "book_appointment" not in _tool_names(body):
                    return NO_BOOKING_TOOL
                return {"name": "book_appointment", "arguments": json.dumps({"date": f"{BOOKING_DATE}T{when}"})}
        if "bye" in text:
            return GOODBYE
        name = _NAME.search(system)
        if name and name.group(1).strip():
            return f"Hi, this is {name.group(1).strip()}. How can I help you today?"
        return GREETING

    def _caller(self, body: dict) -> str:
        said = sum(1 for m in body["messages"] if m.get("role") == "assistant")
        return CALLER_LINES[said] if said < len(CALLER_LINES) else CALLER_LAST

    def _judge(self, body: dict, n: int) -> Reply | str:
        users = [m for m in body["messages"] if m.get("role") == "user"]
        text = text_of(users[-1].get("content")) if users else ""
        low = text.lower()
        if "extract:" in low:
            start = low.index("extract:") + len("extract:")
            line = low[start:].split("\n", 1)[0]
            kind = next((w for w in re.findall(r"[a-z]+", line) if w in ("string", "number", "boolean")), "string")
            transcript = text[low.index("transcript:") + len("transcript:"):] if "transcript:" in low else text
            if kind == "boolean":
                value: Any = "booked" in transcript.lower()
            elif kind == "number":
                m = _INT.search(transcript)
                value = int(m.group()) if m else None
            else:
                m = _CLOCK.search(transcript)
                value = f"{int(m.group(1)):02d}:{m.group(2)}" if m else ""
            return json.dumps({"value": value})
        if "criterion:" in low and "transcript:" in low:
            c, t = low.index("criterion:"), low.index("transcript:")
            criterion = low[c + len("criterion:"):t] if c < t else low[c + len("criterion:"):]
            transcript = low[t + len("transcript:"):c] if t < c else low[t + len("transcript:"):]
            if "$" in transcript:
                return json.dumps({"pass": False, "reason": "the agent stated a price"})
            if "[always fails]" in criterion:
                return json.dumps({"pass": False, "reason": "the criterion is marked to always fail"})
            return json.dumps({"pass": True, "reason": "the criterion holds"})
        problem = "judge request whose last user message has neither \"Extract:\" nor \"Criterion:\" with \"Transcript:\""
        self._problem(f"request {n}: {problem}")
        return _error(400, f"The fake judge does not know this request: {problem}.", "invalid_request_error")

    # -- the answer ---------------------------------------------------------------------------

    def _completion(self, body: dict, n: int, answer: str | dict) -> Reply:
        messages = body["messages"]
        with self._lock:
            self._answers += 1
            number = self._answers
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
        if isinstance(answer, dict):
            digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:24]
            message["tool_calls"] = [{"id": f"call_{digest}", "type": "function", "function": answer}]
            finish, completion_tokens = "tool_calls", TOOL_CALL_TOKENS
        else:
            message["content"] = answer
            finish, completion_tokens = "stop", len(answer.split())
        prompt_tokens = sum(len(text_of(m.get("content")).split()) for m in messages)
        out = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": CREATED,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }
        bad = strict.errors(ChatCompletion, out)
        if bad:
            for p in bad:
                self._problem(f"response to request {n}: {p}")
            return _error(500, "The fake built an answer that breaks ChatCompletion: " + "; ".join(bad), "server_error")
        return Reply(200, out)


def _system_text(messages: list[dict]) -> str:
    if messages and messages[0].get("role") in ("system", "developer"):
        return text_of(messages[0].get("content"))
    return ""


def _who(body: dict) -> str:
    system = _system_text(body["messages"]).lower()
    if CALLER_MARK in system:
        return "caller"
    if JUDGE_MARK in system:
        return "judge"
    return "agent"


def _tool_names(body: dict) -> set[str]:
    names = set()
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            names.add(tool["function"].get("name"))
    return names


def _protocol_problems(body: dict, messages: list[dict]) -> list[str]:
    """Rules the real API enforces beyond the request type (its own 400s)."""
    found: list[str] = []
    if not messages:
        found.append("messages: must not be empty")
    # Every tool call of an assistant message is answered by the tool messages right after it,
    # and a tool message answers a call of the assistant message before that run.
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.get("role") == "assistant" and m.get("tool_calls"):
            ids = [c.get("id") for c in m["tool_calls"] if isinstance(c, dict)]
            j = i + 1
            answered = []
            while j < len(messages) and messages[j].get("role") == "tool":
                tid = messages[j].get("tool_call_id")
                if tid not in ids:
                    found.append(f"messages[{j}].tool_call_id: {tid!r} answers no tool call of messages[{i}] (ids {ids!r})")
                answered.append(tid)
                j += 1
            missing = [t for t in ids if t not in answered]
            if missing:
                found.append(f"messages[{i}]: an assistant message with 'tool_calls' must be followed by tool "
                             f"messages responding to each 'tool_call_id'; not answered: {missing!r}")
            i = j
            continue
        if m.get("role") == "tool":
            found.append(f"messages[{i}]: messages with role 'tool' must be a response to a preceding message with 'tool_calls'")
        i += 1
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        if not any("json" in text_of(m.get("content")).lower() for m in messages):
            found.append("messages: must contain the word 'json' in some form, to use 'response_format' of type 'json_object'")
    for k, tool in enumerate(body.get("tools") or []):
        name = tool.get("function", {}).get("name") if isinstance(tool, dict) and isinstance(tool.get("function"), dict) else None
        if isinstance(name, str) and not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name):
            found.append(f"tools[{k}].function.name: {name!r} does not match '^[a-zA-Z0-9_-]{{1,64}}$'")
    return found


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler never holds up stop() or the interpreter's exit
    allow_reuse_address = True
    fake: Fake

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # the client went away (a timed-out client, a stopped server)
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass

    def _send(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):  # noqa: N802
        raw = self._read()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.server.fake.handle(self.path, headers, raw)
        except Exception as exc:  # a bug in the fake: say so, never hang the client
            self.server.fake._problem(f"the fake failed: {type(exc).__name__}: {exc}")
            reply = _error(500, f"The fake failed: {type(exc).__name__}: {exc}", "server_error")
        self._send(reply)

    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0] == "/_fake/state":
            self._send(Reply(200, self.server.fake.state()))
        else:
            self._send(_error(404, f"Unknown request URL: GET {self.path}.", "invalid_request_error", "unknown_url"))


def start(api_key: str = "test-key", **kwargs: Any) -> Fake:
    """A fake serving on a free loopback port in a daemon thread; call `.stop()` when done."""
    return Fake(api_key=api_key, **kwargs).serve_in_background()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0: a free one)")
    parser.add_argument("--api-key", default="test-key")
    args = parser.parse_args(argv)
    fake = Fake(api_key=args.api_key, port=args.port,
                on_problem=lambda line: print(f"fake openai problem: {line}", file=sys.stderr, flush=True))
    print(f"fake openai at {fake.url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._stopping.set()
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
