"""An operator's mistake as one line: what is wrong, which setting, what to check.

Every process (`studybot …`) runs under `main()` in `bot/cli.py`, which prints this line on
stderr and exits 1 instead of a traceback (`--debug` or `STUDYBOT_DEBUG=1` adds it).
Secrets never appear: database URLs are shown without their password, and a setting whose
name says it holds a secret is named, never echoed.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from bot.content.loader import ContentError
from bot.errors import OperatorError

_SECRET = re.compile(r"token|secret|password|key", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+]*://[^\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Any URL in `text` with its password hidden."""

    def hide(m: re.Match[str]) -> str:
        try:
            return make_url(m.group(0)).render_as_string(hide_password=True)
        except ArgumentError:
            return m.group(0)

    return _URL_IN_TEXT.sub(hide, text)


def describe(exc: BaseException) -> str:
    """The one line an operator sees for `exc`."""
    if isinstance(exc, OperatorError):
        return str(exc)
    if isinstance(exc, ContentError):
        return "; ".join(str(p) for p in exc.problems[:3]) + (
            f" (and {len(exc.problems) - 3} more: `studybot content check`)"
            if len(exc.problems) > 3
            else ""
        )
    if isinstance(exc, ValidationError):
        return "; ".join(_setting_problem(e) for e in exc.errors())
    if isinstance(exc, ArgumentError) and "URL" in str(exc):
        return (
            "STUDYBOT_DATABASE_URL is not a database URL; use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        )
    if isinstance(exc, OperationalError | DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        return (
            f"the database refused or could not be reached: {redact(reason)} "
            "(check STUDYBOT_DATABASE_URL)"
        )
    if isinstance(exc, ModuleNotFoundError) and exc.name in ("psycopg", "psycopg2"):
        return "PostgreSQL needs the psycopg driver: pip install 'psycopg[binary]'"
    name = type(exc).__name__
    if name == "LoginFailure":  # discord.py
        return "Discord rejected DISCORD_TOKEN: copy the bot token again from the Developer Portal"
    if name == "BoltError" and "token" in str(exc):
        return "Slack rejected SLACK_BOT_TOKEN: check the bot token (xoxb-…) of the installed app"
    if isinstance(exc, OSError) and exc.errno == 98:
        return f"the port is already in use ({exc.strerror}): set PORT or --port to a free one"
    message = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else name
    return f"{message} ({name}; --debug shows where)"


def _setting_problem(error: Any) -> str:
    loc = ".".join(str(x) for x in error.get("loc", ())) or "a setting"
    shown = "" if _SECRET.search(loc) else f" (got {error.get('input')!r})"
    return f"{loc}: {error.get('msg', 'invalid')}{shown}"
