"""Workspaces, members, study groups and what members record about themselves."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import TS, Base


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
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", name="uq_group_channel"),
        # the clock's tick reads only the groups whose next post has come (bot/due_times.py)
        Index("ix_groups_next_due", "paused", "next_due_at"),
    )

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
    # the group's own questions (bot/features/own_bank.py): in daily posts and quizzes
    # mix | only | off, in mock exams or not, and the counter that numbers them
    own_questions: Mapped[str] = mapped_column(String(4), default="mix", server_default="mix")
    own_in_exams: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    own_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # `setup digest=`: the weekly lead digest by DM (bot/features/digest.py)
    digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    # nothing is left to plan before this instant; None: the clock works it out
    next_due_at: Mapped[datetime | None] = mapped_column(TS)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id", name="uq_membership"),
        # the clock's look-up of the due groups' members with a reminder set
        Index("ix_memberships_remind", "group_id", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(TS)
    # `/study remind HH:MM`: the member's local time for a reminder DM (bot/features/remind.py)
    remind_at: Mapped[time | None] = mapped_column(Time)


class Away(Base):
    """A pause: these local dates neither extend nor break the member's streak."""

    __tablename__ = "aways"
    __table_args__ = (Index("ix_aways_user", "user_id", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # inclusive


class ChecklistMark(Base):
    __tablename__ = "checklist_marks"
    __table_args__ = (UniqueConstraint("user_id", "item_id", name="uq_checklist_user_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(TS)


class Pass(Base):
    """A member's recorded exam pass; the recertification reminder is due two years on."""

    __tablename__ = "passes"
    __table_args__ = (
        UniqueConstraint("user_id", "track", name="uq_pass_user_track"),
        Index("ix_passes_passed_on", "passed_on"),  # the clock's recertification look-up
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    track: Mapped[str] = mapped_column(String(32))
    passed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TS)
