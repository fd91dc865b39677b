"""HTTP mode: uvicorn serving the real App on /slack/events, plus /healthz."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine

from adapters.slack.app import SlackApp
from adapters.slack.server import mode
from bot.core import StudyBot
from tests.slack.conftest import command_body, signed_headers, slack_settings
from tests.slack.fakeslack import FakeSlack, Scripted
from tests.slack.server import running_server


@pytest.fixture
def base(slack: SlackApp, bot: StudyBot) -> Iterator[str]:
    with running_server(slack, bot) as url:
        yield url


def test_health(base: str) -> None:
    r = httpx.get(base + "/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_health_reports_a_broken_database(slack: SlackApp, bot: StudyBot) -> None:
    with running_server(slack, bot) as url:
        real = bot.store.engine
        bot.store.engine = create_engine("sqlite:////nonexistent/dir/x.db")
        try:
            assert httpx.get(url + "/healthz").status_code == 503
        finally:
            bot.store.engine = real


def test_signed_command_over_http(base: str, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    r = httpx.post(base + "/slack/events", content=body, headers=signed_headers(body))
    assert r.status_code == 200
    assert "/study today" in r.text


def test_bad_signatures_over_http(base: str, fake: FakeSlack) -> None:
    body = command_body(fake, "UALICE", "Alice", "help")
    wrong = httpx.post(
        base + "/slack/events", content=body, headers=signed_headers(body, secret="nope")
    )
    assert wrong.status_code == 401
    old = httpx.post(
        base + "/slack/events",
        content=body,
        headers=signed_headers(body, timestamp=int(time.time()) - 301),
    )
    assert old.status_code == 401


def test_unknown_paths(base: str) -> None:
    assert httpx.get(base + "/slack/events").status_code == 404
    assert httpx.get(base + "/slack/install").status_code == 404  # token mode: no install


def test_requests_run_concurrently(base: str, fake: FakeSlack) -> None:
    """Dispatch runs off the event loop: a health check is not stuck behind slow requests."""
    fake.script("users.info", Scripted(delay=1.0))
    body = command_body(fake, "UNEW", "New", "help")
    with httpx.Client() as c:
        t = threading.Thread(
            target=c.post,
            args=(base + "/slack/events",),
            kwargs={"content": body, "headers": signed_headers(body)},
        )
        t.start()
        time.sleep(0.1)
        started = time.monotonic()
        assert httpx.get(base + "/healthz").status_code == 200
        assert time.monotonic() - started < 0.5
        t.join()


def test_mode_selection(fake: FakeSlack) -> None:
    assert mode(slack_settings(fake)) == "http"
    assert mode(slack_settings(fake, SLACK_APP_TOKEN="xapp-1")) == "socket"
