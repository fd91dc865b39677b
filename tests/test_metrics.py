"""Prometheus metrics: /metrics on the Slack HTTP process, --metrics-port on the others,
commands and presses by outcome, posts by kind, the outbox's depth."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from adapters.slack.app import SlackApp, create_app
from bot import registry
from bot.cli import _load_plugins, app
from bot.content import load_content
from bot.content.models import Content
from bot.core import BUSY, StudyBot
from bot.metrics import OutboxGauges
from bot.seam import RateLimited, TargetGone, Transient
from bot.store.db import Store
from scheduler.clock import Clock
from scheduler.outbox import backlog
from scheduler.worker import Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock
from tests.slack.conftest import (
    SlackUser,
    action_body,
    buttons_of,
    command_body,
    signed_headers,
    slack_settings,
)
from tests.slack.fakeslack import FakeSlack
from tests.slack.server import running_server
from tests.subprocesses import (
    due_group,
    free_port,
    run,
    running,
    samples,
    wait_for_metric,
)

_load_plugins()

Page = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def value(page: Page, name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ------------------------------------------------------------------ the Slack HTTP process


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    f.user("ULEAD", "Lee", admin=True)
    f.user("UALICE", "Alice")
    yield f
    f.stop()


@pytest.fixture
def slack(bot: StudyBot, fake: FakeSlack) -> Iterator[SlackApp]:
    app_ = create_app(bot, slack_settings(fake))
    SlackUser(app_, fake, "ULEAD", "Lee").command(
        "setup track=associate start=2026-03-02 tz=UTC time=09:00"
    )
    yield app_
    app_.frontend.drain()
    app_.close()


def test_slack_metrics_count_commands_presses_and_acks(
    slack: SlackApp, bot: StudyBot, fake: FakeSlack
) -> None:
    with running_server(slack, bot) as base:

        def page() -> Page:
            r = httpx.get(base + "/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            return samples(r.text)

        def post(body: str) -> httpx.Response:
            return httpx.post(base + "/slack/events", content=body, headers=signed_headers(body))

        before = page()
        today = post(command_body(fake, "UALICE", "Alice", "today"))
        assert today.status_code == 200
        refused = post(command_body(fake, "UALICE", "Alice", "frobnicate"))
        assert "Unknown command" in refused.text
        mid = page()
        blocks = json.loads(today.text)["blocks"]
        choice = buttons_of(blocks)[0]
        assert post(action_body(fake, "UALICE", "Alice", choice)).status_code == 200
        slack.frontend.drain()
        after = page()

    def delta(name: str, a: Page = after, b: Page = before, **labels: str) -> float:
        return value(a, name, **labels) - value(b, name, **labels)

    assert delta("studybot_commands_total", command="today", outcome="ok") == 1
    assert delta("studybot_commands_total", command="unknown", outcome="refused") == 1
    assert delta("studybot_slack_ack_seconds_count", kind="command") == 2
    assert delta("studybot_slack_ack_seconds_count", kind="press", a=after, b=mid) == 1
    pressed = {
        labels: v - value(mid, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "studybot_presses_total"
    }
    moved = {dict(k)["action"]: d for k, d in pressed.items() if d}
    assert len(moved) == 1 and next(iter(moved.values())) == 1
    assert next(iter(moved)) in registry.ROUTES  # the press is counted under its button
    assert value(after, "studybot_slack_ack_seconds_bucket", kind="command", le="3.0") >= 2


def test_busy_and_failing_commands_are_counted(
    bot: StudyBot, lead: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = sample("studybot_commands_total", command="today", outcome="ok")
    lead.send("/study today")
    assert sample("studybot_commands_total", command="today", outcome="ok") == ok + 1

    def locked(**_kw: Any) -> Any:
        raise OperationalError("BEGIN", {}, Exception("database is locked"))

    busy = sample("studybot_commands_total", command="today", outcome="busy")
    with monkeypatch.context() as m:
        m.setattr(bot.store, "transaction", locked)
        assert lead.send("/study today").plain_text() == BUSY
    assert sample("studybot_commands_total", command="today", outcome="busy") == busy + 1

    def broken(*_a: Any, **_kw: Any) -> Any:
        raise RuntimeError("a bug")

    error = sample("studybot_commands_total", command="leaderboard", outcome="error")
    with monkeypatch.context() as m:
        m.setattr(StudyBot, "_ctx", broken)
        with pytest.raises(RuntimeError):
            lead.send("/study leaderboard")
    assert sample("studybot_commands_total", command="leaderboard", outcome="error") == error + 1


# ------------------------------------------------------------------ posts and the outbox


@pytest.fixture
def due(bot: StudyBot, lead: Chat, clock: FakeClock) -> Clock:
    clock.set(2026, 3, 3, 9, 1)
    return Clock(bot.store, bot.content, clock=clock)


def test_the_outbox_gauges_read_its_depth_and_oldest_due_post(
    due: Clock, sqlite_store: Store, content: Content, clock: FakeClock
) -> None:
    gauges = CollectorRegistry()
    gauges.register(OutboxGauges(lambda: backlog(sqlite_store, clock())))

    def read() -> Page:
        return samples(generate_latest(gauges).decode())

    assert value(read(), "studybot_outbox_pending") == 0
    due.tick()
    clock.advance(minutes=10)  # nobody delivered them yet
    page = read()
    assert value(page, "studybot_outbox_pending") == 2  # the question, the last one's answer
    assert value(page, "studybot_outbox_oldest_due_seconds") == 600
    Worker(sqlite_store, content, {"console": FakeMessenger()}, clock=clock).run_once()
    page = read()
    assert value(page, "studybot_outbox_pending") == 0
    assert value(page, "studybot_outbox_oldest_due_seconds") == 0


def test_posts_are_counted_by_kind_and_outcome(
    due: Clock, sqlite_store: Store, content: Content, clock: FakeClock
) -> None:
    names = ("planned", "sent", "retried", "failed")
    before = {n: sample(f"studybot_posts_{n}_total", kind="daily") for n in names}
    limited = sample("studybot_rate_limited_total", platform="console")
    delays = sample("studybot_post_delay_seconds_count", kind="daily")
    fake = FakeMessenger(fail={"C1": [RateLimited(1), Transient("HTTP 503")]})
    worker = Worker(sqlite_store, content, {"console": fake}, clock=clock, sleep=lambda _s: None)
    due.tick()
    worker.run_once()  # 429
    clock.advance(minutes=1)
    worker.run_once()  # 503, retried
    clock.advance(minutes=10)
    worker.run_once()  # sent
    got = {n: sample(f"studybot_posts_{n}_total", kind="daily") - before[n] for n in names}
    assert got == {"planned": 1, "sent": 1, "retried": 1, "failed": 0}
    assert sample("studybot_rate_limited_total", platform="console") == limited + 1
    assert sample("studybot_post_delay_seconds_count", kind="daily") == delays + 1
    fake.fail["C1"] = [TargetGone("channel_not_found")]
    clock.set(2026, 3, 4, 9, 1)
    due.tick()
    worker.run_once()
    assert sample("studybot_posts_failed_total", kind="daily") == before["failed"] + 1


# ------------------------------------------------------------------ --metrics-port


def test_clock_serves_planned_posts_and_the_outbox_on_its_metrics_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    due_group(url)
    port = free_port()
    args = ["clock", "--interval", "0.3", "--metrics-port", str(port)]
    with running(tmp_path, args, STUDYBOT_DATABASE_URL=url) as proc:
        page = wait_for_metric(proc, port, "studybot_posts_planned_total", {"kind": "daily"})
        page = wait_for_metric(proc, port, "studybot_clock_ticks_total", {"outcome": "ok"}, 2)
    assert proc.returncode == 0, proc.stderr_text  # type: ignore[attr-defined]
    assert value(page, "studybot_posts_planned_total", kind="daily") == 1  # once, not per tick
    assert value(page, "studybot_outbox_pending") == 2  # with the reveal of the one before
    assert value(page, "studybot_outbox_oldest_due_seconds") > 0


def test_deliver_serves_sent_posts_429s_and_delay_on_its_metrics_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    due_group(url)
    store = Store.from_url(url)
    Clock(store, load_content(Path(__file__).resolve().parent.parent / "content")).tick()
    store.dispose()
    fake = FakeSlack().start()
    fake.rate_limit("chat.postMessage", retry_after=1)
    port = free_port()
    env = {"STUDYBOT_DATABASE_URL": url, "SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": "xoxb-t"}
    try:
        with running(tmp_path, ["deliver", "--metrics-port", str(port)], **env) as proc:
            page = wait_for_metric(proc, port, "studybot_posts_sent_total", {"kind": "daily"})
            # the reveal planned beside the question may still be pending when it is sent
            page = wait_for_metric(proc, port, "studybot_outbox_pending", at_most=0)
    finally:
        fake.stop()
    assert value(page, "studybot_rate_limited_total", platform="slack") == 1
    assert value(page, "studybot_post_delay_seconds_count", kind="daily") == 1
    assert value(page, "studybot_outbox_pending") == 0
    assert value(page, "studybot_outbox_oldest_due_seconds") == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["clock"], {}),
        (["deliver"], {"SLACK_BOT_TOKEN": "xoxb-t"}),
        (["run"], {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s"}),
        (["serve", "discord"], {"DISCORD_TOKEN": "t"}),
    ],
)
def test_a_metrics_port_in_use_is_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen()
        port = held.getsockname()[1]
        url = f"sqlite:///{tmp_path / 'm.db'}"
        r = run(tmp_path, [*args, "--metrics-port", str(port)], STUDYBOT_DATABASE_URL=url, **env)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"studybot: cannot serve metrics on --metrics-port {port} (already in use): "
        "choose a free port"
    ]


@pytest.mark.parametrize("command", ["console", "run", "serve", "clock", "deliver"])
def test_each_process_takes_log_level_and_metrics_port(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--log-level LEVEL" in result.output
    if command != "console":  # the terminal serves no metrics
        assert "--metrics-port PORT" in result.output


def test_metric_names_start_with_studybot() -> None:
    import bot.metrics as m

    defined = [v for v in vars(m).values() if isinstance(v, Counter | Histogram)]
    names = [family.name for v in defined for family in v.describe()]
    assert len(names) >= 12 and all(n.startswith("studybot_") for n in names), names
