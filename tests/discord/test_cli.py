"""`studybot discord sync`, `studybot serve discord` over a test gateway, sharding."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import typer
from aiohttp import WSMsgType, web
from typer.testing import CliRunner

from adapters.discord.cli import register, run_gateway, serve, sync_commands
from adapters.discord.client import (
    ShardedStudyClient,
    StudyClient,
    make_client,
    shard_count_from_env,
)
from adapters.discord.tree import commands_payload
from bot.content.models import Content
from bot.core import StudyBot
from bot.settings import Settings
from tests.discord.fake import BOT_USER, FakeDiscord, serve_local
from tests.discord.harness import LEAD, command_payload

pytestmark = pytest.mark.anyio


async def until(pred: Any, timeout: float = 10.0) -> None:
    """Poll a condition the fake gateway changes (it has no event of its own)."""
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)


def settings_for(fake: FakeDiscord, gateway: str | None = None) -> Settings:
    return Settings(
        DISCORD_TOKEN="test-token",
        DISCORD_API_URL=fake.url,
        DISCORD_GATEWAY_URL=gateway,
        _env_file=None,
    )  # type: ignore[call-arg]


async def test_sync_global(fake: FakeDiscord, content: Content) -> None:
    names = await sync_commands(settings_for(fake), None, content)
    assert names == ["study", "Report question"]  # the group and the message menu
    [put] = fake.of("PUT", r"^/applications/\d+/commands$")
    assert put.body == commands_payload(content)


async def test_sync_one_guild(fake: FakeDiscord, content: Content) -> None:
    await sync_commands(settings_for(fake), 123456789012345678, content)
    [put] = fake.of("PUT", r"^/applications/\d+/guilds/123456789012345678/commands$")
    assert [c["name"] for c in put.body] == ["study", "Report question"]
    assert fake.of("PUT", r"^/applications/\d+/commands$") == []


def test_cli_registers_discord_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()

    @app.command("noop")
    def noop() -> None:
        """Keeps typer in multi-command mode."""

    register(app)
    result = CliRunner().invoke(app, ["discord", "sync", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["name"] == "study"
    result = CliRunner().invoke(app, ["discord", "sync", "--help"])
    assert "--guild" in result.output


def test_serve_is_the_entry_point_shape() -> None:
    import inspect

    assert list(inspect.signature(serve).parameters) == ["settings", "port"]


@pytest.mark.parametrize(("raw", "want"), [("", None), ("4", 4), ("auto", "auto")])
def test_shard_count_from_env(raw: str, want: object) -> None:
    assert shard_count_from_env({"DISCORD_SHARD_COUNT": raw}) == want


@pytest.mark.anyio
async def test_sharded_client_when_asked(bot: StudyBot, content: Content) -> None:
    assert isinstance(make_client(bot, content), StudyClient)
    sharded = make_client(bot, content, shard_count=2)
    assert isinstance(sharded, ShardedStudyClient) and sharded.shard_count == 2
    assert make_client(bot, content, shard_count="auto").shard_count is None


class FakeGateway:
    """HELLO, READY after IDENTIFY, then whatever events the test queues."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.identified = asyncio.Event()
        self.identifies: list[dict[str, Any]] = []
        self.refuse_unsharded = False  # close with 4011 like Discord for a big bot
        self.query: dict[str, str] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/", self._ws)
        self._runner, port = await serve_local(app)
        self.url = f"ws://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        self.query = dict(request.query)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        seq = 0
        pump: asyncio.Task[None] | None = None

        async def send_events() -> None:
            nonlocal seq
            while True:
                event = await self.events.get()
                seq += 1
                await ws.send_str(json.dumps({"op": 0, "s": seq, **event}))

        async for msg in ws:  # until the client closes the connection
            if msg.type is not WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            if data["op"] == 2:
                self.identifies.append(data["d"])
                if self.refuse_unsharded and data["d"].get("shard", [0, 1])[1] == 1:
                    await ws.close(code=4011, message=b"Sharding required")
                    break
                self.identified.set()
                seq += 1
                await ws.send_str(
                    json.dumps(
                        {
                            "op": 0,
                            "t": "READY",
                            "s": seq,
                            "d": {
                                "v": 10,
                                "user": BOT_USER,
                                "guilds": [],
                                "session_id": "s1",
                                "resume_gateway_url": self.url,
                                "shard": data["d"].get("shard", [0, 1]),
                                "application": {"id": "900000000000000001", "flags": 0},
                            },
                        }
                    )
                )
                pump = asyncio.create_task(send_events())
        if pump is not None:
            pump.cancel()
        return ws


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    g = FakeGateway()
    await g.start()
    yield g
    await g.stop()


async def test_gateway_client_answers_an_interaction(
    fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    """`studybot serve discord`'s loop as `serve` runs it (core built from the settings):
    DISCORD_GATEWAY_URL, an event in, a callback out; and no command sync on start."""
    settings = settings_for(fake, gateway.url)
    settings.database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    task = asyncio.create_task(run_gateway(settings))
    try:
        await asyncio.wait_for(gateway.identified.wait(), 10)
        payload = command_payload("setup", {"track": "associate"}, member=LEAD)
        await gateway.events.put({"t": "INTERACTION_CREATE", "d": payload})
        [cb] = await fake.wait_for(lambda: fake.callbacks(payload["id"]))
        assert "Study group created" in json.dumps(cb.body)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert gateway.query.get("v") == "10"
    assert fake.of("PUT", r"/commands$") == []


async def test_sync_clear_one_guild(fake: FakeDiscord, content: Content) -> None:
    names = await sync_commands(settings_for(fake), 42, content, clear=True)
    [put] = fake.of("PUT", r"^/applications/\d+/guilds/42/commands$")
    assert put.body == [] and names == []


async def test_sharding_required_reconnects_sharded(
    fake: FakeDiscord,
    gateway: FakeGateway,
    bot: StudyBot,
    content: Content,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Discord closes an unsharded connection of a big bot with 4011: reconnect with the
    recommended shard count, still through DISCORD_GATEWAY_URL."""

    async def no_wait(self: Any, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s between shard identifies

    monkeypatch.setattr(ShardedStudyClient, "before_identify_hook", no_wait)
    gateway.refuse_unsharded = True
    fake.gateway_shards = 2
    task = asyncio.create_task(run_gateway(settings_for(fake, gateway.url), bot, content))
    try:
        await asyncio.wait_for(gateway.identified.wait(), 10)
        payload = command_payload("help", {}, member=LEAD)
        await gateway.events.put({"t": "INTERACTION_CREATE", "d": payload})
        await fake.wait_for(lambda: fake.callbacks(payload["id"]))
        await until(lambda: len(gateway.identifies) >= 3)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    shards = [d.get("shard") for d in gateway.identifies]
    assert shards[0] in (None, [0, 1]) and [0, 2] in shards and [1, 2] in shards
    assert fake.of("GET", r"^/gateway/bot$")


async def test_shard_count_auto_asks_discord(
    fake: FakeDiscord,
    gateway: FakeGateway,
    bot: StudyBot,
    content: Content,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_wait(self: Any, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    monkeypatch.setattr(ShardedStudyClient, "before_identify_hook", no_wait)
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "auto")
    fake.gateway_shards = 3
    task = asyncio.create_task(run_gateway(settings_for(fake, gateway.url), bot, content))
    try:
        await until(lambda: len(gateway.identifies) >= 3)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sorted(d["shard"] for d in gateway.identifies) == [[0, 3], [1, 3], [2, 3]]
