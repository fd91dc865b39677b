"""What planning decides, before it is written: the groups read, the posts due, by cohort
and one by one (`scheduler/due.py` decides them, `scheduler/member_dues.py` the members'
and leads' DMs, `scheduler/followups.py` the rest, `scheduler/plan_writes.py` writes them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.due_times import ChannelPost, Schedule
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import as_utc


class DueGroup(NamedTuple):
    """What planning reads of a group (read by the thousand at a morning's peak)."""

    id: int
    workspace_id: int
    channel_id: str
    schedule: Schedule
    created_at: datetime | None  # None: made long before anything planning looks at
    next_due_at: datetime | None  # as read: the write checks it is unchanged

    @classmethod
    def of(cls, g: GroupRecord, next_due_at: datetime | None = None) -> DueGroup:
        created = as_utc(g.created_at)
        return cls(g.id, g.workspace_id, g.channel_id, Schedule.of(g), created, next_due_at)


@dataclass(slots=True)
class _Due:
    group: DueGroup | None
    workspace: WorkspaceRecord
    kind: str
    local_date: date
    key: str
    target_kind: str  # channel | user | update
    target_id: str
    due_at: datetime
    payload: dict[str, Any]  # shared by the posts of a kind: read, never change


@dataclass(slots=True)
class Planned:
    due: _Due
    status: str  # pending | skipped
    late: timedelta


@dataclass
class PlanResult:
    enqueued: int = 0
    skipped: int = 0
    planned: list[Planned] = field(default_factory=list)  # the rows written, in order


@dataclass(frozen=True, slots=True)
class ChannelDue:
    """A channel post due for every group of a `Cohort`: one row each, made together."""

    post: ChannelPost
    local_date: date
    due_at: datetime
    status: str
    late: timedelta
    slot: int  # its place among the cohort's posts to one channel (they are spaced)


@dataclass
class Cohort:
    """Groups that share a schedule and were due at the same instant: what is due for one
    is due for all, and they move on to the same next due instant."""

    groups: list[DueGroup]
    dues: list[ChannelDue]
    seen: datetime | None
    next_due_at: datetime | None
    moves: bool = True  # False: each group's next due instant depends on its members


@dataclass
class Plan:
    """What one batch writes: channel posts by cohort, posts made one by one (members'
    DMs, answer counts, reminders), and the next due instants of groups planned alone
    (each written only where it is still the one read, so a settings change made
    meanwhile wins)."""

    cohorts: list[Cohort] = field(default_factory=list)
    posts: list[Planned] = field(default_factory=list)
    moves: list[tuple[int, datetime | None, datetime | None]] = field(default_factory=list)
    workspaces: dict[int, WorkspaceRecord] = field(default_factory=dict)


def planned(due: _Due, now: datetime, grace: timedelta) -> Planned:
    late = now - due.due_at
    return Planned(due, "pending" if late <= grace else "skipped", late)


def among(s: Session, column: Any, values: Iterable[int]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `= ANY` of one array parameter: a thousand ids
    as a thousand placeholders cost psycopg more to parse out of the statement than the
    database took to run it (`python -m bench.clock`)."""
    ids = list(values)
    if s.get_bind().dialect.name == "postgresql":
        found: ColumnElement[bool] = column == any_(
            bindparam("ids", ids, type_=ARRAY(Integer), unique=True)
        )
        return found
    within: ColumnElement[bool] = column.in_(ids)
    return within
