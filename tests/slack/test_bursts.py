"""The name-lookup queue: calls wait for the burst to settle, then run together."""

from __future__ import annotations

import threading
import time

from adapters.slack.bursts import Bursts


def test_calls_queued_within_the_settle_time_run_together_after_it() -> None:
    bursts = Bursts(settle=0.2)
    ran: list[tuple[str, float, str]] = []
    start = time.monotonic()

    def call(name: str) -> None:
        ran.append((name, time.monotonic() - start, threading.current_thread().name))

    bursts.add([lambda: call("a")])
    bursts.add([lambda: call("b")])
    time.sleep(0.05)
    assert ran == []  # still settling
    bursts.flush(timeout=5)
    assert [r[0] for r in ran] == ["a", "b"]
    assert {r[2] for r in ran} == {"studybot-bursts"}  # one thread, not the caller's


def test_a_burst_waits_for_its_settle_time_and_a_failure_does_not_stop_the_rest() -> None:
    bursts = Bursts(settle=0.1)
    done = threading.Event()
    ran: list[str] = []
    start = time.monotonic()

    def boom() -> None:
        raise RuntimeError("users.info is down")

    bursts.add([boom, lambda: ran.append("after"), done.set])
    assert done.wait(5)
    assert ran == ["after"]
    assert time.monotonic() - start >= 0.1


def test_flush_with_nothing_queued_returns_and_close_drops_what_is_queued() -> None:
    bursts = Bursts(settle=10)
    bursts.flush(timeout=1)  # nothing queued: no wait
    ran: list[str] = []
    bursts.add([lambda: ran.append("late")])
    bursts.close()
    bursts.add([lambda: ran.append("after close")])  # shutting down: dropped, no error
    time.sleep(0.05)
    assert ran == []


def test_a_parked_thread_is_woken_by_the_next_call() -> None:
    bursts = Bursts(settle=0.05, park_after=0.1)
    first = threading.Event()
    bursts.add([first.set])
    assert first.wait(5)
    time.sleep(0.3)  # idle longer than park_after: the thread waits without polling
    assert bursts._parked
    again = threading.Event()
    started = time.monotonic()
    bursts.add([again.set])
    assert again.wait(5)
    assert time.monotonic() - started < 1.0
    bursts.close()
