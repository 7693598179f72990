"""The call-start hooks of `agentver serve`, judged by the platforms' own Python SDKs.

One scripted call per platform (Vapi, Retell, ElevenLabs) goes end to end through a real
`agentver serve` (serve_fixture.py): the call-start request is built with the SDK's own models
and dumped by alias, signed with the SDK's own code where the platform signs, and POSTed; the
answer is validated strictly (strict.py: no unknown key, no missing required key, nothing outside a
closed Literal/enum, no coercion) against the SDK's type for what the platform accepts; then the
end-of-call payload, built with the SDK's models and carrying what the answer told the platform to
echo, is sent, and `agentver calls --json` must hold exactly one record for the call, attributed to
the agent and version the hook answered (`agentver replay` gives that version's config). Each hook
also refuses a forged signature or token with 401 and records nothing.

Where the SDK has no type for a webhook (Retell's `call_inbound` request and answer, Retell's and
ElevenLabs' event envelopes, ElevenLabs' initiation request), the type is assembled here from the
SDK's own field types, named below, and the platform's documented envelope:

- Vapi (vapi-server-sdk): request `vapi.types.ServerMessage` wrapping
  `ServerMessageAssistantRequest`; answer `ServerMessageResponseAssistantRequest`, its `assistant`
  a `CreateAssistantDto`; report `ServerMessage` wrapping `ServerMessageEndOfCallReport`.
  Authentication: the server URL secret in `X-Vapi-Secret` (the SDK has no signing helper).
- Retell (retell-sdk): answer `{"call_inbound": {...}}` typed from
  `retell.types.call_create_phone_call_params.CallCreatePhoneCallParams` (override_agent_id,
  override_agent_version, agent_override = `AgentOverride` with `AgentOverrideRetellLlm`, metadata,
  and `retell_llm_dynamic_variables` for dynamic_variables); request fields typed from
  `retell.types.PhoneCallResponse`; events `{"event", "call": PhoneCallResponse}` with the event
  Literal from `AgentResponse.webhook_events`. Signatures: `retell.lib.webhook_auth.symmetric["sign"]`,
  checked with `Retell.verify`.
- ElevenLabs (elevenlabs): answer `ConversationInitiationClientDataRequestInput` plus the `type`
  the SDK itself sends (`ClientToOrchestratorEvent.CONVERSATION_INITIATION_CLIENT_DATA`); report
  `{"type": "post_call_transcription", "event_timestamp", "data": GetConversationResponseModel}`
  with `ConversationHistoryMetadataCommonModelPhoneCall_Twilio`. Signatures: made as
  `ElevenLabs-Signature` is documented and accepted by the SDK's `webhooks.construct_event` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import typing
import uuid
from types import SimpleNamespace

import pytest

import strict
from serve_fixture import (
    ATTRIBUTION_KEYS,
    ELEVENLABS_INITIATION_TOKEN,
    ELEVENLABS_WEBHOOK_SECRET,
    PINNED_V1,
    RETELL_API_KEY,
    UNKNOWN_NUMBER,
    VAPI_SECRET,
    Server,
    example_workspace,
)

# --- Vapi ---------------------------------------------------------------------------------------
from vapi.types import (
    Analysis as VapiAnalysis,
    Artifact as VapiArtifact,
    Call as VapiCall,
    CreateAssistantDto,
    CreateCustomerDto,
    ServerMessage,
    ServerMessageAssistantRequest,
    ServerMessageEndOfCallReport,
    ServerMessageResponseAssistantRequest,
)
from vapi.types.server_message_assistant_request_phone_number import (
    ServerMessageAssistantRequestPhoneNumber_Twilio,
)

# --- Retell -------------------------------------------------------------------------------------
from retell import Retell
from retell.lib import webhook_auth
from retell.types import AgentResponse, PhoneCallResponse
from retell.types.call_create_phone_call_params import CallCreatePhoneCallParams
from retell.types.phone_call_response import CallAnalysis as RetellCallAnalysis
from retell.types.phone_call_response import CallCost as RetellCallCost

# --- ElevenLabs ---------------------------------------------------------------------------------
from elevenlabs import ElevenLabs
from elevenlabs.conversational_ai.conversation import ClientToOrchestratorEvent
from elevenlabs.core.api_error import ApiError as ElevenLabsApiError
from elevenlabs.types import (
    ConversationHistoryAnalysisCommonModel,
    ConversationHistoryMetadataCommonModel,
    ConversationInitiationClientDataRequestInput,
    ConversationInitiationClientDataRequestOutput,
    GetConversationResponseModel,
)
from elevenlabs.types.conversation_history_metadata_common_model_phone_call import (
    ConversationHistoryMetadataCommonModelPhoneCall_Twilio,
)



# ------------------------------------------------------------------------------------------------
# Types assembled from the SDKs where they have none for a webhook


def _literal_in(annotation: typing.Any) -> typing.Any:
    """The first Literal[...] inside an annotation (Optional[List[Literal[...]]] and the like)."""
    if typing.get_origin(annotation) is typing.Literal:
        return annotation
    for arg in typing.get_args(annotation):
        found = _literal_in(arg)
        if found is not None:
            return found
    return None


_PHONE_CALL_PARAMS = typing.get_type_hints(CallCreatePhoneCallParams)
_PHONE_CALL = PhoneCallResponse.model_fields

# Retell's inbound webhook answer (docs: "Inbound Call Webhook"): the per-call fields Retell also
# takes when it creates a phone call, under the SDK's own annotations.
RetellCallInboundAnswerBody = typing.TypedDict(
    "RetellCallInboundAnswerBody",
    {
        "override_agent_id": _PHONE_CALL_PARAMS["override_agent_id"],
        "override_agent_version": _PHONE_CALL_PARAMS["override_agent_version"],
        "agent_override": _PHONE_CALL_PARAMS["agent_override"],
        "dynamic_variables": _PHONE_CALL_PARAMS["retell_llm_dynamic_variables"],
        "metadata": _PHONE_CALL_PARAMS["metadata"],
    },
    total=False,
)
RetellCallInboundAnswer = typing.TypedDict("RetellCallInboundAnswer", {"call_inbound": RetellCallInboundAnswerBody})

# Retell's inbound webhook request: the call's numbers, agent and id, typed as the call object has them.
RetellCallInboundRequestBody = typing.TypedDict(
    "RetellCallInboundRequestBody",
    {k: _PHONE_CALL[k].annotation for k in ("agent_id", "agent_version", "from_number", "to_number", "call_id")},
)
RetellCallInboundRequest = typing.TypedDict(
    "RetellCallInboundRequest",
    {"event": typing.Literal["call_inbound"], "call_inbound": RetellCallInboundRequestBody},
)

# Retell's call webhooks: {"event", "call"}, the event one of the agent's `webhook_events`.
RetellCallEvent = typing.TypedDict(
    "RetellCallEvent",
    {"event": _literal_in(AgentResponse.model_fields["webhook_events"].annotation), "call": PhoneCallResponse},
)

# ElevenLabs' conversation-initiation webhook request (docs: "Twilio personalization"); the SDK has
# no type for it.
ElevenLabsInitiationRequest = typing.TypedDict(
    "ElevenLabsInitiationRequest",
    {"caller_id": str, "agent_id": str, "called_number": str, "call_sid": str},
)

# ElevenLabs' post-call webhook: the conversation as GET /v1/convai/conversations/{id} returns it.
ElevenLabsPostCallTranscription = typing.TypedDict(
    "ElevenLabsPostCallTranscription",
    {
        "type": typing.Literal["post_call_transcription"],
        "event_timestamp": int,
        "data": GetConversationResponseModel,
    },
)

INITIATION_TYPE = ClientToOrchestratorEvent.CONVERSATION_INITIATION_CLIENT_DATA.value


# ------------------------------------------------------------------------------------------------
# Helpers


def fern_json(model: typing.Any) -> dict:
    """A Fern model (Vapi, ElevenLabs) as the platform sends it: by alias, unset fields left out."""
    return json.loads(model.json())


def stainless_json(model: typing.Any) -> dict:
    """A Stainless model (Retell) as the platform sends it."""
    return model.to_dict(mode="json")


def body_of(value: typing.Any) -> str:
    # Retell signs the compact serialisation; any exact bytes do for the others.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def now_ms() -> int:
    return int(time.time() * 1000)


def fresh_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def retell_sign(body: str, key: str = RETELL_API_KEY) -> str:
    """`x-retell-signature` made by the SDK's own webhook_auth, checked by the SDK's verify."""
    signature = webhook_auth.symmetric["sign"](body, key)
    assert Retell(api_key=key).verify(body, key, signature), "the SDK refuses its own signature"
    return signature


def elevenlabs_sign(body: str, secret: str = ELEVENLABS_WEBHOOK_SECRET) -> str:
    """`ElevenLabs-Signature` as documented (the SDK verifies but does not sign), accepted by the
    SDK's `webhooks.construct_event` before it is sent."""
    ts = int(time.time())
    digest = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    header = f"t={ts},v0={digest}"
    event = ElevenLabs(api_key="unused").webhooks.construct_event(body, header, secret)
    assert event == json.loads(body)
    return header


def without_type(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "type"}


def only_record(server: Server, call_id: str, ok: typing.Callable[[dict], bool] = lambda r: True) -> dict:
    records = server.wait_for_records(call_id, lambda rs: len(rs) == 1 and ok(rs[0]))
    assert len(records) == 1, f"expected exactly one record for {call_id}, got {len(records)}: {records}"
    return records[0]


def assert_no_record(server: Server, call_id: str) -> None:
    time.sleep(0.5)  # a decision would have reached the store by now
    assert server.records_of(call_id) == [], f"a refused request recorded {call_id}"


# ------------------------------------------------------------------------------------------------
# The server


# A number served by sales v2: v1 plus the Retell agent id and version an `import retell` keeps under
# provider_options (issue 28: those ids were answered as the override though the Retell agent
# version holds an older prompt). v2 is not deployed either.
IMPORTED_IDS_CHANNEL = "+14155550177"
IMPORTED_RETELL_IDS = "provider_options:\n  retell:\n    agent:\n      agent_id: agent_imported_0001\n      version: 3\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    ws = example_workspace(tmp_path_factory.mktemp("hooks"))
    sales = ws.root / "agents" / "sales.yaml"
    sales.write_text(sales.read_text().rstrip("\n") + "\n\n" + IMPORTED_RETELL_IDS)
    ws.av("publish", "sales", "-m", "Retell ids from an import")
    ws.av("pin", IMPORTED_IDS_CHANNEL, "sales@v2")
    ws.commit_all("pin the imported ids")
    server = Server(ws, public_url="https://agentver.example")
    try:
        yield SimpleNamespace(
            ws=ws,
            server=server,
            v1_tree=ws.tree_of("agent/sales/v1"),
            v1_config=ws.av_json("show", "sales@v1", "--json")["config"],
            retell_render=ws.av_json("render", "sales@v1", "--platform", "retell"),
        )
    finally:
        server.stop()


def assert_attribution(attribution: dict, served, channel: str = PINNED_V1) -> None:
    assert set(attribution) >= ATTRIBUTION_KEYS, f"attribution keys: {sorted(attribution)}"
    assert all(isinstance(attribution[k], str) for k in ATTRIBUTION_KEYS), attribution
    assert attribution["agentver_agent"] == "sales", attribution
    assert attribution["agentver_version"] == "1", attribution
    assert attribution["agentver_tree"] == served.v1_tree, attribution
    assert attribution["agentver_channel"] == channel, attribution


def assert_record_is_v1(record: dict, served, source: str) -> None:
    assert record["source"] == source, record
    assert (record["agent"], record["version"], record["tree"]) == ("sales", 1, served.v1_tree), record


def assert_decided_and_replayed(served, call_id: str, source: str) -> None:
    """The call's one record: v1 as decided, successful, and `replay` gives v1's configuration."""
    record = only_record(served.server, call_id, lambda r: r.get("attribution") == "decided" and r.get("success") is True)
    assert_record_is_v1(record, served, source)
    assert record["attribution"] == "decided", record
    assert record["success"] is True, record
    replay = served.ws.av_json("replay", call_id, "--json", "--calls", served.server.store)
    assert replay["config"] == served.v1_config, "replay gives the configuration that served the call"


def assert_record_is_not_deployed_v1(record: dict, source: str) -> None:
    """A Retell call whose version was never deployed ran the number's own agent: the record names
    no configuration (it is no statistics arm), and its reason says what was decided."""
    assert record["source"] == source, record
    assert record["attribution"] == "not_deployed", record
    assert (record["agent"], record["version"], record["tree"]) == (None, None, None), record
    assert "sales v1" in (record.get("attribution_reason") or ""), record


# ================================================================================================
# Vapi


def vapi_assistant_request(call_id: str, channel: str = PINNED_V1, caller: str = "+16505550100") -> dict:
    created = dt.datetime.now(dt.timezone.utc)
    message = ServerMessage(
        message=ServerMessageAssistantRequest(
            type="assistant-request",
            timestamp=now_ms(),
            phone_number=ServerMessageAssistantRequestPhoneNumber_Twilio(
                number=channel, twilio_account_sid="AC00000000000000000000000000000001"
            ),
            customer=CreateCustomerDto(number=caller),
            call=VapiCall(
                id=call_id, org_id="org_contract", created_at=created, updated_at=created, type="inboundPhoneCall"
            ),
        )
    )
    value = fern_json(message)
    strict.check(ServerMessage, value)  # the request itself is what Vapi sends
    return value


def vapi_end_of_call_report(call_id: str, metadata: dict) -> dict:
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=2)
    message = ServerMessage(
        message=ServerMessageEndOfCallReport(
            type="end-of-call-report",
            ended_reason="customer-ended-call",
            timestamp=now_ms(),
            artifact=VapiArtifact(),
            analysis=VapiAnalysis(summary="Booked a demo for Tuesday.", success_evaluation="true"),
            assistant=CreateAssistantDto(metadata=metadata),
            customer=CreateCustomerDto(number="+16505550100"),
            call=VapiCall(
                id=call_id, org_id="org_contract", created_at=started, updated_at=started, type="inboundPhoneCall"
            ),
            started_at=started,
            ended_at=started + dt.timedelta(seconds=95),
            cost=0.21,
        )
    )
    value = fern_json(message)
    strict.check(ServerMessage, value)
    return value


def vapi_post(served, value: dict, secret: str | None = VAPI_SECRET):
    headers = {"X-Vapi-Secret": secret} if secret is not None else {}
    return served.server.post_json("/hooks/vapi", body_of(value), headers)


def test_vapi_assistant_request_is_accepted_and_its_assistant_is_a_valid_create_assistant_dto(served):
    reply = vapi_post(served, vapi_assistant_request(fresh_id("vapi-a")))
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert "assistant" in answer, answer
    strict.check(CreateAssistantDto, answer["assistant"])


def test_vapi_assistant_request_answer_is_a_valid_server_message_response(served):
    reply = vapi_post(served, vapi_assistant_request(fresh_id("vapi-b")))
    assert reply.status == 200, reply.text
    answer = reply.json()
    strict.check(ServerMessageResponseAssistantRequest, answer)
    assert_attribution(answer["assistant"]["metadata"], served)
    assert answer["assistantOverrides"]["variableValues"]["first_name"] == "there", answer.get("assistantOverrides")


def test_vapi_unknown_number_answer_is_a_valid_error_response(served):
    reply = vapi_post(served, vapi_assistant_request(fresh_id("vapi-u"), channel=UNKNOWN_NUMBER))
    assert reply.status == 200, reply.text
    answer = reply.json()
    strict.check(ServerMessageResponseAssistantRequest, answer)
    assert isinstance(answer.get("error"), str) and answer["error"], answer


def test_vapi_call_end_to_end_is_one_record_of_the_answered_version(served):
    call_id = fresh_id("vapi-call")
    reply = vapi_post(served, vapi_assistant_request(call_id))
    assert reply.status == 200, reply.text
    metadata = reply.json()["assistant"]["metadata"]
    assert_attribution(metadata, served)

    report = vapi_post(served, vapi_end_of_call_report(call_id, metadata))
    assert report.status == 200, report.text

    assert_decided_and_replayed(served, call_id, "vapi")


def test_vapi_forged_secret_is_401_and_records_nothing(served):
    call_id = fresh_id("vapi-forged")
    request = vapi_assistant_request(call_id)
    assert vapi_post(served, request, secret="not-the-secret").status == 401
    assert vapi_post(served, request, secret=None).status == 401
    report = vapi_end_of_call_report(call_id, {"agentver_agent": "sales", "agentver_version": "1"})
    assert vapi_post(served, report, secret="not-the-secret").status == 401
    assert_no_record(served.server, call_id)


# ================================================================================================
# Retell


def retell_call_inbound(call_id: str, channel: str = PINNED_V1, caller: str = "+16505550111") -> dict:
    value = {
        "event": "call_inbound",
        "call_inbound": {
            "agent_id": "agent_number_own",
            "agent_version": 4,
            "from_number": caller,
            "to_number": channel,
            "call_id": call_id,
        },
    }
    strict.check(RetellCallInboundRequest, value)
    return value


def retell_call(call_id: str, event: str, metadata: dict, variables: dict) -> dict:
    start = now_ms() - 95_000
    fields: dict[str, typing.Any] = dict(
        agent_id="agent_number_own",
        agent_version=4,
        call_id=call_id,
        call_status="ongoing" if event == "call_started" else "ended",
        call_type="phone_call",
        direction="inbound",
        from_number="+16505550111",
        to_number=PINNED_V1,
        metadata=metadata,
        retell_llm_dynamic_variables=variables,
        start_timestamp=start,
    )
    if event != "call_started":
        fields.update(end_timestamp=start + 95_000, duration_ms=95_000, disconnection_reason="user_hangup")
    if event == "call_analyzed":
        fields.update(
            call_analysis=RetellCallAnalysis(
                call_successful=True,
                user_sentiment="Positive",
                call_summary="Booked a demo for Tuesday.",
                custom_analysis_data={"demo_booked": True},
            ),
            call_cost=RetellCallCost(
                combined_cost=21.0, product_costs=[], total_duration_seconds=95, total_duration_unit_price=0.2
            ),
        )
    value = {"event": event, "call": stainless_json(PhoneCallResponse(**fields))}
    strict.check(RetellCallEvent, value)
    return value


def retell_post(served, value: dict, key: str = RETELL_API_KEY):
    body = body_of(value)
    return served.server.post_json("/hooks/retell", body, {"x-retell-signature": retell_sign(body, key)})


def test_retell_call_inbound_is_accepted_and_its_answer_validates_against_the_sdk_types(served):
    reply = retell_post(served, retell_call_inbound(fresh_id("retell-a")))
    assert reply.status == 200, reply.text
    strict.check(RetellCallInboundAnswer, reply.json())


@pytest.mark.parametrize("channel", [PINNED_V1, IMPORTED_IDS_CHANNEL])
def test_retell_call_inbound_never_overrides_with_a_version_that_was_not_deployed(served, channel):
    reply = retell_post(served, retell_call_inbound(fresh_id("retell-b"), channel=channel))
    assert reply.status == 200, reply.text
    inbound = reply.json()["call_inbound"]
    stale = {k: inbound[k] for k in ("override_agent_id", "override_agent_version") if k in inbound}
    assert stale == {}, f"the version {channel} serves was never deployed to Retell, yet the answer overrides with {stale}"


def test_retell_call_inbound_sends_the_llm_overrides_and_string_dynamic_variables(served):
    reply = retell_post(served, retell_call_inbound(fresh_id("retell-c")))
    assert reply.status == 200, reply.text
    inbound = reply.json()["call_inbound"]
    variables = inbound.get("dynamic_variables")
    assert isinstance(variables, dict), inbound
    strict.check(_PHONE_CALL_PARAMS["retell_llm_dynamic_variables"], variables)  # every value a string
    assert_attribution({k: variables.get(k) for k in ATTRIBUTION_KEYS}, served)
    assert variables.get("first_name") == "there", variables
    assert_attribution(inbound.get("metadata") or {}, served)

    llm = (inbound.get("agent_override") or {}).get("retell_llm")
    assert isinstance(llm, dict), f"no agent_override.retell_llm in {inbound}"
    rendered = served.retell_render["llm"]
    # The agent has a temperature and a welcome message: both reach the call, as the render has them.
    for key in ("model_temperature", "begin_message"):
        assert key in rendered, f"render sales@v1 --platform retell has no llm.{key}: {rendered}"
        assert llm.get(key) == rendered[key], f"retell_llm.{key}: {llm.get(key)!r}, render: {rendered[key]!r}"
    # The model goes with it when Retell has it (the render leaves out a model Retell lacks).
    assert llm.get("model") == rendered.get("model"), f"retell_llm.model {llm.get('model')!r}, render {rendered.get('model')!r}"


def test_retell_call_inbound_records_the_decision_under_its_call_id(served):
    call_id = fresh_id("retell-d")
    reply = retell_post(served, retell_call_inbound(call_id))
    assert reply.status == 200, reply.text
    record = only_record(served.server, call_id)
    # The decision is agentver's own event (its source), made before Retell says anything more.
    assert_record_is_not_deployed_v1(record, "agentver")
    replay = served.ws.av("replay", call_id, "--calls", served.server.store, check=False)
    assert replay.returncode != 0 and "not deployed" in replay.stderr, replay.stderr


def test_retell_unknown_number_answer_has_no_override(served):
    reply = retell_post(served, retell_call_inbound(fresh_id("retell-u"), channel=UNKNOWN_NUMBER))
    assert reply.status == 200, reply.text
    answer = reply.json()
    strict.check(RetellCallInboundAnswer, answer)
    assert answer == {"call_inbound": {}}, answer


def test_retell_call_end_to_end_is_one_record_marked_not_deployed(served):
    call_id = fresh_id("retell-call")
    reply = retell_post(served, retell_call_inbound(call_id))
    assert reply.status == 200, reply.text
    inbound = reply.json()["call_inbound"]
    metadata, variables = inbound.get("metadata") or {}, inbound.get("dynamic_variables") or {}
    assert_attribution(metadata, served)

    for event in ("call_started", "call_ended", "call_analyzed"):
        sent = retell_post(served, retell_call(call_id, event, metadata, variables))
        assert sent.status == 200, f"{event}: {sent.status} {sent.text}"

    record = only_record(served.server, call_id, lambda r: r.get("success") is True)
    assert_record_is_not_deployed_v1(record, "retell")
    assert record["success"] is True, record


def test_retell_forged_signature_is_401_and_records_nothing(served):
    call_id = fresh_id("retell-forged")
    assert retell_post(served, retell_call_inbound(call_id), key="key_someone_else").status == 401
    unsigned = served.server.post_json("/hooks/retell", body_of(retell_call_inbound(call_id)))
    assert unsigned.status == 401, unsigned.text
    event = retell_call(call_id, "call_ended", {"agentver_agent": "sales", "agentver_version": "1"}, {})
    assert retell_post(served, event, key="key_someone_else").status == 401
    assert_no_record(served.server, call_id)


# ================================================================================================
# ElevenLabs


def elevenlabs_initiation_request(call_sid: str, channel: str = PINNED_V1) -> dict:
    value = {"caller_id": "+16505550122", "agent_id": "agent_el_contract", "called_number": channel, "call_sid": call_sid}
    strict.check(ElevenLabsInitiationRequest, value)
    return value


def elevenlabs_post_call(call_sid: str, conversation_id: str, dynamic_variables: dict) -> dict:
    data = GetConversationResponseModel(
        agent_id="agent_el_contract",
        status="done",
        conversation_id=conversation_id,
        has_audio=False,
        has_user_audio=False,
        has_response_audio=False,
        has_auxiliary_audio=False,
        transcript=[],
        metadata=ConversationHistoryMetadataCommonModel(
            start_time_unix_secs=int(time.time()) - 95,
            call_duration_secs=95,
            cost_fiat=0.12,
            termination_reason="end_call tool was called",
            phone_call=ConversationHistoryMetadataCommonModelPhoneCall_Twilio(
                direction="inbound",
                phone_number_id="pn_contract",
                agent_number=PINNED_V1,
                external_number="+16505550122",
                stream_sid="MZ00000000000000000000000000000001",
                call_sid=call_sid,
            ),
        ),
        analysis=ConversationHistoryAnalysisCommonModel(call_successful="success", transcript_summary="Booked a demo."),
        conversation_initiation_client_data=ConversationInitiationClientDataRequestOutput(
            dynamic_variables=dynamic_variables
        ),
    )
    value = {"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": fern_json(data)}
    strict.check(ElevenLabsPostCallTranscription, value)
    return value


def elevenlabs_initiate(served, value: dict, token: str = ELEVENLABS_INITIATION_TOKEN):
    return served.server.post_json(
        "/hooks/elevenlabs/initiation", body_of(value), {"Authorization": f"Bearer {token}"}
    )


def elevenlabs_report(served, value: dict, secret: str = ELEVENLABS_WEBHOOK_SECRET):
    body = body_of(value)
    return served.server.post_json("/hooks/elevenlabs", body, {"ElevenLabs-Signature": elevenlabs_sign(body, secret)})


def test_elevenlabs_initiation_is_accepted_and_its_answer_validates_against_the_sdk_type(served):
    reply = elevenlabs_initiate(served, elevenlabs_initiation_request(fresh_id("CA-el-a")))
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert answer.get("type") == INITIATION_TYPE, answer
    strict.check(ConversationInitiationClientDataRequestInput, without_type(answer))
    assert_attribution(answer.get("dynamic_variables") or {}, served)
    override = answer.get("conversation_config_override") or {}
    prompt = ((override.get("agent") or {}).get("prompt") or {}).get("prompt")
    assert prompt == served.v1_config["prompt"]["system"], f"the served prompt: {override}"


def test_elevenlabs_call_end_to_end_is_one_record_under_the_call_sid(served):
    call_sid, conversation_id = fresh_id("CA-el"), fresh_id("conv")
    reply = elevenlabs_initiate(served, elevenlabs_initiation_request(call_sid))
    assert reply.status == 200, reply.text
    variables = reply.json()["dynamic_variables"]

    report = elevenlabs_report(served, elevenlabs_post_call(call_sid, conversation_id, variables))
    assert report.status == 200, report.text

    assert served.server.records_of(conversation_id) == [], "a phone call is recorded under its call_sid"
    assert_decided_and_replayed(served, call_sid, "elevenlabs")


def test_elevenlabs_forged_token_and_signature_are_401_and_record_nothing(served):
    call_sid, conversation_id = fresh_id("CA-el-forged"), fresh_id("conv-forged")
    assert elevenlabs_initiate(served, elevenlabs_initiation_request(call_sid), token="wrong-token").status == 401
    report = elevenlabs_post_call(call_sid, conversation_id, {"agentver_agent": "sales", "agentver_version": "1"})
    body = body_of(report)
    forged = elevenlabs_sign(body, secret="wsec_someone_else_entirely")
    with pytest.raises(ElevenLabsApiError):
        ElevenLabs(api_key="unused").webhooks.construct_event(body, forged, ELEVENLABS_WEBHOOK_SECRET)
    reply = served.server.post_json("/hooks/elevenlabs", body, {"ElevenLabs-Signature": forged})
    assert reply.status == 401, reply.text
    assert_no_record(served.server, call_sid)
    assert served.server.records_of(conversation_id) == []
