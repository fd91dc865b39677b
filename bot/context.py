"""What every handler gets: the action's Session, the content, the time and the caller.

The caller's workspace, user, group and membership are frozen records
(`bot.store.records`), read together by one query the first time a handler asks; a
handler that changes one calls `update_user`, `update_group` or `update_membership`, which
write the change and keep the record in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from bot.cohort import Calendar, calendar
from bot.content.models import Content, Question, Track
from bot.due_times import member_may_be_due, reminders_may_be_due, reschedule
from bot.errors import UserError
from bot.registry import SLASH
from bot.seam import Reply, Upload, Who
from bot.store.db import insert_ignore
from bot.store.models import Group, Membership, User, Workspace
from bot.store.prepared import Prepared
from bot.store.records import GroupRecord, MembershipRecord, UserRecord, WorkspaceRecord
from bot.timeutil import local_today

_RECORDS: tuple[Any, ...] = (WorkspaceRecord, GroupRecord, UserRecord, MembershipRecord)
_ENDS = list(accumulate(r.width() for r in _RECORDS))
_SPANS = [(r, end - r.width(), end) for r, end in zip(_RECORDS, _ENDS, strict=True)]
# Every command reads most of these: one round trip instead of four.
_CALLER: Prepared[tuple[Any, ...]] = Prepared(
    select(*(c for r in _RECORDS for c in r.columns()))
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
NO_GROUP = f"This channel has no study group yet. A group lead can start one with `{SLASH} setup`."


@dataclass(frozen=True)
class AfterWrites:
    """A handler's reply that reads what the action's writes changed (a streak).

    An answer click returns one. The core makes the reply in the action's transaction,
    after its writes; if making it fails for a reason other than the database (a bug),
    `reply` gets None and the reply is made without what it could not read, so the
    action still stands.
    """

    reply: Callable[[Ctx | None], Reply]


class Ctx:
    def __init__(
        self,
        s: Session,
        *,
        content: Content,
        now: datetime,
        who: Who,
        flag_threshold: int = 3,
    ) -> None:
        self.s = s
        self.content, self.now, self.who = content, now, who
        self.flag_threshold = flag_threshold
        self._primed = False
        self._workspace: WorkspaceRecord | None = None
        self._user: UserRecord | None = None
        self._group: GroupRecord | None = None
        self._membership: MembershipRecord | None = None
        self._today: tuple[str, date] | None = None
        self._bank: Content | None = None  # the group's view of the content, once read
        self.files: tuple[Upload, ...] = ()  # what the command was sent with (`/study import`)
        # the caller's display name as the store held it before this action (None: a
        # caller it had not met, or one not looked up)
        self.stored_name: str | None = None

    @classmethod
    def for_group(cls, s: Session, content: Content, now: datetime, group: GroupRecord) -> Ctx:
        """The bot itself acting in a group's channel (the clock's posts)."""
        ws = WorkspaceRecord.get(s, group.workspace_id)
        assert ws is not None
        who = Who(ws.platform, ws.external_id, group.channel_id, "studybot", "studybot", True)
        ctx = cls(s, content=content, now=now, who=who)
        ctx._primed, ctx._workspace, ctx._group = True, ws, group
        return ctx

    def _prime(self) -> None:
        if self._primed:
            return
        self._primed = True
        row = _CALLER.first(
            self.s,
            {
                "platform": self.who.platform,
                "workspace": self.who.workspace_id,
                "channel": self.who.channel_id,
                "user": self.who.user_id,
            },
        )
        if row is None:
            return  # first contact from this workspace: `workspace` creates it
        self._workspace, self._group, self._user, self._membership = [
            None if row[start] is None else record.of(row[start:end])
            for record, start, end in _SPANS
        ]
        if self._user is not None:
            self.stored_name = self._user.display_name
            self._rename()

    def _rename(self) -> None:
        name = self.who.display_name[:200]
        if name and self.who.name_known and self.user.display_name != name:
            self.update_user(display_name=name)

    # ---------------------------------------------------------------- identities

    def _one(self, record: type[Any], **key: Any) -> Any:
        model = record.model
        where = [getattr(model, k) == v for k, v in key.items()]
        row = self.s.connection().execute(record.query().where(*where)).first()
        return None if row is None else record.of(row)

    @property
    def workspace(self) -> WorkspaceRecord:
        self._prime()
        if self._workspace is None:
            key = {"platform": self.who.platform, "external_id": self.who.workspace_id}
            insert_ignore(self.s, Workspace, {**key, "created_at": self.now}, list(key))
            self._workspace = self._one(WorkspaceRecord, **key)
            assert self._workspace is not None
        return self._workspace

    @property
    def user(self) -> UserRecord:
        """The caller's user row, created on first contact; the display name kept fresh."""
        self._prime()
        if self._user is None:
            key = {"workspace_id": self.workspace.id, "external_id": self.who.user_id}
            values = {
                **key,
                "display_name": self.who.display_name[:200],
                "tz": None,
                "dm_enabled": True,
                "created_at": self.now,
            }
            insert_ignore(self.s, User, values, list(key))
            self._user = self._one(UserRecord, **key)
            assert self._user is not None
            self._rename()
        return self._user

    def update_user(self, **values: Any) -> UserRecord:
        """Change the caller's user row (and the record the handler reads); a new
        timezone, or DMs turned on, can bring their groups' next due post forward."""
        user = self.user
        self.s.connection().execute(update(User).where(User.id == user.id).values(**values))
        self._user = user.with_values(**values)
        if {"tz", "dm_enabled"} & values.keys() and self._user.dm_enabled:
            groups = GroupRecord.all(
                self.s,
                Group.id.in_(
                    select(Membership.group_id).where(
                        Membership.user_id == user.id, Membership.active.is_(True)
                    )
                ),
            )
            member_may_be_due(self.s, self.content, self._user.tz, groups, self.now)
        if "tz" in values:  # their reminders move with their timezone
            reminders_may_be_due(self.s, self.content, user.id, self.now)
        return self._user

    @property
    def group(self) -> GroupRecord | None:
        self._prime()
        return self._group

    def create_group(self, **values: Any) -> GroupRecord:
        """Make this channel a study group (the caller is not yet its member)."""
        self._prime()
        gid = self.s.connection().execute(insert(Group).returning(Group.id), values).scalar_one()
        self._group, self._membership = GroupRecord.get(self.s, gid), None
        assert self._group is not None
        reschedule(self.s, self.content, self._group, self.now)
        return self._group

    def update_group(self, **values: Any) -> GroupRecord:
        """Change the channel's group (and the record the handler reads), and when its
        posts are next due."""
        g = self.require_group()
        self.s.connection().execute(update(Group).where(Group.id == g.id).values(**values))
        self._group = g.with_values(**values)
        reschedule(self.s, self.content, self._group, self.now)
        return self._group

    def require_group(self) -> GroupRecord:
        g = self.group
        if g is None:
            raise UserError(NO_GROUP)
        return g

    def membership(self) -> MembershipRecord | None:
        g = self.require_group()
        if self._membership is None or self._membership.group_id != g.id:
            self._membership = self._one(MembershipRecord, group_id=g.id, user_id=self.user.id)
        return self._membership

    def update_membership(self, **values: Any) -> None:
        m = self.membership()
        assert m is not None
        where = Membership.id == m.id
        self.s.connection().execute(update(Membership).where(where).values(**values))
        self._membership = m.with_values(**values)

    def ensure_member(self, *, rejoin: bool = False) -> bool:
        """Make the caller a member (answering or studying implies joining); True if new.

        A member who left stays out until they `join` again (`rejoin`): studying in the
        channel is refused with how to come back, never a silent rejoin."""
        g = self.require_group()
        m = self.membership()
        if m is not None and m.active:
            return False
        if m is not None and not rejoin:
            raise UserError(
                f"You left this study group. `{SLASH} join` brings you back; your answers "
                "and points are kept."
            )
        if m is None:
            key = {"group_id": g.id, "user_id": self.user.id}
            values = {**key, "workspace_id": g.workspace_id, "active": True, "joined_at": self.now}
            insert_ignore(self.s, Membership, values, list(key))
            self._membership = None
            m = self.membership()
            assert m is not None
        if not m.active:
            self.update_membership(active=True)
            if m.remind_at is not None:  # back in the group: their reminder is too
                reminders_may_be_due(self.s, self.content, self.user.id, self.now, g.id)
        if self.user.dm_enabled:  # their weekly DM may come before the group's next post
            member_may_be_due(self.s, self.content, self.user.tz, [g], self.now)
        return True

    def is_lead(self) -> bool:
        if self.who.is_admin:
            return True
        g = self.group
        if g is None:
            return False
        return self.who.user_id == g.created_by or self.who.user_id in (g.leads or [])

    def owns(self, user_id: int) -> bool:
        """Whether the caller is the member `user_id`: compared by platform and platform
        user id, not by workspace row, because a press in a DM may arrive under another
        workspace id (Discord DMs have no guild)."""
        self._prime()
        if self._user is not None and self._user.id == user_id:
            return True
        owner = self.s.execute(
            select(User.external_id, Workspace.platform)
            .join(Workspace, Workspace.id == User.workspace_id)
            .where(User.id == user_id)
        ).first()
        return owner is not None and tuple(owner) == (self.who.user_id, self.who.platform)

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

    @property
    def bank(self) -> Content:
        """The content as the caller's group sees it: the bank and the group's own
        questions, never another group's (`bot/features/own_bank.py`)."""
        if self._bank is None:
            from bot.features.own_bank import view  # features import this module

            g = self.group
            self._bank = view(self.s, self.content, g.id if g else None)
        return self._bank

    def question(self, question_id: str) -> Question | None:
        """A question the caller's group may see: the bank's without reading the store,
        else one of the group's own."""
        return self.content.by_id.get(question_id) or self.bank.by_id.get(question_id)
