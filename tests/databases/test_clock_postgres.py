"""On PostgreSQL: two clocks and three workers over a simulated day, 200 groups, once each."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import insert, select

from bot.content.models import Content
from bot.store.db import Store
from bot.store.models import Group, Outbox, Workspace
from scheduler.clock import Clock
from scheduler.worker import Worker
from tests.fakes import FakeMessenger

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"]


def seed_groups(store: Store, n: int) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with store.transaction() as s:
        s.execute(
            insert(Workspace),
            [{"id": 1, "platform": "console", "external_id": "console", "created_at": now}],
        )
        s.execute(
            insert(Group),
            [
                {
                    "id": i + 1,
                    "workspace_id": 1,
                    "channel_id": f"C{i:03d}",
                    "track": "associate",
                    "start_date": datetime(2026, 3, 2).date(),
                    "tz": ZONES[i % len(ZONES)],
                    "post_time": datetime(2026, 1, 1, 6 + i % 12, (i * 7) % 60).time(),
                    "post_days": "mon,tue,wed,thu,fri,sat,sun",
                    "exam_date": None,
                    "leads": [],
                    "skip_dates": [],
                    "paused": False,
                    "summary_day": "fri",
                    "created_by": f"L{i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )


def test_two_clocks_three_workers_200_groups(pg_store: Store, content: Content) -> None:
    seed_groups(pg_store, 200)
    fake = FakeMessenger()
    clocks = [Clock(pg_store, content), Clock(pg_store, content)]
    workers = [
        Worker(pg_store, content, {"console": fake}, name=f"w{i}", sleep=lambda _s: None)
        for i in range(3)
    ]
    # leadership: only one clock may lead; the standby takes over when it goes
    assert clocks[0].try_lead() is True
    assert clocks[1].try_lead() is False

    def parallel(fns: list) -> None:  # type: ignore[type-arg]
        errors: list[BaseException] = []

        def run(fn) -> None:  # type: ignore[no-untyped-def]
            try:
                fn()
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors

    def drain(w: Worker) -> None:
        while w.run_once():
            pass

    start = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as travel:
        for step in range(0, 26 * 4):  # a day and two hours, every 15 minutes
            travel.move_to(start + timedelta(minutes=15 * step))
            if step == 40:  # the active clock dies; the standby takes over
                clocks[0].release()
                assert clocks[1].try_lead() is True
            # split-brain on purpose: both tick at once; idempotency keys keep posts single
            parallel([c.tick for c in clocks])
            for _ in range(3):
                parallel([lambda w=w: drain(w) for w in workers])
                travel.shift(timedelta(seconds=1.2))
    clocks[1].release()

    keys = Counter(p.key for p in fake.posts if p.kind == "post")
    assert keys and max(keys.values()) == 1
    dailies = [k for k in keys if k and k.startswith("daily:")]
    per_group = Counter(k.split(":")[1] for k in dailies)
    assert len(per_group) == 200
    with pg_store.transaction() as s:
        statuses = Counter(s.scalars(select(Outbox.status)))
    assert statuses["pending"] == 0 and statuses.get("dead", 0) == 0
    assert statuses["sent"] == len([p for p in fake.posts if p.kind == "post"])


def test_standby_takes_over_when_the_active_clock_dies(pg_store: Store, content: Content) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from scheduler.clock import LOCK_KEY

    url = os.environ["STUDYBOT_TEST_POSTGRES_URL"].replace("+psycopg", "")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import psycopg, sys, time\n"
            f"c = psycopg.connect({url!r}, autocommit=True)\n"
            f"c.execute('SELECT pg_advisory_lock({LOCK_KEY})')\n"
            "print('locked', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        standby = Clock(pg_store, content)
        assert standby.try_lead() is False
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        stop = threading.Event()
        started = time.monotonic()
        assert standby.wait_for_lead(stop, poll=0.2) is True
        assert time.monotonic() - started < 60
        standby.release()
    finally:
        holder.kill()
