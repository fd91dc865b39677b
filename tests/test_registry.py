"""The registry is complete: every command has help, is in the Slack manifest and the
Discord tree, and every button the core emits is routed to a handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.tree import commands_payload, subcommands
from adapters.slack.manifest import MANIFEST_PATH, manifest, manifest_yaml
from bot import registry
from bot.content.models import Content
from bot.core import StudyBot
from bot.registry import COMMANDS, ROUTES, ButtonValue, route
from tests.helpers import Chat

GOLDEN = Path(__file__).parent / "golden"


def test_every_command_has_help(bot: StudyBot, lead: Chat) -> None:
    listing = lead.send("/study help").plain_text()
    tracks = tuple(t.id for t in bot.content.tracks)
    for cmd in COMMANDS.values():
        assert cmd.summary and len(cmd.summary) <= 100, cmd.name
        assert cmd.name in listing, cmd.name
        detail = lead.send(f"/study help {cmd.name}").plain_text()
        assert cmd.usage(tracks) in detail and cmd.summary in detail, cmd.name


def test_every_command_is_in_the_slack_manifest() -> None:
    (slash,) = manifest()["features"]["slash_commands"]
    hinted = slash["usage_hint"].strip("[]").split("]")[0].split(" | ")
    assert hinted == list(COMMANDS)
    assert MANIFEST_PATH.read_text() == manifest_yaml(), "run `studybot slack manifest`"


def test_every_command_is_in_the_discord_tree(content: Content) -> None:
    group = commands_payload(content)[0]  # then the message context menu
    subs = subcommands(group)  # a family's commands sit in a subcommand group of its name
    assert list(subs) == list(COMMANDS)
    for name, option in subs.items():
        cmd = COMMANDS[name]
        assert option["description"] == cmd.summary
        assert [p["name"] for p in option.get("options", [])] == [p.name for p in cmd.params]


def _kinds(cls: type[ButtonValue] = ButtonValue) -> Iterator[type[ButtonValue]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _kinds(sub)


def test_every_kind_of_button_has_a_route_for_each_action() -> None:
    kinds = [k for k in _kinds() if not k.__subclasses__()]  # the kinds buttons are made of
    assert len(kinds) >= 8
    for kind in kinds:
        for action in kind.actions:
            routed = {r.prefix for r in ROUTES.get(action, []) if r.kind is kind}
            assert set(kind.prefixes) <= routed, f"{kind.__name__} {action}"


def _buttons(node: Any) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, list):
        if len(node) == 2 and node[0] == "buttons":
            for label, action_id, value, _style in node[1]:
                yield label, action_id, value
        else:
            for child in node:
                yield from _buttons(child)
    elif isinstance(node, dict):
        for child in node.values():
            yield from _buttons(child)


@pytest.mark.parametrize("session", ["terminal", "clock"])
def test_every_button_the_core_emitted_is_routed(session: str) -> None:
    """The buttons of every reply in the recorded sessions reach a handler that parses
    their value (a press the registry does not know is answered "no longer supported")."""
    emitted = list(_buttons(json.loads((GOLDEN / f"{session}.json").read_text())))
    assert emitted
    for label, action_id, value in emitted:
        handler, parsed = route(action_id, value)
        assert handler is not None and isinstance(parsed, ButtonValue), (label, action_id)
        assert parsed.encode() == value, (label, action_id, value)


def test_a_command_cannot_be_declared_twice() -> None:
    name = next(iter(COMMANDS))
    with pytest.raises(RuntimeError, match="declared twice"):
        registry.command(name, summary="x", audience=registry.Audience.ANYONE)(
            lambda ctx, args: None  # type: ignore[arg-type, return-value]
        )
