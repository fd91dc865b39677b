"""Background calls run in bursts on one long-lived thread.

The Slack front end queues name lookups after its replies. Starting a timer thread per
burst cost about 0.1 ms on the reply's own path (thread creation); a thread that waits on
a condition costs a notify.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Bursts:
    """Runs queued calls `settle` seconds after the first of a burst, all together.

    Calls queued while a burst runs wait for the next one. `flush` runs what is queued at
    once and waits for it (tests, benchmarks, shutdown).
    """

    def __init__(self, settle: float, name: str = "studybot-bursts") -> None:
        self.settle = settle
        self.name = name
        self._cond = threading.Condition()
        self._queued: list[Callable[[], None]] = []
        self._running = False
        self._flush = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, fns: list[Callable[[], None]]) -> None:
        with self._cond:
            if self._closed:  # shutting down: the next process looks these up again
                return
            self._queued.extend(fns)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

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

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queued and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                end = time.monotonic() + self.settle
                while not self._flush and not self._closed:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch, self._queued = self._queued, []
                self._flush = False
                self._running = True
            for fn in batch:
                try:
                    fn()
                except Exception:
                    log.exception("a queued background call failed")
            with self._cond:
                self._running = False
                self._cond.notify_all()
