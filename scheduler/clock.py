"""The clock: a short APScheduler tick that plans due posts; one active clock at a time.

No per-group jobs: each tick asks the store what is due, so a `/study setup` change made
by any process takes effect at the next tick. On PostgreSQL the active clock holds a
session-level advisory lock; a standby polls for it and takes over within a minute of the
active clock dying (its connection closes, and the lock with it). A database restart ends
the lock's session too: before each tick the active clock checks that it still holds the
lock, takes it again if it is free, and steps down to standby if another clock took it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot import metrics
from bot.content.models import Content
from bot.due_times import DueTimes
from bot.features.exam.grading import close_expired_exams
from bot.store.db import Store, is_postgres
from bot.timeutil import utcnow
from scheduler.due import BATCH, DEFAULT_GRACE, decide, due_groups
from scheduler.followups import ANSWERS_MARGIN, UPDATE_WINDOW, decide_followups
from scheduler.plan_writes import write
from scheduler.plans import Plan, Planned, PlanResult

log = logging.getLogger(__name__)

LOCK_KEY = 0x5354_5544_59  # "STUDY": the one advisory lock the clock takes
# Whether this session holds it: pg_locks shows a bigint key as two 32-bit halves.
HOLDS_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = :hi AND objid::bigint = :lo)"
)
STANDBY_POLL = 10.0


def _planned(p: Planned) -> None:
    """One line and one count per post written (a skipped one is logged where it is
    decided, scheduler/due.py)."""
    d = p.due
    if p.status != "pending":
        metrics.POSTS_SKIPPED.labels(d.kind).inc()
        return
    metrics.POSTS_PLANNED.labels(d.kind).inc()
    group_id = d.group.id if d.group is not None else d.payload.get("group_id")
    log.info(
        "planned %s (group %s, %s, due %s)",
        d.key,
        group_id,
        d.kind,
        d.due_at.isoformat(),
        extra={
            "group_id": group_id,
            "kind": d.kind,
            "key": d.key,
            "due_at": d.due_at.isoformat(),
            "platform": d.workspace.platform,
            "target": d.target_id,
        },
    )


class Clock:
    def __init__(
        self,
        store: Store,
        content: Content,
        grace: timedelta = DEFAULT_GRACE,
        flag_threshold: int = 3,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.content = content
        self.grace = grace
        self.flag_threshold = flag_threshold
        self.clock = clock
        self._lock_conn: Connection | None = None
        self._leading = False
        self._answers_seen: datetime | None = None  # answers counted up to here (less a margin)

    def tick(self) -> PlanResult:
        """Plan what is due now: only the groups whose next due instant has come, a
        transaction per batch of them, so delivery can start on the first batch while
        later ones are planned, and a failure loses one batch's tick (its groups stay
        due, and the next tick plans them). Then the answer counts and reminders."""
        now = self.clock()
        plan = partial(
            decide, content=self.content, now=now, grace=self.grace, times=DueTimes(self.content)
        )
        result = PlanResult()
        with self.store.transaction(read_only=True) as s:
            unknown = due_groups(s, now, 0)  # without a next due instant yet: all at once
        for i in range(0, len(unknown), BATCH):
            self._plan(partial(plan, groups=unknown[i : i + BATCH]), now, result)
        # Then the due ones, earliest first, a page per batch: each batch moves its groups
        # on, so the next page holds the next ones. A group read twice (a settings change
        # moved it back meanwhile) waits for the next tick, so a tick always ends.
        planned: set[int] = set()
        while True:
            with self.store.transaction(read_only=True) as s:
                page = due_groups(s, now, BATCH, unknown=False)
            fresh = [g for g in page if g.id not in planned]
            if fresh:
                self._plan(partial(plan, groups=fresh), now, result)
                planned.update(g.id for g in fresh)
            if len(page) < BATCH or not fresh:
                break
        since = self._answers_seen or now - UPDATE_WINDOW
        self._plan(lambda s: decide_followups(s, self.content, now, self.grace, since), now, result)
        self._answers_seen = now - ANSWERS_MARGIN
        with (
            self.store.transaction() as s
        ):  # mock exams whose time ran out are submitted as they stand
            closed = close_expired_exams(s, self.content, now)
        if closed:
            log.info("tick: submitted %d timed-out mock exam(s)", closed)
        if result.enqueued or result.skipped:
            log.info("tick: %d enqueued, %d skipped", result.enqueued, result.skipped)
        else:
            log.debug("tick: nothing due")
        return result

    def _plan(
        self, decide_part: Callable[[Session], Plan], now: datetime, result: PlanResult
    ) -> None:
        # Decide while only reading (no write lock), then write briefly.
        with self.store.transaction(read_only=True) as s:
            planned = decide_part(s)
        with self.store.transaction() as s:
            part = write(s, planned, now)
        result.enqueued += part.enqueued
        result.skipped += part.skipped
        result.planned += part.planned
        for p in part.planned:  # committed: each is in the outbox now
            _planned(p)

    # ------------------------------------------------------------------ leadership

    def try_lead(self) -> bool:
        """Take the advisory lock if free (always true on SQLite: one process). A database
        that cannot be reached raises, with the lock's connection dropped."""
        if not is_postgres(self.store.engine):
            return True
        try:
            if self._lock_conn is None:
                self._lock_conn = self.store.engine.connect()
                self._lock_conn.detach()  # its own session: closing it must really end it
            got = bool(
                self._lock_conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}
                ).scalar()
            )
            self._lock_conn.commit()
        except DBAPIError:
            self._drop_lock()
            raise
        self._leading = got
        return got

    def leads(self) -> bool:
        """Whether this clock may plan now: it still holds the lock, or takes it again.

        The lock lives in the lock connection's session, which a database restart ends;
        a session that is gone is never reused (a new one would not hold the lock), and
        whichever clock asks first after the restart leads."""
        if not is_postgres(self.store.engine):
            return True
        conn, was_leading = self._lock_conn, self._leading
        if conn is not None and was_leading:
            try:
                hi, lo = LOCK_KEY >> 32, LOCK_KEY & 0xFFFF_FFFF
                held = bool(conn.execute(HOLDS_LOCK, {"hi": hi, "lo": lo}).scalar())
                conn.commit()
            except DBAPIError:
                held = False
                self._drop_lock()
            if held:
                return True
        got = self.try_lead()
        if was_leading and got:
            log.warning("the clock's database session ended; it took the lead again")
        elif was_leading:
            log.warning("another clock took the lead; this one waits as a standby")
        elif got:
            log.warning("standby clock took over")
        return got

    def _drop_lock(self) -> None:
        """Close the lock's connection; `_leading` keeps whether this clock led, so the
        next tick knows to take the lead again (or that another clock took it)."""
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with suppress(DBAPIError):
                conn.close()

    def release(self) -> None:
        if self._lock_conn is not None:
            with suppress(DBAPIError):  # a session the database already ended holds nothing
                self._lock_conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._lock_conn.commit()
            self._drop_lock()  # a dead clock's session ends, and its lock with it
        self._leading = False

    def wait_for_lead(self, stop: threading.Event, poll: float = STANDBY_POLL) -> bool:
        announced = False
        while not stop.is_set():
            try:
                if self.try_lead():
                    if announced:
                        log.warning("standby clock took over")
                    return True
            except DBAPIError as e:  # unreachable: logged once by the store, tried again
                if self.store.availability.failed(e) is None:
                    raise
            else:
                if not announced:
                    log.warning("another clock is active; this one waits as a standby")
                    announced = True
            stop.wait(poll)
        return False

    # ------------------------------------------------------------------ running

    def start(self, interval: float = 30.0) -> BackgroundScheduler:
        """Start the periodic tick in a background thread (the caller holds leadership)."""
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=interval,
            id="studybot-tick",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(interval)),  # APScheduler wants whole seconds
            next_run_time=utcnow(),
        )
        scheduler.start()
        return scheduler

    def _safe_tick(self) -> None:
        try:
            if not self.leads():
                return  # a standby now: another clock plans
            self.tick()
        except Exception as e:
            metrics.CLOCK_TICKS.labels("error").inc()
            if self.store.availability.failed(e) in (None, "conflict"):
                log.exception("clock tick failed; the next tick tries again")
        else:
            metrics.CLOCK_TICKS.labels("ok").inc()

    def run(self, stop: threading.Event, interval: float = 30.0) -> None:
        """Block: wait to lead, tick until stopped."""
        if not self.wait_for_lead(stop):
            return
        scheduler = self.start(interval)
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            self.release()
