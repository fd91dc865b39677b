"""Background calls run in bursts on one long-lived thread.

The Slack front end queues name lookups after its replies. Queueing must cost the
request (and the next request) next to nothing: no thread started per burst, and no
thread woken per call. So the thread polls every `settle` seconds while the process is
busy and is woken only after it parked, when nothing was queued for `park_after`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

PARK_AFTER = 60.0  # seconds without calls before the thread sleeps until the next one


class Bursts:
    """Runs queued calls together, between `settle` and twice `settle` seconds after the
    first of a burst. Calls queued while a burst runs wait for the next one. `flush` runs
    what is queued at once and waits for it (tests, benchmarks, shutdown)."""

    def __init__(
        self, settle: float, name: str = "studybot-bursts", park_after: float = PARK_AFTER
    ) -> None:
        self.settle = settle
        self.name = name
        self.park_after = park_after
        self._cond = threading.Condition()
        self._queued: list[Callable[[], None]] = []
        self._first_at = 0.0  # when the first call of the queued burst came
        self._running = False
        self._flush = False
        self._parked = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, fns: list[Callable[[], None]]) -> None:
        with self._cond:
            if self._closed:  # shutting down: the next process looks these up again
                return
            if not self._queued:
                self._first_at = time.monotonic()
            self._queued.extend(fns)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            elif self._parked:
                self._cond.notify_all()

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._queued and not self._running

    def flush(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        with self._cond:
            if not self._queued and not self._running:
                return
            self._flush = True
            self._cond.notify_all()
            while self._queued or self._running:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._queued)} queued calls still waiting")
                self._cond.wait(left)

    def close(self) -> None:
        """Stop the thread; what is still queued is dropped (names are looked up again)."""
        with self._cond:
            self._closed = True
            self._queued.clear()
            self._cond.notify_all()

    def _next_burst(self) -> list[Callable[[], None]] | None:
        """Wait (holding the condition) until a burst is due; None once closed."""
        busy_at = time.monotonic()
        while not self._closed:
            now = time.monotonic()
            if self._queued:
                due = self._first_at + self.settle
                if self._flush or now >= due:
                    batch, self._queued = self._queued, []
                    self._flush = False
                    self._running = True
                    return batch
                self._cond.wait(due - now)
            elif now - busy_at >= self.park_after:
                self._parked = True
                self._cond.wait()
                self._parked = False
                busy_at = time.monotonic()
            else:
                self._cond.wait(self.settle)  # poll: `add` does not wake a busy thread
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                batch = self._next_burst()
            if batch is None:
                return
            for fn in batch:
                try:
                    fn()
                except Exception:
                    log.exception("a queued background call failed")
            with self._cond:
                self._running = False
                self._cond.notify_all()
