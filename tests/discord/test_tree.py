"""The `/study` tree agrees with the core's command table and fits Discord's limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapters.discord.tree import (
    CHOICES_MAX,
    GROUP,
    SUBCOMMAND_GROUP,
    choice_values,
    commands_payload,
    subcommands,
)
from bot.completions import completes
from bot.content.models import Content
from bot.registry import COMMANDS, Kind
from tests.discord.harness import Harness

NAME = re.compile(r"^[-_'\w]{1,32}$")


@pytest.fixture(scope="module")
def payload(content: Content) -> dict[str, Any]:
    group, _menu = commands_payload(content)
    return dict(group)


def test_one_guild_only_group(payload: dict[str, Any]) -> None:
    assert payload["name"] == GROUP
    assert payload["type"] == 1
    assert payload["dm_permission"] is False
    assert 1 <= len(payload["description"]) <= 100


def test_tree_matches_command_table(payload: dict[str, Any], content: Content) -> None:
    subs = subcommands(payload)
    assert list(subs) == [c.name for c in COMMANDS.values()]
    for cmd in COMMANDS.values():
        sub = subs[cmd.name]
        assert sub["type"] == 1  # subcommand
        assert sub["description"] == cmd.summary[:100]
        options = {o["name"]: o for o in sub.get("options", [])}
        assert set(options) == {p.name for p in cmd.params}
        for p in cmd.params:
            o = options[p.name]
            kind = {Kind.INT: 4, Kind.FILE: 11}.get(p.kind, 3)  # integer, attachment, string
            assert o["type"] == kind, (cmd.name, p.name)
            assert o["required"] is p.required
            assert o["description"] == p.help[:100]
            values = choice_values(p)
            if p.kind is Kind.TZ or completes(p):
                assert o.get("autocomplete") is True and "choices" not in o
            elif values is not None:
                assert [c["value"] for c in o["choices"]] == [v for _, v in values]
            else:
                assert "choices" not in o and not o.get("autocomplete")
        # Discord wants the required options first.
        req = [o["required"] for o in sub.get("options", [])]
        assert req == sorted(req, reverse=True)


def test_pick_lists_and_autocomplete(payload: dict[str, Any]) -> None:
    """The core's closed words are pick lists; what the content or the store holds (the
    tracks, domains, areas, checklist items) autocompletes, so no list is frozen at sync."""
    subs = {
        name: {p["name"]: p for p in o.get("options", [])}
        for name, o in subcommands(payload).items()
    }
    for sub, option in [
        ("setup", "track"),
        ("passed", "track"),
        ("exam", "track"),
        ("quiz", "domain"),
        ("add", "domain"),
        ("resources", "area"),
        ("check", "item"),
        ("uncheck", "item"),
        ("help", "command"),
    ]:
        assert subs[sub][option]["autocomplete"] is True, (sub, option)
        assert "choices" not in subs[sub][option]
    assert [c["value"] for c in subs["leaderboard"]["period"]["choices"]] == [
        "week",
        "month",
        "all",
    ]


def _counted(option: dict[str, Any]) -> int:
    """What Discord's 8000-character limit counts: names, descriptions, choice values."""
    n = len(option["name"]) + len(option.get("description", ""))
    for c in option.get("choices") or []:
        n += len(c["name"]) + len(str(c["value"]))
    return n + sum(_counted(o) for o in option.get("options") or [])


def test_within_discord_limits(payload: dict[str, Any]) -> None:
    assert len(payload["options"]) <= 25
    assert len(json.dumps(payload)) <= 16000  # the payload stays small
    assert _counted(payload) <= 8000
    families = [o for o in payload["options"] if o["type"] == SUBCOMMAND_GROUP]
    assert [f["name"] for f in families] == ["checklist", "questions"]
    for family in families:
        assert 1 <= len(family["description"]) <= 100
        assert 1 <= len(family["options"]) <= 25
    for sub in subcommands(payload).values():
        assert NAME.match(sub["name"]) and sub["name"] == sub["name"].lower()
        assert len(sub.get("options", [])) <= 25
        for o in sub.get("options", []):
            assert NAME.match(o["name"]) and o["name"] == o["name"].lower()
            assert 1 <= len(o["description"]) <= 100
            assert len(o.get("choices", [])) <= 25
            for c in o.get("choices", []):
                assert 1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100


@pytest.mark.anyio
async def test_client_tree_is_the_exported_tree(
    h: Harness, payload: dict[str, Any], content: Content
) -> None:
    """What `sync` sends is exactly what the running client parses against."""
    group, menu = h.client.tree.get_commands()
    assert group.to_dict(h.client.tree) == payload
    assert [menu.to_dict(h.client.tree)] == commands_payload(content)[1:]


def test_the_report_menu_is_a_message_command(content: Content) -> None:
    _group, menu = commands_payload(content)
    assert menu["name"] == "Report question" and menu["type"] == 3  # a message command
    assert menu["contexts"] == [0]  # in servers only, where study groups are


@pytest.mark.anyio
async def test_timezone_autocomplete(h: Harness) -> None:
    found = await h.autocomplete("tz", "timezone", "berl")
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in found
    found = await h.autocomplete("tz", "timezone", "Asia/K")
    assert found and found[0]["value"].startswith("Asia/K") and len(found) <= 25
    assert (await h.autocomplete("tz", "timezone", "gr"))[0]["value"] == "group"
    setup = await h.autocomplete("setup", "tz", "kolk")
    assert [c["value"] for c in setup] == ["Asia/Kolkata"]


@pytest.mark.anyio
async def test_help_completes_command_names(h: Harness) -> None:
    """More commands than 25 choices: `help`'s command is completed from what is typed."""
    assert [c["value"] for c in await h.autocomplete("help", "command", "remi")] == ["remind"]
    assert len(await h.autocomplete("help", "command", "")) == CHOICES_MAX
