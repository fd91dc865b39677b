"""Workspaces, users, groups and memberships as the core reads them: frozen records.

Every command reads its caller's four (`Ctx`), and the clock reads groups by the
thousand, so these are read with SQLAlchemy Core on the Session's connection, which costs
a third of loading ORM objects, and changed with UPDATE statements (`Ctx.update_group`,
...). A record holds the columns the code reads, not the audit timestamps. Nothing reads
these four tables as ORM objects: one kind of value per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from typing import Any, ClassVar, Self

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.store.models import Base, Group, Membership, User, Workspace


class _Record:
    model: ClassVar[type[Base]]

    @classmethod
    def columns(cls) -> list[Any]:
        """The table's columns in the record's field order (for a SELECT)."""
        table = cls.model.__table__
        return [table.c[f.name] for f in fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def width(cls) -> int:
        return len(fields(cls))  # type: ignore[arg-type]

    @classmethod
    def of(cls, row: Sequence[Any]) -> Self:
        return cls(*row)

    @classmethod
    def query(cls) -> Select[Any]:
        return select(*cls.columns())

    @classmethod
    def get(cls, s: Session, pk: int) -> Self | None:
        table = cls.model.__table__
        row = s.connection().execute(cls.query().where(table.c.id == pk)).first()
        return None if row is None else cls.of(row)

    @classmethod
    def all(cls, s: Session, *where: Any) -> list[Self]:
        """Every row matching the conditions, in primary-key order."""
        q = cls.query().where(*where).order_by(cls.model.__table__.c.id)
        return [cls.of(row) for row in s.connection().execute(q)]

    def with_values(self, **values: Any) -> Self:
        """The record after an UPDATE of these columns (those it does not hold ignored)."""
        names = {f.name for f in fields(self)}  # type: ignore[arg-type]
        return replace(self, **{k: v for k, v in values.items() if k in names})  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class WorkspaceRecord(_Record):
    model = Workspace
    id: int
    platform: str
    external_id: str


@dataclass(frozen=True, slots=True)
class UserRecord(_Record):
    model = User
    id: int
    workspace_id: int
    external_id: str
    display_name: str
    tz: str | None
    dm_enabled: bool


@dataclass(frozen=True, slots=True)
class GroupRecord(_Record):
    model = Group
    id: int
    workspace_id: int
    channel_id: str
    track: str
    start_date: date
    tz: str
    post_time: time
    post_days: str
    exam_date: date | None
    leads: list[str]
    skip_dates: list[str]
    paused: bool
    paused_reason: str | None
    summary_day: str
    created_by: str
    created_at: datetime  # the clock plans no post due before the group existed
    own_questions: str  # `setup own=`: mix, only or off
    own_in_exams: bool  # `setup own_exam=`
    digest: bool  # `setup digest=`: the weekly lead digest


@dataclass(frozen=True, slots=True)
class MembershipRecord(_Record):
    model = Membership
    id: int
    workspace_id: int
    group_id: int
    user_id: int
    active: bool
    remind_at: time | None  # `/study remind`: the member's local time, or None
