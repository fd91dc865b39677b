"""The terminal workspace: one local group, numbered buttons, no study logic.

`ConsoleSession.send(line)` is the in-memory backend tests use (push a line, read the
reply); the interactive loop in `cli.py` only adds input and Rich output around it.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from bot.core import StudyBot
from bot.registry import SLASH
from bot.seam import Action, Button, Invocation, Reply, Who

WORKSPACE = "console"
CHANNEL = "study-group"
_NUMBER = re.compile(r"^(?:answer\s+|press\s+)?(\d{1,2})$", re.IGNORECASE)


def user_id_for(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "me"


def system_timezone() -> str:
    """The machine's IANA zone if it can be told, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz:
        return tz
    try:
        text = Path("/etc/timezone").read_text().strip()
        if "/" in text:
            return text
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


class ConsoleSession:
    def __init__(self, bot: StudyBot, name: str, *, is_admin: bool) -> None:
        self.bot = bot
        self.who = Who(
            platform="console",
            workspace_id=WORKSPACE,
            channel_id=CHANNEL,
            user_id=user_id_for(name),
            display_name=name,
            is_admin=is_admin,
        )
        self.buttons: list[Button] = []

    def has_group(self) -> bool:
        return self.bot.has_group(self.who)

    def setup(self, values: dict[str, str]) -> Reply:
        reply = self.bot.handle(Invocation(self.who, "setup", values))
        self.remember(reply)
        return reply

    def send(self, line: str) -> Reply | None:
        """One line of input: a command, a button number, or something we explain."""
        line = line.strip()
        if not line:
            return None
        m = _NUMBER.match(line)
        if m:
            return self.press(int(m.group(1)))
        if line.lower().startswith(SLASH):
            reply = self.bot.handle_text(self.who, line)
        else:
            reply = Reply.message(
                f"Commands start with {SLASH} (try {SLASH} help); a number presses a button "
                "of the last reply."
            )
        self.remember(reply)
        return reply

    def press(self, n: int) -> Reply:
        if not 1 <= n <= len(self.buttons):
            if not self.buttons:
                return Reply.message("The last reply has no buttons to press.")
            return Reply.message(f"Press a button from 1 to {len(self.buttons)}.")
        b = self.buttons[n - 1]
        reply = self.bot.press(Action(self.who, b.action_id, b.value))
        self.remember(reply)
        return reply

    def remember(self, reply: Reply) -> None:
        """A bare number presses a button of the last reply (README, "Try it in two minutes")."""
        self.buttons = reply.buttons()


def default_setup(today: date) -> dict[str, str]:
    return {
        "track": "associate",
        "start": today.isoformat(),
        "tz": system_timezone(),
        "time": "09:00",
        "days": "mon,tue,wed,thu,fri",
    }
