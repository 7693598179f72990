"""pytest setup of the contract suite: the platforms' SDKs are the judge of what agentver emits.

Every test module here imports `strict` (the strict validator) and the pinned SDKs. This file
- makes `tests/contract` importable whatever directory pytest is started from;
- says in the report header which SDK versions judged the run;
- gives the `sdk` fixture: the exact SDK type of every object agentver reads or writes, taken from
  the SDKs' own create calls and responses (test_corpus.py, test_render.py).
"""

from __future__ import annotations

import datetime as dt
import sys
import typing
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import typing_extensions

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import strict  # noqa: E402  (needs the path above)

# The distributions whose types are the contract (pinned in requirements.txt).
SDKS = ("vapi-server-sdk", "retell-sdk", "elevenlabs", "twilio", "pydantic")


def pytest_report_header(config):
    versions = []
    for name in SDKS:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return "contract SDKs: " + ", ".join(versions)


@dataclass(frozen=True)
class Sdk:
    """The SDK types each platform object is checked against (see docs/platforms.md, "The field maps")."""

    # Vapi: POST /assistant takes a CreateAssistantDto (`client.assistants.create(**fields)`);
    # GET /assistant/{id} returns an Assistant.
    vapi_create: type
    vapi_assistant: type
    # Retell: `client.agent.create(**AgentCreateParams)` / `client.llm.create(**LlmCreateParams)`;
    # GET returns AgentResponse / LlmResponse.
    retell_agent_create: type
    retell_llm_create: type
    retell_agent: type
    retell_llm: type
    # ElevenLabs: the JSON body of `client.conversational_ai.agents.create(...)`.
    elevenlabs_create: type

    def read_only(self, response: type, create: type, extra: typing.Iterable[str] = ()) -> set[str]:
        """The keys a response carries that the create call does not take: what the platform
        assigns (ids, versions, timestamps), plus `extra` named by agentver's import."""
        return (_keys(response) - _keys(create)) | set(extra)

    def as_returned(self, value: dict, response: type, create: type) -> dict:
        """`value` with the required fields the platform assigns filled in where absent, so an
        object from an export or a create payload can be checked as the API returns it."""
        out = dict(value)
        for key, (ann, required) in _fields(response).items():
            if required and key not in out and key not in _keys(create):
                out[key] = _placeholder(ann)
        return out


# Vapi's read-only fields as agentver's import names them (src/platforms/vapi/agent.rs); the SDK
# knows no `isServerUrlSecretSet`, so it is named here, not computed.
VAPI_READ_ONLY = ("id", "orgId", "createdAt", "updatedAt", "isServerUrlSecretSet")


@pytest.fixture(scope="session")
def sdk() -> Sdk:
    from vapi.types import Assistant, CreateAssistantDto
    from retell.types import AgentResponse, LlmResponse
    from retell.types.agent_create_params import AgentCreateParams
    from retell.types.llm_create_params import LlmCreateParams
    from elevenlabs.conversational_ai.agents.client import AgentsClient

    return Sdk(
        vapi_create=CreateAssistantDto,
        vapi_assistant=Assistant,
        retell_agent_create=AgentCreateParams,
        retell_llm_create=LlmCreateParams,
        retell_agent=AgentResponse,
        retell_llm=LlmResponse,
        elevenlabs_create=_elevenlabs_create_body(AgentsClient),
    )


def _elevenlabs_create_body(client: type) -> type:
    """A TypedDict of the JSON body `AgentsClient.create` sends, typed from its own signature.

    The body keys are those its raw client puts in `json=` (conversation_config, platform_settings,
    workflow, name, tags); `enable_versioning` is a query parameter. A key with no default is
    required."""
    import inspect

    hints = typing.get_type_hints(client.create, include_extras=True)
    params = inspect.signature(client.create).parameters
    body = {}
    for key in ("conversation_config", "platform_settings", "workflow", "name", "tags"):
        ann = hints[key]
        required = params[key].default is inspect.Parameter.empty
        body[key] = typing_extensions.Required[ann] if required else ann
    return typing_extensions.TypedDict("ElevenLabsCreateAgentBody", body, total=False)


def _fields(tp: type) -> dict:
    return strict.fields(tp)


def _keys(tp: type) -> set[str]:
    return set(_fields(tp))


def _placeholder(ann: typing.Any) -> typing.Any:
    """A value of the annotated type standing for one the platform assigns."""
    while typing_extensions.get_origin(ann) in (typing.Annotated, typing_extensions.Required):
        ann = typing_extensions.get_args(ann)[0]
    if typing_extensions.get_origin(ann) is typing.Union:
        ann = next(a for a in typing_extensions.get_args(ann) if a is not type(None))
    if ann is int or ann is float:
        return 0
    if ann is bool:
        return False
    if ann is dt.datetime:
        return "2025-01-01T00:00:00.000Z"
    return "assigned-by-the-platform"
