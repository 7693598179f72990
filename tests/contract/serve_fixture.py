"""A hermetic `agentver serve` for the contract tests of the call-start hooks (test_hooks.py,
test_twilio.py).

`Workspace` is a scratch git repository made the way a team starts: `agentver init --example`,
committed, then `agentver publish --all -m Launch`, so the example channels.toml is served as
written (`+14155550100` is pinned to sales v1, which is never deployed to any platform). Every
command runs with HOME in the scratch directory, no system git config, and a fixed identity and
clock, so nothing on the machine leaks in.

`Server` runs `agentver serve` on a free loopback port (port 0, read back from its "listening on"
log line; loopback needs no token) with a SQLite call store and `--public-url`, the platforms'
secrets set from the constants below, and answers plain HTTP requests through http.client (so the
`Host` header is the loopback address serve accepts).

The binary is `$AGENTVER_BIN`, else `<repo>/target/debug/agentver`; this module never builds it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# The attribution every answer and record carries (all strings), as /v1/resolve gives it.
ATTRIBUTION_KEYS = {
    "agentver_agent",
    "agentver_version",
    "agentver_tree",
    "agentver_channel",
    "agentver_variant",
    "agentver_revision",
}

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("AGENTVER_BIN", str(REPO_ROOT / "target" / "debug" / "agentver"))

# The platforms' secrets serve is given (docs/platforms.md, "Point the platform at serve").
VAPI_SECRET = "vapi-contract-s3cret-0001"
RETELL_API_KEY = "key_contract_4b1d9e"
ELEVENLABS_WEBHOOK_SECRET = "wsec_contract_7f3a9b2c1d"
ELEVENLABS_INITIATION_TOKEN = "el-init-contract-token-42"
TWILIO_AUTH_TOKEN = "twilio-contract-auth-token-9"

HOOK_SECRETS = {
    "AGENTVER_VAPI_SECRET": VAPI_SECRET,
    "AGENTVER_RETELL_API_KEY": RETELL_API_KEY,
    "AGENTVER_ELEVENLABS_WEBHOOK_SECRET": ELEVENLABS_WEBHOOK_SECRET,
    "AGENTVER_ELEVENLABS_INITIATION_TOKEN": ELEVENLABS_INITIATION_TOKEN,
    "AGENTVER_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
}

STREAM_URL = "wss://bot.example/ws?tenant=acme&line=1"

# The example channels (agents.example/channels.toml, as `init --example` writes it).
PINNED_V1 = "+14155550100"  # sales, version 1 (frozen pin)
UNKNOWN_NUMBER = "+19995550000"  # not a channel


def binary() -> str:
    if not Path(BIN).is_file():
        raise RuntimeError(
            f"agentver binary not found at {BIN}: build it (cargo build) or set AGENTVER_BIN"
        )
    return BIN



def hermetic_env(home) -> dict[str, str]:
    """The environment agentver runs in under the contract tests: a home of its own, no system
    git config, a fixed identity and clock (the CLI tests' own)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "2026-11-01T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2026-11-01T10:00:00+00:00",
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }

class CommandFailed(AssertionError):
    pass


class Workspace:
    """A scratch repository under `base` (`base/repo`, with HOME at `base/home`)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "repo"
        self.home = base / "home"
        self.root.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = hermetic_env(self.home)
        env.update(extra or {})
        return env

    def run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            argv, cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=120
        )
        if check and done.returncode != 0:
            raise CommandFailed(
                f"{' '.join(argv)} exited {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def av(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run([binary(), *args], check=check)

    def av_json(self, *args: str) -> Any:
        out = self.av(*args).stdout
        try:
            return json.loads(out)
        except json.JSONDecodeError as e:
            raise CommandFailed(f"agentver {' '.join(args)}: not JSON ({e}): {out[:2000]}") from None

    def git(self, *args: str) -> str:
        return self.run(["git", *args]).stdout.strip()

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        if self.git("status", "--porcelain"):
            self.git("commit", "-q", "-m", message)

    def tree_of(self, tag: str) -> str:
        return self.git("rev-parse", f"{tag}^{{tree}}")

    def calls(self, store: str) -> list[dict]:
        return self.av_json("calls", "--json", "--limit", "10000", "--calls", store)


def example_workspace(base: Path, stream_url: str | None = STREAM_URL) -> Workspace:
    """`init --example`, committed, `publish --all -m Launch`; `[platforms.twilio] stream_url`
    in agentver.toml when `stream_url` is given."""
    ws = Workspace(base)
    ws.git("init", "-q", "-b", "main")
    ws.av("init", "--example")
    if stream_url is not None:
        config = ws.root / "agentver.toml"
        text = config.read_text() if config.exists() else ""
        config.write_text(text.rstrip("\n") + f'\n\n[platforms.twilio]\nstream_url = "{stream_url}"\n')
    ws.commit_all("initial config")
    ws.av("publish", "--all", "-m", "Launch")
    ws.commit_all("Launch")
    return ws


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except json.JSONDecodeError:
            raise AssertionError(f"HTTP {self.status}: not JSON: {self.text[:2000]}") from None


class Server:
    """`agentver serve` in `ws` on a free loopback port; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(
        self,
        ws: Workspace,
        public_url: str | None = "https://agentver.example",
        env: dict[str, str] | None = None,
        store: str | None = None,
    ) -> None:
        self.ws = ws
        self.public_url = public_url
        self.store = store or f"sqlite:{ws.base / 'calls.sqlite'}"
        argv = [binary(), "serve", "--listen", "127.0.0.1:0", "--interval", "1", "--calls", self.store]
        if public_url is not None:
            argv += ["--public-url", public_url]
        self.log: list[str] = []
        self._addr: str | None = None
        self._seen = threading.Event()
        self.proc = subprocess.Popen(
            argv,
            cwd=ws.root,
            env=ws.env({**HOOK_SECRETS, **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read_log, daemon=True).start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip("\n"))
            m = re.search(r"listening on http://([^,\s]+)", line)
            if m and self._addr is None:
                self._addr = m.group(1)
                self._seen.set()
        self._seen.set()

    def _wait_ready(self) -> None:
        if not self._seen.wait(30) or self._addr is None:
            raise RuntimeError("agentver serve did not start:\n" + "\n".join(self.log[-40:]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/readyz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("agentver serve never became ready:\n" + "\n".join(self.log[-40:]))

    @property
    def addr(self) -> str:
        assert self._addr is not None
        return self._addr

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None) -> Reply:
        host, port = self.addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=15)
        try:
            data = body.encode("utf-8") if isinstance(body, str) else body
            conn.request(method, path, body=data if method != "GET" else None, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def post_json(self, path: str, body: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})

    def post_form(self, path: str, body: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        )

    def get_json(self, path: str) -> Any:
        reply = self.request("GET", path)
        assert reply.status == 200, f"GET {path}: {reply.status} {reply.text}"
        return reply.json()

    def calls(self) -> list[dict]:
        return self.ws.calls(self.store)

    def records_of(self, call_id: str) -> list[dict]:
        return [c for c in self.calls() if c.get("call_id") == call_id]

    def wait_for_records(self, call_id: str, ok: Callable[[list[dict]], bool], timeout: float = 10.0) -> list[dict]:
        """The records of `call_id` once `ok` holds for them (a decision reaches the store a moment
        after its answer), else the last ones seen."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.records_of(call_id)
            if ok(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
