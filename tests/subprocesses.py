"""Helpers for tests that run `studybot` as an operator would: a real process with a clean
environment, a temporary HOME, free ports, and a group whose daily post is due now."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.content import load_content
from bot.core import StudyBot
from bot.store.db import Store
from bot.timeutil import utcnow
from tests.helpers import Chat

ROOT = Path(__file__).resolve().parent.parent
MAIN = "from bot.cli import main; main()"


def clean_env(home: Path, **env: str) -> dict[str, str]:
    """This process's environment without studybot's, Slack's or Discord's settings."""
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STUDYBOT_", "SLACK_", "DISCORD_")) and k != "PORT"
    }
    out.update({"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "COLUMNS": "300"})
    out.update(env)
    return out


def run(
    home: Path, args: list[str], timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`studybot ARGS` to its end."""
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        capture_output=True,
        text=True,
        env=clean_env(home, **env),
        timeout=timeout,
        cwd=home,
    )


@contextmanager
def running(home: Path, args: list[str], **env: str) -> Iterator[subprocess.Popen[str]]:
    """`studybot ARGS` in the background; stopped with SIGTERM (as a supervisor does) when
    the block ends. Read `.stderr` after the block for what it logged."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(home, **env),
        cwd=home,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        proc.stdout_text, proc.stderr_text = out, err  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A /metrics page as {(sample name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)


def wait_for_metric(
    proc: subprocess.Popen[str],
    port: int,
    name: str,
    labels: dict[str, str] | None = None,
    at_least: float = 1,
    timeout: float = 60,
    at_most: float | None = None,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape until `name{labels}` reaches `at_least` (or, given `at_most`, is shown and
    falls to it: a gauge draining); the whole page then."""
    key = (name, tuple(sorted((labels or {}).items())))
    end = time.monotonic() + timeout
    page: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"studybot exited with {proc.returncode}")
        try:
            page = scrape(port)
        except httpx.TransportError:  # not listening yet
            page = {}
        if at_most is None and page.get(key, 0) >= at_least:
            return page
        if at_most is not None and key in page and page[key] <= at_most:
            return page
        time.sleep(0.2)
    goal = at_least if at_most is None else at_most
    raise AssertionError(f"{key} never reached {goal}; last page: {page}")


def wait_for_http(proc: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    """Until `url` answers 200 (the process is serving)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"studybot exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def due_group(
    url: str, *, platform: str = "slack", workspace: str = "T1", channel: str = "C1"
) -> None:
    """A group set up two hours ago (its cohort started three days ago) whose daily post
    fell due an hour ago: one daily post due, none missed. Its weekly summary day is
    neither today nor yesterday, so no leaderboard or progress DMs fall due beside it."""
    store = Store.from_url(url)
    now = utcnow()
    bot = StudyBot(store, load_content(ROOT / "content"), clock=lambda: now - timedelta(hours=2))
    lead = Chat(bot, "ULEAD", "Lee", True, channel, workspace, platform)
    due = now - timedelta(hours=1)
    summary = f"{now + timedelta(days=3):%a}".lower()
    reply = lead.send(
        f"/study setup track=associate start={(now - timedelta(days=3)).date()} tz=UTC "
        f"time={due:%H:%M} days=daily summary={summary}"
    )
    assert "Study group created" in reply.plain_text(), reply.plain_text()
    store.dispose()
