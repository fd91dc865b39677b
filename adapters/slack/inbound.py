"""Slack payloads as the core reads them: who called, where, and what they typed or pressed.

Only translation lives here (no Web API calls, no replies): a slash command's escaped text
back to what the member typed, and the team, channel, user and button of a click, wherever
Slack put them in the payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.render import decode_action_id
from bot.registry import COMMANDS, Audience

_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a command or a click, before their name and admin rights are looked up."""

    team_id: str
    channel_id: str
    user_id: str
    name: str  # the payload's username: a stand-in until users.info answers


@dataclass(frozen=True, slots=True)
class Command:
    caller: Caller
    text: str

    @property
    def needs_admin(self) -> bool:
        """Whether the registry reserves this command for group leads (so the caller's
        admin flag must be fresh)."""
        words = self.text.split()
        cmd = COMMANDS.get(words[0].lower()) if words else None
        return cmd is not None and cmd.audience is Audience.LEAD


@dataclass(frozen=True, slots=True)
class Press:
    caller: Caller
    action_id: str  # the core's action id (Slack's unique suffix removed)
    value: str


def command_of(body: Mapping[str, Any]) -> Command:
    caller = Caller(
        str(body["team_id"]),
        str(body["channel_id"]),
        str(body["user_id"]),
        str(body.get("user_name") or ""),
    )
    return Command(caller, command_text(str(body.get("text", ""))))


def press_of(body: Mapping[str, Any]) -> Press:
    user = body.get("user") or {}
    act = body["actions"][0]
    team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    caller = Caller(
        str(team_id),
        channel_of(body),
        str(user["id"]),
        str(user.get("name") or user.get("username") or ""),
    )
    return Press(caller, decode_action_id(str(act["action_id"])), str(act.get("value") or ""))


def command_text(raw: str) -> str:
    """Slash-command text as the user meant it.

    The manifest asks Slack to escape the command text, so mentions arrive as
    `<@U123|name>` (turned into the user id `setup leads=` expects), links as `<url|label>`,
    and `&`, `<`, `>` as entities, which are decoded last. Text with neither (`today`,
    `leaderboard month`) is already what the user typed.
    """
    if "<" not in raw and "&" not in raw:
        return raw
    s = _USER_REF.sub(r"\1", raw)
    s = _CHANNEL_REF.sub(r"\1", s)
    s = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1).split('^')[0]}", s)
    s = _LINK.sub(r"\1", s)
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def channel_of(body: Mapping[str, Any]) -> str:
    """The channel a button was clicked in (its message's channel)."""
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )


def user_of(body: Mapping[str, Any]) -> str:
    return str(body.get("user_id") or (body.get("user") or {}).get("id"))


def channel_id(body: Mapping[str, Any]) -> str:
    """The channel of a command or of a click."""
    return str(body.get("channel_id") or channel_of(body))
