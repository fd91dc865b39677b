"""The learning engine's tables: spaced-review cards, review sets and timed mock exams.

Times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import TS, Base


class ReviewCard(Base):
    """One member's FSRS card for one question: when it is next due and how well it sits."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_review_card_user_question"),
        Index("ix_review_cards_due", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[int] = mapped_column(Integer)  # fsrs.State
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(TS)
    last_review: Mapped[datetime | None] = mapped_column(TS)
    last_rating: Mapped[int] = mapped_column(Integer)  # fsrs.Rating
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)


class ReviewSession(Base):
    """A `review` set: the due questions in the order they were shown."""

    __tablename__ = "review_sessions"
    __table_args__ = (Index("ix_review_sessions_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS)


class ReviewAnswer(Base):
    __tablename__ = "review_answers"
    __table_args__ = (
        UniqueConstraint("session_id", "position", name="uq_review_answer_position"),
        Index("ix_review_answers_member", "user_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("review_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(8))
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(TS)


class ExamAttempt(Base):
    """A timed mock exam. At most one is open per member (a partial unique index)."""

    __tablename__ = "exam_attempts"
    __table_args__ = (
        Index(
            "uq_exam_attempts_open_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_exam_attempts_user", "user_id", "started_at"),
        Index("ix_exam_attempts_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track: Mapped[str] = mapped_column(String(32))
    guide: Mapped[str] = mapped_column(String(32))
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    minutes: Mapped[int] = mapped_column(Integer)
    passing: Mapped[int | None] = mapped_column(Integer)  # the published pass mark, percent
    status: Mapped[str] = mapped_column(String(12))  # open | submitted | expired
    position: Mapped[int] = mapped_column(Integer, default=0)  # the question on screen
    started_at: Mapped[datetime] = mapped_column(TS)
    deadline: Mapped[datetime] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS)
    correct: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class ExamAnswer(Base):
    """One question of an attempt: the member's current choice, flag, and (after) verdict."""

    __tablename__ = "exam_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="uq_exam_answer_position"),
        Index("ix_exam_answers_member", "user_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(8), default="")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    shown_at: Mapped[datetime | None] = mapped_column(TS)
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    correct: Mapped[bool | None] = mapped_column(Boolean)
