"""Logs an operator can run on: one line per planned and per delivered post, the libraries
quiet unless asked, JSON on request, one line for a bad setting, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import logs
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import RateLimited, TargetGone, Transient
from bot.settings import Settings
from scheduler.clock import Clock
from scheduler.worker import Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock
from tests.slack.conftest import command_body, signed_headers
from tests.slack.fakeslack import FakeSlack
from tests.subprocesses import (
    due_group,
    free_port,
    run,
    running,
    wait_for_http,
    wait_for_metric,
)

PG_URL = os.environ.get("STUDYBOT_TEST_POSTGRES_URL")

# What a Slack process holds (processes never reach Discord: no token for it there).
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1234-5678-sEcReTbOtToKeN",
    "SLACK_SIGNING_SECRET": "f00dsigningsecretc0ffee",
}
MORE_SECRETS = {
    "SLACK_CLIENT_SECRET": "clientsecret-9a8b7c",
    "DISCORD_TOKEN": "discord-token-value-4711",
}
DB_PASSWORD = "pg-pass-7d1f"


def assert_no_secret(stderr: str) -> None:
    for name, value in {**SECRETS, **MORE_SECRETS}.items():
        assert value not in stderr, f"{name} appeared in the log"
    assert DB_PASSWORD not in stderr


# ------------------------------------------------------------------ in-process


@pytest.fixture
def logged() -> Iterator[Callable[..., io.StringIO]]:
    """`logs.configure` into a buffer; the test run's logging is put back afterwards."""
    root = logging.getLogger()
    saved = root.level, {n: logging.getLogger(n).level for n in logs.OWN}

    def configure(level: str | None = None, **kw: Any) -> io.StringIO:
        stream = io.StringIO()
        logs.configure(level, stream=stream, **kw)
        return stream

    yield configure
    for h in logs._installed:
        root.removeHandler(h)
    logs._installed.clear()
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _pump(clock: Clock, worker: Worker) -> None:
    clock.tick()
    while worker.run_once():
        pass


@pytest.fixture
def due(bot: StudyBot, lead: Chat, clock: FakeClock) -> Clock:
    """The lead's group (09:00 UTC) on the next morning, its daily post due."""
    clock.set(2026, 3, 3, 9, 1)
    return Clock(bot.store, bot.content, clock=clock)


def test_each_planned_and_delivered_post_is_one_json_line_with_its_fields(
    logged: Callable[..., io.StringIO], due: Clock, bot: StudyBot, content: Content
) -> None:
    stream = logged(settings=Settings(_env_file=None, STUDYBOT_LOG_FORMAT="json"))  # type: ignore[call-arg]
    fake = FakeMessenger()
    worker = Worker(bot.store, content, {"console": fake}, clock=due.clock)
    _pump(due, worker)
    lines = json_lines(stream)
    planned = [x for x in lines if x["message"].startswith("planned daily:")]
    assert len(planned) == 1
    p = planned[0]
    assert p["level"] == "INFO" and p["logger"] == "scheduler.clock"
    assert p["kind"] == "daily" and p["key"] == f"daily:{p['group_id']}:2026-03-03"
    assert p["due_at"] == "2026-03-03T09:00:00+00:00" and p["platform"] == "console"
    assert datetime.fromisoformat(p["time"]).tzinfo is not None
    sent = [x for x in lines if x.get("outcome") == "sent"]
    assert [x["key"] for x in sent] == [p["key"]]
    s = sent[0]
    assert s["message"] == f"post {p['key']} sent (group {p['group_id']}, daily, attempt 1)"
    assert s["attempt"] == 1 and s["group_id"] == p["group_id"] and s["error"] is None
    assert s["delay_seconds"] == 0.0  # the fake clock has not moved since the tick


def test_a_tick_that_plans_nothing_says_nothing_at_info(
    logged: Callable[..., io.StringIO], due: Clock
) -> None:
    due.tick()
    stream = logged()
    due.tick()  # everything due is planned already
    assert stream.getvalue() == ""
    debug = logged("debug")
    due.tick()
    assert "DEBUG scheduler.clock: tick: nothing due" in debug.getvalue()


def test_retried_failed_and_rate_limited_posts_say_why(
    logged: Callable[..., io.StringIO], due: Clock, bot: StudyBot, content: Content
) -> None:
    stream = logged()
    fake = FakeMessenger(fail={"C1": [Transient("HTTP 503"), TargetGone("channel_not_found")]})
    worker = Worker(bot.store, content, {"console": fake}, clock=due.clock, sleep=lambda _s: None)
    _pump(due, worker)
    assert isinstance(due.clock, FakeClock)
    due.clock.advance(minutes=10)  # past the backoff
    _pump(due, worker)
    out = stream.getvalue()
    key = "daily:1:2026-03-03"
    assert (
        f"WARNING scheduler.outbox: post {key} retry (group 1, daily, attempt 1): HTTP 503" in out
    )
    assert (
        f"WARNING scheduler.outbox: post {key} failed (group 1, daily, attempt 2): "
        "target gone: channel_not_found" in out
    )


def test_a_rate_limited_post_is_one_warning(
    logged: Callable[..., io.StringIO], due: Clock, bot: StudyBot, content: Content
) -> None:
    stream = logged()
    fake = FakeMessenger(fail={"C1": [RateLimited(30)]})
    worker = Worker(bot.store, content, {"console": fake}, clock=due.clock, sleep=lambda _s: None)
    _pump(due, worker)
    assert (
        "WARNING scheduler.outbox: post daily:1:2026-03-03 rate_limited "
        "(group 1, daily, attempt 1): retry after 30s" in stream.getvalue()
    )


def test_known_secrets_and_token_shapes_are_removed_from_every_line(
    logged: Callable[..., io.StringIO],
) -> None:
    url = f"postgresql+psycopg://bot:{DB_PASSWORD}@db.example:5432/study"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        STUDYBOT_DATABASE_URL=url,
        STUDYBOT_LOG_FORMAT="json",
        **SECRETS,
        **MORE_SECRETS,
    )
    stream = logged("debug", settings=settings)
    lib = logging.getLogger("slack_sdk.web.base_client")
    lib.debug(
        "Sending a request - headers: {'Authorization': 'Bearer %s'}", SECRETS["SLACK_BOT_TOKEN"]
    )
    logging.getLogger("bot.test").warning(
        "secret %s, client %s, url %s, discord %s",
        SECRETS["SLACK_SIGNING_SECRET"],
        MORE_SECRETS["SLACK_CLIENT_SECRET"],
        url,
        MORE_SECRETS["DISCORD_TOKEN"],
        extra={"token": SECRETS["SLACK_BOT_TOKEN"]},
    )
    logging.getLogger("bot.test").info("an installed workspace's token: xoxb-99-88-otherteam")
    lines = json_lines(stream)  # still one JSON object a line
    assert len(lines) == 3
    assert_no_secret(stream.getvalue())
    assert "xoxb-99-88-otherteam" not in stream.getvalue()
    assert lines[1]["token"] == "[redacted]" and "[redacted]" in lines[0]["message"]


def test_studybots_error_lines_are_counted_by_logger(
    logged: Callable[..., io.StringIO],
) -> None:
    def errors(name: str) -> float:
        return REGISTRY.get_sample_value("studybot_errors_total", {"logger": name}) or 0.0

    stream = logged()
    before = errors("adapters.slack.listeners"), errors("slack_bolt.App")
    try:
        raise ValueError("a bug")
    except ValueError:
        logging.getLogger("adapters.slack.listeners").exception("/study failed")
    logging.getLogger("adapters.slack.listeners").warning("not an error")
    logging.getLogger("slack_bolt.App").error("a library's line")
    assert errors("adapters.slack.listeners") == before[0] + 1
    assert errors("slack_bolt.App") == before[1]  # the libraries' are theirs to count
    assert "Traceback" in stream.getvalue() and "ValueError: a bug" in stream.getvalue()


def test_check_level_takes_any_case_and_names_the_levels() -> None:
    assert logs.check_level("DEBUG") == "debug" and logs.check_level(None) is None
    with pytest.raises(logs.LogLevelError) as e:
        logs.check_level("loud")
    assert e.value.exit_code == 2
    assert "debug, info, warning, error" in e.value.format_message()


# ------------------------------------------------------------------ processes


def test_clock_once_logs_what_it_planned_and_no_library_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    due_group(url)
    r = run(tmp_path, ["clock", "--once"], STUDYBOT_DATABASE_URL=url)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^Clock tick: \d+ post\(s\) planned, 0 skipped", r.stdout), r.stdout
    assert len(re.findall(r"^  planned daily:1:", r.stdout, re.M)) == 1, r.stdout
    lines = r.stderr.splitlines()
    planned = [x for x in lines if " INFO scheduler.clock: planned daily:1:" in x]
    assert len(planned) == 1 and "(group 1, daily, due " in planned[0], r.stderr
    assert not [x for x in lines if "alembic" in x or "apscheduler" in x], r.stderr
    again = run(tmp_path, ["clock", "--once", "--log-level", "WARNING"], STUDYBOT_DATABASE_URL=url)
    assert again.returncode == 0 and again.stderr == ""
    assert "Clock tick: 0 post(s) planned" in again.stdout


@pytest.mark.parametrize("level", [None, "debug"])
def test_a_running_clock_hides_apscheduler_and_alembic_unless_debug(
    tmp_path: Path, level: str | None
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    port = free_port()
    args = ["clock", "--interval", "0.2", "--metrics-port", str(port)]
    with running(
        tmp_path, args + (["--log-level", level] if level else []), STUDYBOT_DATABASE_URL=url
    ) as proc:
        wait_for_metric(proc, port, "studybot_clock_ticks_total", {"outcome": "ok"}, at_least=3)
    err: str = proc.stderr_text  # type: ignore[attr-defined]
    library = ("Running job", "executed successfully", "Context impl", "Will assume")
    if level is None:
        assert not [x for x in library if x in err], err
        assert "DEBUG" not in err
    else:
        assert all(x in err for x in library), err
        assert "DEBUG scheduler.clock: tick: nothing due" in err


def test_bad_log_settings_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    bad_level = run(tmp_path, ["deliver", "--log-level", "loud"], STUDYBOT_DATABASE_URL=url)
    assert bad_level.returncode == 2
    assert bad_level.stderr.splitlines() == [
        "studybot: --log-level 'loud' is not a level; use one of debug, info, warning, error"
    ]
    bad_format = run(
        tmp_path, ["clock", "--once"], STUDYBOT_DATABASE_URL=url, STUDYBOT_LOG_FORMAT="xml"
    )
    assert bad_format.returncode == 1
    assert bad_format.stderr.splitlines() == [
        "studybot: STUDYBOT_LOG_FORMAT: Input should be 'text' or 'json' (got 'xml')"
    ]


def test_delivery_at_debug_in_json_logs_each_post_and_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    due_group(url)
    assert run(tmp_path, ["clock", "--once"], STUDYBOT_DATABASE_URL=url).returncode == 0
    fake = FakeSlack().start()
    try:
        r = run(
            tmp_path,
            ["deliver", "--once", "--log-level", "debug"],
            STUDYBOT_DATABASE_URL=url,
            STUDYBOT_LOG_FORMAT="json",
            SLACK_API_URL=fake.api_url,
            **SECRETS,
        )
        assert fake.of("chat.postMessage"), "nothing was posted"
    finally:
        fake.stop()
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stderr.splitlines()]  # every line is one JSON object
    assert any(x["logger"].startswith("slack_sdk") and x["level"] == "DEBUG" for x in lines)
    sent = [x for x in lines if x.get("outcome") == "sent"]
    assert len(sent) == 1, r.stderr
    assert sent[0]["kind"] == "daily" and sent[0]["group_id"] == 1
    assert sent[0]["platform"] == "slack" and sent[0]["attempt"] == 1
    assert sent[0]["delay_seconds"] >= 0
    assert_no_secret(r.stderr)


def test_slack_http_at_debug_logs_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    port = free_port()
    fake = FakeSlack().start()
    fake.user("UALICE", "Alice")
    env = {"STUDYBOT_DATABASE_URL": url, "SLACK_API_URL": fake.api_url, **SECRETS}
    args = ["serve", "slack", "--port", str(port), "--log-level", "debug"]
    try:
        with running(tmp_path, args, **env) as proc:
            wait_for_http(proc, f"http://127.0.0.1:{port}/healthz")
            body = command_body(fake, "UALICE", "Alice", "help")
            r = httpx.post(
                f"http://127.0.0.1:{port}/slack/events",
                content=body,
                headers=signed_headers(body, secret=SECRETS["SLACK_SIGNING_SECRET"]),
            )
            assert r.status_code == 200 and "/study today" in r.text
    finally:
        fake.stop()
    err: str = proc.stderr_text  # type: ignore[attr-defined]
    assert "DEBUG slack_bolt" in err  # the libraries did talk
    assert_no_secret(err)


@pytest.mark.postgres
def test_a_clock_on_postgresql_at_debug_logs_no_password(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("STUDYBOT_TEST_POSTGRES_URL is not set")
    from bot.store.db import make_engine

    schema = f"logs_{os.getpid()}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = (
            make_url(PG_URL)
            .set(password=DB_PASSWORD)
            .update_query_dict({"options": f"-csearch_path={schema}"})
        )
        r = run(
            tmp_path,
            ["clock", "--once", "--log-level", "debug"],
            STUDYBOT_DATABASE_URL=url.render_as_string(hide_password=False),
            **SECRETS,
        )
        assert r.returncode == 0, r.stderr
        assert "Clock tick:" in r.stdout or "standby" in r.stdout
        assert "alembic" in r.stderr  # debug: the libraries' lines are there
        assert_no_secret(r.stderr + r.stdout)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
