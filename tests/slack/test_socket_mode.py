"""Socket Mode end to end: the adapter's handler (Bolt's, with the ack deadline) against a
fake Slack websocket."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import WSMsgType, web

from adapters.slack.ack import WORKING
from adapters.slack.app import SlackApp, create_app
from adapters.slack.modals import TZ_ACTION
from adapters.slack.server import GuardedSocketModeHandler
from bot.core import StudyBot
from bot.seam import Action, Reply
from tests.slack.conftest import (
    DELAY,
    SlackUser,
    SlowBot,
    action_body,
    command_body,
    find_button,
    slack_settings,
)
from tests.slack.fakeslack import FakeSlack, Scripted
from tests.slack.modal_helpers import opened_view, submission_body


class FakeSocket:
    """A websocket on 127.0.0.1 that sends envelopes and collects the app's acks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.acks: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.got_ack = threading.Event()
        self._ws: web.WebSocketResponse | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"ws://127.0.0.1:{port}/link"

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.append(json.loads(msg.data))
                self.got_ack.set()
        return ws

    def send(self, envelope: dict[str, Any]) -> None:
        assert self._ws is not None
        asyncio.run_coroutine_threadsafe(self._ws.send_str(json.dumps(envelope)), self.loop).result(
            10
        )

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def socket() -> Iterator[FakeSocket]:
    s = FakeSocket()
    yield s
    s.stop()


def test_slash_command_over_socket_mode(
    slack: SlackApp, fake: FakeSlack, socket: FakeSocket
) -> None:
    fake.script("apps.connections.open", Scripted(body={"ok": True, "url": socket.url}))
    handler = GuardedSocketModeHandler(slack.app, "xapp-1-test")
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert socket.connected.wait(10)
        opened = fake.of("apps.connections.open")[-1]
        assert opened.headers["authorization"] == "Bearer xapp-1-test"
        payload = dict(parse_qsl(command_body(fake, "UALICE", "Alice", "help")))
        socket.send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload,
            }
        )
        assert socket.got_ack.wait(10)
        ack = socket.acks[-1]
        assert ack["envelope_id"] == "env-1"
        assert "/study today" in json.dumps(ack["payload"])
        assert ack["payload"]["response_type"] == "ephemeral"
    finally:
        handler.close()  # type: ignore[no-untyped-call]


def test_a_slow_command_over_socket_mode_is_acked_at_the_deadline(
    bot: StudyBot, fake: FakeSlack, socket: FakeSocket
) -> None:
    slow = create_app(SlowBot(bot.store, bot.content, bot.clock), slack_settings(fake))
    fake.script("apps.connections.open", Scripted(body={"ok": True, "url": socket.url}))
    handler = GuardedSocketModeHandler(slow.app, "xapp-1-test", deadline=0.15)
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert socket.connected.wait(10)
        payload = dict(parse_qsl(command_body(fake, "ULEAD", "Lee", "setup tz=UTC")))
        started = time.monotonic()
        socket.send({"envelope_id": "env-2", "type": "slash_commands", "payload": payload})
        assert socket.got_ack.wait(10)
        assert time.monotonic() - started < DELAY
        ack = socket.acks[-1]
        assert ack == {
            "envelope_id": "env-2",
            "payload": {"response_type": "ephemeral", "text": WORKING},
        }
        late = fake.wait_for("response", timeout=5)[-1].args
        assert "Study group created" in str(late["blocks"])
    finally:
        slow.frontend.drain()
        handler.close()  # type: ignore[no-untyped-call]
        slow.close()


def test_an_answer_click_over_socket_mode_is_acked_then_answered(
    slack: SlackApp, fake: FakeSlack, socket: FakeSocket, lee: SlackUser
) -> None:
    today = lee.command("today")
    fake.clear()
    fake.script("apps.connections.open", Scripted(body={"ok": True, "url": socket.url}))
    handler = GuardedSocketModeHandler(slack.app, "xapp-1-test")
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert socket.connected.wait(10)
        form = dict(parse_qsl(action_body(fake, "ULEAD", "Lee", find_button(today.blocks, "A"))))
        socket.send(
            {"envelope_id": "env-3", "type": "interactive", "payload": json.loads(form["payload"])}
        )
        assert socket.got_ack.wait(10)
        assert socket.acks[-1] == {"envelope_id": "env-3"}  # a click's ack carries nothing
        feedback = fake.wait_for("response", timeout=5)[-1].args
        assert "Correct" in str(feedback) or "Not quite" in str(feedback)
    finally:
        slack.frontend.drain()
        handler.close()  # type: ignore[no-untyped-call]


def test_a_modal_s_errors_and_the_timezone_search_over_socket_mode(
    slack: SlackApp, fake: FakeSlack, socket: FakeSocket, lee: SlackUser
) -> None:
    """Socket Mode carries a submission's `response_action: errors` and the options of
    the timezone search in the envelope's ack (no Options Load URL is needed)."""
    lee.command("setup")
    view = opened_view(fake)
    fake.script("apps.connections.open", Scripted(body={"ok": True, "url": socket.url}))
    handler = GuardedSocketModeHandler(slack.app, "xapp-1-test")
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert socket.connected.wait(10)
        submitted = json.loads(
            dict(parse_qsl(submission_body(lee, view, exam="2026-01-01")))["payload"]
        )
        socket.got_ack.clear()
        socket.send({"envelope_id": "env-4", "type": "interactive", "payload": submitted})
        assert socket.got_ack.wait(10)
        ack = socket.acks[-1]
        assert ack["envelope_id"] == "env-4"
        assert (
            ack["payload"]["response_action"] == "errors" and "f_exam" in ack["payload"]["errors"]
        )
        typed = {
            "type": "block_suggestion",
            "user": {"id": "ULEAD", "name": "lee", "team_id": "T1"},
            "team": {"id": "T1"},
            "action_id": TZ_ACTION,
            "block_id": "f_tz",
            "value": "berlin",
            "view": view,
        }
        socket.got_ack.clear()
        socket.send({"envelope_id": "env-5", "type": "interactive", "payload": typed})
        assert socket.got_ack.wait(10)
        options = socket.acks[-1]["payload"]["options"]
        assert [o["value"] for o in options] == ["Europe/Berlin"]
    finally:
        slack.frontend.drain()
        handler.close()  # type: ignore[no-untyped-call]


def test_clicks_acked_at_the_deadline_are_recorded_when_the_handler_closes(
    bot: StudyBot, fake: FakeSlack, socket: FakeSocket
) -> None:
    """As over HTTP: a click queued behind a slow one when its envelope got the stand-in
    ack still runs when the process shuts the handler down."""

    class Slower(StudyBot):  # slower than closing the Socket Mode client takes
        def press(self, action: Action) -> Reply:
            time.sleep(2.5)
            return super().press(action)

    slow = create_app(Slower(bot.store, bot.content, bot.clock), slack_settings(fake))
    lee = SlackUser(slow, fake, "ULEAD", "Lee")
    lee.command("setup tz=UTC")
    button = find_button(lee.command("today").blocks, "A")
    fake.script("apps.connections.open", Scripted(body={"ok": True, "url": socket.url}))
    handler = GuardedSocketModeHandler(slow.app, "xapp-1-test", deadline=0.15, threads=1)
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert socket.connected.wait(10)
        for n, user in enumerate(("UANN", "UBO")):
            form = dict(parse_qsl(action_body(fake, user, user, button)))
            envelope = {"envelope_id": f"env-{n}", "type": "interactive"}
            socket.send({**envelope, "payload": json.loads(form["payload"])})
        end = time.monotonic() + 10
        while len(socket.acks) < 2 and time.monotonic() < end:
            time.sleep(0.02)
        assert sorted(a["envelope_id"] for a in socket.acks) == ["env-0", "env-1"]
    finally:
        handler.close()  # type: ignore[no-untyped-call]
    board = lee.command("leaderboard").text()
    slow.frontend.drain()
    slow.close()
    assert board.count(" — 15 pts") == 2, board  # both members answered
