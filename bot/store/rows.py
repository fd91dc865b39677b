"""Read-only snapshots of the rows every command loads: workspace, user, group, membership.

`Ctx.prime` reads them with one prepared statement (see `prepared.py`) instead of loading
ORM objects; a handler that changes one asks the context for the ORM object (`edit_user`,
`edit_group`, `edit_membership`). Code that only reads accepts either (`GroupLike`, ...).
The fields are the table's columns in table order; a test keeps them in step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any, Self, TypeAlias

from bot.store.models import Group, Membership, User, Workspace


class _Snapshot:
    @classmethod
    def of(cls, obj: Any) -> Self:
        """The snapshot of an ORM object (after an insert through the ORM)."""
        return cls(*(getattr(obj, f.name) for f in fields(cls)))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WorkspaceRow(_Snapshot):
    id: int
    platform: str
    external_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserRow(_Snapshot):
    id: int
    workspace_id: int
    external_id: str
    display_name: str
    tz: str | None
    dm_enabled: bool
    created_at: datetime


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
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipRow(_Snapshot):
    id: int
    workspace_id: int
    group_id: int
    user_id: int
    active: bool
    joined_at: datetime


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
