"""The delivery worker: claimed outbox rows are posted at each workspace's rate.

Claimed rows wait in one lane per workspace. The dispatcher hands each lane's next row to
a thread pool when the workspace's rate (scheduler/rate.py) gives it a slot, so a
workspace that must wait never holds up another, and `run_forever` claims more rows while
earlier ones are still being posted. What each row posts is composed by the core
(`bot.features.posts.compose`) when it is sent, from the store as it is then.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot import metrics
from bot.content.models import Content
from bot.features.posts import compose
from bot.seam import (
    ChannelTarget,
    LinkingMessenger,
    MessageRef,
    Messenger,
    RateLimited,
    Reply,
    TargetGone,
    Transient,
    UserTarget,
)
from bot.store.db import Store, is_postgres, reason, trouble
from bot.store.models import Outbox
from bot.timeutil import utcnow
from scheduler.outbox import Claimed, OutboxRows, report
from scheduler.rate import LocalRates, RateConfig, RateKeeper, SharedRates
from scheduler.threads import reveal_thread, send_post

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
    rate: RateConfig = field(default_factory=RateConfig)


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
_WRITING = ("progress_dm", "daily", "reminder")  # posts whose composing writes to the store


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
        rates: RateKeeper | None = None,
        flag_threshold: int = 3,
    ) -> None:
        self.store = store
        self.content = content
        self.flag_threshold = flag_threshold  # reports that pull a question from the posts
        self.messengers = messengers
        self.clock = clock
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self.config = config or DeliveryConfig()
        self.sleep = sleep
        if rates is None and is_postgres(store.engine):
            rates = SharedRates(store, self.config.rate)  # workers share one rate there
        self.rates: RateKeeper = rates or LocalRates(self.config.rate)
        cfg = self.config
        self.outbox = OutboxRows(
            store,
            self.name,
            clock,
            cfg.lease,
            cfg.max_attempts,
            (cfg.base_backoff, cfg.max_backoff),
        )
        self._last_post: dict[str, float] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, cfg.concurrency), thread_name_prefix=self.name)

    def _now(self) -> float:
        return self.clock().timestamp()

    def claim(self, limit: int | None = None, skip: Iterable[int] = ()) -> list[Claimed]:
        """Lease due rows, leaving out workspaces held by a 429 and those in `skip`."""
        held = self.rates.held(self._now())
        return self.outbox.claim(self.messengers, limit or self.config.batch, [*skip, *held])

    # ------------------------------------------------------------------ dispatching

    def run_once(self) -> int:
        """Claim one batch and deliver it: each workspace's rows in order at its rate,
        workspaces side by side; rows of a workspace held by a 429 go back to the outbox
        for after the hold. Successes are recorded together at the end (a crash before
        that leaves leases the next worker checks)."""
        claimed = self.claim()
        if claimed:
            lanes: dict[int, _Lane] = {}
            for c in claimed:
                lanes.setdefault(c.workspace_pk, _Lane()).rows.append(c)
            _Dispatch(self, lanes, None).run()
        return len(claimed)

    def run_forever(self, stop: Stop, idle: float = 1.0) -> None:
        """Deliver until `stop` is set, claiming more rows as lanes run low."""
        lanes: dict[int, _Lane] = {}
        while not stop.is_set():
            try:
                _Dispatch(self, lanes, stop, idle).run()
            except Exception as e:  # keep delivering other rows; the row's lease will expire
                if self.store.availability.failed(e) in (None, "conflict"):
                    log.exception("delivery loop error")  # an outage: the store said so once
                stop.wait(idle)
        self.outbox.release([c for lane in lanes.values() for c in lane.rows], self._now())

    def settle(self, lanes: dict[int, _Lane], item: _Done, now: float, keep: bool) -> None:
        """A 429: the workspace is held; the row waits in its lane for a short hold, or
        goes back to the outbox (with its channel's other rows) for a long one."""
        c, retry_after = item
        if retry_after is None:
            return
        self.rates.limited(c.workspace_pk, now, retry_after)
        metrics.RATE_LIMITED.labels(c.platform).inc()
        report(c, "rate_limited", f"retry after {retry_after:g}s", logging.WARNING)
        if keep and retry_after <= self.config.max_hold:
            lanes.setdefault(c.workspace_pk, _Lane()).rows.appendleft(c)
        else:
            self.outbox.retry(
                c,
                retry_after,
                f"rate limited; retry after {retry_after:g}s",
                count_attempt=False,
                hold_channel=True,
            )

    def deliver_one(self, c: Claimed, done: queue.SimpleQueue[_Done]) -> None:
        retry_after: float | None = None
        try:
            retry_after = self.deliver(c)
        except BaseException as e:  # never lose the completion: the dispatcher counts on it
            if trouble(e) is None:
                log.exception("delivering %s failed", c.idem_key)
            else:  # its lease runs out, and the next claim checks whether it was posted
                log.warning("post %s waits for the database: %s", c.idem_key, reason(e))
        finally:
            done.put((c, retry_after))

    # ------------------------------------------------------------------ delivering

    def deliver(self, c: Claimed) -> float | None:
        """Post one row and record the outcome; a 429 is returned (its Retry-After) for
        the dispatcher, which holds the workspace and decides where the row waits."""
        messenger = self.messengers[c.platform]
        try:
            # A progress DM may submit a timed-out exam, a daily post or a reminder may
            # choose its question (writes); other posts only read.
            links = messenger.link if isinstance(messenger, LinkingMessenger) else None
            with self.store.transaction(read_only=c.kind not in _WRITING) as s:
                row = s.get(Outbox, c.id)
                now = self.clock()
                reply = (
                    None
                    if row is None
                    else compose(s, self.content, now, row, self.flag_threshold, links)
                )
                thread = None if row is None else reveal_thread(s, row, c.workspace)
            if reply is None:
                self.outbox.skip(c, "nothing to post any more")
                return None
            ref = self._send(messenger, c, reply, thread)
        except RateLimited as e:
            return max(0.0, e.retry_after)
        except TargetGone as e:
            self._gone(c, str(e) or type(e).__name__)
        except Transient as e:
            self.outbox.backoff(c, str(e) or "transient error")
        except Exception as e:
            if trouble(e) is not None:
                raise  # the database, not the post (deliver_one)
            log.exception("delivering %s failed", c.idem_key)
            self.outbox.backoff(c, f"{type(e).__name__}: {e}")
        else:
            self.outbox.sent(c, ref.message_id if ref else None)
        return None

    def _send(
        self, messenger: Messenger, c: Claimed, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef | None:
        if c.target_kind == "update":
            channel = str(c.payload["channel_id"])
            messenger.update(MessageRef(c.workspace, channel, c.target_id), reply)
            return None
        if c.target_kind == "user":
            return messenger.dm(UserTarget(c.workspace, c.target_id), reply)
        target = ChannelTarget(c.workspace, c.target_id, thread, broadcast=thread is not None)
        return send_post(  # found again if a worker died mid-post; the channel if refused
            messenger, target, reply, c.idem_key, c.ambiguous, lambda: self._space(c.target_id)
        )

    def _space(self, channel: str) -> None:
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

    def _gone(self, c: Claimed, error: str) -> None:
        notify = self.outbox.gone(c, error)
        if notify is None:
            return
        lead, notice = notify
        log.warning("group of %s paused; telling its lead %s", c.idem_key, lead.user_id)
        try:
            self.messengers[c.platform].dm(lead, notice)
        except Exception as e:  # best effort: the lead may be gone too
            log.warning("could not tell the lead %s: %s", lead.user_id, e)


class _Dispatch:
    """One run of the dispatcher over the lanes. Once (`stop` None) it returns when the
    lanes are empty; otherwise it claims as lanes run low and returns only when stopped
    or idle."""

    def __init__(
        self, worker: Worker, lanes: dict[int, _Lane], stop: Stop | None, idle: float = 1.0
    ) -> None:
        self.w, self.lanes, self.stop, self.idle = worker, lanes, stop, idle
        self.done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        self.cap = max(1, worker.config.concurrency)
        self.stale = worker.config.lease.total_seconds() / 2
        self.inflight = 0
        self.now = worker._now()
        self.flushed, self.claim_after = time.monotonic(), -math.inf

    def run(self) -> None:
        try:
            while self.stop is None or not self.stop.is_set():
                self._settle_finished()
                self.now = max(self.now, self.w._now())
                if self.stop is not None:
                    self._top_up()
                wake = self._start_ready()
                if self.stop is None and self.inflight == 0 and not self.lanes:
                    return
                if not self._wait(wake):
                    return
        finally:
            while self.inflight:  # let posts on their way finish and be recorded
                self._settled(self.done.get(), keep=False)
            self.w.outbox.flush_sent()

    def _settled(self, item: _Done, keep: bool) -> None:
        self.inflight -= 1
        self.w.settle(self.lanes, item, self.now, keep)

    def _settle_finished(self) -> None:
        while True:
            try:
                item = self.done.get_nowait()
            except queue.Empty:
                return
            self._settled(item, keep=self.stop is not None)

    def _top_up(self) -> None:
        """Claim more rows while the lanes run low, and record what was delivered."""
        cfg = self.w.config
        mono = time.monotonic()
        buffered = sum(len(lane.rows) for lane in self.lanes.values())
        if buffered < cfg.batch // 2 + 1 and mono >= self.claim_after:
            full = [ws for ws, lane in self.lanes.items() if len(lane.rows) >= cfg.lane_rows]
            got = self.w.claim(skip=full)
            for c in got:
                self.lanes.setdefault(c.workspace_pk, _Lane()).rows.append(c)
            # Nothing new: ask less often while the lanes still have work.
            self.claim_after = mono + (0.05 if got else 0.25)
        if mono - self.flushed >= cfg.flush_every:
            self.w.outbox.flush_sent()
            self.flushed = mono

    def _start_ready(self) -> float:
        """Post every lane's rows whose slot has come; the time the next slot comes."""
        wake = math.inf
        for ws, lane in list(self.lanes.items()):
            while lane.rows and self.inflight < self.cap:
                if lane.next_at > self.now:
                    wake = min(wake, lane.next_at)
                    break
                if not self._slot(ws, lane):
                    if lane.rows:
                        wake = min(wake, lane.next_at)
                    break
                c = lane.rows.popleft()
                if time.monotonic() - c.claimed_mono > self.stale:
                    # Waited so long its lease could lapse mid-post and another worker
                    # take it: give it back rather than risk a double post.
                    self.w.outbox.release([c], self.now)
                    continue
                self.inflight += 1
                self.w._pool.submit(self.w.deliver_one, c, self.done)
            if not lane.rows and not lane.reserved:
                del self.lanes[ws]
        return wake

    def _slot(self, ws: int, lane: _Lane) -> bool:
        """Whether the lane may post now; otherwise its next slot is reserved (or, held by
        a 429 for long, its rows go back to the outbox)."""
        rates, now = self.w.rates, self.now
        if lane.reserved and rates.is_held(ws, now):
            lane.reserved = False  # a 429 arrived while it waited for its slot
        if not lane.reserved:
            wait, held = rates.take(ws, now)
            if held and (self.stop is None or wait > self.w.config.max_hold):
                self.w.outbox.release(lane.rows, now + wait)
                lane.rows.clear()
                return False
            lane.reserved = not held
            if held or wait > 0.001:
                lane.next_at = now + wait
                return False
        lane.reserved = False
        return True

    def _wait(self, wake: float) -> bool:
        """Wait for a post to finish or the next slot; False when the run should end."""
        if self.inflight >= self.cap or (wake == math.inf and self.inflight):
            try:
                item = self.done.get(timeout=0.05)
            except queue.Empty:
                return True
            self._settled(item, keep=self.stop is not None)
        elif wake < math.inf:
            pause = wake - self.now if self.stop is None else min(wake - self.now, 0.05)
            self.w.sleep(pause)
            # An injected sleep may not pass real time: the slot has come anyway.
            self.now = max(self.now + pause, self.w._now())
        elif self.stop is not None:
            if self.w.outbox.unflushed:
                self.w.outbox.flush_sent()
            self.stop.wait(self.idle)
            return False
        return True
