"""What every command handler gets: the transaction, the content, the time and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from bot.commands import SLASH
from bot.content.models import Content, Track
from bot.errors import UserError
from bot.schedule import Calendar, calendar
from bot.seam import Who
from bot.store.db import insert_ignore
from bot.store.models import Group, Membership, User, Workspace
from bot.timeutil import local_today

# Built once with bind parameters: every command runs it, and building a statement (and its
# cache key) costs more than SQLite takes to answer it.
_PRIME = (
    select(Workspace, Group, User, Membership)
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


@dataclass
class Ctx:
    s: Session
    content: Content
    now: datetime
    who: Who
    flag_threshold: int = 3
    _workspace: Workspace | None = None
    _user: User | None = None
    _group: Group | None = None
    _group_loaded: bool = False
    _membership: Membership | None = None
    _membership_loaded: bool = False

    def prime(self) -> None:
        """Load the workspace, the channel's group, the caller and their membership in one
        query: every command needs most of them, and one round trip beats four."""
        row = self.s.execute(
            _PRIME,
            {
                "platform": self.who.platform,
                "workspace": self.who.workspace_id,
                "channel": self.who.channel_id,
                "user": self.who.user_id,
            },
        ).first()
        if row is None:
            return  # first contact from this workspace: the lazy path creates it
        ws, group, user, member = row
        self._workspace = ws
        self._group, self._group_loaded = group, True
        if user is not None:
            name = self.who.display_name[:200]
            if name and user.display_name != name:
                user.display_name = name
            self._user = user
            if group is not None:
                self._membership, self._membership_loaded = member, True

    # ---------------------------------------------------------------- identities

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = ensure_workspace(
                self.s, self.who.platform, self.who.workspace_id, self.now
            )
        return self._workspace

    @property
    def user(self) -> User:
        """The caller's user row, created on first contact; the display name is kept fresh."""
        if self._user is None:
            self._user = ensure_user(
                self.s, self.workspace.id, self.who.user_id, self.who.display_name, self.now
            )
        return self._user

    @property
    def group(self) -> Group | None:
        if not self._group_loaded:
            self._group = self.s.scalar(
                select(Group).where(
                    Group.workspace_id == self.workspace.id,
                    Group.channel_id == self.who.channel_id,
                )
            )
            self._group_loaded = True
        return self._group

    def require_group(self) -> Group:
        g = self.group
        if g is None:
            raise UserError(
                "This channel has no study group yet. A group lead can start one with "
                f"`{SLASH} setup`."
            )
        return g

    def membership(self) -> Membership | None:
        g = self.require_group()
        if not self._membership_loaded:
            self._membership = self.s.scalar(
                select(Membership).where(
                    Membership.group_id == g.id, Membership.user_id == self.user.id
                )
            )
            self._membership_loaded = True
        return self._membership

    def ensure_member(self) -> bool:
        """Make the caller a member (answering or studying implies joining); True if new."""
        g = self.require_group()
        m = self.membership()
        if m is not None and m.active:
            return False
        if m is None:
            insert_ignore(
                self.s,
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
        if m is not None and not m.active:
            m.active = True
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
        return local_today(self.member_tz(), self.now)

    def group_today(self) -> date:
        return local_today(self.require_group().tz, self.now)

    def track(self) -> Track:
        return self.content.track(self.require_group().track)

    def calendar(self) -> Calendar:
        g = self.require_group()
        return calendar(self.content.phases, g.start_date, g.exam_date)


def ensure_workspace(s: Session, platform: str, external_id: str, now: datetime) -> Workspace:
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
    return ws


def ensure_user(s: Session, workspace_id: int, external_id: str, name: str, now: datetime) -> User:
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
    if name and user.display_name != name[:200]:
        user.display_name = name[:200]
    return user
