"""Burst benchmark: the clicks that follow a daily post, against `studybot serve slack`.

200 groups of 25 members whose daily question was just posted (the channel post composed
by the core, `bot.features.posts.daily_post`, rendered by the Slack renderer); 5,000
signed `block_actions` clicks on its answer buttons, each from a different member, sent
open-loop at a rising rate: every click leaves at its scheduled instant whether or not
the earlier ones were answered, and its latency runs from that instant to the ack, so a
server that falls behind is charged for the queue it builds. Each rate's clicks are
answered before the next rate starts.

The server is the production one, `studybot serve slack` in HTTP mode as a subprocess
(uvicorn, Bolt, the ack deadline), against a fake Slack Web API in a process of its own
(`tests/slack/fakeslack.py`: auth.test at start-up, the clicks' `response_url` feedback).
The baseline is a Bolt app whose listener only acks, behind the same server class
(`adapters.slack.server.SlackAsgi` under the same uvicorn configuration), in the same
number of processes, under the same load. Per rate: ack latency p50/p99, acks later than
Slack's 3 s, errors, and what the member feels: the time from the click to its feedback
at `response_url` (p50/p99). Afterwards the store must hold each clicked member's answer
once.
`capacity_ratio` is the highest rate whose p99 stays under 1 s for the bot over the same
for the no-op (target ≥ 0.5). Setups: SQLite with one web process; PostgreSQL (a database
of its own, dropped afterwards) with two web processes taking the clicks in turn.

    python -m bench.burst [--no-postgres] [--rates 25,50,...]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from adapters.slack.render import render
from bench.burst_load import fire
from bench.dataset import GROUPS_PER_WORKSPACE, seed
from bench.postgres import pg_available
from bot.content import load_content
from bot.features.posts import daily_post
from bot.settings import REPO_CONTENT
from bot.store.db import Store, make_engine
from bot.store.models import Answer, DailyQuestion, User
from tests.slack.conftest import SECRET, action_body, find_button

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "studybot_bench_burst"
GROUPS, MEMBERS, HISTORY = 200, 25, 5
# clicks per second, and how many at that rate: 5,000 in all, each rate a few seconds
RATES = ((25, 125), (50, 250), (100, 500), (200, 800), (400, 1200), (800, 2125))
# the no-op alone goes on, reusing the clicks, to find where its own p99 passes 1 s
NOOP_BEYOND = ((1600, 2400), (2400, 2400))
P99_LIMIT = 1.0
SENDER_LAG = 0.1  # a rate the client itself sent this late (p99) was not really offered
LATE = 3.0
FEEDBACK_WAIT = 60.0  # seconds after the last rate for the feedback still queued
ROOT = Path(__file__).resolve().parents[1]
SERVE = [sys.executable, "-c", "from bot.cli import main; main()", "serve", "slack"]


# ---------------------------------------------------------------------- Slack's side


def _fake_proc(conn: Any, users: list[tuple[str, str]]) -> None:
    from tests.slack.fakeslack import FakeSlack

    os.nice(5)  # Slack's servers are elsewhere: the fake yields to the app under test
    fake = FakeSlack().start()
    for uid, name in users:
        fake.user(uid, name)
    conn.send((fake.url, fake.api_url))
    while (method := conn.recv()) is not None:
        if method == "arrivals":  # when each response_url post arrived (perf_counter)
            conn.send({c.path: c.at for c in fake.of("response")})
        else:
            conn.send(len(fake.of(method)))
    fake.stop()


class RemoteFake:
    """The fake Slack Web API in a process of its own; only counts cross the pipe."""

    def __init__(self, users: list[tuple[str, str]]) -> None:
        ctx = mp.get_context("spawn")
        self._conn, end = ctx.Pipe()
        self._proc = ctx.Process(target=_fake_proc, args=(end, users), daemon=True)
        self._proc.start()
        self.url, self.api_url = self._conn.recv()
        self._n = 0

    def response_url(self) -> str:
        self._n += 1
        return f"{self.url}/response/{self._n}"

    def count(self, method: str) -> int:
        self._conn.send(method)
        return int(self._conn.recv())

    def arrivals(self) -> dict[str, float]:
        """Each `response_url` post's arrival (the clock every process shares)."""
        self._conn.send("arrivals")
        return dict(self._conn.recv())

    def stop(self) -> None:
        self._conn.send(None)
        self._proc.join(10)


# ---------------------------------------------------------------------- the store


def members() -> list[tuple[str, str, str, str]]:
    """Every seeded member as (user, name, channel, team), as `bench.dataset` names them."""
    return [
        (f"U{g:05d}{m:03d}", f"Member {g}-{m}", f"C{g:05d}", f"T{g // GROUPS_PER_WORKSPACE:05d}")
        for g in range(GROUPS)
        for m in range(MEMBERS)
    ]


def prepare(url: str, content: Any, fake: RemoteFake) -> tuple[list[tuple[str, str]], str]:
    """Seed the groups, post today's question in each (single-answer, so a click on the
    channel post answers), and make one signed-body-to-be per member: a click on "A"."""
    store = Store.from_url(url)
    today = datetime.now(UTC).date()
    seed(
        store,
        content,
        groups=GROUPS,
        members=MEMBERS,
        days=HISTORY,
        start=today - timedelta(days=HISTORY),
    )
    single = [q for q in content.by_track["associate"] if len(q.answer) == 1]
    buttons: dict[str, dict[str, Any]] = {}
    with store.transaction() as s:
        s.execute(
            insert(DailyQuestion),
            [
                {
                    "workspace_id": g // GROUPS_PER_WORKSPACE + 1,
                    "group_id": g + 1,
                    "local_date": today,
                    "question_id": single[g % len(single)].id,
                    "created_at": datetime.now(UTC),
                }
                for g in range(GROUPS)
            ],
        )
    with store.transaction(read_only=True) as s:
        for daily in s.scalars(select(DailyQuestion).where(DailyQuestion.local_date == today)):
            blocks = render(daily_post(s, content, daily)).blocks
            buttons[f"C{daily.group_id - 1:05d}"] = find_button(blocks, "A")
    store.dispose()
    bodies = [
        (user, action_body(fake, user, name, buttons[channel], channel, team))  # type: ignore[arg-type]
        for user, name, channel, team in members()
    ]
    random.Random(20).shuffle(bodies)  # a group's members click among everyone else's
    return bodies, today.isoformat()


def recorded(url: str, day: str, clicked: set[str]) -> dict[str, int]:
    """Answers to today's questions: clicked members without one, and any beyond one."""
    engine = make_engine(url)
    with engine.connect() as c:
        per_user = dict(
            c.execute(
                select(User.external_id, func.count())
                .join(Answer, Answer.user_id == User.id)
                .where(Answer.local_date == datetime.fromisoformat(day).date())
                .group_by(User.external_id)
            ).all()
        )
    engine.dispose()
    return {
        "lost": sum(1 for u in clicked if per_user.get(u, 0) == 0),
        "doubled": sum(n - 1 for n in per_user.values() if n > 1)
        + sum(n for u, n in per_user.items() if u not in clicked),
    }


# ---------------------------------------------------------------------- the servers


def _noop_serve(port: int, api_url: str) -> None:
    """The baseline server: Bolt with listeners that only ack, behind the same server."""
    logging.basicConfig(level=logging.ERROR)
    from adapters.slack.server import SlackAsgi, bound_socket, http_server
    from bench.slack_roundtrip import noop_app

    app = noop_app(SimpleNamespace(api_url=api_url))
    asgi = SlackAsgi(SimpleNamespace(app=app), lambda: True)  # type: ignore[arg-type]
    sock = bound_socket("127.0.0.1", port)
    http_server(asgi, port, host="127.0.0.1", log_level="error").run(sockets=[sock])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def servers(kind: str, n: int, db_url: str, api_url: str) -> Iterator[list[str]]:
    """`n` server processes (`studybot serve slack`, or the no-op), their event URLs."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "STUDYBOT_DATABASE_URL": db_url,
    }
    for key in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(key, None)
    procs, urls = [], []
    for _ in range(n):
        port = free_port()
        if kind == "bot":
            cmd = [*SERVE, "--port", str(port), "--log-level", "warning"]
        else:
            cmd = [sys.executable, "-m", "bench.burst", "--noop-serve", str(port), api_url]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc, url in zip(procs, urls, strict=True):
            end = time.monotonic() + 60
            while True:
                with suppress(httpx.TransportError):
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"{kind} server on {url} did not come up")
                time.sleep(0.1)
        yield [u + "/slack/events" for u in urls]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# ---------------------------------------------------------------------- the load


def run_load(
    urls: list[str], bodies: list[str], rates: tuple[tuple[int, int], ...]
) -> list[dict[str, Any]]:
    """Each rate's clicks, open-loop, from a process of its own; round-robin over `urls`
    (bodies are reused, in turn, once all have been sent: only for the no-op). Each
    stage keeps its clicks' scheduled instants (`sent`) for `feedback`."""
    out = []
    ctx = mp.get_context("spawn")
    at = 0
    for rate, n in rates:
        part = [bodies[(at + i) % len(bodies)] for i in range(n)]
        at += n
        with ctx.Pool(1) as pool:
            lat, errors, lag, scheduled = pool.apply(fire, (urls, part, rate, SECRET))
        p50, p99 = p50_p99_ms(lat)
        out.append(
            {
                "rate": rate,
                "clicks": n,
                "p50_ms": p50,
                "p99_ms": p99,
                "late_acks": sum(1 for x in lat if x > LATE),
                "errors": errors,
                "sender_lag_ms": round(lag * 1000, 1),
                "sent": list(zip(map(response_path, part), scheduled, strict=True)),
            }
        )
        time.sleep(1.0)
    return out


def p50_p99_ms(seconds: list[float]) -> tuple[float | None, float | None]:
    """The median and 99th percentile, in milliseconds (None for no values)."""
    if not seconds:
        return None, None
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return round(statistics.median(ordered) * 1000, 1), round(p99 * 1000, 1)


def response_path(body: str) -> str:
    """The path of a click's `response_url` on the fake Slack."""
    payload = json.loads(parse_qs(body)["payload"][0])
    return urlsplit(str(payload["response_url"])).path


def feedback(stages: list[dict[str, Any]], arrivals: dict[str, float]) -> None:
    """What a member feels: from each click's scheduled instant to its feedback's arrival
    at `response_url` (p50, p99, and how many never arrived), per stage."""
    for stage in stages:
        sent = stage.pop("sent")
        waits = [arrivals[path] - at for path, at in sent if path in arrivals]
        stage["feedback_p50_ms"], stage["feedback_p99_ms"] = p50_p99_ms(waits)
        stage["feedback_missing"] = len(sent) - len(waits)


def capacity(stages: list[dict[str, Any]]) -> tuple[int, bool]:
    """The highest rate whose p99 stayed under 1 s without errors, among the rates the
    client really sent (its own lag under `SENDER_LAG`), and whether that is only a lower
    bound: no rate the client could send went past it."""
    valid = [s for s in stages if s["sender_lag_ms"] < SENDER_LAG * 1000]
    ok = [s for s in valid if s["errors"] == 0 and s["p99_ms"] < P99_LIMIT * 1000]
    best = max((s["rate"] for s in ok), default=0)
    return best, not any(s["rate"] > best for s in valid)


def run_setup(
    name: str, db_url: str, web: int, content: Any, rates: tuple[tuple[int, int], ...]
) -> dict[str, Any]:
    users = [(u, n) for u, n, *_ in members()]
    fake = RemoteFake(users)
    try:
        bodies, day = prepare(db_url, content, fake)
        sent = bodies[: sum(n for _, n in rates)]
        clicks = [b for _, b in sent]
        with servers("noop", web, db_url, fake.api_url) as urls:  # the same clicks, and more
            fire_warm(urls, clicks[:50])
            noop = run_load(urls, clicks, rates + NOOP_BEYOND)
        for stage in noop:
            del stage["sent"]  # the no-op posts no feedback
        with servers("bot", web, db_url, fake.api_url) as urls:
            bot = run_load(urls, clicks, rates)
            end = time.monotonic() + FEEDBACK_WAIT  # the feedback a burst left queued
            while fake.count("response") < len(clicks) and time.monotonic() < end:
                time.sleep(0.5)
            time.sleep(1)  # anything still running after a stand-in ack
        feedback(bot, fake.arrivals())
        posted = fake.count("response")
        # what else the clicks made the app ask of Slack (Home refreshes, name look-ups)
        calls = {m: fake.count(m) for m in ("views.publish", "users.info", "chat.postMessage")}
    finally:
        fake.stop()
    check = recorded(db_url, day, {u for u, _ in sent})
    (bot_cap, bot_open), (noop_cap, noop_open) = capacity(bot), capacity(noop)
    return {
        "setup": name,
        "bot": bot,
        "noop": noop,
        "bot_capacity": bot_cap,
        "bot_capacity_is_lower_bound": bot_open,
        "noop_capacity": noop_cap,
        "noop_capacity_is_lower_bound": noop_open,
        "capacity_ratio": round(bot_cap / noop_cap, 2) if noop_cap else 0.0,
        "late_acks": sum(s["late_acks"] for s in bot if s["rate"] <= bot_cap),
        "errors": sum(s["errors"] for s in bot if s["rate"] <= bot_cap),
        "feedback_posts": posted,
        "web_api_calls": calls,
        **check,
    }


def fire_warm(urls: list[str], bodies: list[str]) -> None:
    """A few requests first: the no-op's first requests pay for imports and connections
    that the real server paid for at start-up (its health check reads the database)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        pool.apply(fire, (urls, bodies, 25, SECRET))


# ---------------------------------------------------------------------- PostgreSQL


@contextmanager
def pg_database(url: str) -> Iterator[str]:
    """A database of its own (never the tests' `test`), dropped afterwards."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    try:
        yield make_url(url).set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--noop-serve":
        _noop_serve(int(sys.argv[2]), sys.argv[3])
        return
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--rates", help="rate:clicks,... (default " + ",".join(f"{r}:{n}" for r, n in RATES) + ")"
    )
    args = parser.parse_args()
    rates = RATES
    if args.rates:
        rates = tuple(
            (int(r), int(n)) for r, n in (item.split(":") for item in args.rates.split(","))
        )
    content = load_content(os.environ.get("STUDYBOT_CONTENT_DIR", REPO_CONTENT))
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as d:
        results["sqlite_1_web"] = run_setup(
            "sqlite_1_web", f"sqlite:///{Path(d) / 'burst.db'}", 1, content, rates
        )
    pg = os.environ.get(
        "STUDYBOT_BENCH_POSTGRES_URL", os.environ.get("STUDYBOT_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    if not args.no_postgres and pg_available(pg):
        with pg_database(pg) as url:
            results["postgres_2_web"] = run_setup("postgres_2_web", url, 2, content, rates)
    elif not args.no_postgres:
        print(f"PostgreSQL at {urlsplit(pg).hostname} not reachable: SQLite only")

    total = sum(n for _, n in rates)
    print(f"\n{GROUPS} groups × {MEMBERS} members, {total:,} answer clicks open-loop per setup")
    for name, r in results.items():
        print(f"\n{name}")
        print(
            f"  {'rate/s':>7} {'clicks':>6} | {'bot p50':>8} {'p99':>8} {'>3s':>4} {'err':>4}"
            f" | {'no-op p50':>9} {'p99':>8} {'>3s':>4} {'err':>4} | client lag p99 bot/no-op"
            " | bot feedback p50 p99"
        )
        bots = {b["rate"]: b for b in r["bot"]}
        for n in r["noop"]:
            b = bots.get(n["rate"])
            mine = (
                f"{b['p50_ms']:7.1f}ms {b['p99_ms']:7.1f}ms {b['late_acks']:4d} {b['errors']:4d}"
                if b
                else f"{'(5,000 members clicked)':>32}"
            )
            lag = f"{b['sender_lag_ms']:.0f}/" if b else "-/"
            felt = (
                f" | {b['feedback_p50_ms']}ms {b['feedback_p99_ms']}ms"
                + (f" ({b['feedback_missing']} never came)" if b["feedback_missing"] else "")
                if b
                else ""
            )
            print(
                f"  {n['rate']:7d} {n['clicks']:6d} | {mine} | {n['p50_ms']:8.1f}ms"
                f" {n['p99_ms']:7.1f}ms {n['late_acks']:4d} {n['errors']:4d} |"
                f" {lag}{n['sender_lag_ms']:.0f} ms{felt}"
            )
        at_least = lambda lower: "≥ " if lower else ""  # noqa: E731
        print(
            f"  capacity (p99 < 1 s): bot {at_least(r['bot_capacity_is_lower_bound'])}"
            f"{r['bot_capacity']}/s, no-op {at_least(r['noop_capacity_is_lower_bound'])}"
            f"{r['noop_capacity']}/s: capacity_ratio {r['capacity_ratio']:.2f} (target ≥ 0.5);"
            f" late acks up to the bot's capacity {r['late_acks']}; answers lost {r['lost']},"
            f" doubled {r['doubled']}; feedback posts {r['feedback_posts']};"
            f" other Web API calls {r['web_api_calls']}"
        )
    final = {
        name: {
            k: r[k]
            for k in (
                "capacity_ratio",
                "bot_capacity",
                "noop_capacity",
                "noop_capacity_is_lower_bound",
                "late_acks",
                "errors",
                "lost",
                "doubled",
            )
        }
        for name, r in results.items()
    }
    print(json.dumps(final, sort_keys=True))


if __name__ == "__main__":
    main()
