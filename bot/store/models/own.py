"""A group's own questions: written by its leads, drawn for that group alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import TS, Base


class GroupQuestion(Base):
    """One question of a group's own, in the bank's schema (`body`: every field but its
    id). `question_id` is `g<group id>-<number>`, numbered by the group's counter
    (`groups.own_seq`), so an id is never given twice; a retired question keeps its row
    and its id, and answers and review cards keep pointing at it."""

    __tablename__ = "group_questions"
    __table_args__ = (
        UniqueConstraint("question_id", name="uq_group_questions_question_id"),
        UniqueConstraint("group_id", "number", name="uq_group_question_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))  # the lead's platform user id
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
