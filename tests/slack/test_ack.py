"""Slack's 3-second ack: slow work is acknowledged at the deadline and answered later;
follow-up work waits for the ack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from slack_bolt.request import BoltRequest

from adapters.slack.ack import ACK_DEADLINE, WORKING, AckGuard, guarded
from adapters.slack.app import SlackApp, create_app
from adapters.slack.inbound import Caller, Command
from bot.core import StudyBot
from tests.slack.conftest import (
    DELAY,
    SlackUser,
    SlowBot,
    action_body,
    command_body,
    find_button,
    signed_headers,
    slack_settings,
)
from tests.slack.fakeslack import FakeSlack
from tests.slack.server import running_server

DEADLINE = 0.15


@dataclass
class SlowServer:
    """The real App behind the real HTTP transport, with a core slower than the deadline."""

    user: SlackUser
    web: httpx.Client

    def post(self, body: str) -> httpx.Response:
        return self.web.post("/slack/events", content=body, headers=signed_headers(body))


@pytest.fixture
def slow(bot: StudyBot, fake: FakeSlack) -> Iterator[SlowServer]:
    slow_bot = SlowBot(bot.store, bot.content, bot.clock)
    app = create_app(slow_bot, slack_settings(fake))
    with (
        running_server(app, slow_bot, deadline=DEADLINE) as base,
        httpx.Client(base_url=base) as web,
    ):
        yield SlowServer(SlackUser(app, fake, "ULEAD", "Lee"), web)
        app.frontend.drain()
    app.close()


def test_deadline_leaves_a_margin() -> None:
    assert ACK_DEADLINE <= 2.0


def test_slow_command_is_acked_then_answered(slow: SlowServer, fake: FakeSlack) -> None:
    started = time.monotonic()
    body = command_body(fake, "ULEAD", "Lee", "setup tz=Europe/Berlin")
    resp = slow.post(body)
    acked = time.monotonic() - started
    assert resp.status_code == 200
    assert acked < DELAY, acked
    assert resp.json() == {"response_type": "ephemeral", "text": WORKING}
    late = fake.wait_for("response", timeout=5)[-1].args
    assert "Study group created" in str(late["blocks"])
    assert late["response_type"] == "in_channel"


def test_slow_click_is_acked_then_answered(slow: SlowServer, fake: FakeSlack) -> None:
    slow.user.command("setup tz=UTC")  # in-process: no deadline, the answer in the ack
    today = slow.user.command("today")
    fake.clear()
    body = action_body(fake, "ULEAD", "Lee", find_button(today.blocks, "A"))
    started = time.monotonic()
    resp = slow.post(body)
    assert time.monotonic() - started < DELAY
    assert resp.status_code == 200 and resp.text == ""
    late = fake.wait_for("response", timeout=5)[-1].args
    assert "Correct" in str(late) or "Not quite" in str(late)


def test_clicks_acked_at_the_deadline_are_recorded_when_the_server_stops(
    bot: StudyBot, fake: FakeSlack
) -> None:
    """A click still queued behind a slow one when Slack got its stand-in ack is not
    dropped by a shutdown: the server lets it run before it exits."""
    slow_bot = SlowBot(bot.store, bot.content, bot.clock)
    app = create_app(slow_bot, slack_settings(fake))
    lee = SlackUser(app, fake, "ULEAD", "Lee")
    lee.command("setup tz=UTC")
    button = find_button(lee.command("today").blocks, "A")
    clicks = [
        action_body(fake, user, name, button) for user, name in (("UANN", "Ann"), ("UBO", "Bo"))
    ]
    with (
        running_server(app, slow_bot, deadline=DEADLINE, threads=1) as base,
        httpx.Client(base_url=base) as web,
    ):
        acks = [web.post("/slack/events", content=b, headers=signed_headers(b)) for b in clicks]
        assert [(a.status_code, a.text) for a in acks] == [(200, ""), (200, "")]
    # the server has stopped; both clicks ran to the end
    board = lee.command("leaderboard").text()
    app.frontend.drain()
    app.close()
    assert "UANN — 15 pts" in board and "UBO — 15 pts" in board, board


def test_a_fast_command_is_answered_in_its_ack_over_http(
    slack: SlackApp, bot: StudyBot, fake: FakeSlack
) -> None:
    with running_server(slack, bot) as base, httpx.Client(base_url=base) as web:
        body = command_body(fake, "ULEAD", "Lee", "help")
        resp = web.post("/slack/events", content=body, headers=signed_headers(body))
    assert resp.status_code == 200
    assert "/study today" in resp.text and WORKING not in resp.text
    assert fake.of("response") == []


def test_the_first_to_decide_answers_slack() -> None:
    listener_first = AckGuard()
    assert listener_first.claim() and listener_first.claim()
    assert not listener_first.expire()
    transport_first = AckGuard()
    assert transport_first.expire()
    assert not transport_first.claim()


def test_a_clicks_feedback_waits_until_the_ack_is_out(lee: SlackUser, fake: FakeSlack) -> None:
    today = lee.command("today")
    fake.clear()
    body = action_body(fake, "ULEAD", "Lee", find_button(today.blocks, "A"))
    req = BoltRequest(body=body, headers=signed_headers(body))
    guard = guarded(req)  # as the HTTP and Socket Mode transports do
    resp = lee.slack.app.dispatch(req)
    assert resp.status == 200 and resp.body == ""
    time.sleep(0.05)
    assert fake.of("response") == []  # the answer is recorded; the ack has not gone out
    guard.release()
    lee.slack.frontend.drain()
    assert len(fake.of("response")) == 1


def test_only_lead_commands_need_fresh_admin_rights() -> None:
    def needs_admin(text: str) -> bool:
        return Command(Caller("T1", "C1", "U1", "u"), text).needs_admin

    assert needs_admin("setup tz=UTC") and needs_admin("SETUP")
    assert not needs_admin("today") and not needs_admin("") and not needs_admin("nope")
