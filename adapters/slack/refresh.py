"""When members' App Homes are published (adapters/slack/home.py): at once when a member
looks (the tab opened, a press on it), debounced after they change something elsewhere,
and later when Slack says `ratelimited`.

A member whose Home this process has published is *watched*: after each of their commands
and presses the Home is published again, at most once per `interval` per member and
`quiet` seconds after the last change at the earliest, so a burst of answers makes one
publish (it reads the store when it runs, so it shows them all). Slack limits
`views.publish` per workspace: a `ratelimited` answer backs the whole workspace off for
its Retry-After, and the Home is published then (coalesced with anything newer). Nothing
here waits on a request's thread: the timers run on one thread of their own, on the
monotonic clock, and each publish goes to the follow-up pool.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import metrics
from bot.seam import RateLimited, Reply

log = logging.getLogger(__name__)

QUIET = 1.0  # seconds a refresh waits for more changes by the same member
INTERVAL = 10.0  # at most one refresh of a member's Home this often
WATCHED = 10_000  # members whose Home is kept fresh (the least recently shown forgotten)

Key = tuple[str, str]  # (team id, user id)
Publish = Callable[[Key, Reply | None], None]  # raises RateLimited; None: read the Home


@dataclass(order=True)
class _Timer:
    at: float
    seq: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timers:
    """Functions called at instants of a clock, one thread for them all (a Home refresh
    pending per active member would be a thread each with `threading.Timer`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[_Timer] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._active = 0

    def call_at(self, at: float, fn: Callable[[], None]) -> _Timer:
        timer = _Timer(at, next(self._seq), fn)
        with self._cond:
            if self._closed:
                timer.cancelled = True
                return timer
            heapq.heappush(self._heap, timer)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="studybot-home-timers", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return timer

    def pending(self) -> int:
        """Timers not yet run, the one running included."""
        with self._cond:
            return self._active + sum(1 for t in self._heap if not t.cancelled)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    while self._heap and self._heap[0].cancelled:
                        heapq.heappop(self._heap)
                    wait = self._heap[0].at - self.clock() if self._heap else None
                    if wait is not None and wait <= 0:
                        timer = heapq.heappop(self._heap)
                        self._active += 1
                        break
                    self._cond.wait(wait)
            try:
                timer.fn()
            except Exception:
                log.exception("a Home timer failed")
            finally:
                with self._cond:
                    self._active -= 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()


@dataclass
class _Watched:
    last: float = -math.inf  # when the Home was last published
    timer: _Timer | None = None


class Refresher:
    """Publishes members' Homes through `publish`, on `submit` (the follow-up pool)."""

    def __init__(
        self,
        publish: Publish,
        submit: Callable[[Callable[[], None]], Any],
        *,
        quiet: float = QUIET,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publish, self.submit = publish, submit
        self.quiet, self.interval = quiet, interval
        self.timers = Timers(clock)
        self.clock = clock
        self._watched: OrderedDict[Key, _Watched] = OrderedDict()
        self._blocked: dict[str, float] = {}  # team -> backing off until
        self._running = 0
        self._lock = threading.Lock()

    def show(self, key: Key, reply: Reply | None = None) -> None:
        """Publish now (the member is looking): `reply` is the Home to show, or None to
        read it. Any refresh waiting for this member is dropped: this one is newer."""
        with self._lock:
            w = self._watch(key)
            if w.timer is not None:
                w.timer.cancelled, w.timer = True, None
            until = self._blocked.get(key[0], 0.0)
            if until > self.clock():
                self._schedule(key, w, until)
                return
            self._running += 1
        try:
            self.submit(lambda: self._run(key, reply))
        except RuntimeError:  # the pool is shut down: the process is stopping
            with self._lock:
                self._running -= 1

    def changed(self, key: Key) -> None:
        """The member changed something: publish their Home soon, if it is watched."""
        with self._lock:
            w = self._watched.get(key)
            if w is None or w.timer is not None:
                return  # not watched, or a refresh is already on its way
            now = self.clock()
            at = max(now + self.quiet, w.last + self.interval, self._blocked.get(key[0], 0.0))
            self._schedule(key, w, at)

    def watched(self, key: Key) -> bool:
        """Whether this process has shown the member's Home (and keeps it fresh)."""
        with self._lock:
            return key in self._watched

    def idle(self) -> bool:
        with self._lock:
            return self._running == 0 and self.timers.pending() == 0

    def close(self) -> None:
        self.timers.close()

    def _watch(self, key: Key) -> _Watched:
        w = self._watched.get(key)
        if w is None:
            w = self._watched[key] = _Watched()
            if len(self._watched) > WATCHED:
                _, old = self._watched.popitem(last=False)
                if old.timer is not None:
                    old.timer.cancelled = True
        else:
            self._watched.move_to_end(key)
        return w

    def _schedule(self, key: Key, w: _Watched, at: float) -> None:
        def fire() -> None:
            with self._lock:
                if w.timer is not timer:
                    return  # dropped for a newer publish
                w.timer = None
                self._running += 1
            try:
                self.submit(lambda: self._run(key, None))
            except RuntimeError:  # the pool is shut down: the process is stopping
                with self._lock:
                    self._running -= 1

        timer = self.timers.call_at(at, fire)
        w.timer = timer

    def _run(self, key: Key, reply: Reply | None) -> None:
        try:
            with self._lock:
                self._watch(key).last = self.clock()
            self.publish(key, reply)
        except RateLimited as e:
            metrics.RATE_LIMITED.labels("slack").inc()
            with self._lock:
                until = self.clock() + e.retry_after
                first = self._blocked.get(key[0], 0.0) < self.clock()
                self._blocked[key[0]] = max(until, self._blocked.get(key[0], 0.0))
                w = self._watch(key)
                if w.timer is None:
                    self._schedule(key, w, self._blocked[key[0]])
            if first:
                log.warning(
                    "views.publish is rate limited in workspace %s: Homes wait %.0f s",
                    key[0],
                    e.retry_after,
                )
        finally:
            with self._lock:
                self._running -= 1
