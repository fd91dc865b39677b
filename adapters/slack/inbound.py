"""Slack payloads as the core reads them: who called, where, and what they typed or pressed.

Only translation lives here (no Web API calls, no replies): a slash command's escaped text
back to what the member typed, and the team, channel, user and button of a click, wherever
Slack put them in the payload. A click on the App Home or in a modal has no channel: the
view's `private_metadata` names the group's channel it shows (`view_metadata`), and the
click counts as made there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.slack.render import decode_action_id
from bot.registry import COMMANDS, Audience

_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{1,63}$")


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


@dataclass(frozen=True, slots=True)
class ViewRef:
    """The App Home or modal a button was pressed on, and the group it shows."""

    kind: str  # "home" or "modal"
    view_id: str
    channel_id: str  # the group's channel ("" for none)
    chosen_at: datetime | None  # when the member chose that group on the Home


def view_metadata(channel_id: str, chosen_at: datetime | None = None) -> str:
    """A view's `private_metadata`: the group it shows, and when the member chose it."""
    data: dict[str, Any] = {"channel": channel_id}
    if chosen_at is not None:
        data["chosen"] = int(chosen_at.timestamp())
    return json.dumps(data, separators=(",", ":"))


def metadata_of(view: Mapping[str, Any] | None) -> tuple[str, datetime | None]:
    """The group's channel and the time it was chosen, from a view we published (anything
    else, or nothing, names no group)."""
    try:
        data = json.loads(str((view or {}).get("private_metadata") or "{}"))
    except ValueError:
        return "", None
    if not isinstance(data, dict):
        return "", None
    channel, chosen = data.get("channel"), data.get("chosen")
    at = datetime.fromtimestamp(chosen, UTC) if isinstance(chosen, int) and chosen > 0 else None
    return (channel if isinstance(channel, str) and _CHANNEL_ID.match(channel) else ""), at


def view_of(body: Mapping[str, Any]) -> ViewRef | None:
    """The view a click was made on, or None for a click on a message."""
    view = body.get("view")
    if not isinstance(view, dict) or (body.get("container") or {}).get("type") != "view":
        return None
    channel, chosen = metadata_of(view)
    return ViewRef(str(view.get("type") or ""), str(view.get("id") or ""), channel, chosen)


def press_of(body: Mapping[str, Any]) -> Press:
    user = body.get("user") or {}
    act = body["actions"][0]
    team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    view = view_of(body)
    caller = Caller(
        str(team_id),
        channel_of(body) or (view.channel_id if view is not None else ""),
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
