"""The delivery worker: claim outbox rows, call the platform, record what happened.

Claims are leases: a row is marked `sending` (with its worker and time) in a committed
transaction before the platform call and `sent` with the message reference after it. A
worker that dies in between leaves a `sending` row whose lease expires; the next worker
asks the platform whether the post already exists (messengers that can tag posts with the
outbox key) before posting again. On PostgreSQL several workers claim with
`FOR UPDATE SKIP LOCKED`; on SQLite one worker runs.

Claimed rows wait in one lane per workspace. A dispatcher hands each lane's next row to a
thread pool when the workspace's pace (scheduler/pace.py) gives it a slot, so a workspace
that must wait never holds up another, and `run_forever` claims more rows while earlier
ones are still being posted (no pause between batches).
"""

from __future__ import annotations

import logging
import math
import queue
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

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
from scheduler.pace import LocalPacer, PaceConfig, Pacer, SharedPacer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    base_backoff: float = 2.0
    max_backoff: float = 600.0
    batch: int = 20  # rows per claim
    channel_gap: float = 1.0  # seconds between posts to one channel
    concurrency: int = 8  # platform calls in flight within one worker
    lane_rows: int = 10  # claimed rows a workspace's lane holds before claiming skips it
    max_hold: float = 10.0  # a longer 429 hold puts the workspace's claimed rows back
    flush_every: float = 0.25  # seconds between recording delivered rows (run_forever)
    pace: PaceConfig = field(default_factory=PaceConfig)


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    workspace: str
    target_kind: str
    target_id: str
    kind: str
    idem_key: str
    ambiguous: bool  # a previous claim expired: the post may already exist
    workspace_pk: int = 0
    group_id: int | None = None
    local_date: date | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    claimed_mono: float = field(default_factory=time.monotonic)  # when this worker claimed it


@dataclass
class _Lane:
    """A workspace's claimed rows, in order, and when its next reserved slot comes."""

    rows: deque[Claimed] = field(default_factory=deque)
    next_at: float = 0.0
    reserved: bool = False


class Stop(Protocol):
    """A threading or multiprocessing Event."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


_Done = tuple[Claimed, float | None]  # a delivered row, and the Retry-After of a 429


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
        pacer: Pacer | None = None,
    ) -> None:
        self.store = store
        self.content = content
        self.messengers = messengers
        self.clock = clock
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self.config = config or DeliveryConfig()
        self.sleep = sleep
        if pacer is None:  # several workers share PostgreSQL: they share the pace there too
            shared = is_postgres(store.engine)
            pacer = SharedPacer(store, self.config.pace) if shared else None
        self.pacer: Pacer = pacer or LocalPacer(self.config.pace)
        self._last_post: dict[str, float] = {}
        self._sent: list[dict[str, Any]] = []  # delivered rows to record in one transaction
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max(1, self.config.concurrency), thread_name_prefix=self.name
        )

    def _now(self) -> float:
        return self.clock().timestamp()

    # ------------------------------------------------------------------ claiming

    def claim(self, limit: int | None = None, skip: Iterable[int] = ()) -> list[Claimed]:
        """Lease due rows, leaving out workspaces held by a 429 and those in `skip`."""
        now = self.clock()
        limit = limit or self.config.batch
        skipped = set(skip) | set(self.pacer.held(now.timestamp()))
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
            if skipped:  # a workspace that just answered 429 waits out its Retry-After
                q = q.where(Outbox.workspace_id.not_in(sorted(skipped)))
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

    # ------------------------------------------------------------------ dispatching

    def run_once(self) -> int:
        """Claim one batch and deliver it: each workspace's rows in order at its pace,
        workspaces side by side; rows of a workspace held by a 429 go back to the outbox
        for after the hold. Successes are recorded together at the end (a crash before
        that leaves leases the next worker checks)."""
        claimed = self.claim()
        if claimed:
            lanes: dict[int, _Lane] = {}
            for c in claimed:
                lanes.setdefault(c.workspace_pk, _Lane()).rows.append(c)
            self._dispatch(lanes, None)
        return len(claimed)

    def run_forever(self, stop: Stop, idle: float = 1.0) -> None:
        """Deliver until `stop` is set, claiming more rows as lanes run low."""
        lanes: dict[int, _Lane] = {}
        while not stop.is_set():
            try:
                self._dispatch(lanes, stop, idle)
            except Exception:  # keep delivering other rows; the row's lease will expire
                log.exception("delivery loop error")
                stop.wait(idle)
        self._release([c for lane in lanes.values() for c in lane.rows], self._now())

    def _dispatch(self, lanes: dict[int, _Lane], stop: Stop | None, idle: float = 1.0) -> None:
        """The dispatcher: give each lane's next row a slot, post it on the pool, settle
        what comes back. Once (`stop` None) it returns when the lanes are empty; otherwise
        it claims as lanes run low and returns only when stopped."""
        done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        cap = max(1, self.config.concurrency)
        stale = self.config.lease.total_seconds() / 2
        inflight = 0
        now = self._now()
        flushed, claim_after = time.monotonic(), -math.inf
        try:
            while stop is None or not stop.is_set():
                while True:  # settle finished posts
                    try:
                        item = done.get_nowait()
                    except queue.Empty:
                        break
                    inflight -= 1
                    self._settle(lanes, item, now, stop is not None)
                now = max(now, self._now())
                if stop is not None:
                    mono = time.monotonic()
                    buffered = sum(len(lane.rows) for lane in lanes.values())
                    if buffered < self.config.batch // 2 + 1 and mono >= claim_after:
                        full = [
                            ws
                            for ws, lane in lanes.items()
                            if len(lane.rows) >= self.config.lane_rows
                        ]
                        got = self.claim(skip=full)
                        for c in got:
                            lanes.setdefault(c.workspace_pk, _Lane()).rows.append(c)
                        # Nothing new: ask less often while the lanes still have work.
                        claim_after = mono + (0.05 if got else 0.25)
                    if mono - flushed >= self.config.flush_every:
                        self._record_sent()
                        flushed = mono
                wake = math.inf
                for ws, lane in list(lanes.items()):
                    while lane.rows and inflight < cap:
                        if lane.next_at > now:
                            wake = min(wake, lane.next_at)
                            break
                        if lane.reserved and self.pacer.is_held(ws, now):
                            lane.reserved = False  # a 429 arrived while it waited for its slot
                        if not lane.reserved:
                            wait, held = self.pacer.take(ws, now)
                            if held and (stop is None or wait > self.config.max_hold):
                                self._release(lane.rows, now + wait)
                                lane.rows.clear()
                                break
                            lane.reserved = not held
                            if held or wait > 0.001:
                                lane.next_at = now + wait
                                wake = min(wake, lane.next_at)
                                break
                        lane.reserved = False
                        c = lane.rows.popleft()
                        if time.monotonic() - c.claimed_mono > stale:
                            # Waited so long its lease could lapse mid-post and another
                            # worker take it: give it back rather than risk a double post.
                            self._release([c], now)
                            continue
                        inflight += 1
                        self._pool.submit(self._deliver_one, c, done)
                    if not lane.rows and not lane.reserved:
                        del lanes[ws]
                if stop is None and inflight == 0 and not lanes:
                    return
                if inflight >= cap or (wake == math.inf and inflight):
                    try:  # wait for a post to finish
                        item = done.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    inflight -= 1
                    self._settle(lanes, item, now, stop is not None)
                elif wake < math.inf:
                    pause = wake - now if stop is None else min(wake - now, 0.05)
                    self.sleep(pause)
                    # An injected sleep may not pass real time: the slot has come anyway.
                    now = max(now + pause, self._now())
                elif stop is not None:
                    if self._sent:
                        self._record_sent()
                    stop.wait(idle)
                    return
        finally:
            while inflight:  # let posts on their way finish and be recorded
                item = done.get()
                inflight -= 1
                self._settle(lanes, item, now, False)
            self._record_sent()

    def _settle(self, lanes: dict[int, _Lane], item: _Done, now: float, keep: bool) -> None:
        """A 429: the workspace is held; the row waits in its lane for a short hold, or
        goes back to the outbox (with its channel's other rows) for a long one."""
        c, retry_after = item
        if retry_after is None:
            return
        self.pacer.limited(c.workspace_pk, now, retry_after)
        if keep and retry_after <= self.config.max_hold:
            lanes.setdefault(c.workspace_pk, _Lane()).rows.appendleft(c)
        else:
            self._retry(
                c,
                retry_after,
                f"rate limited; retry after {retry_after:g}s",
                count_attempt=False,
                hold_channel=True,
            )

    def _deliver_one(self, c: Claimed, done: queue.SimpleQueue[_Done]) -> None:
        retry_after: float | None = None
        try:
            retry_after = self.deliver(c)
        except BaseException:  # never lose the completion: the dispatcher counts on it
            log.exception("delivering %s failed", c.idem_key)
        finally:
            done.put((c, retry_after))

    def _record_sent(self) -> None:
        with self._lock:
            done, self._sent = self._sent, []
        if done:
            with self.store.tx() as s:
                s.execute(update(Outbox), done)

    def _release(self, rows: Iterable[Claimed], until: float) -> None:
        """Give claimed rows back untried (their claim counted no attempt) for `until`."""
        ids = [c.id for c in rows]
        if not ids:
            return
        when = datetime.fromtimestamp(until, UTC)
        with self.store.tx() as s:
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

    # ------------------------------------------------------------------ delivering

    def deliver(self, c: Claimed) -> float | None:
        """Post one row and record the outcome; a 429 is returned (its Retry-After) for
        the dispatcher, which holds the workspace and decides where the row waits."""
        messenger = self.messengers[c.platform]
        try:
            # A progress DM may submit a timed-out exam (a write); other posts only read.
            opened = self.store.tx() if c.kind == "progress_dm" else self.store.read()
            with opened as s:
                reply = self.render(s, c)
            if reply is None:
                self._finish(c, "skipped", error="nothing to post any more")
                return None
            ref = self._send(messenger, c, reply)
        except RateLimited as e:
            return max(0.0, e.retry_after)
        except TargetGone as e:
            self._gone(c, str(e) or type(e).__name__)
        except Transient as e:
            self._backoff(c, str(e) or "transient error")
        except Exception as e:
            log.exception("delivering %s failed", c.idem_key)
            self._backoff(c, f"{type(e).__name__}: {e}")
        else:
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
        return None

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
        if keyed is not None:
            return keyed.post_keyed(target, reply, c.idem_key)
        return messenger.post(target, reply)

    def _pace(self, channel: str) -> None:
        """One post per `channel_gap` per channel, even when two of a channel's posts are
        on their way at once (a backlog claims them together): each takes the next slot."""
        gap = self.config.channel_gap
        with self._lock:
            now = time.monotonic()
            last = self._last_post.get(channel)
            start = now if last is None else max(now, last + gap)
            self._last_post[channel] = start
            if len(self._last_post) > 10_000:  # forget channels whose gap has passed
                self._last_post = {k: t for k, t in self._last_post.items() if t > now - gap}
        if start > now:
            self.sleep(start - now)

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
