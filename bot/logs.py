"""Logging for every studybot process, configured in one place.

At the default level studybot's own loggers (bot, adapters, scheduler) write INFO and the
libraries only WARNING, so a running clock says what it planned and delivery what became
of each post, without APScheduler's per-tick lines, alembic's start-up lines or the
platform libraries' chatter. `--log-level debug` opens both. `STUDYBOT_LOG_FORMAT=json`
writes one JSON object per line, with the structured fields a line passes in `extra=`.

Every line goes through one formatter that removes the secrets this process knows
(tokens, signing secret, client secret, the database password) and anything shaped like
a Slack token, whatever a library chose to log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Annotated, Any

import click
import typer
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.metrics import ErrorLines

if TYPE_CHECKING:
    from bot.settings import Settings

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
FORMATS = ("text", "json")
OWN = ("bot", "adapters", "scheduler")  # studybot's loggers; every other one is a library's
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Slack tokens (bot, user, app-level, refresh) and Discord bot tokens, wherever they appear.
_TOKEN_SHAPES = re.compile(
    r"\bxox[abpersc]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}"
    r"|\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"
)


class LogLevelError(click.ClickException):
    """An unknown `--log-level`: one line and exit 2, as click does for a bad option."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"studybot: {self.format_message()}", err=True)


def check_level(value: str | None) -> str | None:
    """The option's callback: a level name, case-insensitive, or None for the default."""
    if value is None:
        return None
    name = value.strip().lower()
    if name not in LEVELS:
        raise LogLevelError(f"--log-level {value!r} is not a level; use one of {', '.join(LEVELS)}")
    return name


LogLevel = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        metavar="LEVEL",
        callback=check_level,
        help="debug, info, warning or error (default: studybot's lines from info, "
        "the libraries' from warning; debug shows both)",
    ),
]
ConsoleLogLevel = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        metavar="LEVEL",
        callback=check_level,
        help="debug, info, warning or error (default here: warning, so log lines do not "
        "break into the session; they go to stderr)",
    ),
]


class Scrubbed(logging.Formatter):
    """Formats with `inner`, then removes every secret from the finished line (message,
    fields and traceback alike)."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        forms: set[str] = set()
        for s in secrets:
            if len(s) >= 4:  # a very short "secret" would blank out ordinary words
                forms.add(s)
                forms.add(json.dumps(s)[1:-1])  # as it appears inside a JSON line
        self._secrets = re.compile("|".join(map(re.escape, sorted(forms, key=len, reverse=True))))
        self._any = bool(forms)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        if self._any:
            line = self._secrets.sub(REDACTED, line)
        return _TOKEN_SHAPES.sub(REDACTED, line)


def secrets_of(settings: Settings | None) -> list[str]:
    """The secret values a process holds: its tokens and the database password."""
    if settings is None:
        return []
    found = [
        v.get_secret_value()
        for v in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.discord_token,
        )
        if v is not None and v.get_secret_value()
    ]
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:  # not a URL: the store says so when it opens it
        password = None
    if password:
        found.append(str(password))
    return found


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            "{message}{levelname}{name}",
            style="{",
            timestamp="time",
            rename_fields={"levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)


_installed: list[logging.Handler] = []  # this module's handlers on the root logger


class _OwnErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".", 1)[0] in OWN


def configure(
    level: str | None = None,
    settings: Settings | None = None,
    *,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> None:
    """Set up logging for this process (again, if called again).

    `level`: a name from LEVELS, or None for the default (INFO for studybot's loggers, or
    WARNING with `quiet`, as the interactive terminal wants). Libraries log from WARNING,
    or from DEBUG when `level` is debug. The format is `settings.log_format` (validated
    there), else STUDYBOT_LOG_FORMAT when it names one, else text.
    """
    own = LEVELS[level] if level else (logging.WARNING if quiet else logging.INFO)
    libraries = logging.DEBUG if own == logging.DEBUG else max(own, logging.WARNING)
    env = os.environ.get("STUDYBOT_LOG_FORMAT", "text")
    fmt = settings.log_format if settings is not None else env if env in FORMATS else "text"
    root = logging.getLogger()
    for h in _installed:
        root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(Scrubbed(formatter(fmt), secrets_of(settings)))
    errors = ErrorLines()  # studybot_errors_total counts the same error lines
    errors.addFilter(_OwnErrors())
    _installed[:] = [handler, errors]
    for h in _installed:
        root.addHandler(h)
    root.setLevel(libraries)
    for name in OWN:
        logging.getLogger(name).setLevel(own)
