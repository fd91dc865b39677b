"""Read-only snapshots of the rows every command loads: workspace, user, group, membership.

`Ctx.prime` reads them with one prepared statement (see `prepared.py`) instead of loading
ORM objects; a handler that changes one asks the context for the ORM object (`edit_user`,
`edit_group`, `edit_membership`). Code that only reads accepts either (`GroupLike`, ...).
The fields are the table's columns that commands read (timestamps are left out: no
command reads them from here, and parsing them is most of a row's cost on SQLite); a test
keeps the names in step with the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, time
from typing import Any, Self, TypeAlias

from bot.store.models import Group, Membership, User, Workspace


class _Snapshot:
    @classmethod
    def of(cls, obj: Any) -> Self:
        """The snapshot of an ORM object (after an insert through the ORM)."""
        return cls(*(getattr(obj, f.name) for f in fields(cls)))  # type: ignore[arg-type]

    @classmethod
    def columns(cls, model: Any) -> list[Any]:
        """The table columns a snapshot holds, in its field order (for a SELECT)."""
        return [model.__table__.c[f.name] for f in fields(cls)]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WorkspaceRow(_Snapshot):
    id: int
    platform: str
    external_id: str


@dataclass(frozen=True, slots=True)
class UserRow(_Snapshot):
    id: int
    workspace_id: int
    external_id: str
    display_name: str
    tz: str | None
    dm_enabled: bool


@dataclass(frozen=True, slots=True)
class GroupRow(_Snapshot):
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


@dataclass(frozen=True, slots=True)
class MembershipRow(_Snapshot):
    id: int
    workspace_id: int
    group_id: int
    user_id: int
    active: bool


WorkspaceLike: TypeAlias = Workspace | WorkspaceRow
UserLike: TypeAlias = User | UserRow
GroupLike: TypeAlias = Group | GroupRow
MembershipLike: TypeAlias = Membership | MembershipRow

SNAPSHOTS: dict[type[Any], type[_Snapshot]] = {
    Workspace: WorkspaceRow,
    User: UserRow,
    Group: GroupRow,
    Membership: MembershipRow,
}
