"""Every object of the public corpus (tests/data/platforms/) is valid platform data, strictly, by
the platforms' own SDK types: the round-trip law (render(import(X)) == X) is only worth something
on objects the platforms accept.

A corpus file is an agent as the platform's API returns it, less what the API assigns (ids,
versions, timestamps), which the exports and create payloads it comes from do not all carry. So
each file is checked twice:
- as returned: against the response type, the assigned required fields filled in where absent;
- as created: its read-only fields dropped, against the create call's request type.

Files and their sources: tests/data/platforms/SOURCES.md (which also says where a file differs
from its source, and why).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import VAPI_READ_ONLY
from strict import check

CORPUS = Path(__file__).resolve().parents[1] / "data" / "platforms"

# agentver's import drops these ElevenLabs fields as read-only (src/platforms/elevenlabs/agent.rs).
ELEVENLABS_READ_ONLY = ("agent_id", "metadata", "access_info", "phone_numbers", "version_id", "branch_id")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def load(path: Path) -> dict:
    value = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(value, dict), f"{rel(path)}: not a JSON object"
    return value


def without(value: dict, keys) -> dict:
    return {k: v for k, v in value.items() if k not in set(keys)}


VAPI = [p for p in corpus_files() if p.parent.name == "vapi"]
RETELL = [p for p in corpus_files() if p.parent.name == "retell"]
ELEVENLABS = [p for p in corpus_files() if p.parent.name == "elevenlabs"]


def test_every_corpus_file_is_checked_and_named_in_sources():
    """No file escapes the checks below, and SOURCES.md names each one's source."""
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    for path in corpus_files():
        assert path in VAPI + RETELL + ELEVENLABS and path.suffix == ".json", f"{rel(path)}: no SDK type checks it"
        name = path.name if path.parent.name != "retell" else path.name.split(".")[0] + ".*"
        assert f"`{name}`" in sources, f"{rel(path)}: SOURCES.md does not name it"
    for path in RETELL:
        kind = path.name.split(".")[-2]
        assert kind in ("agent", "llm"), f"{rel(path)}: a Retell file is <name>.agent.json or <name>.llm.json"
        other = path.with_name(path.name.replace(f".{kind}.", ".llm." if kind == "agent" else ".agent."))
        assert other.exists(), f"{rel(path)}: its pair {other.name} is missing"


@pytest.mark.parametrize("path", corpus_files(), ids=rel)
def test_no_yaml_1_1_booleans_as_keys(path):
    """The conversion bug that turned Vapi's `hooks[].on` into "true": no key reads as a YAML 1.1
    boolean anywhere."""
    suspicious = {"true", "false", "yes", "no", "on", "off", "y", "n"} - {"on"}  # `on` is Vapi's real key

    def walk(value, where):
        if isinstance(value, dict):
            for k, v in value.items():
                assert k.lower() not in suspicious, f"{rel(path)}: key {where}.{k} looks like YAML 1.1 damage"
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(load(path), "")


# --- Vapi -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", VAPI, ids=rel)
def test_vapi_as_returned_is_an_assistant(path, sdk):
    value = sdk.as_returned(load(path), sdk.vapi_assistant, sdk.vapi_create)
    check(sdk.vapi_assistant, value)


@pytest.mark.parametrize("path", VAPI, ids=rel)
def test_vapi_as_created_is_a_create_assistant_dto(path, sdk):
    value = without(load(path), sdk.read_only(sdk.vapi_assistant, sdk.vapi_create, VAPI_READ_ONLY))
    check(sdk.vapi_create, value)


# --- Retell ---------------------------------------------------------------------------------------


def retell_types(path: Path, sdk):
    """(response type, create params type) of a Retell file by its kind."""
    if path.name.endswith(".agent.json"):
        return sdk.retell_agent, sdk.retell_agent_create
    return sdk.retell_llm, sdk.retell_llm_create


@pytest.mark.parametrize("path", RETELL, ids=rel)
def test_retell_as_returned(path, sdk):
    response, create = retell_types(path, sdk)
    check(response, sdk.as_returned(load(path), response, create))


@pytest.mark.parametrize("path", RETELL, ids=rel)
def test_retell_as_created(path, sdk):
    response, create = retell_types(path, sdk)
    check(create, without(load(path), sdk.read_only(response, create)))


# --- ElevenLabs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ELEVENLABS, ids=rel)
def test_elevenlabs_is_a_create_agent_body(path, sdk):
    """{"name", "conversation_config", "platform_settings"} (and the templates' "tags"): the body
    of `conversational_ai.agents.create`, conversation_config a ConversationalConfig and
    platform_settings an AgentPlatformSettingsRequestModel."""
    value = without(load(path), ELEVENLABS_READ_ONLY)
    assert {"name", "conversation_config", "platform_settings"} <= set(value), sorted(value)
    check(sdk.elevenlabs_create, value)
