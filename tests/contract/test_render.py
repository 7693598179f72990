"""Every render agentver makes for a platform is an object that platform's SDK accepts, strictly.

The agents: the examples (`agentver init --example`), the `agentver new` template, and the rich
agent (data/rich.yaml: every typed field and every tool kind, inline and from tools/). For each
agent and platform, `agentver render <id>@draft --platform <p>` is one test, judged by the type
the SDK's create call takes:
- Vapi: the body of POST /assistant, `vapi.types.CreateAssistantDto`;
- Retell: `{"agent", "llm"}`, the agent a `retell.types.agent_create_params.AgentCreateParams`
  (its `response_engine` is derived when the agent is created on Retell, so a render without one
  is checked with `{"type": "retell-llm", "llm_id": ...}` in its place) and the llm a
  `retell.types.llm_create_params.LlmCreateParams`;
- ElevenLabs: the body of `conversational_ai.agents.create` (`conversation_config` a
  `ConversationalConfig`, `platform_settings` an `AgentPlatformSettingsRequestModel`, `name`).

And every `warning:` line a render prints is one line that names a field of the agent format.

The workspace is a scratch git repository made the way a team starts, hermetic: HOME in the
scratch directory, no system git config, a fixed identity and clock. The binary is
`$AGENTVER_BIN`, else `<repo>/target/debug/agentver`; this suite never builds it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from strict import errors

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("AGENTVER_BIN", str(REPO / "target" / "debug" / "agentver"))
DATA = Path(__file__).resolve().parent / "data"

PLATFORMS = ("vapi", "retell", "elevenlabs")
NEW_ID = "newcomer"  # the agent `agentver new` scaffolds
AGENTS = sorted(p.stem for p in (REPO / "agents.example" / "agents").glob("*.yaml")) + [NEW_ID, "rich"]

# What Retell derives when the agent is created there: the LLM agentver renders beside it.
DERIVED_RESPONSE_ENGINE = {"type": "retell-llm", "llm_id": "llm_rendered_beside_the_agent"}


class Workspace:
    """A scratch agentver repository and a hermetic way to run the binary in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "repo"
        self.dir.mkdir()
        date = "2025-01-01T00:00:00+00:00"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "XDG_CONFIG_HOME": str(root / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Contract Suite",
            "GIT_AUTHOR_EMAIL": "contract@example.com",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "Contract Suite",
            "GIT_COMMITTER_EMAIL": "contract@example.com",
            "GIT_COMMITTER_DATE": date,
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        }

    def run(self, *args: str, binary: str = BIN) -> subprocess.CompletedProcess:
        return subprocess.run(
            [binary, *args], cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120
        )

    def ok(self, *args: str, binary: str = BIN) -> subprocess.CompletedProcess:
        done = self.run(*args, binary=binary)
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    if not Path(BIN).is_file():
        pytest.fail(f"no agentver binary at {BIN}: build it (cargo build) or set AGENTVER_BIN")
    ws = Workspace(tmp_path_factory.mktemp("render"))
    ws.ok("init", "--example")
    ws.ok("new", NEW_ID)
    shutil.copy(DATA / "rich.yaml", ws.dir / "agents" / "rich.yaml")
    for tool in (DATA / "tools").glob("*.yaml"):
        shutil.copy(tool, ws.dir / "tools" / tool.name)
    git = shutil.which("git") or "git"
    ws.ok("add", "-A", binary=git)
    ws.ok("commit", "-q", "-m", "agents", binary=git)
    ws.ok("publish", "--all", "-m", "Launch")
    return ws


@pytest.fixture(scope="session")
def renders(workspace):
    """render(agent, platform) -> (object, stderr), each render run once per session."""
    cache: dict = {}

    def render(agent: str, platform: str):
        if (agent, platform) not in cache:
            done = workspace.run("render", f"{agent}@draft", "--platform", platform)
            assert done.returncode == 0, f"render {agent}@draft --platform {platform} exited {done.returncode}:\n{done.stderr}"
            cache[(agent, platform)] = (json.loads(done.stdout), done.stderr)
        return cache[(agent, platform)]

    return render


@pytest.fixture(scope="session")
def agent_schema(workspace) -> dict:
    """The JSON Schema of the agent format, as `agentver schema` prints it."""
    return json.loads(workspace.ok("schema").stdout)


def test_the_agents_are_valid(workspace):
    """The rich agent, the template and the examples pass `agentver check`, so every render below is
    of a valid agent."""
    done = workspace.run("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(AGENTS) <= {p.stem for p in (workspace.dir / "agents").glob("*.yaml")}


def test_the_rich_agent_uses_every_typed_field_and_tool_kind(workspace, agent_schema):
    """Keeps data/rich.yaml honest when the agent format grows: every property the schema lists
    (but the free-form provider_options) appears in it, and each tool kind inline and by name."""
    shown = json.loads(workspace.ok("show", "rich@draft", "--json").stdout)["config"]
    missing = [p for p in schema_paths(agent_schema) if not present(shown, p)]
    assert not missing, f"rich.yaml lacks {missing}"
    tools = shown["tools"]
    kinds = {t["type"] for t in tools}
    assert kinds == {"webhook", "function", "transfer_call", "end_call"}, kinds
    raw = (DATA / "rich.yaml").read_text(encoding="utf-8")
    by_name = re.findall(r"^  - ([a-z_]+)$", raw, re.M)
    inline_kinds = set(re.findall(r"^    type: ([a-z_]+)$", raw, re.M))
    file_kinds = set()
    for name in by_name:
        text = (workspace.dir / "tools" / f"{name}.yaml").read_text(encoding="utf-8")
        file_kinds |= set(re.findall(r"^type: ([a-z_]+)$", text, re.M))
    assert inline_kinds == kinds and file_kinds == kinds, (inline_kinds, file_kinds)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("agent", AGENTS)
def test_render_is_valid_for_the_platform_sdk(agent, platform, renders, sdk):
    rendered, _stderr = renders(agent, platform)
    found = platform_errors(platform, rendered, sdk)
    if found:
        lines = "\n".join(f"  {line}" for line in found)
        pytest.fail(f"render {agent}@draft --platform {platform}: {len(found)} error(s)\n{lines}", pytrace=False)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("agent", AGENTS)
def test_render_warnings_name_a_field(agent, platform, renders, agent_schema):
    """stderr holds only `warning: <field> ...` lines, each naming a field of the agent format
    (`description`, `variables.*.description`, `tools[<name>].description`, ...)."""
    _rendered, stderr = renders(agent, platform)
    bad = []
    for line in stderr.splitlines():
        match = WARNING.match(line)
        if not match:
            bad.append(f"not a `warning: <field>` line: {line!r}")
        elif not schema_has(agent_schema, agent_schema, split_path(match.group(1))):
            bad.append(f"names no field of the agent format ({match.group(1)!r}): {line!r}")
    if bad:
        pytest.fail(f"render {agent}@draft --platform {platform}:\n" + "\n".join(f"  {b}" for b in bad), pytrace=False)


# --- the SDK types of each platform's render ------------------------------------------------------


def platform_errors(platform: str, rendered, sdk) -> list[str]:
    if platform == "vapi":
        return errors(sdk.vapi_create, rendered)
    if platform == "retell":
        if not isinstance(rendered, dict):
            return [f"<root>: expected object {{\"agent\", \"llm\"}}, got {rendered!r:.60}"]
        # The render is agentver's pair, not a Retell object: its root holds these two only.
        found = [f"{key}: unknown key (a Retell render is {{\"agent\", \"llm\"}})" for key in rendered if key not in ("agent", "llm")]
        found += [f"{key}: missing required key (a Retell render is {{\"agent\", \"llm\"}})" for key in ("agent", "llm") if key not in rendered]
        agent = rendered.get("agent")
        if isinstance(agent, dict) and "response_engine" not in agent:
            agent = {**agent, "response_engine": DERIVED_RESPONSE_ENGINE}
        if "agent" in rendered:
            found += errors(sdk.retell_agent_create, agent, "agent")
        if "llm" in rendered:
            found += errors(sdk.retell_llm_create, rendered["llm"], "llm")
        return found
    if platform == "elevenlabs":
        return errors(sdk.elevenlabs_create, rendered)
    raise ValueError(platform)


# --- field paths in warnings ----------------------------------------------------------------------

# `warning: ` then a field path: dotted names, `*` for any key of a map, `[name]` for a list item.
WARNING = re.compile(r"^warning: ([A-Za-z_][A-Za-z0-9_]*(?:\.(?:\*|[A-Za-z_][A-Za-z0-9_]*)|\[[^\]\s]+\])*)(?=[ :]|$)")


def split_path(path: str) -> list[str]:
    return re.findall(r"\*|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_]*", path)


def schema_has(root: dict, schema: dict, segments: list[str]) -> bool:
    """Whether the path names a place in the agent JSON Schema (a `[name]` or a field after a list
    is a list item; `*` is any key of a map; anything under provider_options is free-form)."""
    if not segments:
        return True
    for option in alternatives(root, schema):
        seg, rest = segments[0], segments[1:]
        if option.get("type") == "array" or "items" in option:
            items = option.get("items", {})
            if seg.startswith("["):
                if schema_has(root, items, rest):
                    return True
            elif schema_has(root, items, segments):
                return True
            continue
        if seg == "*":
            extra = option.get("additionalProperties")
            if isinstance(extra, dict) and schema_has(root, extra, rest):
                return True
            continue
        props = option.get("properties", {})
        if seg in props:
            if seg == "provider_options" or schema_has(root, props[seg], rest):
                return True
    return False


def alternatives(root: dict, schema: dict) -> list[dict]:
    """The schema itself, its $ref target and the members of its oneOf/anyOf/allOf."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return alternatives(root, target)
    out = [schema]
    for key in ("oneOf", "anyOf", "allOf"):
        for member in schema.get(key, []):
            out += alternatives(root, member)
    return out


def schema_paths(schema: dict, root: dict | None = None, prefix: str = "") -> list[str]:
    """Every property path of the agent schema (through objects and maps, not into tools, whose
    kinds are checked apart), provider_options aside."""
    root = root or schema
    paths = []
    for option in alternatives(root, schema):
        for name, sub in option.get("properties", {}).items():
            if name == "provider_options":
                continue
            path = f"{prefix}.{name}" if prefix else name
            paths.append(path)
            if name == "tools" and not prefix:
                continue
            target = sub
            for alt in alternatives(root, sub):
                if alt.get("type") == "array" and isinstance(alt.get("items"), dict):
                    target = alt["items"]
                elif isinstance(alt.get("additionalProperties"), dict):
                    target = alt["additionalProperties"]
            paths += schema_paths(target, root, path)
    return sorted(set(paths))


def present(config, path: str) -> bool:
    """Whether the resolved config holds the path (in some item of a list or entry of a map)."""

    def walk(value, parts):
        if not parts:
            return True
        if isinstance(value, list):
            return any(walk(v, parts) for v in value)
        if isinstance(value, dict):
            if parts[0] in value:
                return walk(value[parts[0]], parts[1:])
            # a map of named entries (variables): the path goes through any entry
            return any(isinstance(v, dict) and walk(v, parts) for v in value.values())
        return False

    return walk(config, path.split("."))
