"""Clock benchmark: a tick's cost follows the posts due, not the groups the store holds.

100,000 groups over 40 timezones (half-hour and 45-minute zones, both hemispheres' DST,
both sides of the date line), of which 10,000 are due at the same minute; their schedules
differ as real groups' do (start dates over two months, exam dates, post days, summary
days), so few of them share a cohort. Each group's next due instant is seeded as the clock
leaves it after its last post. Printed, per backend, all measured in this run:

- `plan_vs_insert`: the tick that plans the due posts, over inserting as many outbox rows
  straight through the same driver (executemany, a transaction per 1,000 rows, values
  made beforehand); target ≤ 3. Medians of three, the store reset between them.
- `idle_100k_vs_1k`: a tick with nothing due among 100,000 groups over one among 1,000
  (median of 30 ticks each); target ≤ 1.5.
- `duplicates`, `lost`: two clocks plan the same minute at once, one is killed mid-tick,
  a clock started afterwards ticks again; each due group must have exactly one daily post
  and no other group any (0 and 0).

    python -m bench.clock [--groups 100000] [--due 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, insert, select, text, update

from bench.postgres import pg_available
from bot.content import load_content
from bot.content.models import Content
from bot.due_times import DueTimes, Schedule
from bot.settings import REPO_CONTENT
from bot.store.db import Store, make_engine, upgrade
from bot.store.models import Group, Outbox, Workspace
from scheduler.clock import Clock
from scheduler.plan_writes import _COLUMNS

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday, two days after the US DST change
GROUPS_PER_WORKSPACE = 100
INSERT_BATCH = 1000
ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Helsinki", "Europe/Moscow",
    "Asia/Tehran", "Asia/Dubai", "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata",
    "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon", "Asia/Bangkok", "Asia/Shanghai",
    "Australia/Eucla", "Asia/Tokyo", "Australia/Adelaide", "Australia/Sydney",
    "Pacific/Noumea", "Pacific/Auckland", "Pacific/Chatham", "Pacific/Tongatapu",
    "Pacific/Kiritimati", "Atlantic/Azores", "Atlantic/Cape_Verde", "America/Noronha",
    "America/Sao_Paulo", "America/St_Johns", "America/Halifax", "America/New_York",
    "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "Pacific/Pago_Pago", "Africa/Lagos",
    "Africa/Nairobi",
)  # fmt: skip
POST_DAYS = ("mon,tue,wed,thu,fri", "mon,tue,wed,thu,fri,sat,sun", "mon,wed,fri,tue", "tue,thu")
SUMMARY = ("fri", "sat", "sun", "mon", "thu")  # never the due groups' local Tuesday/Wednesday


# ---------------------------------------------------------------------- the store


@contextmanager
def fresh_engine(backend: str, pg_url: str) -> Iterator[tuple[Engine, Callable[[], Engine]]]:
    """A migrated, empty database of its own (a temporary SQLite file, or a PostgreSQL
    schema dropped afterwards, so nothing collides with the tests' schemas), and a
    factory for more engines on it (the clocks' processes)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            url = f"sqlite:///{Path(d) / 'clock.db'}"

            def sqlite_engine() -> Engine:
                return make_engine(url)

            engine = sqlite_engine()
            upgrade(engine)
            yield engine, sqlite_engine
            engine.dispose()
        return
    schema = f"bench_clock_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))

    def pg_engine() -> Engine:
        return make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})

    engine = pg_engine()
    try:
        upgrade(engine)
        yield engine, pg_engine
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(engine: Engine, content: Content, groups: int, due: int) -> list[int]:
    """`groups` groups, `due` of them due at NOW (ids returned); each group's next due
    instant is where the clock leaves it, the others' next posts an hour or more away."""
    times = DueTimes(content)
    created = NOW - timedelta(days=90)
    n_ws = -(-groups // GROUPS_PER_WORKSPACE)
    rows: list[dict[str, Any]] = []
    due_ids: list[int] = []
    every = groups // due
    for i in range(groups):
        gid = i + 1
        tz = ZONES[i % len(ZONES)]
        local = NOW.astimezone(ZoneInfo(tz))
        is_due = i % every == 0 and len(due_ids) < due
        k = 0 if is_due else 4 + (i * 7) % 88  # 15-minute steps: 1 h to 23 h from NOW
        at = (local + timedelta(minutes=15 * k)).time().replace(second=0, microsecond=0)
        start = NOW.date() - timedelta(days=20 + (i * 13) % 60)
        exam = None if i % 2 else NOW.date() + timedelta(days=10 + (i * 11) % 50)
        days = POST_DAYS[(i // 3) % len(POST_DAYS)] if not is_due else POST_DAYS[(i // 3) % 3]
        summary = SUMMARY[(i // 5) % len(SUMMARY)]
        if is_due:
            due_ids.append(gid)
            nxt: datetime | None = NOW
        else:
            sched = Schedule(tz, at, days, (), summary, start, exam)
            nxt = times.next_channel_due(sched, NOW)
        rows.append(
            {
                "id": gid,
                "workspace_id": i // GROUPS_PER_WORKSPACE + 1,
                "channel_id": f"C{gid:06d}",
                "track": "associate",
                "start_date": start,
                "tz": tz,
                "post_time": at,
                "post_days": days,
                "exam_date": exam,
                "leads": [],
                "skip_dates": [],
                "paused": False,
                "summary_day": summary,
                "created_by": f"U{gid:06d}",
                "created_at": created,
                "updated_at": created,
                "next_due_at": nxt,
            }
        )
    with engine.begin() as c:
        c.execute(
            insert(Workspace),
            [
                {
                    "id": w + 1,
                    "platform": "slack",
                    "external_id": f"T{w:05d}",
                    "created_at": created,
                }
                for w in range(n_ws)
            ],
        )
        for i in range(0, len(rows), 10_000):
            c.execute(insert(Group), rows[i : i + 10_000])
    analyze(engine)
    return due_ids


def analyze(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("ANALYZE"))


def reset(engine: Engine, due_ids: list[int]) -> None:
    """Back to the morning: no posts, the due groups' next due instant NOW again."""
    with engine.begin() as c:
        c.execute(delete(Outbox))
        for i in range(0, len(due_ids), 1000):
            part = due_ids[i : i + 1000]
            c.execute(update(Group).where(Group.id.in_(part)).values(next_due_at=NOW))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE outbox"))
            c.execute(text("VACUUM ANALYZE groups"))


# ---------------------------------------------------------------------- the figures


def plan_once(store: Store, content: Content) -> tuple[float, int]:
    clock = Clock(store, content, clock=lambda: NOW - timedelta(seconds=30))
    clock.tick()  # warm: a running clock has its statements compiled, connections open
    clock.clock = lambda: NOW
    t0 = time.perf_counter()
    result = clock.tick()
    return time.perf_counter() - t0, result.enqueued + result.skipped


def insert_once(engine: Engine, n: int) -> float:
    """`n` outbox rows through the driver: executemany, a transaction per batch."""
    dialect = engine.dialect
    stmt = insert(Outbox).compile(dialect=dialect, column_keys=list(_COLUMNS))
    names = list(stmt.positiontup) if stmt.positional else list(_COLUMNS)
    payload = json.dumps({})
    table = Outbox.__table__.c
    to_ts = table.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    to_day = table.local_date.type.dialect_impl(dialect).bind_processor(dialect)
    ts: Any = to_ts(NOW) if to_ts else NOW
    day: Any = to_day(NOW.date()) if to_day else NOW.date()
    values = {
        "workspace_id": 1,
        "platform": "slack",
        "target_kind": "channel",
        "kind": "daily",
        "local_date": day,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": ts,
        "last_error": None,
        "created_at": ts,
    }
    rows: list[Any] = []
    for i in range(n):
        row = {**values, "group_id": i + 1, "target_id": f"C{i + 1:06d}", "idem_key": f"x:{i}"}
        rows.append(tuple(row[k] for k in names) if stmt.positional else row)
    raw = engine.raw_connection()
    try:
        t0 = time.perf_counter()
        for i in range(0, n, INSERT_BATCH):
            cur = raw.cursor()
            cur.executemany(stmt.string, rows[i : i + INSERT_BATCH])
            raw.commit()
        elapsed = time.perf_counter() - t0
    finally:
        raw.close()
    with engine.begin() as c:
        c.execute(delete(Outbox))
    return elapsed


def idle_ticks(stores: list[Store], content: Content, runs: int = 60) -> list[float]:
    """Median seconds of a tick with nothing due, just after the morning's posts, for
    each store; the stores take turns, so the machine's other work weighs on each alike."""
    clocks = [Clock(st, content, clock=lambda: NOW + timedelta(seconds=30)) for st in stores]
    times: list[list[float]] = [[] for _ in stores]
    for clock in clocks:
        clock.tick()
    for i in range(runs):
        at = NOW + timedelta(seconds=31, milliseconds=100 * i)
        pairs = list(zip(clocks, times, strict=True))
        for clock, into in pairs if i % 2 else pairs[::-1]:  # each goes first in turn
            clock.clock = lambda at=at: at  # type: ignore[misc]
            t0 = time.perf_counter()
            result = clock.tick()
            into.append(time.perf_counter() - t0)
            assert result.enqueued == 0 and result.skipped == 0, "an idle tick planned something"
    return [statistics.median(t) for t in times]


def _clock_proc(make: Callable[[], Engine], content: Content, at: datetime) -> None:
    logging.disable(logging.CRITICAL)
    store = Store(make())
    Clock(store, content, clock=lambda: at).tick()
    store.dispose()


def races(
    engine: Engine, make: Callable[[], Engine], content: Content, due_ids: list[int], kill: float
) -> dict[str, int]:
    """Two clocks at once, one killed `kill` seconds in, then a clock started afterwards:
    count the due groups' daily posts."""
    reset(engine, due_ids)
    engine.dispose()  # no pooled connection crosses the fork
    ctx = mp.get_context("fork")
    first = ctx.Process(target=_clock_proc, args=(make, content, NOW))
    second = ctx.Process(target=_clock_proc, args=(make, content, NOW + timedelta(seconds=2)))
    first.start()
    time.sleep(0.05)
    second.start()
    time.sleep(kill)
    killed = first.exitcode is None
    if killed and first.pid is not None:
        os.kill(first.pid, signal.SIGKILL)
    first.join(60)
    second.join(300)
    for at in (NOW + timedelta(seconds=30), NOW + timedelta(seconds=60)):  # restarted clock
        p = ctx.Process(target=_clock_proc, args=(make, content, at))
        p.start()
        p.join(300)
    with engine.begin() as c:
        per_group = Counter(c.scalars(select(Outbox.group_id).where(Outbox.kind == "daily")).all())
        stuck = c.scalar(select(func.count()).select_from(Group).where(Group.next_due_at <= NOW))
    due = set(due_ids)
    duplicates = sum(n - 1 for g, n in per_group.items() if g in due and n > 1)
    duplicates += sum(n for g, n in per_group.items() if g not in due)
    lost = sum(1 for g in due if per_group[g] == 0)
    return {"duplicates": duplicates, "lost": lost, "killed_mid_tick": int(killed), "stuck": stuck}


def run_backend(
    backend: str, pg_url: str, content: Content, groups: int, due: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with (
        fresh_engine(backend, pg_url) as (engine, make),
        fresh_engine(backend, pg_url) as (small_engine, _),
    ):
        t0 = time.perf_counter()
        due_ids = seed(engine, content, groups, due)
        small_ids = seed(small_engine, content, groups // 100, due // 100)
        print(f"{backend}: seeded in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        store, small = Store(engine), Store(small_engine)
        plans, inserts, rows = [], [], 0
        for _ in range(3):
            reset(engine, due_ids)
            took, rows = plan_once(store, content)
            plans.append(took)
            inserts.append(insert_once(engine, rows))
        plan_s, insert_s = statistics.median(plans), statistics.median(inserts)
        out["plan_s"], out["insert_s"], out["rows"] = round(plan_s, 3), round(insert_s, 3), rows
        out["plan_vs_insert"] = round(plan_s / insert_s, 2)
        reset(engine, due_ids)
        plan_once(store, content)
        reset(small_engine, small_ids)
        plan_once(small, content)
        idle_big, idle_small = idle_ticks([store, small], content)
        small.dispose()
        out.update(races(engine, make, content, due_ids, kill=plan_s / 2))
        store.dispose()
    out["idle_100k_ms"] = round(idle_big * 1000, 2)
    out["idle_1k_ms"] = round(idle_small * 1000, 2)
    out["idle_100k_vs_1k"] = round(idle_big / idle_small, 2)
    return out


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    content = load_content(os.environ.get("STUDYBOT_CONTENT_DIR", REPO_CONTENT))
    pg_url = os.environ.get(
        "STUDYBOT_BENCH_POSTGRES_URL", os.environ.get("STUDYBOT_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    backends = ["sqlite"]
    if not args.no_postgres and pg_available(pg_url):
        backends.append("postgres")
    elif not args.no_postgres:
        print(f"PostgreSQL at {pg_url} not reachable: SQLite only", file=sys.stderr)
    results = {b: run_backend(b, pg_url, content, args.groups, args.due) for b in backends}

    print(
        f"\n{args.groups:,} groups over {len(ZONES)} timezones, {args.due:,} due at "
        f"{NOW:%Y-%m-%d %H:%M} UTC"
    )
    for b, r in results.items():
        print(
            f"{b:9} plan {r['rows']:,} posts {r['plan_s'] * 1000:8.1f} ms, insert as many rows "
            f"{r['insert_s'] * 1000:8.1f} ms: plan_vs_insert {r['plan_vs_insert']:.2f} (target ≤ 3)"
        )
        print(
            f"{b:9} idle tick among {args.groups:,} {r['idle_100k_ms']:.2f} ms, among "
            f"{args.groups // 100:,} {r['idle_1k_ms']:.2f} ms: idle_100k_vs_1k "
            f"{r['idle_100k_vs_1k']:.2f} (target ≤ 1.5)"
        )
        print(
            f"{b:9} two clocks (one killed mid-tick: {'yes' if r['killed_mid_tick'] else 'no'}) "
            f"and a restart: duplicates {r['duplicates']}, lost {r['lost']} (target 0 and 0)"
        )
    final = {
        b: {k: r[k] for k in ("plan_vs_insert", "idle_100k_vs_1k", "duplicates", "lost")}
        for b, r in results.items()
    }
    print(json.dumps(final, sort_keys=True))


if __name__ == "__main__":
    main()
