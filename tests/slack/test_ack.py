"""Slack's 3-second ack: slow work is acknowledged at the deadline and answered later;
follow-up work waits for the ack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import select

from adapters.slack.ack import ACK_DEADLINE, WORKING, AckGuard, guarded
from adapters.slack.app import SlackApp, create_app
from adapters.slack.directory import Directory, Profile
from adapters.slack.inbound import Caller, Command
from bot.core import StudyBot
from bot.features import daily
from bot.store.models import User
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
from tests.slack.fakeslack import TEAM, FakeSlack
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


@contextmanager
def app_of_its_own(
    bot: StudyBot, fake: FakeSlack, now: list[float] | None = None
) -> Iterator[SlackApp]:
    """A second App on the same store, as another process would run it (with its own
    name cache, on a clock the test moves when `now` is given)."""
    directory = Directory(ttl=60, name_ttl=3600, clock=lambda: now[0]) if now else None
    app = create_app(bot, slack_settings(fake), directory=directory)
    try:
        yield app
    finally:
        app.frontend.drain()
        app.close()


# Far beyond an ack, so a busy machine cannot make a prompt ack look late.
SLOW_STREAK = 2.0


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


def test_a_click_is_acked_without_waiting_for_the_streak(
    slack: SlackApp, bot: StudyBot, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ack goes out once the answer is recorded; the streak is read afterwards."""
    lee = SlackUser(slack, fake, "ULEAD", "Lee")
    lee.command("setup tz=UTC")
    today = lee.command("today")
    slow_streak = daily.member_streak

    def member_streak(*args: Any) -> int:
        time.sleep(SLOW_STREAK)
        return slow_streak(*args)

    monkeypatch.setattr(daily, "member_streak", member_streak)
    fake.clear()
    body = action_body(fake, "ULEAD", "Lee", find_button(today.blocks, "A"))
    with running_server(slack, bot) as base, httpx.Client(base_url=base) as web:
        started = time.monotonic()
        resp = web.post("/slack/events", content=body, headers=signed_headers(body))
        acked = time.monotonic() - started
        assert resp.status_code == 200 and resp.text == ""
        assert acked < SLOW_STREAK, acked
        late = fake.wait_for("response", timeout=5)[-1].args
    assert "Streak: 1 day." in str(late["blocks"])


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


def test_users_info_is_cached_briefly(slack, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    directory = Directory(ttl=60, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    assert directory.lookup(client, "T1", "ULEAD", "lee").is_admin
    assert directory.lookup(client, "T1", "ULEAD", "lee").name == "Lee"
    assert len(fake.of("users.info")) == 1
    fake.user("ULEAD", "Lee", admin=False)  # demoted
    now[0] = 61
    assert not directory.lookup(client, "T1", "ULEAD", "lee").is_admin
    assert len(fake.of("users.info")) == 2


def test_users_info_failure_falls_back_without_admin(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    fake.error("users.info", "user_not_found")
    p = Directory().lookup(client, "T1", "ULEAD", "lee")
    assert p.name == "lee" and p.is_admin is False


def test_names_are_kept_longer_than_admin_rights(fake: FakeSlack) -> None:
    now = [0.0]
    directory = Directory(ttl=60, name_ttl=3600, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False).is_admin
    now[0] = 120  # admin rights are stale: not claimed, and no lookup for a plain command
    p = directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False)
    assert p == Profile("Lee", False)
    assert len(fake.of("users.info")) == 1
    assert directory.lookup(client, "T1", "ULEAD", "lee", need_admin=True).is_admin
    assert len(fake.of("users.info")) == 2  # a lead-only command looks again
    now[0] = 120 + 3601
    directory.lookup(client, "T1", "ULEAD", "lee", need_admin=False)
    assert len(fake.of("users.info")) == 3


def test_only_lead_commands_need_fresh_admin_rights() -> None:
    def needs_admin(text: str) -> bool:
        return Command(Caller("T1", "C1", "U1", "u"), text).needs_admin

    assert needs_admin("setup tz=UTC") and needs_admin("SETUP")
    assert not needs_admin("today") and not needs_admin("") and not needs_admin("nope")


def test_a_returning_member_is_answered_before_their_name_is_looked_up_again(
    bot: StudyBot, fake: FakeSlack
) -> None:
    """An old cached name is used once more and refreshed after the reply: the member is
    not kept waiting for users.info, and a new name shows from the next command on."""
    now = [0.0]
    with app_of_its_own(bot, fake, now) as app:
        lee = SlackUser(app, fake, "ULEAD", "Lee")
        lee.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
        ali = SlackUser(app, fake, "UALICE", "Alice")
        ali.command("join")
        looked_up = len(fake.of("users.info"))
        now[0] = 24 * 3600.0  # the next day
        fake.user("UALICE", "Ally")  # renamed in Slack meanwhile
        ali.command("progress")
        assert "Your progress · Alice" in str(ali.last_dm())  # answered with the old name
        assert len(fake.of("users.info")) == looked_up + 1  # looked up after the reply
        ali.command("progress")
        assert "Your progress · Ally" in str(ali.last_dm())
        assert len(fake.of("users.info")) == looked_up + 1


def test_a_failed_refresh_keeps_the_old_name_for_a_while(fake: FakeSlack) -> None:
    now = [0.0]
    directory = Directory(
        ttl=60, name_ttl=3600, failure_ttl=10, clock=lambda: now[0], background=lambda f: f()
    )
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    first = directory.lookup(client, "T1", "UALICE", "alice", need_admin=False)
    assert (first.name, first.known) == ("alice", False)  # a stand-in; users.info ran after
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    now[0] = 4000.0
    fake.error("users.info", "internal_error")
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    assert len(fake.of("users.info")) == 2  # the refresh failed
    now[0] = 4005.0
    fake.user("UALICE", "Ally")
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Alice"
    assert len(fake.of("users.info")) == 2  # not retried on every click
    now[0] = 4011.0
    directory.lookup(client, "T1", "UALICE", "alice", need_admin=False)
    assert directory.lookup(client, "T1", "UALICE", "alice", need_admin=False).name == "Ally"
    assert len(fake.of("users.info")) == 3


def test_answering_needs_no_admin_check(bot: StudyBot, fake: FakeSlack) -> None:
    """`today` and an answer click use the cached name even when the cached admin flag
    is stale: only lead commands look admin rights up again."""
    now = [0.0]
    with app_of_its_own(bot, fake, now) as app:
        lee = SlackUser(app, fake, "ULEAD", "Lee")
        lee.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
        before = len(fake.of("users.info"))
        now[0] = 600.0  # admin rights are stale, the name is not
        assert "Question of the day" in lee.command("today").text()
        lee.click("A")
        assert len(fake.of("users.info")) == before
        lee.command("setup time=08:00")
        assert len(fake.of("users.info")) == before + 1


def test_a_new_member_is_answered_before_users_info_and_named_after(
    bot: StudyBot, slack: SlackApp, fake: FakeSlack, lee: SlackUser
) -> None:
    """A member the process has never seen is answered with the payload's username as a
    stand-in; `users.info` runs after the reply and the leaderboard shows the real name.
    A stand-in never renames a member whose name is known."""
    fake.user("UCARO", "Carolina Ortega")
    caro = SlackUser(slack, fake, "UCARO", "Carolina Ortega")
    calls = len(fake.of("users.info"))
    today = caro.command("today")
    assert "Question of the day" in today.text()
    slack.frontend.drain()
    assert len(fake.of("users.info")) == calls + 1  # looked up once, after the reply
    assert stored_name(bot, "UCARO") == "Carolina Ortega"

    # Another process (a fresh directory) sees her first by the username only.
    with app_of_its_own(bot, fake) as other:
        fake.error("users.info", "internal_error")  # and cannot look her up
        again = SlackUser(other, fake, "UCARO", "Carolina Ortega")
        assert "Question of the day" in again.command("today").text()
    assert stored_name(bot, "UCARO") == "Carolina Ortega"  # not "carolina ortega"


def stored_name(bot: StudyBot, user_id: str) -> str | None:
    with bot.store.transaction(read_only=True) as s:
        return s.scalar(select(User.display_name).where(User.external_id == user_id))


def test_a_member_the_store_knows_is_not_looked_up_by_a_new_process(
    bot: StudyBot, slack: SlackApp, fake: FakeSlack, lee: SlackUser
) -> None:
    """A second process (a fresh directory) takes the name the store holds instead of
    asking users.info again, and answers with it from the next command on."""
    fake.user("UDANA", "Dana Scully")
    SlackUser(slack, fake, "UDANA", "Dana Scully").command("today")
    slack.frontend.drain()
    assert stored_name(bot, "UDANA") == "Dana Scully"
    with app_of_its_own(bot, fake) as other:
        calls = len(fake.of("users.info"))
        dana = SlackUser(other, fake, "UDANA", "Dana Scully")
        dana.command("today")
        other.frontend.drain()
        dana.command("progress")
        other.frontend.drain()
        assert len(fake.of("users.info")) == calls  # the store's name was enough
        profile = other.frontend.directory.lookup(
            WebClient(token="xoxb-test", base_url=fake.api_url),
            TEAM,
            "UDANA",
            "dana",
            need_admin=False,
        )
        assert (profile.name, profile.known) == ("Dana Scully", True)
    assert stored_name(bot, "UDANA") == "Dana Scully"
