"""Autocomplete for the `/study` options: what a member may type, offered as they type.

Timezones are completed over the IANA names here; every other completed option (a track,
an exam domain, a study area, a command name, a checklist item) asks the core
(`bot.completions`), which reads the content and, for the domains of the channel's group
and the member's own checklist marks, the store. That read runs on a thread, with a
deadline inside Discord's 3 seconds; past it, or without a store, the content's values are
offered. Nothing here knows a track or a domain.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any

import discord
from discord import app_commands

from adapters.discord.caller import who_of
from bot.completions import LIMIT, Completions, completes
from bot.registry import Command, Kind, Param

log = logging.getLogger(__name__)

DEADLINE = 2.0  # seconds for the store's read; Discord drops an answer after 3
Choices = list[app_commands.Choice[str]]
Callback = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, Choices]]


@cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


async def timezone_autocomplete(_interaction: discord.Interaction[Any], current: str) -> Choices:
    """Prefix matches first, then substring matches; Discord shows at most 25."""
    cur = current.strip().lower().replace(" ", "_")
    zones = timezones()
    first = [z for z in zones if z.lower().startswith(cur)]
    rest = [z for z in zones if cur in z.lower() and not z.lower().startswith(cur)]
    return [app_commands.Choice(name=z, value=z) for z in (first + rest)[:LIMIT]]


def _timezone_for(p: Param) -> Callback:
    """A timezone option; one whose help offers 'group' (the member's `tz`) offers it too."""
    extra = "group" if "'group'" in p.help else None

    async def complete(interaction: discord.Interaction[Any], current: str) -> Choices:
        found = await timezone_autocomplete(interaction, current)
        if extra and extra.startswith(current.strip().lower()):
            found = [app_commands.Choice(name=extra, value=extra), *found][:LIMIT]
        return found

    return complete


class OptionCompleter:
    """Answers an autocomplete of a core-completed option from `Completions`, off the
    event loop: the store's read waits on the database, the gateway must not."""

    def __init__(self, completions: Completions, *, deadline: float | None = None) -> None:
        self.completions = completions
        self.offline = Completions(completions.content)  # the content's values alone
        self.deadline = DEADLINE if deadline is None else deadline

    async def choices(
        self, interaction: discord.Interaction[Any], command: str, param: str, current: str
    ) -> Choices:
        who = who_of(interaction)
        work = asyncio.to_thread(self.completions.matching, who, command, param, current)
        try:
            pairs = await asyncio.wait_for(work, self.deadline)
        except TimeoutError:
            log.warning("autocomplete of %s %s took over %.1f s", command, param, self.deadline)
            pairs = self.offline.matching(who, command, param, current)
        return [app_commands.Choice(name=n, value=v) for n, v in pairs]

    def callback(self, command: str, param: str) -> Callback:
        async def complete(interaction: discord.Interaction[Any], current: str) -> Choices:
            return await self.choices(interaction, command, param, current)

        return complete


def completers(cmd: Command, completer: OptionCompleter) -> dict[str, Callback]:
    """The autocomplete callback of each of the command's completed options."""
    out: dict[str, Callback] = {}
    for p in cmd.params:
        if p.kind is Kind.TZ:
            out[p.name] = _timezone_for(p)
        elif completes(p):
            out[p.name] = completer.callback(cmd.name, p.name)
    return out
