"""The clock's `Messenger` for Discord: post, edit and DM over discord.py's REST client.

Posting needs no gateway: `get_partial_messageable(channel_id).send(...)` is one REST call.
The delivery worker is synchronous, so `post`/`update`/`dm` hand the coroutine to the event
loop the client lives on and wait; the async `apost`/`aupdate`/`adm` serve callers already
on that loop. Errors become the seam's typed errors:

- 429 (discord.py gives up once `retry_after` exceeds its 30 s ceiling) -> `RateLimited`
- Unknown Channel 10003, Missing Access 50001, Missing Permissions 50013, DMs closed 50007,
  and any other 403/404 -> `TargetGone` (do not retry)
- 5xx, timeouts, connection errors -> `Transient` (retry with backoff)

A daily question opens a public thread on itself; the next reveal is posted in it (a
thread opened on a message has the message's id). A thread Discord refuses (no Create
Public Threads or Send Messages in Threads, a channel type without threads: 403, 404 or
another 4xx) is `ThreadRefused`, and the worker posts in the channel instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal, TypeVar

import aiohttp
import discord

from adapters.discord.render import render
from bot.seam import (
    ChannelTarget,
    DeliveryError,
    MessageRef,
    RateLimited,
    Reply,
    TargetGone,
    ThreadRefused,
    Transient,
    UserTarget,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
GONE_CODES = frozenset({10003, 10004, 10008, 10013, 50001, 50007, 50013})
CALL_TIMEOUT = 60.0
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day's question, a day's discussion
THREAD_NAME = "Question of the day"  # when the post names none
THREAD_NAME_MAX = 100
THREAD_EXISTS = 160004  # "A thread has already been created for this message"


def map_error(e: BaseException) -> DeliveryError | None:
    """The seam's error for a discord.py failure; None when it is not a delivery failure."""
    if isinstance(e, DeliveryError):
        return e
    if isinstance(e, discord.RateLimited):
        return RateLimited(e.retry_after)
    if isinstance(e, discord.HTTPException):
        if e.status == 429:
            retry = 1.0
            if e.response is not None:
                retry = float(e.response.headers.get("Retry-After", retry) or retry)
            return RateLimited(retry)
        if e.code in GONE_CODES or e.status in (403, 404):
            return TargetGone(f"{e.status} {e.code}: {e.text}")
        if e.status >= 500:
            return Transient(f"{e.status} {e.code}: {e.text}")
        return None
    if isinstance(e, TimeoutError | asyncio.TimeoutError | aiohttp.ClientError | OSError):
        return Transient(f"{type(e).__name__}: {e}")
    return None


@asynccontextmanager
async def mapped() -> AsyncIterator[None]:
    try:
        yield
    except Exception as e:
        err = map_error(e)
        if err is None or err is e:
            raise
        raise err from e


class DiscordMessenger:
    """A `bot.seam.Messenger` over a logged-in discord.py client."""

    def __init__(
        self,
        client: discord.Client,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        timeout: float = CALL_TIMEOUT,
    ) -> None:
        self.client = client
        self.loop = loop
        self.timeout = timeout

    # ------------------------------------------------------------------ async

    async def apost(self, target: ChannelTarget, reply: Reply) -> MessageRef:
        """Post in the channel, or in the thread of `target.thread`; a post that names a
        thread (the daily question) opens it on itself, so members discuss it there."""
        if target.thread is not None:
            return await self._in_thread(target, target.thread, reply)
        channel = self.client.get_partial_messageable(
            int(target.channel_id), guild_id=int(target.workspace_id)
        )
        async with mapped():
            msg = await channel.send(**render(reply).send_kwargs())
        ref = MessageRef(target.workspace_id, target.channel_id, str(msg.id))
        if reply.thread_name:
            try:
                await self._open_thread(ref, reply.thread_name)
            except Exception as e:  # the post stands; the reveal tries again or goes beside it
                log.info("no thread on %s in %s: %s", ref.message_id, ref.channel_id, e)
        return ref

    async def _open_thread(self, root: MessageRef, name: str) -> None:
        """A public thread on a posted message, archived after a day of quiet (its id is
        the message's); one that is already open is fine."""
        try:
            await self.client.http.start_thread_with_message(
                int(root.channel_id),
                int(root.message_id),
                name=name[:THREAD_NAME_MAX],
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as e:
            if e.code != THREAD_EXISTS:
                raise

    async def _in_thread(self, target: ChannelTarget, root: MessageRef, reply: Reply) -> MessageRef:
        """Post in the thread on `root`, opening it if it is not there yet (refused or lost
        when the root was posted); `ThreadRefused` when Discord will not have it."""
        thread = self.client.get_partial_messageable(
            int(root.message_id), guild_id=int(target.workspace_id)
        )
        async with mapped():
            try:
                try:
                    msg = await thread.send(**render(reply).send_kwargs())
                except discord.NotFound:  # no thread on the root yet
                    await self._open_thread(root, reply.thread_name or THREAD_NAME)
                    msg = await thread.send(**render(reply).send_kwargs())
            except discord.HTTPException as e:
                if 400 <= e.status < 500 and e.status != 429:  # 403, 404, 400 50024, ...
                    raise ThreadRefused(f"{e.status} {e.code}: {e.text}") from e
                raise
        return MessageRef(target.workspace_id, root.message_id, str(msg.id))

    async def aupdate(self, ref: MessageRef, reply: Reply) -> None:
        channel = self.client.get_partial_messageable(int(ref.channel_id))
        async with mapped():
            await channel.get_partial_message(int(ref.message_id)).edit(
                **render(reply).edit_kwargs()
            )

    def link(self, ref: MessageRef) -> str | None:
        """The message's jump URL (made from its ids: no call to Discord)."""
        ids = (ref.workspace_id, ref.channel_id, ref.message_id)
        if not all(x.isdigit() for x in ids):
            return None
        channel = self.client.get_partial_messageable(
            int(ref.channel_id), guild_id=int(ref.workspace_id)
        )
        return f"{channel.jump_url}/{ref.message_id}"

    async def adm(self, user: UserTarget, reply: Reply) -> MessageRef:
        async with mapped():
            dm = await self.client.create_dm(discord.Object(int(user.user_id)))
            msg = await dm.send(**render(reply).send_kwargs())
        return MessageRef(user.workspace_id, str(dm.id), str(msg.id))

    # ------------------------------------------------------------------ sync (worker)

    def post(self, target: ChannelTarget, reply: Reply) -> MessageRef:
        return self._run(self.apost(target, reply))

    def update(self, ref: MessageRef, reply: Reply) -> None:
        self._run(self.aupdate(ref, reply))

    def dm(self, user: UserTarget, reply: Reply) -> MessageRef:
        return self._run(self.adm(user, reply))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop or self.client.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError(
                "DiscordMessenger's sync methods block: call apost/aupdate/adm "
                "on the client's own loop"
            )
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result(self.timeout)
        except TimeoutError as e:
            fut.cancel()
            raise Transient(f"no answer from Discord within {self.timeout:.0f}s") from e


@contextmanager
def background_messenger(
    token: str, *, timeout: float = CALL_TIMEOUT, **client_options: Any
) -> Iterator[DiscordMessenger]:
    """A REST-only client on its own loop thread, for a worker process without a gateway.

    Set `discord.http.Route.BASE` (see `adapters.discord.cli.use_api`) before entering.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="discord-messenger", daemon=True)
    thread.start()
    opts = {
        "intents": discord.Intents.none(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": 30.0,
        **client_options,
    }

    async def start() -> discord.Client:
        client = discord.Client(**opts)
        await client.login(token)
        return client

    client = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout)
    try:
        yield DiscordMessenger(client, loop, timeout=timeout)
    finally:
        asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()


def from_settings(settings: Settings) -> DiscordMessenger | None:
    """The `studybot.messenger` factory: a REST-only messenger when DISCORD_TOKEN is set.

    It lives as long as the worker process, so its context is entered and never left.
    """
    if settings.discord_token is None:
        return None
    from adapters.discord.cli import use_api

    use_api(settings.discord_api_url)
    return background_messenger(settings.discord_token.get_secret_value()).__enter__()
