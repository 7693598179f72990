"""Self-tests of strict.py: the validator the contract suite trusts must fail on each kind of error
(and say where), and pass objects the SDKs build themselves.

Each failing case is one mistake in an otherwise valid object, so the test also shows the error is
about that mistake and nothing else.
"""

from __future__ import annotations

import copy

import pytest

from strict import check, errors, fields

from vapi.types import (
    Assistant,
    CallHookCallEnding,
    CreateAssistantDto,
    CreateAssistantDtoModel_Openai,
    CreateAssistantDtoVoice_11Labs,
    OpenAiFunction,
    OpenAiMessage,
    OpenAiModelToolsItem_EndCall,
    OpenAiModelToolsItem_Function,
    Server,
)
from retell.types import AgentResponse
from retell.types.agent_create_params import AgentCreateParams
from retell.types.llm_create_params import LlmCreateParams
from elevenlabs.types import (
    AgentConfig,
    AgentPlatformSettingsRequestModel,
    AsrConversationalConfig,
    ConversationalConfig,
    PromptAgentApiModelOutput,
    PromptAgentApiModelOutputToolsItem_System,
    TtsConversationalConfigOutput,
)


# --- valid objects, built with the SDKs' own models --------------------------------------------


def vapi_assistant() -> dict:
    """A Vapi assistant as the SDK serialises it (Fern's `.dict(by_alias=True, exclude_unset=True)`)."""
    dto = CreateAssistantDto(
        name="Sales",
        first_message="Hi there",
        voice=CreateAssistantDtoVoice_11Labs(voice_id="rachel", speed=1.1),
        model=CreateAssistantDtoModel_Openai(
            model="gpt-4o",
            temperature=0.3,
            max_tokens=400,
            messages=[OpenAiMessage(role="system", content="Be brief.")],
            tools=[
                OpenAiModelToolsItem_Function(
                    function=OpenAiFunction(
                        name="book",
                        description="Books a demo",
                        parameters={"type": "object", "properties": {"date": {"type": "string"}}},
                    ),
                    server=Server(url="https://hooks.example.com/book"),
                ),
                OpenAiModelToolsItem_EndCall(),
            ],
        ),
        hooks=[CallHookCallEnding(on="call.ending", do=[{"type": "tool", "toolId": "t-1"}])],
    )
    return dto.dict(by_alias=True, exclude_unset=True)


def elevenlabs_config() -> dict:
    """An ElevenLabs conversation_config as pydantic dumps it for JSON."""
    config = ConversationalConfig(
        asr=AsrConversationalConfig(provider="elevenlabs"),
        tts=TtsConversationalConfigOutput(voice_id="cjVigY5qzO86Huf0OWal", speed=1.0),
        agent=AgentConfig(
            first_message="Hello",
            language="en",
            prompt=PromptAgentApiModelOutput(
                prompt="Be brief.",
                llm="gpt-4o",
                temperature=0.3,
                tools=[
                    PromptAgentApiModelOutputToolsItem_System(
                        name="end_call", description="Hang up", params={"system_tool_type": "end_call"}
                    )
                ],
            ),
        ),
    )
    return config.model_dump(by_alias=True, exclude_none=True, mode="json")


def retell_agent() -> AgentCreateParams:
    """Retell's request params are TypedDicts: a literal typed as the SDK's own type."""
    return {
        "response_engine": {"type": "retell-llm", "llm_id": "llm_1"},
        "voice_id": "11labs-Adrian",
        "agent_name": "Sales",
        "ambient_sound": "call-center",
        "post_call_analysis_data": [
            {"type": "boolean", "name": "demo_booked", "description": "Whether a demo was booked"},
            {"type": "enum", "name": "size", "description": "Team size", "choices": ["solo", "team"]},
        ],
    }


def retell_llm() -> LlmCreateParams:
    return {
        "general_prompt": "Be brief.",
        "model": "gpt-4.1",
        "model_temperature": 0.3,
        "general_tools": [
            {"type": "end_call", "name": "end_call", "description": "Hang up"},
            {
                "type": "transfer_call",
                "name": "human",
                "transfer_destination": {"type": "predefined", "number": "+14155550100"},
                "transfer_option": {"type": "cold_transfer"},
            },
        ],
    }


@pytest.mark.parametrize(
    "model, build",
    [
        (CreateAssistantDto, vapi_assistant),
        (ConversationalConfig, elevenlabs_config),
        (AgentCreateParams, retell_agent),
        (LlmCreateParams, retell_llm),
    ],
    ids=["vapi-CreateAssistantDto", "elevenlabs-ConversationalConfig", "retell-AgentCreateParams", "retell-LlmCreateParams"],
)
def test_valid_sdk_objects_pass(model, build):
    value = build()
    assert errors(model, value) == []
    check(model, value)  # and check() stays silent


def test_valid_object_with_fern_model_dump_passes():
    dto = CreateAssistantDto.model_validate(vapi_assistant())
    assert errors(CreateAssistantDto, dto.model_dump(by_alias=True, exclude_none=True, mode="json")) == []


# --- each kind of error --------------------------------------------------------------------------


def one_error(model, value, path: str) -> list[str]:
    """The errors, asserting every strict-walk line names `path` (pydantic's own lines may name an
    enclosing union) and there is at least one."""
    found = errors(model, value)
    assert found, "expected an error"
    walk = [e for e in found if " pydantic" not in e]
    assert walk, found
    assert all(e.startswith(path) for e in walk), found
    return found


def test_unknown_key_deep_in_a_nested_vapi_object():
    value = vapi_assistant()
    value["model"]["tools"][0]["function"]["paramaters"] = {}
    found = one_error(CreateAssistantDto, value, "model.tools[0].function.paramaters")
    assert found == ["model.tools[0].function.paramaters: unknown key (not a field of OpenAiFunction)"]


def test_snake_case_name_where_the_json_key_is_camel_case_is_unknown():
    value = vapi_assistant()
    value["first_message"] = value.pop("firstMessage")
    assert errors(CreateAssistantDto, value) == ["first_message: unknown key (not a field of CreateAssistantDto)"]


def test_missing_required_key():
    value = vapi_assistant()
    del value["voice"]["voiceId"]
    found = one_error(CreateAssistantDto, value, "voice.voiceId")
    assert "voice.voiceId: missing required key (CreateAssistantDtoVoice_11Labs)" in found
    assert any(" pydantic" in e for e in found), "pydantic's own verdict is reported too"


def test_missing_required_key_of_a_typeddict():
    value = retell_agent()
    del value["voice_id"]
    assert errors(AgentCreateParams, value)[0] == "voice_id: missing required key (AgentCreateParams)"


def test_vapi_voice_provider_elevenlabs_is_refused():
    """Vapi's id for ElevenLabs is 11labs: the discriminant names no member."""
    value = vapi_assistant()
    value["voice"]["provider"] = "elevenlabs"
    found = one_error(CreateAssistantDto, value, "voice.provider")
    assert found[0].startswith("voice.provider: 'elevenlabs' is not one of the discriminant values ['11labs',")


def test_wrong_discriminant_of_a_vapi_tool():
    value = vapi_assistant()
    value["model"]["tools"][1]["type"] = "end_call"
    found = one_error(CreateAssistantDto, value, "model.tools[1].type")
    assert "'end_call' is not one of the discriminant values" in found[0] and "'endCall'" in found[0]


def test_missing_discriminant():
    value = vapi_assistant()
    del value["voice"]["provider"]
    assert one_error(CreateAssistantDto, value, "voice")[0].startswith("voice: missing discriminant key 'provider'")


def test_wrong_tag_of_an_unmarked_union_of_retell_tools():
    """Retell's tool union has no discriminator marker; each member's Literal `type` tags it."""
    value = retell_llm()
    value["general_tools"][0]["type"] = "hang_up"
    found = one_error(LlmCreateParams, value, "general_tools[0].type")
    assert "'hang_up' is not one of the tag values" in found[0]


def test_empty_object_in_a_tagged_union_names_the_tag():
    value = retell_llm()
    value["general_tools"].append({})
    found = one_error(LlmCreateParams, value, "general_tools[2]")
    assert found[0].startswith("general_tools[2].type: missing the tag key of the union")


def test_a_member_chosen_by_its_tag_reports_its_own_missing_keys():
    value = retell_llm()
    del value["general_tools"][1]["transfer_option"]
    assert errors(LlmCreateParams, value)[0] == (
        "general_tools[1].transfer_option: missing required key (GeneralToolTransferCallTool)"
    )


@pytest.mark.parametrize(
    "path, bad",
    [
        (("model", "temperature"), "0.3"),  # a number given as a string
        (("model", "maxTokens"), "400"),  # again (Vapi types its counts as numbers)
        (("model", "maxTokens"), True),  # a bool is not a number
        (("firstMessage",), 42),  # a number is not a string
        (("model", "messages"), {"role": "system"}),  # an object is not an array
    ],
    ids=["number-as-string", "number-as-string-2", "bool-as-number", "number-as-string-field", "object-as-array"],
)
def test_wrong_json_type(path, bad):
    value = vapi_assistant()
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    found = one_error(CreateAssistantDto, value, ".".join(path))
    assert "expected " in found[0], found


def test_a_float_is_not_an_int():
    value = retell_agent()
    value["begin_message_delay_ms"] = 400.5
    assert errors(AgentCreateParams, value)[0] == "begin_message_delay_ms: expected integer, got number 400.5"
    value["begin_message_delay_ms"] = True
    assert errors(AgentCreateParams, value)[0] == "begin_message_delay_ms: expected integer, got boolean True"


def test_an_int_is_a_valid_float():
    value = vapi_assistant()
    value["model"]["temperature"] = 1
    assert errors(CreateAssistantDto, value) == []


def test_value_outside_a_closed_literal():
    value = retell_agent()
    value["ambient_sound"] = "office"
    found = one_error(AgentCreateParams, value, "ambient_sound")
    assert found[0].startswith("ambient_sound: 'office' is not one of ['coffee-shop',")


def test_fern_open_enum_counts_as_closed():
    """ElevenLabs' AsrProvider is Union[Literal[...], Any]: the Literal is the API's set."""
    value = elevenlabs_config()
    value["asr"]["provider"] = "deepgram"
    found = one_error(ConversationalConfig, value, "asr.provider")
    assert found == ["asr.provider: 'deepgram' is not one of ['elevenlabs', 'scribe_realtime', 'scribe_v2_turbo']"]


def test_explicit_str_member_keeps_a_vapi_enum_open():
    """Vapi's voice ids are Union[<enum>, str]: any voice id is a voice id."""
    value = vapi_assistant()
    value["voice"]["voiceId"] = "my-cloned-voice"
    assert errors(CreateAssistantDto, value) == []


def test_forward_references_imported_only_for_type_checking_resolve():
    """Vapi's hooks union names its members as strings imported under TYPE_CHECKING only."""
    value = vapi_assistant()
    assert errors(CreateAssistantDto, value) == []
    value["hooks"][0]["do"][0]["type"] = "tol"
    found = one_error(CreateAssistantDto, value, "hooks[0]")
    assert any("hooks[0].do[0].type: 'tol' is not one of the discriminant values" in e for e in found), found


def test_yaml_1_1_damage_is_caught():
    """The corpus bug: `on:` read as YAML 1.1 became the key "true"."""
    value = vapi_assistant()
    value["hooks"][0]["true"] = value["hooks"][0].pop("on")
    found = errors(CreateAssistantDto, value)
    assert "hooks[0].true: unknown key (not a field of CallHookCallEnding)" in found
    assert "hooks[0].on: missing required key (CallHookCallEnding)" in found


def test_datetime_strings_are_checked():
    value = {**vapi_assistant(), "id": "a-1", "orgId": "o-1", "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "yesterday"}
    assert errors(Assistant, value)[0] == "updatedAt: 'yesterday' is not a valid datetime"


def test_null_where_not_optional():
    value = retell_llm()
    value["general_tools"][0]["name"] = None
    assert one_error(LlmCreateParams, value, "general_tools[0].name")


def test_path_prefix_is_kept():
    assert errors(AgentPlatformSettingsRequestModel, {"safety": {}}, "platform_settings") == [
        "platform_settings.safety: unknown key (not a field of AgentPlatformSettingsRequestModel)"
    ]


def test_response_models_require_what_the_platform_assigns():
    found = errors(AgentResponse, {"voice_id": "11labs-Adrian", "response_engine": {"type": "retell-llm", "llm_id": "x"}})
    assert "agent_id: missing required key (AgentResponse)" in found


def test_check_raises_with_every_line():
    value = vapi_assistant()
    value["voice"]["provider"] = "elevenlabs"
    value["messagePlan"] = {}
    with pytest.raises(AssertionError) as info:
        check(CreateAssistantDto, value)
    text = str(info.value)
    assert "against CreateAssistantDto" in text
    assert "voice.provider: 'elevenlabs'" in text and "messagePlan: unknown key" in text


def test_fields_lists_json_keys_and_requiredness():
    f = fields(AgentCreateParams)
    assert f["voice_id"][1] is True and f["agent_name"][1] is False
    assert "firstMessage" in fields(CreateAssistantDto) and "first_message" not in fields(CreateAssistantDto)


def test_the_validator_does_not_change_its_input():
    value = vapi_assistant()
    before = copy.deepcopy(value)
    errors(CreateAssistantDto, value)
    assert value == before
