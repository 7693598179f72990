"""The round-trip law, end to end through the binary: `render(import(X))` equals X.

DESIGN.md ("The round-trip law") and docs/platforms.md ("Bring existing agents in"): for any object X the
platform returns, `render(import(X))` equals X as a JSON value (key order aside, numbers by value:
`1.0` is `1`), less the read-only fields `import` lists (`agentver import ... --json`, under
"read_only"), plus the required fields import says it filled in because X has none (under
"filled", as `path = "value"`: a Vapi assistant without a name gets the agent id as its name), and,
for ElevenLabs only, with the initiation overrides render always enables merged under X
(`platform_settings.overrides.conversation_config_override`, see ELEVENLABS_OVERRIDES; a key X
sets keeps X's value).

The objects X:
- the public corpus, tests/data/platforms/: each `vapi/*.json`, each `elevenlabs/*.json`, and each
  Retell pair `<name>.agent.json` + `<name>.llm.json` (X is then `{"agent": ..., "llm": ...}`, the
  shape of Retell's render);
- generated objects: for each corpus object, a few variants made by deleting optional keys (keys
  the SDK type does not require) at random depths, seeded per file, keeping only the variants that
  still pass the checks test_corpus.py applies to the corpus (so each is an object the platform
  could return).

For each X, in one hermetic scratch repository (the Workspace of test_render.py: HOME in the
scratch directory, no system git config, fixed identity and clock; `git init -b main`,
`agentver init`), `agentver import <platform> FILE --id <unique id> --json`, then
`agentver render <id>@draft --platform <platform>` and `agentver check --json`; three tests:
1. the render is valid, strictly, for the platform's SDK (test_render.py's `platform_errors`);
2. the render is X as the law says, compared path by path;
3. `agentver check` passes on the workspace with the import in it.

The binary is `$AGENTVER_BIN`, else `<repo>/target/debug/agentver`; this suite never builds it.
"""

from __future__ import annotations

import collections.abc
import copy
import json
import random
import shutil
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest
import typing_extensions

import strict
import test_corpus as corpus
import test_render as renders
from conftest import VAPI_READ_ONLY

PLATFORMS = ("vapi", "retell", "elevenlabs")
VARIANTS = 4  # generated objects per corpus object
TRIES = 16  # candidates drawn per corpus object to find VARIANTS valid ones
MAX_DELETIONS = 3  # optional keys deleted per candidate (at least one)

# What render always enables on ElevenLabs (the conversation-initiation webhook's overrides),
# merged under X: a key X sets keeps X's value.
ELEVENLABS_OVERRIDES = {
    "platform_settings": {
        "overrides": {
            "conversation_config_override": {
                "agent": {"prompt": {"prompt": True}, "first_message": True, "language": True},
                "tts": {"voice_id": True},
            }
        }
    }
}


# --- the objects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One corpus object: its platform, its test id and the file(s) it is read from."""

    platform: str
    name: str  # the test id, e.g. "vapi/scheduler.json", "retell/aria"
    files: tuple[Path, ...]

    def load(self) -> dict:
        if self.platform == "retell":
            agent, llm = self.files
            return {"agent": corpus.load(agent), "llm": corpus.load(llm)}
        return corpus.load(self.files[0])

    def agent_id(self, variant: int | None) -> str:
        stem = self.name.split("/", 1)[1].removesuffix(".json")
        base = f"rt-{self.platform}-{stem}"
        return base if variant is None else f"{base}-v{variant}"


def sources() -> list[Source]:
    out = [Source("vapi", corpus.rel(p), (p,)) for p in corpus.VAPI]
    for agent in (p for p in corpus.RETELL if p.name.endswith(".agent.json")):
        llm = agent.with_name(agent.name.replace(".agent.", ".llm."))
        out.append(Source("retell", f"retell/{agent.name.removesuffix('.agent.json')}", (agent, llm)))
    out += [Source("elevenlabs", corpus.rel(p), (p,)) for p in corpus.ELEVENLABS]
    return out


SOURCES = sources()
BY_NAME = {s.name: s for s in SOURCES}
# Every object's test id: the corpus file, and its variants `<file>~v<i>`.
OBJECTS = [s.name for s in SOURCES] + [f"{s.name}~v{i}" for s in SOURCES for i in range(1, VARIANTS + 1)]


def test_every_corpus_file_is_an_object_here():
    """No corpus file escapes the round trip (a Retell file through its pair)."""
    used = {f for s in SOURCES for f in s.files}
    assert set(corpus.corpus_files()) == used, sorted(map(corpus.rel, set(corpus.corpus_files()) ^ used))
    assert {s.platform for s in SOURCES} == set(PLATFORMS)


# --- what test_corpus.py requires of a platform object --------------------------------------------


def object_errors(platform: str, value: dict, sdk) -> list[str]:
    """The errors test_corpus.py would report for `value` as a corpus object of `platform`."""
    if platform == "vapi":
        found = strict.errors(sdk.vapi_assistant, sdk.as_returned(value, sdk.vapi_assistant, sdk.vapi_create))
        created = corpus.without(value, sdk.read_only(sdk.vapi_assistant, sdk.vapi_create, VAPI_READ_ONLY))
        return found + strict.errors(sdk.vapi_create, created)
    if platform == "retell":
        found = []
        for part, (response, create) in retell_types(sdk).items():
            found += strict.errors(response, sdk.as_returned(value[part], response, create), part)
            found += strict.errors(create, corpus.without(value[part], sdk.read_only(response, create)), part)
        return found
    if platform == "elevenlabs":
        body = corpus.without(value, corpus.ELEVENLABS_READ_ONLY)
        found = [f"{k}: missing (test_corpus.py requires it)" for k in ("name", "conversation_config", "platform_settings") if k not in body]
        return found + strict.errors(sdk.elevenlabs_create, body)
    raise ValueError(platform)


def retell_types(sdk) -> dict:
    return {"agent": (sdk.retell_agent, sdk.retell_agent_create), "llm": (sdk.retell_llm, sdk.retell_llm_create)}


def object_types(platform: str, sdk) -> dict:
    """{path prefix: the type X has there}: the type the platform returns it as (for ElevenLabs, the
    create body test_corpus.py checks its files against)."""
    if platform == "vapi":
        return {(): sdk.vapi_assistant}
    if platform == "retell":
        return {(part,): response for part, (response, _create) in retell_types(sdk).items()}
    return {(): sdk.elevenlabs_create}


# --- generated objects ----------------------------------------------------------------------------

JsonPath = tuple  # a JSON path: keys and list indexes


def optional_paths(tp: typing.Any, value: typing.Any, at: JsonPath = ()) -> list[JsonPath]:
    """Every path in `value` to a key its SDK type does not require (per strict.fields)."""
    tp = _unwrap(tp)
    origin = typing_extensions.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing_extensions.get_args(tp) if _unwrap(m) is not type(None)]
        # The member the value is: the first that takes it, strictly (strict.py's walk alone:
        # pydantic's verdict on every member costs seconds and picks no other one).
        for m in members:
            if not strict._walk(m, value, "", strict._host_of(m)):
                return optional_paths(m, value, at)
        return []
    if isinstance(value, list):
        args = typing_extensions.get_args(tp)
        item = args[0] if args else typing.Any
        return [p for i, v in enumerate(value) for p in optional_paths(item, v, (*at, i))]
    if not isinstance(value, dict):
        return []
    if typing_extensions.is_typeddict(tp) or (isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)):
        if isinstance(tp, type) and issubclass(tp, pydantic.RootModel):
            return []
        host = getattr(tp, "__module__", None)
        out = []
        for key, (ann, required) in strict.fields(tp).items():
            if key not in value:
                continue
            if not required:
                out.append((*at, key))
            try:
                ann = strict._resolve(ann, host)
            except TypeError:
                continue
            out += optional_paths(ann, value[key], (*at, key))
        return out
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        args = typing_extensions.get_args(tp)
        inner = args[1] if len(args) == 2 else typing.Any
        return [p for k, v in value.items() for p in optional_paths(inner, v, (*at, k))]
    return []


def _unwrap(tp: typing.Any) -> typing.Any:
    """The annotation without Annotated / Required / NotRequired (forward references resolved
    where strict.py resolves them)."""
    for _ in range(8):
        origin = typing_extensions.get_origin(tp)
        if origin in (typing.Annotated, typing_extensions.Annotated) or origin in (
            typing_extensions.Required, typing_extensions.NotRequired,
            getattr(typing, "Required", None), getattr(typing, "NotRequired", None),
        ):
            tp = typing_extensions.get_args(tp)[0]
        else:
            break
    return tp


def delete(value: dict, path: JsonPath) -> None:
    target = value
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]


def candidate(rng: random.Random, value: dict, paths: list[JsonPath]) -> tuple[dict, list[JsonPath]]:
    """`value` less 1..MAX_DELETIONS optional keys, each at a depth drawn first (so shallow keys
    are not drowned by the many deep ones), then a key at that depth."""
    left = list(paths)
    chosen: list[JsonPath] = []
    for _ in range(rng.randint(1, MAX_DELETIONS)):
        if not left:
            break
        depth = rng.choice(sorted({len(p) for p in left}))
        path = rng.choice([p for p in left if len(p) == depth])
        chosen.append(path)
        # Nothing under or above a deleted key is deleted again.
        left = [p for p in left if p[: len(path)] != path and path[: len(p)] != p]
    out = copy.deepcopy(value)
    # Deepest first, list items from the end, so earlier deletions do not move later paths.
    for path in sorted(chosen, key=lambda p: (len(p), [str(x) for x in p]), reverse=True):
        delete(out, path)
    return out, chosen


def show_path(path: JsonPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


# --- comparing JSON values ------------------------------------------------------------------------


def normal(value: typing.Any) -> typing.Any:
    """Numbers by value: an integral float is its int (1.0 is 1; 0.30 already reads as 0.3)."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def differences(want: typing.Any, got: typing.Any, at: str = "") -> list[str]:
    """Path by path: `- path: v` X has it and the render not, `+ path: v` the render adds it,
    `~ path: x -> r` the values differ. A bool is no number (True is not 1)."""
    where = at or "<root>"
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in want:
            sub = f"{at}.{k}" if at else str(k)
            if k not in got:
                out.append(f"- {sub}: {short(want[k])}")
            else:
                out += differences(want[k], got[k], sub)
        out += [f"+ {at}.{k}: {short(got[k])}" if at else f"+ {k}: {short(got[k])}" for k in got if k not in want]
        return out
    if isinstance(want, list) and isinstance(got, list):
        out = []
        for i in range(max(len(want), len(got))):
            sub = f"{at}[{i}]"
            if i >= len(got):
                out.append(f"- {sub}: {short(want[i])}")
            elif i >= len(want):
                out.append(f"+ {sub}: {short(got[i])}")
            else:
                out += differences(want[i], got[i], sub)
        return out
    same = type(want) is type(got) or (
        isinstance(want, (int, float)) and isinstance(got, (int, float))
        and not isinstance(want, bool) and not isinstance(got, bool)
    )
    if same and want == got:
        return []
    return [f"~ {where}: {short(want)} -> {short(got)}"]


def short(value: typing.Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."


def merge_under(base: dict, over: typing.Any) -> typing.Any:
    """`over` deep-merged over `base`: an object merges key by key, anything else replaces."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return copy.deepcopy(over)
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge_under(out[k], v) if k in out else copy.deepcopy(v)
    return out


def take(value: dict, dotted: str) -> None:
    """Drops the field at a dotted path (as `import` lists read-only fields), if there."""
    *parents, last = dotted.split(".")
    target = value
    for part in parents:
        if not isinstance(target, dict) or part not in target:
            return
        target = target[part]
    if isinstance(target, dict):
        target.pop(last, None)


def expected(platform: str, value: dict, read_only: list[str], filled: list[str] = ()) -> dict:
    """What the law says `render(import(X))` is."""
    out = copy.deepcopy(value)
    for path in read_only:
        take(out, path)
    for line in filled:
        # Only the name is ever filled with a value a platform is sent (the agent id).
        path, _, shown = line.partition(" = ")
        assert path == "name", f"import filled {line!r}: only a missing name may be filled"
        where = {"vapi": [], "retell": ["agent"], "elevenlabs": []}[platform]
        target = out
        for key in where:
            target = target.setdefault(key, {})
        target["agent_name" if platform == "retell" else "name"] = json.loads(shown)
    if platform == "elevenlabs":
        out = merge_under(ELEVENLABS_OVERRIDES, out)
    return normal(out)


# --- the scratch repository and the round trips ---------------------------------------------------


@dataclass
class Trip:
    """One object's import, render and check in the scratch repository."""

    platform: str
    agent_id: str
    value: dict  # X
    deleted: list[str]  # for a variant: the keys deleted from the corpus object
    imported: dict | None = None  # `import --json`
    failure: str | None = None  # import or render did not run
    rendered: typing.Any = None
    check: str | None = None  # None when `agentver check` passed, else its report

    def context(self) -> str:
        head = f"{self.platform} object imported as {self.agent_id}"
        if self.deleted:
            head += f" (the corpus object less {', '.join(self.deleted)})"
        return head


class Scratch:
    """The module's scratch repository: each object imported once, its results kept."""

    def __init__(self, ws: renders.Workspace, sdk) -> None:
        self.ws = ws
        self.sdk = sdk
        self.inputs = ws.root / "inputs"
        self.inputs.mkdir()
        self.trips: dict[str, Trip] = {}
        self.variants: dict[str, list[tuple[dict, list[str]]]] = {}

    def variants_of(self, source: Source) -> list[tuple[dict, list[str]]]:
        """Up to VARIANTS valid generated objects of a corpus object, the same every run."""
        if source.name not in self.variants:
            value = source.load()
            paths = []
            for prefix, tp in object_types(source.platform, self.sdk).items():
                sub = value
                for part in prefix:
                    sub = sub[part]
                paths += optional_paths(tp, sub, prefix)
            rng = random.Random(f"agentver-roundtrip:{source.name}")
            kept: list[tuple[dict, list[str]]] = []
            for _ in range(TRIES):
                if len(kept) == VARIANTS or not paths:
                    break
                variant, chosen = candidate(rng, value, paths)
                if any(variant == v for v, _ in kept) or object_errors(source.platform, variant, self.sdk):
                    continue
                kept.append((variant, [show_path(p) for p in chosen]))
            self.variants[source.name] = kept
        return self.variants[source.name]

    def trip(self, object_id: str) -> Trip:
        if object_id not in self.trips:
            self.trips[object_id] = self._run(object_id)
        return self.trips[object_id]

    def _run(self, object_id: str) -> Trip:
        name, _, tag = object_id.partition("~v")
        source = BY_NAME[name]
        if tag:
            index = int(tag)
            kept = self.variants_of(source)
            if index > len(kept):
                pytest.skip(f"{name}: only {len(kept)} generated object(s) pass test_corpus.py's checks")
            value, deleted = kept[index - 1]
            trip = Trip(source.platform, source.agent_id(index), value, deleted)
        else:
            trip = Trip(source.platform, source.agent_id(None), source.load(), [])
        self._import_render_check(trip)
        return trip

    def _import_render_check(self, trip: Trip) -> None:
        ws = self.ws
        stem = self.inputs / trip.agent_id
        if trip.platform == "retell":
            agent, llm = stem.with_suffix(".agent.json"), stem.with_suffix(".llm.json")
            agent.write_text(json.dumps(trip.value["agent"], indent=2), encoding="utf-8")
            llm.write_text(json.dumps(trip.value["llm"], indent=2), encoding="utf-8")
            args = ["import", "retell", str(agent), "--llm", str(llm)]
        else:
            path = stem.with_suffix(".json")
            path.write_text(json.dumps(trip.value, indent=2), encoding="utf-8")
            args = ["import", trip.platform, str(path)]
        args += ["--id", trip.agent_id, "--json"]
        if (ws.dir / "agents" / f"{trip.agent_id}.yaml").exists():
            args.append("--force")
        done = ws.run(*args)
        if done.returncode != 0:
            trip.failure = f"agentver {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            return
        trip.imported = json.loads(done.stdout)
        done = ws.run("render", f"{trip.agent_id}@draft", "--platform", trip.platform)
        if done.returncode != 0:
            trip.failure = f"agentver render {trip.agent_id}@draft --platform {trip.platform} exited {done.returncode}:\n{done.stderr}"
        else:
            trip.rendered = json.loads(done.stdout)
        done = ws.run("check", "--json")
        if done.returncode != 0:
            report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
            lines = (
                [f"{p['severity']}: {p['file']}:{p.get('line') or ''} {p['message']}" for p in report["problems"]]
                if report else [done.stdout + done.stderr]
            )
            trip.check = f"agentver check exited {done.returncode}:\n" + "\n".join(f"  {line}" for line in lines)
            # Take the import back out, so the next objects are checked on a clean workspace.
            for f in trip.imported.get("files", []):
                if f.get("state") == "created":
                    (ws.dir / f["path"]).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, sdk) -> Scratch:
    if not Path(renders.BIN).is_file():
        pytest.fail(f"no agentver binary at {renders.BIN}: build it (cargo build) or set AGENTVER_BIN")
    ws = renders.Workspace(tmp_path_factory.mktemp("roundtrip"))
    ws.ok("init", "-q", "-b", "main", binary=shutil.which("git") or "git")
    ws.ok("init")
    done = ws.run("check")
    assert done.returncode == 0, f"a fresh workspace fails check:\n{done.stdout}{done.stderr}"
    return Scratch(ws, sdk)


def ran(trip: Trip) -> Trip:
    if trip.failure:
        pytest.fail(f"{trip.context()}:\n{trip.failure}", pytrace=False)
    return trip


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [s.name for s in SOURCES])
def test_generated_objects_exist(name, scratch):
    """Each corpus object yields at least one generated object that test_corpus.py accepts (up to
    VARIANTS of them, drawn among TRIES candidates; a variant test with none to run is skipped)."""
    kept = scratch.variants_of(BY_NAME[name])
    assert kept, f"{name}: no candidate of {TRIES} less optional keys passes test_corpus.py's checks"


@pytest.mark.parametrize("object_id", OBJECTS)
def test_render_is_valid_for_the_platform_sdk(object_id, scratch, sdk):
    trip = ran(scratch.trip(object_id))
    found = renders.platform_errors(trip.platform, trip.rendered, sdk)
    if found:
        lines = "\n".join(f"  {line}" for line in found)
        pytest.fail(f"{trip.context()}: render has {len(found)} error(s)\n{lines}", pytrace=False)


@pytest.mark.parametrize("object_id", OBJECTS)
def test_render_of_import_is_the_object(object_id, scratch):
    trip = ran(scratch.trip(object_id))
    read_only = trip.imported.get("read_only", [])
    want = expected(trip.platform, trip.value, read_only, trip.imported.get("filled", []))
    found = differences(want, normal(trip.rendered))
    if found:
        lines = "\n".join(f"  {line}" for line in found)
        pytest.fail(
            f"{trip.context()}: render(import(X)) differs from X (read-only {read_only}) "
            f"in {len(found)} place(s), - X only, + render only:\n{lines}",
            pytrace=False,
        )


@pytest.mark.parametrize("object_id", OBJECTS)
def test_check_passes_on_the_import(object_id, scratch):
    trip = scratch.trip(object_id)
    if trip.imported is None:
        pytest.fail(f"{trip.context()}:\n{trip.failure}", pytrace=False)
    if trip.check:
        pytest.fail(f"{trip.context()}: {trip.check}", pytrace=False)
