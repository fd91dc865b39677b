"""Signed requests through the real App: only Slack's signature gets in."""

from __future__ import annotations

import json
import time

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackApp
from tests.slack.conftest import SECRET, command_body, signed_headers
from tests.slack.fakeslack import FakeSlack

# Slack's documented test vector (docs/platform-rules.md; slack-sdk's signature tests).
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
    "47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_slack_test_vector() -> None:
    sig = SignatureVerifier(SECRET).generate_signature(timestamp="1531420618", body=VECTOR_BODY)
    assert sig == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_valid_signature_is_handled(slack: SlackApp, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    resp = slack.app.dispatch(BoltRequest(body=body, headers=signed_headers(body)))
    assert resp.status == 200
    assert "/study today" in json.loads(resp.body)["blocks"][1]["text"]["text"]


def test_wrong_signature_is_401(slack: SlackApp, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    headers = signed_headers(body, secret="not-the-secret")
    resp = slack.app.dispatch(BoltRequest(body=body, headers=headers))
    assert resp.status == 401
    tampered = signed_headers(body)
    resp = slack.app.dispatch(BoltRequest(body=body.replace("help", "join"), headers=tampered))
    assert resp.status == 401
    assert fake.of("users.info") == []  # nothing reached the core


def test_old_timestamp_is_401(slack: SlackApp, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    old = int(time.time()) - 5 * 60 - 10
    resp = slack.app.dispatch(BoltRequest(body=body, headers=signed_headers(body, timestamp=old)))
    assert resp.status == 401


def test_missing_headers_is_401(slack: SlackApp, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    resp = slack.app.dispatch(BoltRequest(body=body, headers={}))
    assert resp.status == 401


def test_socket_mode_requests_skip_signatures(slack: SlackApp, fake: FakeSlack) -> None:
    """Socket Mode payloads arrive over an authenticated websocket, unsigned."""
    from urllib.parse import parse_qsl

    payload = dict(parse_qsl(command_body(fake, "UALICE", "Alice", "help")))
    resp = slack.app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    assert resp.status == 200
    assert "/study today" in json.dumps(resp.body)
