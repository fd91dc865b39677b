"""Fixtures for the Slack adapter: a fake Web API, the real App, signed requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackApp, create_app
from bot.core import StudyBot
from bot.seam import Action, Reply, Who
from bot.settings import Settings
from tests.slack.fakeslack import TEAM, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C1"


def signed_headers(
    body: str,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sig,
    }


def slack_settings(fake: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def command_body(
    fake: FakeSlack, user: str, name: str, text: str, channel: str = CHANNEL, team: str = TEAM
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "study",
            "user_id": user,
            "user_name": name.lower(),
            "command": "/study",
            "text": text,
            "api_app_id": "A1",
            "response_url": fake.response_url(),
            "trigger_id": "1.2.3",
        }
    )


def unescape(s: str) -> str:
    """What Slack shows for escaped text."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def find_button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    for e in buttons_of(blocks):
        shown = unescape(e["text"]["text"])
        if shown == label or shown.startswith(label) or shown.endswith(" " + label):
            return e
    shown = [e["text"]["text"] for e in buttons_of(blocks)]
    raise AssertionError(f"no button {label!r} in {shown}")


def action_body(
    fake: FakeSlack,
    user: str,
    name: str,
    button: dict[str, Any],
    channel: str = CHANNEL,
    team: str = TEAM,
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "fake"},
        "user": {"id": user, "username": name.lower(), "name": name.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000001",
            "channel_id": channel,
            "is_ephemeral": True,
        },
        "channel": {"id": channel, "name": "study"},
        "response_url": fake.response_url(),
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": "1700000001.000001",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


DELAY = 0.6


class SlowBot(StudyBot):
    """The real core, slowed down like a long query or a chart would."""

    def handle_text(self, who: Who, line: str) -> Reply:
        time.sleep(DELAY)
        return super().handle_text(who, line)

    def press(self, action: Action) -> Reply:
        time.sleep(DELAY)
        return super().press(action)


@dataclass
class Answer:
    """What the caller saw: the ack body and anything sent to the response_url."""

    status: int
    ack: dict[str, Any]
    responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any]:
        """The visible reply: a response_url post, else the ack body."""
        return self.responses[-1] if self.responses else self.ack

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.message.get("blocks", []))

    def text(self) -> str:
        return json.dumps(self.message, ensure_ascii=False)


@dataclass
class SlackUser:
    """One Slack member talking to the real App through signed requests."""

    slack: SlackApp
    fake: FakeSlack
    user: str
    name: str
    channel: str = CHANNEL
    team: str = TEAM
    last: Answer | None = None

    def dispatch(self, body: str, headers: dict[str, str] | None = None) -> BoltResponse:
        return self.slack.app.dispatch(
            BoltRequest(body=body, headers=headers or signed_headers(body))
        )

    def _answer(self, resp: BoltResponse, response_url: str) -> Answer:
        self.slack.frontend.drain()
        ack = json.loads(resp.body) if resp.body else {}
        path = response_url[len(self.fake.url) :]
        posted = [c.args for c in self.fake.of("response") if c.path == path]
        self.last = Answer(resp.status, ack, posted)
        return self.last

    def command(self, text: str) -> Answer:
        body = command_body(self.fake, self.user, self.name, text, self.channel, self.team)
        url = dict(_form(body))["response_url"]
        return self._answer(self.dispatch(body), url)

    def last_dm(self) -> list[dict[str, Any]]:
        """The blocks of the latest direct message to this user."""
        posts = [
            c.args
            for c in self.fake.of("chat.postMessage")
            if c.args.get("channel") == "D" + self.user
        ]
        assert posts, "no DM was sent"
        return list(posts[-1]["blocks"])

    def click(
        self, label: str, blocks: list[dict[str, Any]] | None = None, channel: str | None = None
    ) -> Answer:
        """Press a button of `blocks` (default: the last reply) in `channel` (default: the
        group's channel; a DM's id for buttons on a direct message)."""
        if blocks is None:
            assert self.last is not None
            blocks = self.last.blocks
        button = find_button(blocks, label)
        body = action_body(
            self.fake, self.user, self.name, button, channel or self.channel, self.team
        )
        url = json.loads(dict(_form(body))["payload"])["response_url"]
        return self._answer(self.dispatch(body), url)


def _form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    f.user("ULEAD", "Lee", admin=True)
    f.user("UALICE", "Alice")
    f.user("UBOB", "Bob")
    yield f
    f.stop()


@pytest.fixture
def slack(bot: StudyBot, fake: FakeSlack) -> Iterator[SlackApp]:
    # Scenario tests dispatch in-process, where no transport keeps an ack deadline: the
    # deadline and the slow path are tested over HTTP and Socket Mode in test_ack.py.
    app = create_app(bot, slack_settings(fake))
    yield app
    app.frontend.drain()
    app.close()


@pytest.fixture
def lee(slack: SlackApp, fake: FakeSlack) -> SlackUser:
    """A workspace admin who has set the group up in C1 (associate, UTC, started today)."""
    u = SlackUser(slack, fake, "ULEAD", "Lee")
    a = u.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
    assert a.ack.get("response_type") == "in_channel", a.text()
    return u


@pytest.fixture
def ali(slack: SlackApp, fake: FakeSlack, lee: SlackUser) -> SlackUser:
    u = SlackUser(slack, fake, "UALICE", "Alice")
    u.command("join")
    return u
