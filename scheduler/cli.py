"""`studybot clock`, `deliver`, `status` and `run`: the processes of a deployment.

Messengers come from the `studybot.messenger` entry-point group (each adapter offers a
factory that returns a Messenger when its tokens are set, else None), so the scheduler
never imports an adapter.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot import logs, metrics
from bot.bootstrap import build
from bot.core import StudyBot
from bot.logs import LogLevel
from bot.metrics import MetricsPort
from bot.seam import Messenger
from bot.settings import Settings
from bot.store.models import Outbox
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import utcnow
from scheduler.clock import Clock
from scheduler.due import next_due
from scheduler.outbox import backlog
from scheduler.rate import RateConfig
from scheduler.worker import DeliveryConfig, Worker

log = logging.getLogger(__name__)
out = Console()


def register(app: typer.Typer) -> None:
    app.command("clock")(clock)
    app.command("deliver")(deliver)
    app.command("status")(status)
    app.command("run")(run)


def messengers(settings: Settings) -> dict[str, Messenger]:
    found: dict[str, Messenger] = {}
    for ep in entry_points(group="studybot.messenger"):
        m = ep.load()(settings)
        if m is not None:
            found[ep.name] = m
    return found


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _clock(bot: StudyBot, settings: Settings, grace_hours: float) -> Clock:
    return Clock(
        bot.store,
        bot.content,
        grace=timedelta(hours=grace_hours),
        flag_threshold=settings.flag_threshold,
    )


def _serve_metrics(port: int | None, bot: StudyBot) -> None:
    metrics.serve(port, lambda: backlog(bot.store, utcnow()))


def clock(
    interval: Annotated[
        float, typer.Option(metavar="SECONDS", help="seconds between ticks")
    ] = 30.0,
    grace_hours: Annotated[
        float, typer.Option(metavar="HOURS", help="catch-up window after downtime")
    ] = 6.0,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="run one tick (if no other clock leads), say what it planned, exit"
        ),
    ] = False,
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Run the clock (one active; on PostgreSQL others wait as standbys)."""
    settings = Settings()
    logs.configure(log_level, settings)
    bot = build(settings)
    clock_ = _clock(bot, settings, grace_hours)
    _serve_metrics(metrics_port, bot)
    if once:
        _tick_once(clock_)
        return
    clock_.run(_stop_on_signals(), interval)


def _tick_once(clock_: Clock) -> None:
    """One tick for cron and checks; a standby says so and plans nothing (exit 0)."""
    if not clock_.try_lead():
        out.print("Another clock is active: this one is a standby and planned nothing.")
        return
    try:
        result = clock_.tick()
    finally:
        clock_.release()
    out.print(
        f"Clock tick: {result.enqueued} post(s) planned, "
        f"{result.skipped} skipped (missed by more than the grace window).",
        highlight=False,
    )
    for p in result.planned:
        d = p.due
        state = "planned" if p.status == "pending" else "skipped"
        out.print(f"  {state} {d.key}, due {d.due_at:%Y-%m-%d %H:%M} UTC", highlight=False)


RateOption = Annotated[
    float,
    typer.Option(
        min=0.2,
        max=100.0,
        metavar="POSTS",
        help="starting posts a second per workspace; the worker learns the real limit",
    ),
]


def _config(rate: float) -> DeliveryConfig:
    return DeliveryConfig(rate=RateConfig(rate=rate))


def deliver(
    once: Annotated[bool, typer.Option(help="deliver what is due now, then exit")] = False,
    rate: RateOption = RateConfig.rate,
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Run a delivery worker (any number on PostgreSQL; one on SQLite)."""
    settings = Settings()
    logs.configure(log_level, settings)
    bot = build(settings)
    found = messengers(settings)
    if not found:
        Console(stderr=True, soft_wrap=True).print(
            "No platform is configured: set SLACK_BOT_TOKEN (or the "
            "Slack OAuth settings) or DISCORD_TOKEN."
        )
        raise typer.Exit(2)
    worker = Worker(
        bot.store, bot.content, found, config=_config(rate), flag_threshold=settings.flag_threshold
    )
    _serve_metrics(metrics_port, bot)
    if once:
        while worker.run_once():
            pass
        return
    worker.run_forever(_stop_on_signals())


def status() -> None:
    """Each group's next due post and recent delivery failures."""
    settings = Settings()
    bot = build(settings)
    now = utcnow()
    with bot.store.transaction() as s:
        groups = GroupRecord.all(s)
        workspaces = {w.id: w for w in WorkspaceRecord.all(s)}
        table = Table(title=f"{len(groups)} study group(s)")
        for col in ("workspace", "channel", "track", "next daily post", "state"):
            table.add_column(col)
        for g in groups:
            ws = workspaces[g.workspace_id]
            nxt = next_due(g, now)
            when = f"{nxt.astimezone(ZoneInfo(g.tz)):%a %d %b %H:%M} {g.tz}" if nxt else "–"
            state = f"paused: {g.paused_reason}" if g.paused else "active"
            table.add_row(f"{ws.platform}:{ws.external_id}", g.channel_id, g.track, when, state)
        out.print(table)
        failures = s.scalars(
            select(Outbox)
            .where(
                Outbox.status.in_(("dead", "pending")),
                Outbox.last_error.is_not(None),
                Outbox.created_at >= now - timedelta(days=7),
            )
            .order_by(Outbox.id.desc())
            .limit(20)
        ).all()
        pending = s.scalars(select(Outbox.id).where(Outbox.status == "pending")).all()
    out.print(f"{len(pending)} post(s) waiting for delivery.")
    if failures:
        t = Table(title="Recent delivery failures (7 days)")
        for col in ("post", "status", "attempts", "error"):
            t.add_column(col)
        for f in failures:
            t.add_row(f.idem_key, f.status, str(f.attempts), f.last_error or "")
        out.print(t)
    else:
        out.print("No delivery failures in the last 7 days.")


def run(
    interval: Annotated[
        float, typer.Option(metavar="SECONDS", help="seconds between clock ticks")
    ] = 30.0,
    grace_hours: Annotated[
        float, typer.Option(metavar="HOURS", help="catch-up window after downtime")
    ] = 6.0,
    rate: RateOption = RateConfig.rate,
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
) -> None:
    """One process for a small install: the adapters whose tokens are set, clock, delivery."""
    settings = Settings()
    logs.configure(log_level, settings)
    bot = build(settings)
    stop = _stop_on_signals()
    found = messengers(settings)
    serve = {ep.name: ep for ep in entry_points(group="studybot.serve")}
    platforms = [p for p in found if p in serve]
    if not platforms:
        Console(stderr=True, soft_wrap=True).print(
            "No platform is configured: set SLACK_BOT_TOKEN (with SLACK_SIGNING_SECRET or "
            "SLACK_APP_TOKEN) or DISCORD_TOKEN. For a local try-out use `studybot console`."
        )
        raise typer.Exit(2)
    _serve_metrics(metrics_port, bot)
    clock_ = _clock(bot, settings, grace_hours)
    threading.Thread(target=clock_.run, args=(stop, interval), name="clock", daemon=True).start()
    worker = Worker(
        bot.store, bot.content, found, config=_config(rate), flag_threshold=settings.flag_threshold
    )
    threading.Thread(target=worker.run_forever, args=(stop,), name="delivery", daemon=True).start()
    out.print(f"studybot running: {', '.join(platforms)}, clock and delivery.")
    for extra in platforms[1:]:
        threading.Thread(
            target=serve[extra].load(), args=(settings, None), name=extra, daemon=True
        ).start()
    try:
        serve[platforms[0]].load()(settings, None)
    finally:
        stop.set()
