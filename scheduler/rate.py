"""How fast to post into one workspace: a token bucket whose rate is learned from 429s.

Slack allows about one `chat.postMessage` per second per channel plus an unpublished
workspace-wide rate with short bursts, and answers 429 with `Retry-After` (whole seconds)
beyond them. A worker that only learns the limit from 429s loses a whole second per hold;
one that crawls safely under it never uses the burst the platform would allow. So each
workspace gets a bucket on our side: a post takes a token, or reserves the next slot when
none is left; the bucket refills at the workspace's rate and holds `burst` seconds of posts,
so time lost to a hold or a slow moment is caught up the way the platform's own bucket
lets us. While posting, the rate rises by a small fraction a second; a 429 cuts it by
`backoff`, or, once the hold is over, straight to the rate the platform accepted between
the last two 429s when that is lower. So it settles at the limit without being told it;
until a workspace's first 429 it rises faster, to find a limit above the starting rate.

`LocalRates` keeps the buckets in memory (one worker, as on SQLite); `SharedRates` keeps them
in the `delivery_pace` table so every worker draws on the same bucket and a 429 seen by one
holds the workspace for all (several workers on PostgreSQL, each learning alone, would
together overshoot the limit).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Table, select, update

from bot.store.db import Store, insert_ignore
from bot.store.models import DeliveryRate


@dataclass(frozen=True)
class RateConfig:
    """Tuning for every workspace's bucket (README: "Delivery pace")."""

    rate: float = 10.0  # starting posts/s per workspace; Slack does not publish its limit
    burst: float = 1.0  # seconds of posts the bucket holds, to catch up after a stall
    probe: float = 0.01  # while posting, the rate rises by this fraction a second...
    start_probe: float = 0.1  # ...or by this, faster, until the workspace's first 429
    backoff: float = 0.9  # a 429 multiplies the rate by this
    min_rate: float = 0.2
    max_rate: float = 100.0


@dataclass
class Bucket:
    """One workspace's bucket; times are epoch seconds (comparable across processes)."""

    rate: float
    tokens: float
    stamp: float
    held_until: float = 0.0
    learned: bool = False  # a 429 has shown where the limit is
    since: float = 0.0  # the accepted rate is measured from here (the last 429, or idle)
    taken: int = 0  # posts the platform accepted since then
    measured_to: float = 0.0  # a 429 ended the measurement; read it when the hold is over

    @classmethod
    def fresh(cls, cfg: RateConfig, now: float) -> Bucket:
        return cls(cfg.rate, max(1.0, cfg.rate * cfg.burst), now, since=now)

    def take(self, now: float, cfg: RateConfig) -> tuple[float, bool]:
        """Reserve a post: (seconds until its slot, False), or (seconds left, True) while a
        429 holds the workspace, in which case nothing is reserved."""
        if self.held_until > now:
            return self.held_until - now, True
        if self.measured_to:
            self._measure(cfg)
        if now > self.stamp:
            cap = max(1.0, self.rate * cfg.burst)
            refilled = self.tokens + (now - self.stamp) * self.rate
            if refilled > cap + 0.5:
                # Our bucket overflowed: there was room to post and nothing to send, so
                # what the platform accepted meanwhile says nothing about its limit.
                self.since, self.taken = now, 0
            self.tokens = min(cap, refilled)
            self.stamp = now
        self.tokens -= 1.0
        self.taken += 1
        wait = max(0.0, -self.tokens / self.rate)
        # The same step every post: the same fraction every second at any rate.
        probe = cfg.probe if self.learned else cfg.start_probe
        self.rate = min(cfg.max_rate, self.rate + probe)
        return wait, False

    def limited(self, now: float, retry_after: float, cfg: RateConfig) -> None:
        """A 429: hold for Retry-After and slow down by `backoff`, once per hold (the other
        posts that were already on their way answer 429 too, and say nothing new)."""
        if self.held_until <= now:
            self.rate = max(cfg.min_rate, self.rate * cfg.backoff)
            self.learned = True
            self.measured_to = now
        self.taken -= 1  # refused: it is taken again after the hold
        self.held_until = max(self.held_until, now + retry_after)
        # The platform's bucket is empty now; ours refills from here, through the hold.
        self.tokens, self.stamp = 0.0, max(now, self.stamp)

    def _measure(self, cfg: RateConfig) -> None:
        """After a hold, when every post sent before the 429 has answered: the rate the
        platform accepted between the previous 429 and this one. It counts the previous hold
        and the burst after it, so while posts kept coming it is the workspace's limit; a
        rate far above that drops straight to it instead of a `backoff` per 429."""
        elapsed = self.measured_to - self.since
        if elapsed >= 1.0 and self.taken >= 3:  # enough posts for a count to mean a rate
            # Half a post for the part of one the platform had ready at the 429; never
            # below half the rate, in case its bucket overflowed during the hold.
            measured = (self.taken + 0.5) / elapsed
            self.rate = max(cfg.min_rate, min(self.rate, max(measured, self.rate * 0.5)))
        self.since, self.taken, self.measured_to = self.measured_to, 0, 0.0


class RateKeeper(Protocol):
    def take(self, workspace: int, now: float) -> tuple[float, bool]: ...

    def limited(self, workspace: int, now: float, retry_after: float) -> None: ...

    def held(self, now: float) -> list[int]: ...

    def is_held(self, workspace: int, now: float) -> bool: ...


class LocalRates:
    """Buckets in memory, for a worker that is the only one posting."""

    def __init__(self, config: RateConfig | None = None) -> None:
        self.config = config or RateConfig()
        self.states: dict[int, Bucket] = {}
        self._lock = threading.Lock()

    def _state(self, workspace: int, now: float) -> Bucket:
        st = self.states.get(workspace)
        if st is None:
            st = self.states[workspace] = Bucket.fresh(self.config, now)
        return st

    def take(self, workspace: int, now: float) -> tuple[float, bool]:
        with self._lock:
            return self._state(workspace, now).take(now, self.config)

    def limited(self, workspace: int, now: float, retry_after: float) -> None:
        with self._lock:
            self._state(workspace, now).limited(now, retry_after, self.config)

    def held(self, now: float) -> list[int]:
        with self._lock:
            return [ws for ws, st in self.states.items() if st.held_until > now]

    def is_held(self, workspace: int, now: float) -> bool:
        with self._lock:
            st = self.states.get(workspace)
            return st is not None and st.held_until > now


class SharedRates:
    """Buckets in the database: each reservation is one short transaction holding the
    workspace's row lock, so any number of workers share one rate and one hold."""

    def __init__(self, store: Store, config: RateConfig | None = None) -> None:
        self.store = store
        self.config = config or RateConfig()
        self._table: Table = DeliveryRate.__table__  # type: ignore[assignment]
        self._holds: dict[int, float] = {}  # the last hold seen per workspace (no query)
        self._lock = threading.Lock()

    def _apply(self, workspace: int, now: float, fn: str, *args: float) -> tuple[float, bool]:
        t = self._table
        with self.store.transaction() as s:
            q = select(t).where(t.c.workspace_id == workspace).with_for_update()
            row = s.execute(q).first()
            if row is None:
                fresh = Bucket.fresh(self.config, now)
                insert_ignore(
                    s,
                    DeliveryRate,
                    {"workspace_id": workspace, **vars(fresh)},
                    ["workspace_id"],
                )
                row = s.execute(q).one()
            values = dict(row._mapping)
            del values["workspace_id"]
            st = Bucket(**values)
            out = st.take(now, self.config) if fn == "take" else (0.0, False)
            if fn == "limited":
                st.limited(now, args[0], self.config)
            s.execute(update(t).where(t.c.workspace_id == workspace).values(**vars(st)))
        with self._lock:
            self._holds[workspace] = st.held_until
        return out

    def take(self, workspace: int, now: float) -> tuple[float, bool]:
        return self._apply(workspace, now, "take")

    def limited(self, workspace: int, now: float, retry_after: float) -> None:
        self._apply(workspace, now, "limited", retry_after)

    def held(self, now: float) -> list[int]:
        t = self._table
        with self.store.transaction(read_only=True) as s:
            return list(s.scalars(select(t.c.workspace_id).where(t.c.held_until > now)))

    def is_held(self, workspace: int, now: float) -> bool:
        with self._lock:
            return self._holds.get(workspace, 0.0) > now
