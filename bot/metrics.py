"""Prometheus metrics: the names every studybot process shares, and serving them.

The core counts commands and presses (`StudyBot`), so every platform is counted the same
way; the scheduler counts posts; the Slack adapter times its acks. A process exposes them
on `/metrics`: the Slack HTTP process beside `/healthz`, the others on `--metrics-port`.
prometheus_client is no platform, so the definitions live here in the core.
"""

from __future__ import annotations

import errno
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.errors import OperatorError

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "refused", "error", "busy")  # what became of a command or a press
UNKNOWN = "unknown"  # a command or button name no feature declares (bounded labels)

COMMANDS = Counter(
    "studybot_commands",
    "Commands handled, by command and outcome (ok, refused, error, busy)",
    ["command", "outcome"],
)
PRESSES = Counter(
    "studybot_presses",
    "Button presses handled, by action and outcome (ok, refused, error, busy)",
    ["action", "outcome"],
)
ERRORS = Counter(
    "studybot_errors",
    "Error lines studybot logged (an unexpected failure, with its traceback), by logger",
    ["logger"],
)
SLACK_ACK_SECONDS = Histogram(
    "studybot_slack_ack_seconds",
    "Seconds from a Slack request's arrival to its answer (Slack allows 3), by kind",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
)
SLACK_STAND_INS = Counter(
    "studybot_slack_stand_in_acks",
    "Slack requests answered by the transport at the deadline ('Working on it…')",
)
POSTS_PLANNED = Counter(
    "studybot_posts_planned", "Posts the clock wrote into the outbox, by kind", ["kind"]
)
POSTS_SENT = Counter("studybot_posts_sent", "Posts delivered to the platform, by kind", ["kind"])
POSTS_RETRIED = Counter(
    "studybot_posts_retried",
    "Deliveries that failed for now and were put back to retry, by kind",
    ["kind"],
)
POSTS_FAILED = Counter(
    "studybot_posts_failed",
    "Posts given up on (target gone, or every attempt failed), by kind",
    ["kind"],
)
POSTS_SKIPPED = Counter(
    "studybot_posts_skipped",
    "Posts not sent: missed by more than the grace window, or nothing left to post, by kind",
    ["kind"],
)
RATE_LIMITED = Counter(
    "studybot_rate_limited", "Platform answers of 429 (rate limited), by platform", ["platform"]
)
POST_DELAY_SECONDS = Histogram(
    "studybot_post_delay_seconds",
    "Seconds from the tick that found a post due to its delivery, by kind",
    ["kind"],
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600),
)
CLOCK_TICKS = Counter(
    "studybot_clock_ticks", "Clock ticks run, by outcome (ok, error)", ["outcome"]
)


# The labelled series of the hot path, looked up once: `labels()` costs several times the
# increment. The keys are bounded (declared names, or `unknown`, times four outcomes).
_command = functools.cache(COMMANDS.labels)
_press = functools.cache(PRESSES.labels)
_ack = functools.cache(SLACK_ACK_SECONDS.labels)


def count_command(name: str, outcome: str) -> None:
    _command(name, outcome).inc()


def count_press(action: str, outcome: str) -> None:
    _press(action, outcome).inc()


def observe_ack(kind: str, seconds: float) -> None:
    _ack(kind).observe(seconds)


class ErrorLines(logging.Handler):
    """Counts the error lines it sees (bot/logs.py attaches it beside the output)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels(record.name).inc()


Backlog = Callable[[], tuple[int, float]]  # pending rows, age of the oldest due one (seconds)


class OutboxGauges(Collector):
    """The outbox's depth and the age of its oldest due post, read when scraped."""

    def __init__(self, read: Backlog) -> None:
        self.read = read

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "studybot_outbox_pending", "Posts waiting in the outbox (pending or being sent)"
            ),
            GaugeMetricFamily(
                "studybot_outbox_oldest_due_seconds",
                "Age of the oldest post due and not yet delivered, since it was planned "
                "(0 when none waits)",
            ),
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            pending, oldest = self.read()
        except Exception as e:  # the database is away: leave the gauges out of this scrape
            log.warning("could not read the outbox for /metrics: %s", e)
            return
        depth, age = self._families()
        depth.add_metric([], pending)
        age.add_metric([], oldest)
        yield depth
        yield age


MetricsPort = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        metavar="PORT",
        min=1,
        max=65535,
        help="serve Prometheus metrics at http://0.0.0.0:PORT/metrics",
    ),
]

_outbox: OutboxGauges | None = None


def serve(port: int | None, backlog: Backlog | None = None) -> None:
    """Serve /metrics on `port` from a background thread (nothing when None); with
    `backlog`, the outbox gauges are part of it."""
    global _outbox
    if port is None:
        return
    try:
        start_http_server(port)
    except OSError as e:
        reason = "already in use" if e.errno == errno.EADDRINUSE else e.strerror
        raise OperatorError(
            f"cannot serve metrics on --metrics-port {port} ({reason}): choose a free port"
        ) from e
    if backlog is not None and _outbox is None:
        _outbox = OutboxGauges(backlog)
        REGISTRY.register(_outbox)
    log.info("metrics at http://0.0.0.0:%d/metrics", port)
