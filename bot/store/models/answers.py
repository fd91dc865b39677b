"""Daily questions, practice sets, their answers, and members' reports of wrong questions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import TS, Base


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
        Index("ix_answers_answered_at", "answered_at"),  # the clock's "N answered" refresh
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
