"""What every command handler gets: the transaction, the content, the time and the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import accumulate

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from bot.commands import SLASH
from bot.content.models import Content, Track
from bot.errors import UserError
from bot.schedule import Calendar, calendar
from bot.seam import Reply, Who
from bot.store.db import Tx, insert_ignore
from bot.store.models import Group, Membership, User, Workspace
from bot.store.prepared import Prepared, connection
from bot.store.rows import (
    GroupLike,
    GroupRow,
    MembershipLike,
    MembershipRow,
    UserLike,
    UserRow,
    WorkspaceLike,
    WorkspaceRow,
)
from bot.timeutil import local_today

_SNAPSHOTS = (
    (Workspace, WorkspaceRow),
    (Group, GroupRow),
    (User, UserRow),
    (Membership, MembershipRow),
)
# Prepared once: every command runs it. Columns rather than entities, read as snapshots.
_PRIME = Prepared(
    select(*(c for model, snap in _SNAPSHOTS for c in snap.columns(model)))
    .select_from(Workspace)
    .outerjoin(
        Group,
        and_(Group.workspace_id == Workspace.id, Group.channel_id == bindparam("channel")),
    )
    .outerjoin(User, and_(User.workspace_id == Workspace.id, User.external_id == bindparam("user")))
    .outerjoin(Membership, and_(Membership.group_id == Group.id, Membership.user_id == User.id))
    .where(
        Workspace.platform == bindparam("platform"), Workspace.external_id == bindparam("workspace")
    )
)
_ENDS = list(accumulate(len(snap.columns(model)) for model, snap in _SNAPSHOTS))
_SPANS = list(zip([0, *_ENDS], _ENDS, strict=False))  # each snapshot's slice of the row
_MEMBERSHIP = Prepared(
    select(*MembershipRow.columns(Membership)).where(
        Membership.group_id == bindparam("group"), Membership.user_id == bindparam("user")
    )
)
_RENAME = update(User).where(User.id == bindparam("uid")).values(display_name=bindparam("name"))
_REACTIVATE = update(Membership).where(Membership.id == bindparam("mid")).values(active=True)


@dataclass(frozen=True)
class AfterCommit:
    """A handler's reply that reads the store after the action's writes are committed.

    An answer click returns one: the adapter can confirm the click as soon as the answer
    is recorded, and the streak the reply shows is read afterwards, in a read-only
    transaction that never holds the write lock. `reply` gets None if that read fails:
    the action stands, so the reply is made without what could not be read.
    """

    reply: Callable[[Ctx | None], Reply]


class Ctx:
    """The caller's workspace, user, group and membership are read-only snapshots (or ORM
    objects where a handler created or edits them): edit through `edit_*`.

    The core gives it a `Tx`: the ORM Session (`s`) is made the first time a handler asks
    for it, and the prepared statements of the hot path run on `db` without one. Other
    callers (the clock, tests) may give it a Session.
    """

    def __init__(
        self,
        s: Session | None = None,
        *,
        content: Content,
        now: datetime,
        who: Who,
        flag_threshold: int = 3,
        tx: Tx | None = None,
    ) -> None:
        if (s is None) == (tx is None):
            raise TypeError("give a Ctx either a Session or a Tx")
        self._s, self._tx = s, tx
        self.content, self.now, self.who = content, now, who
        self.flag_threshold = flag_threshold
        self._workspace: WorkspaceLike | None = None
        self._user: UserLike | None = None
        self._group: GroupLike | None = None
        self._group_loaded = False
        self._membership: MembershipLike | None = None
        self._membership_loaded = False
        self._today: tuple[str, date] | None = None

    @property
    def s(self) -> Session:
        """The ORM Session of this action's transaction."""
        if self._s is None:
            assert self._tx is not None
            self._s = self._tx.session
        return self._s

    @property
    def db(self) -> Session | Tx:
        """Where prepared statements run: the transaction, without making a Session."""
        return self._tx if self._tx is not None else self.s

    def prime(self) -> None:
        """Load the workspace, the channel's group, the caller and their membership in one
        query: every command needs most of them, and one round trip beats four."""
        row = _PRIME.first(
            self.db,
            {
                "platform": self.who.platform,
                "workspace": self.who.workspace_id,
                "channel": self.who.channel_id,
                "user": self.who.user_id,
            },
        )
        if row is None:
            return  # first contact from this workspace: the lazy path creates it
        (w0, w1), (g0, g1), (u0, u1), (m0, m1) = _SPANS
        self._workspace = WorkspaceRow(*row[w0:w1])
        group = GroupRow(*row[g0:g1]) if row[g0] is not None else None
        self._group, self._group_loaded = group, True
        if row[u0] is not None:
            user = UserRow(*row[u0:u1])
            name = self.who.display_name[:200]
            if name and self.who.name_known and user.display_name != name:
                connection(self.db).execute(_RENAME, {"uid": user.id, "name": name})
                user = replace(user, display_name=name)
            self._user = user
            if group is not None:
                member = MembershipRow(*row[m0:m1]) if row[m0] is not None else None
                self._membership, self._membership_loaded = member, True

    # ---------------------------------------------------------------- identities

    @property
    def workspace(self) -> WorkspaceLike:
        if self._workspace is None:
            self._workspace = ensure_workspace(
                self.s, self.who.platform, self.who.workspace_id, self.now
            )
        return self._workspace

    @property
    def user(self) -> UserLike:
        """The caller's user row, created on first contact; the display name is kept fresh."""
        if self._user is None:
            self._user = ensure_user(
                self.s,
                self.workspace.id,
                self.who.user_id,
                self.who.display_name,
                self.now,
                rename=self.who.name_known,
            )
        return self._user

    def edit_user(self) -> User:
        """The caller's user as an ORM object, for a handler that changes it."""
        if not isinstance(self._user, User):
            user = self.s.get(User, self.user.id)
            assert user is not None
            self._user = user
        return self._user

    @property
    def group(self) -> GroupLike | None:
        if not self._group_loaded:
            self._group = self.s.scalar(
                select(Group).where(
                    Group.workspace_id == self.workspace.id,
                    Group.channel_id == self.who.channel_id,
                )
            )
            self._group_loaded = True
        return self._group

    def set_group(self, group: Group) -> None:
        """A group the handler has just created."""
        self._group, self._group_loaded = group, True
        self._membership, self._membership_loaded = None, False

    def edit_group(self) -> Group:
        """The channel's group as an ORM object, for a handler that changes it."""
        g = self.require_group()
        if not isinstance(g, Group):
            orm = self.s.get(Group, g.id)
            assert orm is not None
            self._group = g = orm
        return g

    def require_group(self) -> GroupLike:
        g = self.group
        if g is None:
            raise UserError(
                "This channel has no study group yet. A group lead can start one with "
                f"`{SLASH} setup`."
            )
        return g

    def membership(self) -> MembershipLike | None:
        g = self.require_group()
        if not self._membership_loaded:
            row = _MEMBERSHIP.first(self.db, {"group": g.id, "user": self.user.id})
            self._membership = MembershipRow(*row) if row is not None else None
            self._membership_loaded = True
        return self._membership

    def edit_membership(self) -> Membership | None:
        """The caller's membership as an ORM object, for a handler that changes it."""
        m = self.membership()
        if m is not None and not isinstance(m, Membership):
            orm = self.s.get(Membership, m.id)
            assert orm is not None
            self._membership = m = orm
        return m

    def ensure_member(self) -> bool:
        """Make the caller a member (answering or studying implies joining); True if new."""
        g = self.require_group()
        m = self.membership()
        if m is not None and m.active:
            return False
        if m is None:
            insert_ignore(
                self.db,
                Membership,
                {
                    "workspace_id": self.workspace.id,
                    "group_id": g.id,
                    "user_id": self.user.id,
                    "active": True,
                    "joined_at": self.now,
                },
                ["group_id", "user_id"],
            )
            self._membership_loaded = False
            m = self.membership()
        elif isinstance(m, Membership):
            m.active = True
        else:
            connection(self.db).execute(_REACTIVATE, {"mid": m.id})
            self._membership = replace(m, active=True)
        return True

    def is_lead(self) -> bool:
        if self.who.is_admin:
            return True
        g = self.group
        if g is None:
            return False
        return self.who.user_id == g.created_by or self.who.user_id in (g.leads or [])

    # ---------------------------------------------------------------- time

    def member_tz(self) -> str:
        g = self.require_group()
        return self.user.tz or g.tz

    def today(self) -> date:
        """The caller's local date: their own timezone if set, else the group's."""
        tz = self.member_tz()
        if self._today is None or self._today[0] != tz:  # asked several times per action
            self._today = (tz, local_today(tz, self.now))
        return self._today[1]

    def group_today(self) -> date:
        return local_today(self.require_group().tz, self.now)

    def track(self) -> Track:
        return self.content.track(self.require_group().track)

    def calendar(self) -> Calendar:
        g = self.require_group()
        return calendar(self.content.phases, g.start_date, g.exam_date)


def ensure_workspace(s: Session, platform: str, external_id: str, now: datetime) -> WorkspaceRow:
    """Select first; insert (racing safely on the unique key) only on first contact."""
    q = select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id
    )
    ws = s.scalar(q)
    if ws is None:
        insert_ignore(
            s,
            Workspace,
            {"platform": platform, "external_id": external_id, "created_at": now},
            ["platform", "external_id"],
        )
        ws = s.scalar(q)
    assert ws is not None
    return WorkspaceRow.of(ws)


def ensure_user(
    s: Session,
    workspace_id: int,
    external_id: str,
    name: str,
    now: datetime,
    *,
    rename: bool = True,
) -> UserRow:
    q = select(User).where(User.workspace_id == workspace_id, User.external_id == external_id)
    user = s.scalar(q)
    if user is None:
        insert_ignore(
            s,
            User,
            {
                "workspace_id": workspace_id,
                "external_id": external_id,
                "display_name": name[:200],
                "tz": None,
                "dm_enabled": True,
                "created_at": now,
            },
            ["workspace_id", "external_id"],
        )
        user = s.scalar(q)
    assert user is not None
    if rename and name and user.display_name != name[:200]:
        user.display_name = name[:200]
    return UserRow.of(user)
