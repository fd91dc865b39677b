"""The delivery outbox, as the workers see it: claim rows, and record what became of them.

Claims are leases: a row is marked `sending` (with its worker and time) in a committed
transaction before the platform call and `sent` with the message reference after it. A
worker that dies in between leaves a `sending` row whose lease expires; the next claim
marks it `ambiguous`, so the worker asks the platform whether the post exists before
posting again. On PostgreSQL several workers claim with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from bot import metrics
from bot.features.groups import pause_gone_group
from bot.features.members import dms_closed
from bot.features.remind import reminders_closed
from bot.seam import Reply, UserTarget
from bot.store.db import Store, is_postgres
from bot.store.models import Outbox, Workspace
from bot.timeutil import as_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """An outbox row this worker holds the lease on."""

    id: int
    platform: str
    workspace: str  # the platform's workspace id
    target_kind: str  # channel | user | update
    target_id: str
    kind: str
    idem_key: str
    ambiguous: bool  # a previous claim expired: the post may already exist
    workspace_pk: int = 0
    group_id: int | None = None
    local_date: date | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    claimed_mono: float = field(default_factory=time.monotonic)  # when this worker claimed it
    attempt: int = 1  # this claim's attempt (the first is 1)
    planned_at: datetime | None = None  # when the clock wrote the row (the tick that found it due)


class OutboxRows:
    """One worker's reads and writes of the outbox table; each call is one transaction
    except `sent`, which batches delivered rows for `flush_sent`."""

    def __init__(
        self,
        store: Store,
        name: str,
        clock: Callable[[], datetime],
        lease: timedelta,
        max_attempts: int,
        backoff: tuple[float, float],
    ) -> None:
        self.store, self.name, self.clock = store, name, clock
        self.lease, self.max_attempts = lease, max_attempts
        self.base_backoff, self.max_backoff = backoff
        self._sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def claim(self, platforms: Iterable[str], limit: int, skip: Iterable[int]) -> list[Claimed]:
        """Lease due rows of these platforms, leaving out the workspaces in `skip`."""
        now = self.clock()
        skipped = sorted(set(skip))
        with self.store.transaction() as s:
            q = (
                select(Outbox, Workspace.external_id)
                .join(Workspace, Workspace.id == Outbox.workspace_id)
                .where(
                    Outbox.platform.in_(list(platforms)),
                    or_(
                        (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
                        (Outbox.status == "sending") & (Outbox.claimed_at < now - self.lease),
                    ),
                )
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            )
            if skipped:  # a workspace that just answered 429 waits out its Retry-After
                q = q.where(Outbox.workspace_id.not_in(skipped))
            if is_postgres(self.store.engine):
                q = q.with_for_update(skip_locked=True, of=Outbox)
            out = []
            for row, ws_external in s.execute(q).all():
                out.append(
                    Claimed(
                        row.id,
                        row.platform,
                        ws_external,
                        row.target_kind,
                        row.target_id,
                        row.kind,
                        row.idem_key,
                        row.status == "sending",
                        row.workspace_id,
                        row.group_id,
                        row.local_date,
                        dict(row.payload),
                        attempt=row.attempts + 1,
                        planned_at=row.created_at,
                    )
                )
                row.status, row.claimed_at, row.claimed_by = "sending", now, self.name
                row.attempts += 1
            return out

    def sent(self, c: Claimed, message_id: str | None) -> None:
        """A delivered row, recorded with the others at the next `flush_sent`."""
        now = self.clock()
        with self._lock:
            self._sent.append(
                {
                    "id": c.id,
                    "status": "sent",
                    "last_error": None,
                    "message_id": message_id,
                    "sent_at": now,
                    "claimed_at": None,
                }
            )
        delay = None
        if c.planned_at is not None:
            delay = max(0.0, (now - as_utc(c.planned_at)).total_seconds())
            metrics.POST_DELAY_SECONDS.labels(c.kind).observe(delay)
        metrics.POSTS_SENT.labels(c.kind).inc()
        report(c, "sent", delay=delay)

    @property
    def unflushed(self) -> bool:
        with self._lock:
            return bool(self._sent)

    def flush_sent(self) -> None:
        with self._lock:
            done, self._sent = self._sent, []
        if done:
            try:
                with self.store.transaction() as s:
                    s.execute(update(Outbox), done)
            except BaseException:  # kept for the next flush: a post sent is never sent again
                with self._lock:
                    self._sent[:0] = done
                raise

    def release(self, rows: Iterable[Claimed], until: float) -> None:
        """Give claimed rows back untried (their claim counted no attempt) for `until`."""
        ids = [c.id for c in rows]
        if not ids:
            return
        when = datetime.fromtimestamp(until, UTC)
        with self.store.transaction() as s:
            s.execute(
                update(Outbox)
                .where(
                    Outbox.id.in_(ids), Outbox.status == "sending", Outbox.claimed_by == self.name
                )
                .values(
                    status="pending",
                    next_attempt_at=when,
                    claimed_at=None,
                    attempts=Outbox.attempts - 1,
                )
            )

    def skip(self, c: Claimed, reason: str) -> None:
        """Nothing to post any more (the core composed nothing): the row is done."""
        self.finish(c, "skipped", reason)
        metrics.POSTS_SKIPPED.labels(c.kind).inc()
        report(c, "skipped", reason)

    def finish(self, c: Claimed, status: str, error: str | None = None) -> None:
        with self.store.transaction() as s:
            s.execute(
                update(Outbox)
                .where(Outbox.id == c.id)
                .values(status=status, last_error=error, claimed_at=None)
            )

    def retry(
        self,
        c: Claimed,
        delay: float,
        error: str,
        count_attempt: bool = True,
        hold_channel: bool = False,
    ) -> None:
        """Put the row back for later; a rate limit is not a failed attempt, and a 429 from
        the platform holds the channel's other waiting posts too."""
        when = self.clock() + timedelta(seconds=delay)
        with self.store.transaction() as s:
            s.execute(
                update(Outbox)
                .where(Outbox.id == c.id)
                .values(
                    status="pending",
                    next_attempt_at=when,
                    last_error=error[:500],
                    claimed_at=None,
                    attempts=Outbox.attempts - (0 if count_attempt else 1),
                )
            )
            if hold_channel:
                s.execute(
                    update(Outbox)
                    .where(
                        Outbox.target_id == c.target_id,
                        Outbox.status == "pending",
                        Outbox.next_attempt_at < when,
                    )
                    .values(next_attempt_at=when)
                )

    def backoff(self, c: Claimed, error: str) -> None:
        """A transient failure: retry with exponential backoff and jitter, or give up."""
        with self.store.transaction(read_only=True) as s:
            attempts = s.scalar(select(Outbox.attempts).where(Outbox.id == c.id)) or 0
        if attempts >= self.max_attempts:
            given_up = f"gave up after {attempts} attempts: {error}"
            self.finish(c, "dead", given_up[:500])
            metrics.POSTS_FAILED.labels(c.kind).inc()
            report(c, "failed", given_up, logging.ERROR)
            return
        delay = min(self.max_backoff, self.base_backoff * 2 ** (attempts - 1))
        self.retry(c, delay * (0.5 + random.random()), error)
        metrics.POSTS_RETRIED.labels(c.kind).inc()
        report(c, "retry", error, logging.WARNING)

    def gone(self, c: Claimed, error: str) -> tuple[UserTarget, Reply] | None:
        """Mark the row dead and apply the core's rule for where it was going: a gone
        channel pauses its group (and says whom to tell, with what); closed DMs stop the
        member's progress DMs and lead digests, and a reminder's its reminders."""
        notify = None
        with self.store.transaction() as s:
            row = s.get(Outbox, c.id)
            assert row is not None
            row.status, row.last_error, row.claimed_at = "dead", f"target gone: {error}"[:500], None
            if c.target_kind == "user":
                if c.kind in ("progress_dm", "digest", "reminder"):
                    dms_closed(s, c.workspace_pk, c.target_id)
                if c.kind == "reminder":
                    reminders_closed(s, c.workspace_pk, c.target_id)
            elif c.target_kind == "channel" and row.group_id is not None:
                notify = pause_gone_group(s, row.group_id, error)
        metrics.POSTS_FAILED.labels(c.kind).inc()
        report(c, "failed", f"target gone: {error}", logging.WARNING)
        return notify


def backlog(store: Store, now: datetime) -> tuple[int, float]:
    """Posts waiting (pending or being sent), and the age in seconds of the oldest one due
    by `now`, from when it was planned: the outbox gauges of /metrics (two indexed reads)."""
    waiting = Outbox.status.in_(("pending", "sending"))
    with store.transaction(read_only=True) as s:
        count = s.scalar(select(func.count()).select_from(Outbox).where(waiting)) or 0
        oldest = s.scalar(
            select(func.min(Outbox.created_at)).where(waiting, Outbox.next_attempt_at <= now)
        )
    if oldest is None:
        return count, 0.0
    return count, max(0.0, (now - as_utc(oldest)).total_seconds())


def report(
    c: Claimed,
    outcome: str,
    error: str | None = None,
    level: int = logging.INFO,
    delay: float | None = None,
) -> None:
    """The one line for what became of a delivery (sent, skipped, retry, rate_limited or
    failed), with the post's group, kind, key and attempt, and the platform's error."""
    log.log(
        level,
        "post %s %s (group %s, %s, attempt %d)%s",
        c.idem_key,
        outcome,
        c.group_id,
        c.kind,
        c.attempt,
        f": {error}" if error else "",
        extra={
            "group_id": c.group_id,
            "kind": c.kind,
            "key": c.idem_key,
            "outcome": outcome,
            "attempt": c.attempt,
            "platform": c.platform,
            "error": error,
            "delay_seconds": delay,
        },
    )
