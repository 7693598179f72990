"""`agentver test`'s runner judged against the real protocol: the binary runs on a scratch copy of
agents.example and talks to the deterministic OpenAI-compatible fake (fake_openai.py), which checks
every request strictly against openai's `CompletionCreateParamsNonStreaming` (plus the API's own
rules) and every answer against `ChatCompletion`. Every test asserts `fake.problems == []`.

The scratch workspace is a git repository made in a tmp dir (`git init -b main`, agents.example
copied, committed) with HOME there, no system git config and a fixed identity and clock; its
agentver.toml points `[test.providers.openai]` at the fake with `api_key_env = "FAKE_OPENAI_KEY"`.
The environment is built from nothing, so CI, OPENAI_API_KEY and the like only exist when a test
sets them.

Covered: recording (the cassettes written equal the committed ones), replay with the fake stopped
and no key (and a changed prompt failing each test), a live failing check with its place in the
file and the junit/json formats, provider errors (429 retried after Retry-After, 500 after four
attempts, 401, a stall past `[test] timeout`), tools never called (a missing mock fails, the
tool's URL is never contacted), the results in git notes read by `log` and `publish`'s
`require_tests`, and the simulated caller's and judge's requests.

The binary is `$AGENTVER_BIN`, else target/debug/agentver; this module never builds it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import fake_openai
from serve_fixture import hermetic_env

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "agents.example"
BIN = os.environ.get("AGENTVER_BIN", str(REPO_ROOT / "target" / "debug" / "agentver"))

KEY = "sk-fake-contract-0123456789"
KEY_ENV = "FAKE_OPENAI_KEY"
EXAMPLE_TESTS = ("sales-books-demo", "sales-no-prices", "sales-simulated-caller")
CALLER_MARK = "You are role-playing a caller"
JUDGE_MARK = "You are a strict evaluator"


def binary() -> str:
    if not Path(BIN).is_file():
        raise RuntimeError(f"agentver binary not found at {BIN}: build it (cargo build) or set AGENTVER_BIN")
    return BIN


@dataclass
class Ran:
    """One command's result, with its wall time."""

    argv: list[str]
    code: int
    out: str
    err: str
    seconds: float

    @property
    def both(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)} -> {self.code} in {self.seconds:.2f}s\nstdout:\n{self.out}\nstderr:\n{self.err}"


class Scratch:
    """agents.example as a fresh repository under `base`, its tests' provider being the fake at `url`."""

    def __init__(self, base: Path, url: str, toml_extra: str = "", test_extra: str = "") -> None:
        self.base = base
        self.root = base / "repo"
        self.home = base / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(EXAMPLE, self.root)
        toml = self.root / "agentver.toml"
        text = toml.read_text()
        if test_extra:  # keys of the existing [test] table
            assert "\n[test]\n" in text, "agents.example/agentver.toml has no [test] table"
            text = text.replace("\n[test]\n", "\n[test]\n" + test_extra.rstrip("\n") + "\n", 1)
        text = text.rstrip("\n") + f'\n\n[test.providers.openai]\nbase_url = "{url}"\napi_key_env = "{KEY_ENV}"\n'
        if toml_extra:
            text += "\n" + toml_extra.rstrip("\n") + "\n"
        toml.write_text(text)
        self.git("init", "-q", "-b", "main")
        self.commit_all("agents.example")

    def env(self, key: str | None = None, ci: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = hermetic_env(self.home)
        if key is not None:
            env[KEY_ENV] = key
        if ci is not None:
            env["CI"] = ci
        env.update(extra or {})
        return env

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 60) -> Ran:
        start = time.monotonic()
        done = subprocess.run(argv, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        return Ran(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - start)

    def av(self, *args: str, key: str | None = None, ci: str | None = None, extra: dict[str, str] | None = None) -> Ran:
        return self.run([binary(), *args], self.env(key, ci, extra))

    def git(self, *args: str) -> str:
        done = self.run(["git", *args], self.env())
        assert done.code == 0, str(done)
        return done.out.strip()

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        if self.git("status", "--porcelain"):
            self.git("commit", "-q", "-m", message)

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def append_to_prompt(self, line: str) -> None:
        """Adds `line` to sales's prompt.system (a block scalar: the line after the last one)."""
        path = self.root / "agents" / "sales.yaml"
        text = path.read_text()
        anchor = "    If the caller wants a demo, use book_appointment and confirm the date back to them.\n"
        assert anchor in text, "sales.yaml's prompt changed: update append_to_prompt"
        path.write_text(text.replace(anchor, anchor + f"    {line}\n", 1))


def requests_saying(fake: fake_openai.Fake, word: str) -> list[dict]:
    """The requests whose last message's text contains `word`."""
    out = []
    for body in fake.requests:
        if isinstance(body, dict) and body.get("messages"):
            if word in fake_openai.text_of(body["messages"][-1].get("content")):
                out.append(body)
    return out


def failure_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("  run ")]


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` holding `needle`."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.fixture
def fake():
    f = fake_openai.start(api_key=KEY)
    try:
        yield f
    finally:
        f.stop()


@pytest.fixture
def ws(tmp_path: Path, fake: fake_openai.Fake) -> Scratch:
    return Scratch(tmp_path, fake.url)


# --- 1. recording ---------------------------------------------------------------------------------

# The fake numbers its answers ("chatcmpl-N") over its whole life, and the runner's jobs run
# concurrently, so a response's id is the one byte range a recording cannot reproduce; everything
# else (keys, requests, answers, order) must be byte for byte what is committed.
_ANSWER_ID = re.compile(rb'"id":"chatcmpl-\d+"')


def test_record_writes_the_committed_cassettes(ws: Scratch, fake: fake_openai.Fake):
    cassettes = ws.root / "tests" / ".cassettes"
    shutil.rmtree(cassettes)  # whatever is there after the run was written by it

    ran = ws.av("test", "--record", key=KEY)

    assert ran.code == 0, str(ran)
    assert fake.problems == []
    for name in EXAMPLE_TESTS:
        assert re.search(rf"^{re.escape(name)}\s+sales@draft\s+\d+/\d+ passed.*\bok$", ran.out, re.M), str(ran)
    assert "3 tests: 3 passed, 0 failed" in ran.out, str(ran)
    assert "recorded in tests/.cassettes" in ran.out, str(ran)
    assert len(fake.requests) == 18, f"{len(fake.requests)} requests"  # 3 + 3x2 (repeat 3) + 9, as the committed cassettes hold
    assert all(h.get("authorization") == f"Bearer {KEY}" for h in fake.headers)
    assert all(body.get("stream") in (None, False) for body in fake.requests)

    written = sorted(p.name for p in cassettes.iterdir())
    assert written == sorted(f"{name}.jsonl" for name in EXAMPLE_TESTS)
    for name in written:
        mine = (cassettes / name).read_bytes()
        committed = (EXAMPLE / "tests" / ".cassettes" / name).read_bytes()
        assert _ANSWER_ID.sub(b'"id":"chatcmpl-N"', mine) == _ANSWER_ID.sub(b'"id":"chatcmpl-N"', committed), (
            f"tests/.cassettes/{name} differs from agents.example's beyond the answers' ids"
        )
        # every recorded request is one the fake saw and accepted
        for line in mine.decode().splitlines():
            entry = json.loads(line)
            assert entry["request"] in fake.requests
            assert KEY not in line, "the API key was recorded"


# --- 2. replay --------------------------------------------------------------------------------------


def test_replay_needs_no_provider_and_a_changed_prompt_fails_each_test(ws: Scratch, fake: fake_openai.Fake):
    fake.stop()

    ran = ws.av("test")  # no key: replay
    assert ran.code == 0, str(ran)
    assert "replayed from tests/.cassettes" in ran.out, str(ran)
    assert "3 tests: 3 passed, 0 failed" in ran.out, str(ran)
    assert ws.git("status", "--porcelain") == "", "a replay changed the work tree"

    ws.append_to_prompt("Always mention the spring promotion.")
    ran = ws.av("test")
    assert ran.code == 1, str(ran)
    assert "replayed from tests/.cassettes" in ran.out, str(ran)
    for name in EXAMPLE_TESTS:
        assert re.search(rf"^{re.escape(name)}\s+sales@draft\s+0/\d+ passed.*FAILED$", ran.out, re.M), str(ran)
    lines = failure_lines(ran.out)
    assert len(lines) == 5, str(ran)  # every run of each test: 1 + 3 + 1
    assert all("not in the test's cassette" in line for line in lines), str(ran)
    assert fake.requests == [] and fake.problems == []


def test_ci_replays_even_with_a_key(ws: Scratch, fake: fake_openai.Fake):
    ran = ws.av("test", key=KEY, ci="true")
    assert ran.code == 0, str(ran)
    assert "replayed from tests/.cassettes" in ran.out, str(ran)
    assert fake.requests == [], "a CI run sent requests"
    assert fake.problems == []


# --- 3. a live failing check --------------------------------------------------------------------------


def test_live_run_names_the_failed_check_and_its_line(ws: Scratch, fake: fake_openai.Fake):
    ws.append_to_prompt("QUOTE_PRICES: quote the Pro plan's price when asked.")
    where = line_of(ws.root / "tests" / "sales-no-prices.yaml", "not_contains")
    before = ws.git("status", "--porcelain")  # the prompt's change

    ran = ws.av("test", key=KEY)
    assert ran.code == 1, str(ran)
    assert "(live)" in ran.out, str(ran)
    assert re.search(r"^sales-no-prices\s+sales@draft\s+0/3 passed.*FAILED$", ran.out, re.M), str(ran)
    for name in ("sales-books-demo", "sales-simulated-caller"):
        assert re.search(rf"^{name}\s+sales@draft\s+1/1 passed.*ok$", ran.out, re.M), str(ran)
    lines = failure_lines(ran.out)
    assert len(lines) == 3, str(ran)
    for run, line in enumerate(lines, 1):
        assert line.startswith(f"  run {run}, turn 1 (tests/sales-no-prices.yaml:{where}): not_contains '$'"), line
        assert "$99" in line, line  # the reply is quoted

    junit = ws.av("test", "--format", "junit", key=KEY)
    assert junit.code == 1, str(junit)
    root = ET.fromstring(junit.out)
    cases = root.findall(".//testcase")
    assert len(cases) == 3
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].startswith("sales-no-prices"), failed
    failure = next(c for c in cases if c.find("failure") is not None).find("failure")
    assert "not_contains '$'" in (failure.text or "")

    js = ws.av("test", "--format", "json", key=KEY)
    assert js.code == 1, str(js)
    report = json.loads(js.out)
    assert report["ok"] is False and report["mode"] == "live"
    by_name = {t["test"]: t for t in report["tests"]}
    assert by_name["sales-no-prices"]["ok"] is False
    assert by_name["sales-no-prices"]["results"][0]["failure"]["line"] == where
    assert by_name["sales-books-demo"]["ok"] and by_name["sales-simulated-caller"]["ok"]
    assert fake.problems == []
    assert ws.git("status", "--porcelain") == before, "a live run changed the work tree"


# --- 4. provider errors -------------------------------------------------------------------------------

# The four runs wait on the runner's retries (Retry-After 1 s; backoff 0.5 + 1 + 2 s; a 1 s timeout
# four times), so they run at the same time, each in its own workspace against one fake, and each
# test below judges its own.


def _script(user: str) -> str:
    return (
        "agent: sales\n"
        f"description: The provider misbehaves ({user}).\n"
        "conversation:\n"
        f"  - user: {user}\n"
        "  - expect: {contains: [help]}\n"
    )


@pytest.fixture(scope="module")
def provider_errors(tmp_path_factory):
    fake = fake_openai.start(api_key=KEY)
    cases = {
        "429": ("provider-429", "Hello, fail-429-once please.", "", KEY),
        "500": ("provider-500", "Hello, fail-500 please.", "", KEY),
        "401": ("provider-401", "Hello there.", "", "sk-not-the-right-key"),
        "stall": ("provider-stall", "Hello, stall please.", "timeout = 1", KEY),
    }

    def one(item):
        label, (name, user, test_extra, key) = item
        scratch = Scratch(tmp_path_factory.mktemp(f"provider-{label}"), fake.url, test_extra=test_extra)
        scratch.write(f"tests/{name}.yaml", _script(user))
        scratch.commit_all(name)
        return label, scratch.av("test", name, key=key)

    try:
        with ThreadPoolExecutor(len(cases)) as pool:
            results = dict(pool.map(one, cases.items()))
        yield fake, results
    finally:
        fake.stop()


def test_429_is_retried_after_retry_after(provider_errors):
    fake, results = provider_errors
    ran = results["429"]
    assert ran.code == 0, str(ran)
    assert re.search(r"^provider-429\s+sales@draft\s+1/1 passed.*ok$", ran.out, re.M), str(ran)
    assert len(requests_saying(fake, "fail-429-once")) == 2
    assert ran.seconds >= 0.95, f"retried after {ran.seconds:.2f}s: Retry-After: 1 was not honoured"
    assert fake.problems == []


def test_500_fails_after_four_attempts_in_one_line(provider_errors):
    fake, results = provider_errors
    ran = results["500"]
    assert ran.code == 1, str(ran)
    assert len(requests_saying(fake, "fail-500")) == 4
    lines = failure_lines(ran.out)
    assert len(lines) == 1, str(ran)
    assert "openai" in lines[0] and "500" in lines[0], lines[0]
    assert "fail-500" in lines[0], "the provider's message is not quoted"
    assert ran.seconds < 15, f"{ran.seconds:.2f}s"
    assert fake.problems == []


def test_wrong_key_fails_with_401(provider_errors):
    fake, results = provider_errors
    ran = results["401"]
    assert ran.code == 1, str(ran)
    lines = failure_lines(ran.out)
    assert len(lines) == 1 and "401" in lines[0], str(ran)
    assert "sk-not-the-right-key" not in ran.both, "the key was printed"
    wrong = [h for h in fake.headers if h.get("authorization") == "Bearer sk-not-the-right-key"]
    assert len(wrong) == 1, f"a 401 was sent {len(wrong)} times (not worth retrying)"
    assert fake.problems == []


def test_stall_times_out(provider_errors):
    fake, results = provider_errors
    ran = results["stall"]
    assert ran.code == 1, str(ran)
    lines = failure_lines(ran.out)
    assert len(lines) == 1 and "no answer within 1 s" in lines[0], str(ran)
    assert ran.seconds < 15, f"a 1 s timeout took {ran.seconds:.2f}s"
    assert 1 <= len(requests_saying(fake, "stall please")) <= 4
    assert fake.problems == []


# --- 5. tools are never called -------------------------------------------------------------------------


class Listener:
    """A TCP listener on loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def test_a_tool_without_a_mock_fails_and_no_tool_is_contacted(ws: Scratch, fake: fake_openai.Fake):
    listener = Listener()
    try:
        tool = ws.root / "tools" / "book_appointment.yaml"
        text = tool.read_text()
        assert "url: https://hooks.example.com/book" in text
        tool.write_text(text.replace("https://hooks.example.com/book", f"http://127.0.0.1:{listener.port}/book", 1))
        ws.write(
            "tests/books-unmocked.yaml",
            "agent: sales\ndescription: Books without a mock.\nconversation:\n"
            "  - user: book a demo at 10\n  - expect: {contains: [booked]}\n",
        )
        ws.write(
            "tests/books-mocked.yaml",
            "agent: sales\ndescription: Books with a mock.\nmocks:\n  book_appointment: {result: {ok: true}}\n"
            "conversation:\n  - user: book a demo at 10\n  - expect: {contains: [booked]}\n",
        )
        ws.commit_all("a tool on a local listener")
        where = line_of(ws.root / "tests" / "books-unmocked.yaml", "- user:")
        env = {"BOOKING_TOKEN": "tok-123"}

        ran = ws.av("test", "books-unmocked", key=KEY, extra=env)
        assert ran.code == 1, str(ran)
        lines = failure_lines(ran.out)
        assert len(lines) == 1, str(ran)
        assert f"turn 1 (tests/books-unmocked.yaml:{where})" in lines[0], lines[0]
        assert "book_appointment" in lines[0] and "no mock" in lines[0], lines[0]

        ran = ws.av("test", "books-mocked", key=KEY, extra=env)
        assert ran.code == 0, str(ran)

        ran = ws.av("test", key=KEY, extra=env)  # everything, live: the example tests mock it too
        assert re.search(r"^books-unmocked\s.*FAILED$", ran.out, re.M), str(ran)
        assert re.search(r"^books-mocked\s.*ok$", ran.out, re.M), str(ran)
        for name in EXAMPLE_TESTS:
            assert re.search(rf"^{name}\s.*ok$", ran.out, re.M), str(ran)

        tool_calls = [b for b in fake.requests if isinstance(b, dict) and b["messages"][-1].get("role") == "tool"]
        assert tool_calls, "the agent never called the tool: the test proves nothing"
        assert all(str(listener.port) not in json.dumps(b) for b in fake.requests), "the tool's URL was sent"
        time.sleep(0.1)  # a late connection would still be counted
        assert listener.accepted == 0, f"the tool's URL was contacted {listener.accepted} times"
        assert fake.problems == []
    finally:
        listener.stop()


# --- 6. results in git notes ----------------------------------------------------------------------------


def test_results_are_kept_in_notes_for_log_and_publish(tmp_path: Path, fake: fake_openai.Fake):
    ws = Scratch(tmp_path, fake.url, toml_extra="[publish]\nrequire_tests = true\n")
    ran = ws.av("test", key=KEY)
    assert ran.code == 0, str(ran)

    shown = json.loads(ws.av("show", "sales@draft", "--json").out)
    tree = shown["tree"]
    note = json.loads(ws.git("notes", "--ref", "agentver/tests", "show", tree))
    assert sorted(note["tests"]) == sorted(EXAMPLE_TESTS), note
    for name, kept in note["tests"].items():
        assert kept["ok"] is True and kept["agent"] == "sales" and kept["mode"] == "live", (name, kept)
        assert kept["passed"] == kept["runs"] >= 1

    log = ws.av("log", "sales")
    assert log.code == 0, str(log)
    draft = [line for line in log.out.splitlines() if line.startswith("draft")]
    assert len(draft) == 1 and "tests 3/3 passed" in draft[0], str(log)

    refused = ws.av("publish", "support")
    assert refused.code == 1, str(refused)
    assert "require_tests" in refused.both and "support" in refused.both, str(refused)
    assert ws.git("tag", "-l", "agent/support/*") == ""

    skipped = ws.av("publish", "support", "--skip-tests")
    assert skipped.code == 0, str(skipped)
    message = ws.git("tag", "-l", "--format=%(contents)", "agent/support/v1")
    assert re.search(r"^Agentver-Tests: skipped$", message, re.M), message

    # sales's tests passed on the very tree publish makes: no override needed, no trailer
    published = ws.av("publish", "sales")
    assert published.code == 0, str(published)
    assert ws.git("rev-parse", "agent/sales/v1^{tree}") == tree
    assert "Agentver-Tests" not in ws.git("tag", "-l", "--format=%(contents)", "agent/sales/v1")
    assert fake.problems == []


# --- 7. the simulated caller and the judge ---------------------------------------------------------------


def test_simulated_caller_and_judge_requests(ws: Scratch, fake: fake_openai.Fake):
    ran = ws.av("test", "sales-simulated-caller", key=KEY)
    assert ran.code == 0, str(ran)

    def first(body: dict) -> str:
        m = body["messages"][0]
        return fake_openai.text_of(m.get("content")) if m.get("role") in ("system", "developer") else ""

    callers = [b for b in fake.requests if CALLER_MARK in first(b)]
    judges = [b for b in fake.requests if JUDGE_MARK in first(b)]
    agents = [b for b in fake.requests if b not in callers and b not in judges]
    assert len(callers) >= 2, f"{len(callers)} caller requests"
    assert all("tools" not in b for b in callers), "the caller was given the agent's tools"
    assert all(b["model"] == "gpt-4o-mini" for b in callers + judges)
    # the test's evaluate holds an extract and a judge: two judge requests
    assert len(judges) == 2, f"{len(judges)} judge requests"
    assert all(b.get("response_format") == {"type": "json_object"} for b in judges), judges
    assert all(b["model"] == "gpt-4o" and b.get("tools") for b in agents)
    assert any(m.get("role") == "tool" for b in agents for m in b["messages"]), "the agent booked nothing"
    assert fake.problems == []
