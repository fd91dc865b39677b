"""The clock's Messenger: post, edit, DM, and Discord's errors as the seam's errors."""

from __future__ import annotations

import asyncio

import discord
import pytest

from adapters.discord.cli import use_api
from adapters.discord.messenger import DiscordMessenger, background_messenger, map_error
from bot.seam import (
    ChannelTarget,
    LinkingMessenger,
    MessageRef,
    Messenger,
    RateLimited,
    Reply,
    TargetGone,
    Transient,
    UserTarget,
)
from tests.discord.fake import FakeDiscord
from tests.discord.harness import CHANNEL, GUILD, Harness, embed_text

pytestmark = pytest.mark.anyio
TARGET = ChannelTarget(GUILD, CHANNEL)
USER = UserTarget(GUILD, "600000000000000002")


def hello(word: str = "hello") -> Reply:
    return Reply.message(word)


async def test_post_update_dm(h: Harness, fake: FakeDiscord) -> None:
    m = DiscordMessenger(h.client)
    assert isinstance(m, Messenger)
    ref = await m.apost(TARGET, hello())
    assert ref.channel_id == CHANNEL and ref.workspace_id == GUILD
    [post] = fake.of("POST", rf"^/channels/{CHANNEL}/messages$")
    assert embed_text(post.body) == "hello" and post.body["allowed_mentions"] == {"parse": []}
    await m.aupdate(ref, hello("edited"))
    [edit] = fake.of("PATCH", rf"^/channels/{CHANNEL}/messages/{ref.message_id}$")
    assert embed_text(edit.body) == "edited"
    dm = await m.adm(USER, hello("psst"))
    assert dm.channel_id != CHANNEL and embed_text(fake.messages[dm.message_id]) == "psst"


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (404, 10003, TargetGone),  # Unknown Channel
        (403, 50001, TargetGone),  # Missing Access
        (403, 50013, TargetGone),  # Missing Permissions
        (503, 0, Transient),
    ],
)
async def test_post_errors(
    h: Harness, fake: FakeDiscord, status: int, code: int, error: type[Exception]
) -> None:
    fake.fail("POST", r"^/channels/\d+/messages$", status, code)
    with pytest.raises(error):
        await DiscordMessenger(h.client).apost(TARGET, hello())


async def test_dms_closed_is_target_gone(h: Harness, fake: FakeDiscord) -> None:
    fake.fail("POST", r"^/channels/\d+/messages$", 403, 50007)
    with pytest.raises(TargetGone):
        await DiscordMessenger(h.client).adm(USER, hello())


async def test_long_rate_limit_is_rate_limited(h: Harness, fake: FakeDiscord) -> None:
    fake.fail("POST", r"^/channels/\d+/messages$", 429, retry_after=60.0)
    with pytest.raises(RateLimited) as e:
        await DiscordMessenger(h.client).apost(TARGET, hello())
    assert e.value.retry_after == 60.0


async def test_short_rate_limit_is_waited_out(h: Harness, fake: FakeDiscord) -> None:
    fake.fail("POST", r"^/channels/\d+/messages$", 429, retry_after=0.05)
    ref = await DiscordMessenger(h.client).apost(TARGET, hello())
    assert ref.message_id and len(fake.of("POST", r"^/channels/\d+/messages$")) == 2


async def test_update_of_deleted_message_is_gone(h: Harness, fake: FakeDiscord) -> None:
    fake.fail("PATCH", r"^/channels/\d+/messages/\d+$", 404, 10008)
    with pytest.raises(TargetGone):
        await DiscordMessenger(h.client).aupdate(MessageRef(GUILD, CHANNEL, "1"), hello())


async def test_sync_methods_from_a_worker_thread(fake: FakeDiscord) -> None:
    """The delivery worker is synchronous: a REST-only client on its own loop thread."""
    use_api(fake.url)

    def worker() -> tuple[MessageRef, MessageRef]:
        with background_messenger("test-token", timeout=10) as m:
            ref = m.post(TARGET, hello())
            m.update(ref, hello("again"))
            dm = m.dm(USER, hello("dm"))
            return ref, dm

    ref, dm = await asyncio.to_thread(worker)
    assert fake.messages[ref.message_id]["embeds"][0]["description"] == "again"
    assert fake.messages[dm.message_id]["embeds"][0]["description"] == "dm"


async def test_sync_call_on_the_loop_is_refused(h: Harness) -> None:
    m = DiscordMessenger(h.client)
    with pytest.raises(RuntimeError, match="apost"):
        m.post(TARGET, hello())


async def test_connection_refused_is_transient(h: Harness, fake: FakeDiscord) -> None:
    await fake.stop()
    with pytest.raises(Transient):
        await DiscordMessenger(h.client).apost(TARGET, hello())


def test_map_error_passes_unknown_errors() -> None:
    assert map_error(ValueError("x")) is None
    assert isinstance(map_error(discord.RateLimited(3.0)), RateLimited)


async def test_a_posted_message_is_linked_by_its_jump_url(h: Harness, fake: FakeDiscord) -> None:
    m = DiscordMessenger(h.client)
    assert isinstance(m, LinkingMessenger)
    ref = await m.apost(TARGET, hello())
    assert m.link(ref) == f"https://discord.com/channels/{GUILD}/{CHANNEL}/{ref.message_id}"
    assert m.link(MessageRef("console", "C1", "7")) is None  # not Discord's ids
    assert [c for c in fake.calls if "channels" in c.path and c.method == "GET"] == []
