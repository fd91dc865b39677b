"""The delivery worker: claim outbox rows, call the platform, record what happened.

Claims are leases: a row is marked `sending` (with its worker and time) in a committed
transaction before the platform call and `sent` with the message reference after it. A
worker that dies in between leaves a `sending` row whose lease expires; the next worker
asks the platform whether the post already exists (messengers that can tag posts with the
outbox key) before posting again. On PostgreSQL several workers claim with
`FOR UPDATE SKIP LOCKED`; on SQLite one worker runs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import posts
from bot.content.models import Content
from bot.seam import (
    ChannelTarget,
    KeyedMessenger,
    MessageRef,
    Messenger,
    RateLimited,
    Reply,
    TargetGone,
    Transient,
    UserTarget,
    Who,
)
from bot.services.context import Ctx
from bot.services.progress import progress
from bot.store.db import Store, is_postgres
from bot.store.models import DailyQuestion, Group, Outbox, User, Workspace
from bot.timeutil import fmt_date, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    base_backoff: float = 2.0
    max_backoff: float = 600.0
    batch: int = 20
    channel_gap: float = 1.0  # seconds between posts to one channel
    concurrency: int = 4  # channels delivered in parallel within one worker


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    workspace: str
    target_kind: str
    target_id: str
    kind: str
    idem_key: str
    ambiguous: bool
    workspace_pk: int = 0
    group_id: int | None = None
    local_date: date | None = None
    payload: Mapping[str, Any] = field(
        default_factory=dict
    )  # a previous claim expired: the post may already exist


class Worker:
    def __init__(
        self,
        store: Store,
        content: Content,
        messengers: Mapping[str, Messenger],
        clock: Callable[[], datetime] = utcnow,
        name: str | None = None,
        config: DeliveryConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.content = content
        self.messengers = messengers
        self.clock = clock
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self.config = config or DeliveryConfig()
        self.sleep = sleep
        self._last_post: dict[str, float] = {}
        self._held: dict[int, datetime] = {}  # workspace pk -> when its 429 wait ends
        self._gap: dict[int, float] = {}  # workspace pk -> seconds between its posts
        self._sent: list[dict[str, Any]] = []  # delivered rows to record in one transaction
        self._next_ok: dict[int, float] = {}
        self._sent_times: dict[int, deque[float]] = {}
        self._floor: dict[int, float] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max(1, self.config.concurrency), thread_name_prefix=self.name
        )

    # ------------------------------------------------------------------ claiming

    def claim(self, limit: int | None = None) -> list[Claimed]:
        now = self.clock()
        limit = limit or self.config.batch
        with self._lock:
            held = [ws for ws, until in self._held.items() if until > now]
        with self.store.tx() as s:
            q = (
                select(Outbox, Workspace.external_id)
                .join(Workspace, Workspace.id == Outbox.workspace_id)
                .where(
                    Outbox.platform.in_(list(self.messengers)),
                    or_(
                        (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
                        (Outbox.status == "sending")
                        & (Outbox.claimed_at < now - self.config.lease),
                    ),
                )
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            )
            if held:  # a workspace that just answered 429 waits out its Retry-After
                q = q.where(Outbox.workspace_id.not_in(held))
            if is_postgres(self.store.engine):
                q = q.with_for_update(skip_locked=True, of=Outbox)
            rows = s.execute(q).all()
            out = []
            for row, ws_external in rows:
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
                    )
                )
                row.status, row.claimed_at, row.claimed_by = "sending", now, self.name
                row.attempts += 1
            return out

    def run_once(self) -> int:
        """Deliver one claimed batch: different channels in parallel (the platform calls
        wait on the network), each channel's posts in order; successes are recorded
        together at the end (a crash before that leaves leases the next worker checks)."""
        claimed = self.claim()
        by_channel: dict[str, list[Claimed]] = {}
        for c in claimed:
            by_channel.setdefault(c.target_id, []).append(c)
        try:
            if self.config.concurrency <= 1 or len(by_channel) <= 1:
                for c in claimed:
                    self.deliver(c)
            else:
                list(self._pool.map(self._deliver_all, by_channel.values()))
        finally:
            self._record_sent()
        return len(claimed)

    def _record_sent(self) -> None:
        with self._lock:
            done, self._sent = self._sent, []
        if done:
            with self.store.tx() as s:
                s.execute(update(Outbox), done)

    def _deliver_all(self, rows: list[Claimed]) -> None:
        for c in rows:
            self.deliver(c)

    def run_forever(self, stop: threading.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    stop.wait(idle)
            except Exception:  # keep delivering other rows; the row's lease will expire
                log.exception("delivery loop error")
                stop.wait(idle)

    # ------------------------------------------------------------------ delivering

    def deliver(self, c: Claimed) -> None:
        messenger = self.messengers[c.platform]
        with self._lock:
            held_until = self._held.get(c.workspace_pk)
        now = self.clock()
        if held_until is not None and held_until > now:
            # Claimed before its workspace answered 429: wait it out without another call.
            self._retry(
                c, (held_until - now).total_seconds(), "workspace rate limited", count_attempt=False
            )
            return
        try:
            # A progress DM may submit a timed-out exam (a write); other posts only read.
            opened = self.store.tx() if c.kind == "progress_dm" else self.store.read()
            with opened as s:
                reply = self.render(s, c)
            if reply is None:
                self._finish(c, "skipped", error="nothing to post any more")
                return
            ref = self._send(messenger, c, reply)
        except RateLimited as e:
            self._adapt(c.workspace_pk, limited=True)
            with self._lock:
                self._held[c.workspace_pk] = self.clock() + timedelta(seconds=e.retry_after)
            self._retry(c, e.retry_after, str(e), count_attempt=False, hold_channel=True)
        except TargetGone as e:
            self._gone(c, str(e) or type(e).__name__)
        except Transient as e:
            self._backoff(c, str(e) or "transient error")
        except Exception as e:
            log.exception("delivering %s failed", c.idem_key)
            self._backoff(c, f"{type(e).__name__}: {e}")
        else:
            self._adapt(c.workspace_pk, limited=False)
            with self._lock:
                self._sent.append(
                    {
                        "id": c.id,
                        "status": "sent",
                        "last_error": None,
                        "message_id": ref.message_id if ref else None,
                        "sent_at": self.clock(),
                        "claimed_at": None,
                    }
                )

    def _send(self, messenger: Messenger, c: Claimed, reply: Reply) -> MessageRef | None:
        if c.target_kind == "update":
            channel = str(c.payload["channel_id"])
            messenger.update(MessageRef(c.workspace, channel, c.target_id), reply)
            return None
        if c.target_kind == "user":
            return messenger.dm(UserTarget(c.workspace, c.target_id), reply)
        target = ChannelTarget(c.workspace, c.target_id)
        keyed = messenger if isinstance(messenger, KeyedMessenger) else None
        if c.ambiguous:
            found = keyed.find_posted(target, c.idem_key) if keyed else None
            if found is not None:
                log.info(
                    "%s was already posted before a worker died; not posting again", c.idem_key
                )
                return found
            if keyed is None:
                log.warning(
                    "%s may have been posted already (a worker died mid-delivery); "
                    "this platform cannot tell, so it is posted again",
                    c.idem_key,
                )
        self._pace(c.target_id)
        self._pace_workspace(c.workspace_pk)
        if keyed is not None:
            return keyed.post_keyed(target, reply, c.idem_key)
        return messenger.post(target, reply)

    def _pace_workspace(self, ws: int) -> None:
        """Adaptive spacing per workspace: widen after a 429, narrow slowly on success, so a
        worker settles just under a workspace-wide limit it was never told about."""
        with self._lock:
            gap = self._gap.get(ws, 0.0)
            now = time.monotonic()
            start = max(now, self._next_ok.get(ws, now))
            self._next_ok[ws] = start + gap
        if start > now:
            self.sleep(start - now)
        with self._lock:
            sent = self._sent_times.setdefault(ws, deque(maxlen=256))
            sent.append(max(now, start))

    def _adapt(self, ws: int, limited: bool) -> None:
        """On a 429, space posts to just under the rate reached in the last second (a direct
        estimate of the limit) and remember it as a floor; on success, drift back towards
        that floor, and let the floor itself ease off very slowly so a raised limit is found.
        """
        with self._lock:
            gap = self._gap.get(ws, 0.0)
            floor = self._floor.get(ws, 0.0)
            if limited:
                now = time.monotonic()
                recent = sum(1 for t in self._sent_times.get(ws, ()) if now - t <= 1.0)
                estimate = 1.05 / recent if recent > 1 else max(gap, 0.01) * 1.5
                floor = min(1.0, max(floor * 1.3, estimate))
                self._floor[ws] = floor
                self._gap[ws] = max(gap, floor)
            elif gap:
                self._floor[ws] = floor * 0.9995
                self._gap[ws] = max(self._floor[ws], gap * 0.99)

    def _pace(self, channel: str) -> None:
        with self._lock:
            last = self._last_post.get(channel)
        if last is not None:
            wait = self.config.channel_gap - (time.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        with self._lock:
            self._last_post[channel] = time.monotonic()

    def render(self, s: Session, c: Claimed) -> Reply | None:
        p = c.payload
        if c.kind in ("daily", "update"):
            daily = s.get(DailyQuestion, int(p["daily_id"]))
            return None if daily is None else posts.daily_post(s, self.content, daily)
        row = s.get(Outbox, c.id)
        assert row is not None
        group = s.get(Group, row.group_id or int(p.get("group_id") or 0) or -1)
        now = self.clock()
        if group is None and c.kind not in ("recert",):
            return None
        if c.kind == "milestone":
            assert group is not None
            return posts.milestone_post(self.content, group, int(p["phase"]), str(p["edge"]))
        if c.kind == "countdown":
            assert group is not None
            return posts.countdown_post(group, int(p["days"])) if group.exam_date else None
        if c.kind in ("weekly", "monthly"):
            assert group is not None
            as_of, day = now, row.local_date
            if c.kind == "weekly" and day.weekday() == 0:
                # A Monday summary is of the week that just ended, not of Monday alone.
                as_of, day = now - timedelta(days=1), day - timedelta(days=1)
            label = f"week to {fmt_date(day)}" if c.kind == "weekly" else f"{day:%B %Y}"
            return posts.summary_post(s, self.content, as_of, group, str(p["period"]), label)
        if c.kind == "recert":
            return posts.recert_post(
                self.content, str(p["track"]), date.fromisoformat(str(p["passed_on"]))
            )
        if c.kind == "progress_dm":
            assert group is not None
            user = s.get(User, int(p["user_id"]))
            ws = s.get(Workspace, row.workspace_id)
            if user is None or ws is None or not user.dm_enabled:
                return None
            who = Who(
                ws.platform,
                ws.external_id,
                group.channel_id,
                user.external_id,
                user.display_name,
                False,
            )
            return progress(Ctx(s=s, content=self.content, now=now, who=who), {})
        log.error("unknown outbox kind %s", c.kind)
        return None

    # ------------------------------------------------------------------ recording

    def _finish(
        self, c: Claimed, status: str, message_id: str | None = None, error: str | None = None
    ) -> None:
        with self.store.tx() as s:  # one UPDATE: the hot path after every post
            s.execute(
                update(Outbox)
                .where(Outbox.id == c.id)
                .values(
                    status=status,
                    message_id=message_id,
                    last_error=error,
                    sent_at=self.clock() if status == "sent" else None,
                    claimed_at=None,
                )
            )

    def _retry(
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
        with self.store.tx() as s:
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

    def _backoff(self, c: Claimed, error: str) -> None:
        with self.store.tx() as s:
            row = s.get(Outbox, c.id)
            assert row is not None
            attempts = row.attempts
        if attempts >= self.config.max_attempts:
            log.error("giving up on %s after %d attempts: %s", c.idem_key, attempts, error)
            self._finish(c, "dead", error=f"gave up after {attempts} attempts: {error}"[:500])
            return
        delay = min(self.config.max_backoff, self.config.base_backoff * 2 ** (attempts - 1))
        self._retry(c, delay * (0.5 + random.random()), error)

    def _gone(self, c: Claimed, error: str) -> None:
        """Mark the row dead; a gone channel pauses its group and its lead is told."""
        notify: tuple[str, str, str] | None = None
        with self.store.tx() as s:
            row = s.get(Outbox, c.id)
            assert row is not None
            row.status, row.last_error, row.claimed_at = "dead", f"target gone: {error}"[:500], None
            if c.target_kind == "user":
                user = s.scalar(
                    select(User)
                    .join(Workspace, Workspace.id == User.workspace_id)
                    .where(User.external_id == c.target_id, Workspace.external_id == c.workspace)
                )
                if user is not None and c.kind == "progress_dm":
                    user.dm_enabled = False  # DMs closed: stop trying until they turn it on
                return
            group = s.get(Group, row.group_id) if row.group_id else None
            if group is not None and c.target_kind == "channel":
                group.paused = True
                group.paused_reason = f"posting failed: {error}"[:200]
                s.execute(
                    update(Outbox)
                    .where(Outbox.group_id == group.id, Outbox.status == "pending")
                    .values(status="dead", last_error="group paused: channel gone")
                )
                notify = (c.workspace, group.created_by, group.channel_id)
        log.warning("target gone for %s (%s); group paused", c.idem_key, error)
        if notify is not None:
            ws, lead, channel = notify
            try:
                self.messengers[c.platform].dm(
                    UserTarget(ws, lead), posts.target_gone_notice(channel, error)
                )
            except Exception as e:  # best effort: the lead may be gone too
                log.warning("could not tell the lead %s: %s", lead, e)
