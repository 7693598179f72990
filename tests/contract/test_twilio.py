"""`POST /hooks/twilio` of `agentver serve`, judged by Twilio's own Python SDK (twilio).

Signatures: every `X-Twilio-Signature` here is made by `twilio.request_validator.RequestValidator.
compute_signature`, over the URL written in each case (the public URL exactly, with an explicit
default port, with a custom port dropped or added, another host), in HMAC-SHA1 or, with the
`X-Twilio-Webhooks-Signature-Settings` header (`SIGNATURE_SETTINGS_HEADER`), HMAC-SHA256
(`HMAC_SHA256`; the algorithm is read from the header by the SDK's `get_signature_algorithm`).
serve must accept a request (200) exactly when the SDK's own `RequestValidator.validate` accepts
it for the URL Twilio requested (`--public-url` + `/hooks/twilio`), and refuse it (401, nothing
recorded) otherwise: the expectation is computed by `validate`, never written down. The
HMAC-SHA256 cases sign with the auth token serve is given (AGENTVER_TWILIO_AUTH_TOKEN): serve has
no separate SharedKey secret.

TwiML: the answer must parse and be, as an XML tree (tags, attribute sets, text, children; the
order of `<Parameter>`s aside), what the SDK's `twilio.twiml.voice_response.VoiceResponse`,
`Connect`, `Stream` and `Parameter` build for the stream URL of agentver.toml and the call's
attribution (the `/v1/resolve` attribution of the same call): one `<Parameter>` per attribution
value. A number that is not a channel gets the SDK's `<Say>` of the refusal, then `<Hangup>`.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.voice_response import Connect, Parameter, Stream, VoiceResponse

from serve_fixture import ATTRIBUTION_KEYS, PINNED_V1, STREAM_URL, TWILIO_AUTH_TOKEN, UNKNOWN_NUMBER, Server, example_workspace


# What the caller hears when the number is not a channel (docs/platforms.md, "Point the platform at serve").
REFUSAL = "Sorry, this number cannot take calls right now. Please try again later."

# The public URLs serve is started with, one server each.
PUBLIC_URLS = {
    "https": "https://agentver.example",
    "custom-port": "http://agentver.example:8080/",
    "http": "http://agentver.example",
}

SHA256_SETTINGS = f"key=webhooks_sharedkey_contract,algorithm={HMAC_SHA256}"


def requested_url(server_key: str) -> str:
    """The URL Twilio requests: the public URL serve is told, plus the hook's path."""
    return PUBLIC_URLS[server_key].rstrip("/") + "/hooks/twilio"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    started: dict[str, Server] = {}
    try:
        for key, url in PUBLIC_URLS.items():
            ws = example_workspace(tmp_path_factory.mktemp(f"twilio-{key}"))
            started[key] = Server(ws, public_url=url)
        yield started
    finally:
        for server in started.values():
            server.stop()


def voice_params(call_sid: str, to: str = PINNED_V1, caller: str = "+16505550199") -> dict[str, str]:
    """The form Twilio posts to a voice webhook for an inbound call."""
    return {
        "AccountSid": "AC00000000000000000000000000000001",
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Called": to,
        "Caller": caller,
        "CallerName": "Ada Lovelace & Co",
        "Direction": "inbound",
        "From": caller,
        "FromCity": "SAN FRANCISCO",
        "FromCountry": "US",
        "To": to,
    }


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


@dataclass(frozen=True)
class Case:
    name: str
    server: str  # a key of PUBLIC_URLS
    signed_url: str  # the URL the signature is computed over
    sign_algorithm: str = HMAC_SHA1
    settings: str | None = None  # X-Twilio-Webhooks-Signature-Settings, when sent
    token: str = TWILIO_AUTH_TOKEN


CASES = [
    Case("https-exact", "https", "https://agentver.example/hooks/twilio"),
    Case("https-explicit-443", "https", "https://agentver.example:443/hooks/twilio"),
    Case("https-explicit-80", "https", "https://agentver.example:80/hooks/twilio"),
    Case("custom-port-exact", "custom-port", "http://agentver.example:8080/hooks/twilio"),
    Case("custom-port-dropped", "custom-port", "http://agentver.example/hooks/twilio"),
    Case("custom-port-added", "http", "http://agentver.example:8080/hooks/twilio"),
    Case("http-explicit-80", "http", "http://agentver.example:80/hooks/twilio"),
    Case("other-host", "https", "https://elsewhere.example/hooks/twilio"),
    Case("other-path", "https", "https://agentver.example/hooks/vapi"),
    Case("wrong-token", "https", "https://agentver.example/hooks/twilio", token="someone-elses-token"),
    Case("sha256-exact", "https", "https://agentver.example/hooks/twilio", HMAC_SHA256, SHA256_SETTINGS),
    Case("sha256-explicit-443", "https", "https://agentver.example:443/hooks/twilio", HMAC_SHA256, SHA256_SETTINGS),
    Case("sha256-custom-port-dropped", "custom-port", "http://agentver.example/hooks/twilio", HMAC_SHA256, SHA256_SETTINGS),
    Case("sha256-without-settings", "https", "https://agentver.example/hooks/twilio", HMAC_SHA256, None),
    Case("sha1-with-sha256-settings", "https", "https://agentver.example/hooks/twilio", HMAC_SHA1, SHA256_SETTINGS),
]


def sign(case: Case, params: dict[str, str]) -> str:
    return RequestValidator(case.token).compute_signature(case.signed_url, params, case.sign_algorithm)


def sdk_accepts(case: Case, params: dict[str, str], signature: str) -> bool:
    """Twilio's own verdict for this request at the URL Twilio requested."""
    algorithm = get_signature_algorithm(case.settings)
    return RequestValidator(TWILIO_AUTH_TOKEN).validate(requested_url(case.server), params, signature, algorithm)


def post_voice(server: Server, params: dict[str, str], signature: str, settings: str | None = None):
    headers = {SIGNATURE_HEADER: signature}
    if settings is not None:
        headers[SIGNATURE_SETTINGS_HEADER] = settings
    return server.post_form("/hooks/twilio", urllib.parse.urlencode(params), headers)


def test_the_cases_hold_signatures_the_sdk_accepts_and_refuses():
    """So that the signature test below can fail both ways."""
    verdicts = set()
    for case in CASES:
        params = voice_params("CA-sanity")
        verdicts.add(sdk_accepts(case, params, sign(case, params)))
    assert verdicts == {True, False}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_signature_is_accepted_exactly_where_the_sdk_validator_accepts_it(servers, case):
    server = servers[case.server]
    call_sid = new_call_sid()
    params = voice_params(call_sid)
    signature = sign(case, params)
    accepted = sdk_accepts(case, params, signature)
    reply = post_voice(server, params, signature, case.settings)
    want = 200 if accepted else 401
    assert reply.status == want, (
        f"signed over {case.signed_url} ({case.sign_algorithm}, settings {case.settings!r}) for "
        f"{requested_url(case.server)}: RequestValidator.validate says {accepted}, serve answered "
        f"{reply.status}: {reply.text[:300]}"
    )
    if accepted:
        records = server.wait_for_records(call_sid, lambda rs: len(rs) == 1)
        assert len(records) == 1, f"the accepted call's decision is recorded under its CallSid: {records}"
    else:
        time.sleep(0.5)  # a decision would have reached the store by now
        assert server.records_of(call_sid) == [], "a refused request records nothing"


# ------------------------------------------------------------------------------------------------
# TwiML


def canonical(element: ET.Element) -> tuple:
    """An XML element as (tag, attributes, text, children); sibling <Parameter>s in name order."""
    children = [canonical(c) for c in element]
    if children and all(c[0] == "Parameter" for c in children):
        children.sort()
    text = (element.text or "").strip() or None
    return (element.tag, tuple(sorted(element.attrib.items())), text, tuple(children))


def parse_twiml(reply) -> ET.Element:
    content_type = reply.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() in ("text/xml", "application/xml"), content_type
    try:
        return ET.fromstring(reply.body)
    except ET.ParseError as e:
        raise AssertionError(f"the TwiML does not parse ({e}): {reply.text}") from None


def signed_call(server_key: str, servers, to: str):
    server = servers[server_key]
    params = voice_params(new_call_sid(), to=to)
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(requested_url(server_key), params)
    reply = post_voice(server, params, signature)
    assert reply.status == 200, reply.text
    return server, params, reply


def test_twiml_connects_the_stream_as_the_sdk_builds_it_with_the_attribution_as_parameters(servers):
    server, params, reply = signed_call("https", servers, PINNED_V1)
    got = parse_twiml(reply)

    query = urllib.parse.urlencode({"channel": params["To"], "caller": params["From"]})
    attribution = server.get_json(f"/v1/resolve?{query}")["attribution"]
    assert set(attribution) == ATTRIBUTION_KEYS, attribution
    assert (attribution["agentver_agent"], attribution["agentver_version"]) == ("sales", "1"), attribution

    stream = Stream(url=STREAM_URL)
    for name, value in attribution.items():
        stream.append(Parameter(name=name, value=value))
    want = VoiceResponse()
    want.append(Connect().append(stream))
    assert canonical(got) == canonical(ET.fromstring(want.to_xml())), (
        f"serve:\n{reply.text}\nthe SDK:\n{want.to_xml()}"
    )


def test_twiml_stream_parameters_carry_the_attribution(servers):
    server, params, reply = signed_call("https", servers, PINNED_V1)
    got = parse_twiml(reply)
    parameters = {p.get("name"): p.get("value") for p in got.iter("Parameter")}
    assert set(parameters) == ATTRIBUTION_KEYS, parameters
    tree = server.ws.tree_of("agent/sales/v1")
    assert parameters["agentver_agent"] == "sales" and parameters["agentver_version"] == "1", parameters
    assert parameters["agentver_tree"] == tree and parameters["agentver_channel"] == PINNED_V1, parameters
    record = server.wait_for_records(params["CallSid"], lambda rs: len(rs) == 1)
    assert len(record) == 1, record
    assert (record[0]["agent"], record[0]["version"], record[0]["tree"]) == ("sales", 1, tree), record[0]


def test_twiml_refusal_is_the_sdks_say_then_hangup(servers):
    _server, _params, reply = signed_call("https", servers, UNKNOWN_NUMBER)
    got = parse_twiml(reply)
    want = VoiceResponse()
    want.say(REFUSAL)
    want.hangup()
    assert canonical(got) == canonical(ET.fromstring(want.to_xml())), (
        f"serve:\n{reply.text}\nthe SDK:\n{want.to_xml()}"
    )
