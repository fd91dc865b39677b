"""The store's tables. Every row carries its workspace; idempotency lives in unique keys."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


TS = DateTime(timezone=True)


class Workspace(Base):
    """A Slack team, a Discord guild, or the local console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspace_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)


class User(Base):
    """A person within one workspace; their own timezone and pauses apply in every group."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id", name="uq_user_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))
    dm_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class Group(Base):
    """One channel's study group and its schedule."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", name="uq_group_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    track: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    tz: Mapped[str] = mapped_column(String(64))
    post_time: Mapped[time] = mapped_column(Time)
    post_days: Mapped[str] = mapped_column(String(40))  # "mon,tue,wed,thu,fri"
    exam_date: Mapped[date | None] = mapped_column(Date)
    leads: Mapped[list[str]] = mapped_column(JSON, default=list)
    skip_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    summary_day: Mapped[str] = mapped_column(String(3), default="fri")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id", name="uq_membership"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(TS)


class Away(Base):
    """A pause: these local dates neither extend nor break the member's streak."""

    __tablename__ = "aways"
    __table_args__ = (Index("ix_aways_user", "user_id", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # inclusive


class DailyQuestion(Base):
    """The group's question for one local date: at most one, by the unique key."""

    __tablename__ = "daily_questions"
    __table_args__ = (
        UniqueConstraint("group_id", "local_date", name="uq_daily_group_date"),
        Index("ix_daily_group_question", "group_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    question_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)


class Answer(Base):
    """A member's first answer to a daily question; the unique key makes it the only one."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("daily_id", "user_id", name="uq_answer_daily_user"),
        Index("ix_answers_board", "group_id", "local_date", "user_id", "points", "correct"),
        Index("ix_answers_member", "user_id", "group_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    daily_id: Mapped[int] = mapped_column(ForeignKey("daily_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(8))
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)
    local_date: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime] = mapped_column(TS)


class QuizSession(Base):
    """A private practice set: its questions in order."""

    __tablename__ = "quiz_sessions"
    __table_args__ = (Index("ix_quiz_sessions_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS)


class QuizAnswer(Base):
    __tablename__ = "quiz_answers"
    __table_args__ = (
        UniqueConstraint("session_id", "position", name="uq_quiz_answer_position"),
        Index("ix_quiz_answers_board", "group_id", "local_date", "user_id", "points"),
        Index("ix_quiz_answers_member", "user_id", "group_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("quiz_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(8))
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)
    local_date: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime] = mapped_column(TS)


class ChecklistMark(Base):
    __tablename__ = "checklist_marks"
    __table_args__ = (UniqueConstraint("user_id", "item_id", name="uq_checklist_user_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(TS)


class Flag(Base):
    """A member's report that a question is wrong; enough of them pull it until reviewed."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_flag_user_question"),
        Index("ix_flags_question", "question_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    question_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    seen_in: Mapped[str] = mapped_column(String(32))  # daily | quiz | command
    chosen: Mapped[str | None] = mapped_column(String(8))  # what the member answered
    created_at: Mapped[datetime] = mapped_column(TS)
    reviewed_at: Mapped[datetime | None] = mapped_column(TS)


class Pass(Base):
    """A member's recorded exam pass; the recertification reminder is due two years on."""

    __tablename__ = "passes"
    __table_args__ = (UniqueConstraint("user_id", "track", name="uq_pass_user_track"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    track: Mapped[str] = mapped_column(String(32))
    passed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TS)


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


class DeliveryPace(Base):
    """A workspace's posting pace, shared by every delivery worker (scheduler/delivery.py).

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
