"""The `/study` command group, derived from the core's command registry.

Every `Command` becomes a subcommand and every `Param` a typed option: INT as an integer,
the rest as strings; CHOICE params, the tracks the content declares, the exam domains, the
study areas and the command names of `help` as choices; timezones with autocomplete over
the IANA names. The callbacks only collect the options as strings and pass them on:
parsing and validation stay in the core, where every platform shares them.
"""

from __future__ import annotations

import inspect
import zoneinfo
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import discord
from discord import app_commands

import bot.features  # noqa: F401  (its modules declare the commands)
from bot.content.models import Content
from bot.registry import COMMANDS, Command, Kind, Param

GROUP = "study"
GROUP_DESCRIPTION = "Study group for the Databricks ML certifications"
CHOICES_MAX = 25
DESCRIPTION_MAX = 100
FAMILY_HEAD = "list"  # the head command of a family, in its subcommand group
SUBCOMMAND_GROUP = 2  # Discord's option type

OnCommand = Callable[[discord.Interaction[Any], str, dict[str, str]], Awaitable[None]]


@cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def choice_values(p: Param, content: Content) -> list[tuple[str, str]] | None:
    """(name shown, value) pairs for a param with a closed set of values, else None."""
    if p.kind is Kind.CHOICE and p.choices:
        return [(c, c) for c in p.choices]
    if p.kind is Kind.TRACK:  # the content's tracks, then the param's other words
        return [(t.name, t.id) for t in content.tracks] + [(c, c) for c in p.choices]
    if p.name == "domain":
        seen: dict[str, str] = {}
        for t in content.tracks:
            for d in t.domains:
                seen.setdefault(d.id, d.name)
        return [(name, did) for did, name in seen.items()]
    if p.name == "area":
        return [(a.name, a.id) for a in content.areas]
    if p.name == "command":
        return [(c.name, c.name) for c in COMMANDS.values()]
    return None


def _suggest(values: list[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    cur = current.strip().lower()
    hits = [(n, v) for n, v in values if cur in n.lower() or cur in v.lower()]
    return [app_commands.Choice(name=n[:100], value=v) for n, v in hits[:CHOICES_MAX]]


async def timezone_autocomplete(
    _interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Prefix matches first, then substring matches; Discord shows at most 25."""
    cur = current.strip().lower().replace(" ", "_")
    zones = timezones()
    first = [z for z in zones if z.lower().startswith(cur)]
    rest = [z for z in zones if cur in z.lower() and not z.lower().startswith(cur)]
    return [app_commands.Choice(name=z, value=z) for z in (first + rest)[:CHOICES_MAX]]


def _tz_autocomplete_for(p: Param) -> Callable[..., Awaitable[list[app_commands.Choice[str]]]]:
    extra = "group" if "'group'" in p.help else None

    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await timezone_autocomplete(interaction, current)
        if extra and extra.startswith(current.strip().lower()):
            found = [app_commands.Choice(name=extra, value=extra), *found][:CHOICES_MAX]
        return found

    return complete


def _closed_autocomplete(values: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    async def complete(
        _interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return _suggest(values, current)

    return complete


def _annotation(p: Param) -> type:
    return int if p.kind is Kind.INT else str


def discord_name(cmd: Command) -> str:
    """A command's name in the tree: its own, or `list` for the head of a family (Discord
    cannot invoke a subcommand group itself)."""
    return FAMILY_HEAD if cmd.family and cmd.name == cmd.family else cmd.name


def subcommand(
    cmd: Command, content: Content, on_command: OnCommand, parent: app_commands.Group
) -> app_commands.Command[Any, ..., None]:
    """One subcommand whose callback turns the options into `args` and calls `on_command`."""
    name = cmd.name

    async def callback(interaction: discord.Interaction[Any], **options: Any) -> None:
        args: dict[str, str] = {}
        for key, value in options.items():
            if isinstance(value, app_commands.Choice):
                value = value.value
            if value is None or str(value).strip() == "":
                continue
            args[key] = str(value).strip()
        await on_command(interaction, name, args)

    params = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for p in cmd.params:
        params.append(
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(p),
                default=inspect.Parameter.empty if p.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = f"study_{name}"
    callback.__doc__ = cmd.summary

    fn: Any = callback
    if cmd.params:
        fn = app_commands.describe(**{p.name: p.help[:DESCRIPTION_MAX] for p in cmd.params})(fn)
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    completers: dict[str, Any] = {}
    for p in cmd.params:
        values = choice_values(p, content)
        if p.kind is Kind.TZ:
            completers[p.name] = _tz_autocomplete_for(p)
        elif values is not None and len(values) <= CHOICES_MAX:
            choices[p.name] = [app_commands.Choice(name=n[:100], value=v) for n, v in values]
        elif values is not None:
            completers[p.name] = _closed_autocomplete(values)
    if choices:
        fn = app_commands.choices(**choices)(fn)
    if completers:
        fn = app_commands.autocomplete(**completers)(fn)
    return app_commands.Command(
        name=discord_name(cmd),
        description=cmd.summary[:DESCRIPTION_MAX],
        callback=fn,
        parent=parent,
    )


def study_group(content: Content, on_command: OnCommand) -> app_commands.Group:
    """The whole tree: one guild-only group `/study` with a subcommand per command, and a
    family's commands in a subcommand group of its name (Discord allows 25 subcommands):
    `/study questions list`, `/study questions add`, `/study questions import`."""
    group = app_commands.Group(name=GROUP, description=GROUP_DESCRIPTION, guild_only=True)
    families: dict[str, app_commands.Group] = {}
    for cmd in COMMANDS.values():
        parent = group
        if cmd.family:
            if cmd.family not in families:  # a Group made with a parent joins it
                families[cmd.family] = app_commands.Group(
                    name=cmd.family, description=_family_description(cmd.family), parent=group
                )
            parent = families[cmd.family]
        parent.add_command(subcommand(cmd, content, on_command, parent))
    return group


def _family_description(family: str) -> str:
    head = COMMANDS.get(family)
    return (head.summary if head else f"{family}: {', '.join(by_family(family))}")[:DESCRIPTION_MAX]


def by_family(family: str) -> list[str]:
    return [c.name for c in COMMANDS.values() if c.family == family]


def subcommands(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The exported tree's subcommands by the core's command name, a family's too."""
    out: dict[str, dict[str, Any]] = {}
    for o in payload["options"]:
        if o["type"] == SUBCOMMAND_GROUP:
            for sub in o.get("options", []):
                name = o["name"] if sub["name"] == FAMILY_HEAD else sub["name"]
                out[name] = sub
        else:
            out[o["name"]] = o
    return out


async def _unused(_i: discord.Interaction[Any], _n: str, _a: dict[str, str]) -> None:
    raise RuntimeError("the command tree built for export has no handler")


def commands_payload(content: Content) -> list[dict[str, Any]]:
    """The JSON that `studybot discord sync` sends, for `--dry-run` and the tests."""
    return [study_group(content, _unused).to_dict(app_commands.CommandTree(_Offline()))]


class _Offline(discord.Client):
    """A client that never connects: `to_dict` needs a tree, a tree needs a client."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none())
