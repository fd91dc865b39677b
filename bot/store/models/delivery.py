"""The delivery outbox and the shared posting rate per workspace."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import TS, Base


class Outbox(Base):
    """A post the clock decided on; the idempotency key makes each one exist once.

    Written in the same transaction that decides it; delivery workers claim rows, call the
    platform, and record the message reference.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idem_key", name="uq_outbox_idem_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_group", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(8))  # channel | user | update
    target_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # daily, reveal, milestone, countdown, ...
    local_date: Mapped[date] = mapped_column(Date)
    idem_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|dead|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    claimed_at: Mapped[datetime | None] = mapped_column(TS)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)


class DeliveryRate(Base):
    """A workspace's posting rate, shared by every delivery worker (scheduler/rate.py).

    Slack limits chat.postMessage per workspace as well as per channel; workers that each
    learned the limit alone would together overshoot it. Times are epoch seconds.
    """

    __tablename__ = "delivery_pace"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    rate: Mapped[float] = mapped_column(Float)  # learned posts per second
    tokens: Mapped[float] = mapped_column(Float)  # token bucket; negative = slots reserved
    stamp: Mapped[float] = mapped_column(Float)  # when the bucket was last refilled
    held_until: Mapped[float] = mapped_column(Float)  # a 429's Retry-After ends here
    learned: Mapped[bool] = mapped_column(Boolean)  # a 429 has shown where the limit is
    since: Mapped[float] = mapped_column(Float, default=0.0)  # accepted rate measured from
    taken: Mapped[int] = mapped_column(Integer, default=0)  # posts accepted since then
    measured_to: Mapped[float] = mapped_column(Float, default=0.0)  # ...to the last 429
