"""The terminal workspace: local groups (one per channel name), buttons pressed by key, no
study logic.

`ConsoleSession.send(line)` is the in-memory backend tests use (push a line, read the
reply); the interactive loop in `cli.py` only adds input and Rich output around it.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from adapters.console import keys
from bot import registry
from bot.core import StudyBot
from bot.errors import UserError
from bot.registry import SLASH, Kind
from bot.seam import Action, Button, Invocation, Reply, Upload, Who

WORKSPACE = "console"
CHANNEL = "study-group"


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
    def __init__(self, bot: StudyBot, name: str, *, is_admin: bool, channel: str = CHANNEL) -> None:
        self.bot = bot
        self.who = Who(
            platform="console",
            workspace_id=WORKSPACE,
            channel_id=channel,
            user_id=user_id_for(name),
            display_name=name,
            is_admin=is_admin,
        )
        self.buttons: list[tuple[str, Button]] = []  # the last screen's, by key
        self.multi = False  # the last screen asks for several letters

    def has_group(self) -> bool:
        return self.bot.has_group(self.who)

    def setup(self, values: dict[str, str]) -> Reply:
        reply = self.bot.handle(Invocation(self.who, "setup", values))
        self.remember(reply)
        return reply

    def send(self, line: str) -> Reply | None:
        """One line of input: a command, the keys of buttons, or something we explain."""
        line = line.strip()
        if not line:
            return None
        pressed = keys.parse(line)
        if pressed is not None:
            return self.press(*pressed)
        if line.lower().startswith(SLASH):
            reply = self._with_files(line) or self.bot.handle_text(self.who, line)
        else:
            reply = Reply.message(
                f"Commands start with {SLASH} (try {SLASH} help); a letter picks a choice and "
                "a number presses one of the other buttons of the last reply."
            )
        self.remember(reply)
        return reply

    def _with_files(self, line: str) -> Reply | None:
        """A command given a file's path (`/study import PATH`): the file is read here and
        sent as the platforms send an attachment, so the core reads no path of a user's.
        None when the line names no file (the core answers it as typed)."""
        try:
            cmd, args = registry.parse(line)
        except UserError:
            return None
        paths = {
            p.name: args[p.name] for p in cmd.params if p.kind is Kind.FILE and args.get(p.name)
        }
        if not paths:
            return None
        files = []
        for raw in paths.values():
            path = Path(raw).expanduser()
            try:
                files.append(Upload(path.name, path.read_bytes()))
            except OSError as e:
                return Reply.refusal(
                    f"Cannot read {raw}: {e.strerror or e}. Give the path of a CSV or YAML "
                    f"file: `{SLASH} {cmd.name} PATH`."
                )
        rest = {k: v for k, v in args.items() if k not in paths}
        return self.bot.handle(Invocation(self.who, cmd.name, rest, tuple(files)))

    def press(self, *pressed: str | int) -> Reply:
        """Press buttons of the last screen by key (several letters pick in turn)."""
        wanted = [str(k).lower() for k in pressed]
        if not self.buttons:
            return Reply.message("The last reply has no buttons to press.")
        if len(wanted) > 1 and not self.multi:
            return Reply.refusal("This question takes one letter: press one choice.")
        reply: Reply | None = None
        for key in wanted:
            b = dict(self.buttons).get(key)
            if b is None:
                shown = ", ".join(k for k, _ in self.buttons)
                return reply or Reply.refusal(
                    f"There is no button {key} here. Press one of: {shown}."
                )
            reply = self.bot.press(Action(self.who, b.action_id, b.value))
            self.remember(reply)
            if reply.refused:
                break
        assert reply is not None
        return reply

    def remember(self, reply: Reply) -> None:
        """Keys press buttons of the last screen; a refusal leaves that screen usable."""
        if reply.refused:
            return
        self.buttons = keys.keyed(reply.buttons())
        self.multi = "(Choose" in reply.plain_text()


def default_setup(today: date) -> dict[str, str]:
    """The first run's settings; the track is left to `setup` (the content's first)."""
    return {
        "start": today.isoformat(),
        "tz": system_timezone(),
        "time": "09:00",
        "days": "mon,tue,wed,thu,fri",
    }
