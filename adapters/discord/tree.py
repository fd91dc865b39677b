"""The `/study` command group, derived from the core's command registry.

Every `Command` becomes a subcommand and every `Param` a typed option: INT as an integer,
FILE as an attachment, the rest as strings; CHOICE params as pick lists; the tracks the
content declares, the exam domains, the study areas, checklist items, the command names
of `help` and timezones with autocomplete (`adapters/discord/autocomplete.py`). The
callbacks only collect the options and pass them on: parsing and validation stay in the
core, where every platform shares them.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

import bot.features  # noqa: F401  (its modules declare the commands)
from adapters.discord.autocomplete import OptionCompleter, completers
from adapters.discord.menus import report_menu
from bot.completions import Completions, completes
from bot.content.models import Content
from bot.registry import COMMANDS, Command, Kind, Param

GROUP = "study"
GROUP_DESCRIPTION = "Study group for the Databricks ML certifications"
CHOICES_MAX = 25
DESCRIPTION_MAX = 100
FAMILY_HEAD = "list"  # the head command of a family, in its subcommand group
SUBCOMMAND_GROUP = 2  # Discord's option type

OnCommand = Callable[
    [discord.Interaction[Any], str, dict[str, str], list[discord.Attachment]], Awaitable[None]
]


def choice_values(p: Param) -> list[tuple[str, str]] | None:
    """(name shown, value) pairs for a param with a closed set of words (the core's
    `Kind.CHOICE`), shown as Discord's pick list; the content's values autocomplete."""
    if p.kind is Kind.CHOICE and p.choices and not completes(p):
        return [(c, c) for c in p.choices]
    return None


def _annotation(p: Param) -> type:
    """An integer, a file (Discord's attachment option) or a string."""
    if p.kind is Kind.FILE:
        return discord.Attachment
    return int if p.kind is Kind.INT else str


def discord_name(cmd: Command) -> str:
    """A command's name in the tree: its own, or `list` for the head of a family (Discord
    cannot invoke a subcommand group itself)."""
    return FAMILY_HEAD if cmd.family and cmd.name == cmd.family else cmd.name


def subcommand(
    cmd: Command, on_command: OnCommand, parent: app_commands.Group, completer: OptionCompleter
) -> app_commands.Command[Any, ..., None]:
    """One subcommand whose callback turns the options into `args` and calls `on_command`."""
    name = cmd.name

    async def callback(interaction: discord.Interaction[Any], **options: Any) -> None:
        args: dict[str, str] = {}
        files: list[discord.Attachment] = []
        for key, value in options.items():
            if isinstance(value, discord.Attachment):
                files.append(value)
                continue
            if isinstance(value, app_commands.Choice):
                value = value.value
            if value is None or str(value).strip() == "":
                continue
            args[key] = str(value).strip()
        await on_command(interaction, name, args, files)

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
    for p in cmd.params:
        values = choice_values(p)
        if values is not None:
            choices[p.name] = [app_commands.Choice(name=n[:100], value=v) for n, v in values]
    if choices:
        fn = app_commands.choices(**choices)(fn)
    completing = completers(cmd, completer)
    if completing:
        fn = app_commands.autocomplete(**completing)(fn)
    return app_commands.Command(
        name=discord_name(cmd),
        description=cmd.summary[:DESCRIPTION_MAX],
        callback=fn,
        parent=parent,
    )


def study_group(
    content: Content, on_command: OnCommand, completer: OptionCompleter | None = None
) -> app_commands.Group:
    """The whole tree: one guild-only group `/study` with a subcommand per command, and a
    family's commands in a subcommand group of its name (Discord allows 25 subcommands):
    `/study questions list`, `/study questions add`, `/study questions import`."""
    completer = completer or OptionCompleter(Completions(content))
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
        parent.add_command(subcommand(cmd, on_command, parent, completer))
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


async def _unused(
    _i: discord.Interaction[Any], _n: str, _a: dict[str, str], _f: list[discord.Attachment]
) -> None:
    raise RuntimeError("the command tree built for export has no handler")


def commands_payload(content: Content) -> list[dict[str, Any]]:
    """The JSON that `studybot discord sync` sends, for `--dry-run` and the tests: the
    `/study` group, then the message context menu."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(_Offline())
    return [study_group(content, _unused).to_dict(tree), report_menu().to_dict(tree)]


class _Offline(discord.Client):
    """A client that never connects: `to_dict` needs a tree, a tree needs a client."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none())
