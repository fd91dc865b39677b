"""Slack's 3-second ack, kept by the transport rather than by each listener.

The transports (HTTP under uvicorn, Socket Mode) already run `App.dispatch` off their own
thread. They wait at most `ACK_DEADLINE` for it; if the listener has not answered by then,
the transport answers Slack itself with a stand-in ("Working on it…" for a command, an
empty ack for anything else) and the listener, when it is done, delivers its reply
through `response_url` instead. So a listener runs the core on the thread it was called
on, with no hand-off to another pool on every request.

Who answers is decided once, under a lock, by an `AckGuard` the transport puts into the
request's context: the listener `claim`s the ack when its reply is ready, the transport
`expire`s it at the deadline; whichever comes first wins. Work that should follow the ack
(posting a click's feedback, a DM, an upload) is queued with `after` and starts once the
transport has sent its answer (`release`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

ACK_DEADLINE = 2.0  # seconds of work before the transport acks; Slack allows 3 in all
GUARD_KEY = "studybot_ack_guard"  # where the transport puts the guard in BoltContext
WORKING = "Working on it…"


class AckGuard:
    """One request's ack: answered by its listener or, at the deadline, by its transport."""

    def __init__(self, *, released: bool = False) -> None:
        self._lock = threading.Lock()
        self._owner: str | None = None  # "listener" or "transport", once decided
        self._released = released
        self._after: list[Callable[[], None]] = []

    def claim(self) -> bool:
        """The listener's reply is ready: True if it is still the listener's to send."""
        with self._lock:
            if self._owner is None:
                self._owner = "listener"
            return self._owner == "listener"

    def expire(self) -> bool:
        """The deadline passed: True if the transport must send the stand-in."""
        with self._lock:
            if self._owner is None:
                self._owner = "transport"
            return self._owner == "transport"

    @property
    def expired(self) -> bool:
        """Whether the transport answered (the deadline passed first)."""
        with self._lock:
            return self._owner == "transport"

    def after(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the answer has gone to Slack (at once if it has)."""
        with self._lock:
            if not self._released:
                self._after.append(fn)
                return
        fn()

    def release(self) -> None:
        """The transport has sent its answer: run what waited for it."""
        with self._lock:
            self._released = True
            waiting, self._after = self._after, []
        for fn in waiting:
            fn()


def guard_of(context: Mapping[str, Any]) -> AckGuard:
    """The transport's guard, or (a request dispatched without one, as tests do) a guard
    that leaves the ack to the listener and runs follow-up work at once."""
    guard = context.get(GUARD_KEY)
    return guard if isinstance(guard, AckGuard) else AckGuard(released=True)


def guarded(req: BoltRequest, guard: AckGuard | None = None) -> AckGuard:
    """Put a guard (a new one by default) into the request for its listener to find."""
    guard = guard or AckGuard()
    req.context[GUARD_KEY] = guard
    return guard


def stand_in(req: BoltRequest) -> BoltResponse:
    """The transport's answer at the deadline: only a command's ack can carry text."""
    if isinstance(req.body, dict) and req.body.get("command"):
        body = json.dumps({"response_type": "ephemeral", "text": WORKING})
        return BoltResponse(status=200, body=body, headers={"content-type": "application/json"})
    return BoltResponse(status=200, body="")
