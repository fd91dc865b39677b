"""The clock and a delivery worker on a test's clock: what a tick plans and what reaches a
platform (the in-memory one, the terminal's, or the real Slack and Discord clients
pointed at their fakes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from bot.content.models import Content
from bot.seam import Messenger
from bot.store.db import Store
from bot.store.models import Outbox
from scheduler.clock import Clock
from scheduler.worker import DeliveryConfig, Worker
from tests.helpers import FakeClock


class Rounds:
    """Tick at a moment, then deliver everything due (posts to one target are spaced a
    second apart, so the worker's clock steps through a few seconds)."""

    def __init__(
        self, store: Store, content: Content, clock: FakeClock, messengers: Mapping[str, Messenger]
    ) -> None:
        self.store, self.content, self.clock = store, content, clock
        self.ticker = Clock(store, content, clock=clock)
        self.worker = Worker(
            store,
            content,
            messengers,
            clock=clock,
            config=DeliveryConfig(channel_gap=0),
            sleep=lambda _s: None,
        )

    def at(self, when: datetime, *, clock: Clock | None = None) -> list[str]:
        """The keys one tick at `when` planned (by this clock, or `clock`), once delivered."""
        self.clock.now = when
        planned = [p.due.key for p in (clock or self.ticker).tick().planned]
        for _ in range(4):
            while self.worker.run_once():
                pass
            self.clock.advance(seconds=1.2)
        self.clock.now = when
        return sorted(planned)

    def second_clock(self) -> Clock:
        """Another clock process on the same store (a standby that took over, say)."""
        return Clock(self.store, self.content, clock=self.clock)

    def outbox(self, kind: str) -> list[tuple[str, str]]:
        """Each row of a kind: its key and what became of it."""
        with self.store.transaction(read_only=True) as s:
            rows = s.execute(
                select(Outbox.idem_key, Outbox.status)
                .where(Outbox.kind == kind)
                .order_by(Outbox.id)
            )
            return [(k, st) for k, st in rows]
