"""`studybot discord sync` and `studybot serve discord`.

Commands are synced only on demand (Discord allows 200 command creates per guild per day;
syncing on every start gets a bot rate limited). Guild syncs show at once; a global sync
can take a while to reach every server.

`DISCORD_API_URL` and `DISCORD_GATEWAY_URL` point discord.py elsewhere. discord.py has no
public switch for either, so the two class attributes are set here and only here
(discord.py is pinned to a minor version in pyproject.toml for that reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from typing import Annotated, Any

import discord
import typer
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord import startup
from adapters.discord.client import Core, make_client, shard_count_from_env
from adapters.discord.tree import GROUP, commands_payload
from bot.content import load_content
from bot.content.models import Content
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
SHARDING_REQUIRED = 4011  # gateway close code: too many guilds for one connection


def use_api(url: str | None) -> None:
    """Point discord.py's REST client (and its webhook follow-ups) at `url`."""
    discord.http.Route.BASE = (url or DEFAULT_API).rstrip("/")


def use_gateway(url: str | None) -> None:
    """Point discord.py's first gateway connection at `url` (a proxy or a test gateway)."""
    if url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


def _token(settings: Settings) -> str:
    return startup.token(settings)


async def sync_commands(
    settings: Settings,
    guild_id: int | None,
    content: Content | None = None,
    *,
    clear: bool = False,
) -> list[str]:
    """Log in over REST only, send the tree (with `clear`, no commands), and return the
    synced command names."""
    use_api(settings.discord_api_url)
    content = content or load_content(settings.content_dir)
    client = make_client(_NoCore(), content)
    async with client:
        await client.login(_token(settings))
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None and not clear:
            client.tree.copy_global_to(guild=guild)
        if guild is not None or clear:
            client.tree.clear_commands(guild=None)
        synced = await client.tree.sync(guild=guild)
    return [c.name for c in synced]


class _NoCore:
    """The sync client never receives interactions."""

    def handle(self, inv: Any) -> Any:
        raise RuntimeError("not serving")

    press = handle


def register(app: typer.Typer) -> None:
    """The `studybot.cli` entry point: adds `studybot discord ...`."""
    discord_app = typer.Typer(
        rich_markup_mode=None, help="Discord: sync the /study commands.", no_args_is_help=True
    )

    @discord_app.command("sync")
    def sync(
        guild: Annotated[
            int | None,
            typer.Option(
                "--guild",
                metavar="SERVER_ID",
                help="sync to this server only (shows at once); default: global",
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="print the command JSON instead of sending it")
        ] = False,
        clear: Annotated[
            bool,
            typer.Option(
                "--clear", help="remove the commands there instead (a test server's copy)"
            ),
        ] = False,
    ) -> None:
        """Register /study and its subcommands with Discord (never done on start)."""
        settings = Settings()
        if dry_run:
            content = load_content(settings.content_dir)
            sys.stdout.write(json.dumps(commands_payload(content), indent=2) + "\n")
            return
        with startup.operator_errors(settings):
            names = asyncio.run(sync_commands(settings, guild, clear=clear))
        where = f"server {guild}" if guild else "all servers (global; may take a while)"
        if clear:
            typer.echo(f"Removed the commands from {where}.")
            return
        shown = [f"/{n}" if n == GROUP else f"the “{n}” message menu" for n in names]
        typer.echo(f"Synced {', '.join(shown) or 'nothing'} to {where}.")

    app.add_typer(discord_app, name="discord")


async def recommended_shards(token: str) -> int:
    """Discord's shard count for this bot (`GET /gateway/bot`), from a REST-only login."""
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await client.login(token)
        shards, _url, _limits = await client.http.get_bot_gateway()
    return int(shards)


async def run_gateway(
    settings: Settings, core: Core | None = None, content: Content | None = None
) -> None:
    """Connect to the gateway and answer interactions until cancelled or closed.

    One connection unless DISCORD_SHARD_COUNT says otherwise; `auto`, or Discord closing
    the connection with 4011 (sharding required: the bot has grown), switches to
    `AutoShardedClient` with Discord's recommended count. The count is resolved here rather
    than by discord.py so the shards still connect to DISCORD_GATEWAY_URL.
    """
    use_api(settings.discord_api_url)
    use_gateway(settings.discord_gateway_url)
    if core is None or content is None:
        from bot.bootstrap import build

        built = build(settings)
        core, content = core or built, content or built.content
    token = _token(settings)
    wanted = shard_count_from_env()
    count = await recommended_shards(token) if wanted == "auto" else wanted
    while True:
        client = make_client(core, content, shard_count=count)
        try:
            async with client:
                try:
                    await client.start(token)
                finally:
                    await client.study.drain()
            return
        except discord.ConnectionClosed as e:
            if e.code != SHARDING_REQUIRED or count is not None:
                raise
            count = await recommended_shards(token)
            log.warning("Discord requires sharding; reconnecting with %d shards", count)


def serve(settings: Settings, port: int | None) -> None:
    """The `studybot.serve` entry point: the `discord` process (gateway only, no HTTP port)."""
    if port is not None:
        log.info("studybot serve discord uses the gateway; --port %s is ignored", port)
    _token(settings)  # before the database and content load: the likeliest mistake first
    with contextlib.suppress(KeyboardInterrupt), startup.operator_errors(settings):
        asyncio.run(run_gateway(settings))
