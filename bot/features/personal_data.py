"""What studybot stores about a member of a workspace: its export and its erasure.

Everything is in `SECTIONS` (one entry per table keyed by the member's user row), the
clock's posts addressed to them, the groups that name them as a lead or creator, and their
user row. The export and the erasure read the same list, so neither can miss a table the
other knows; tests/features/test_mydata.py fails when a table with a user key is missing
from it. The JSON keys are a contract, listed in docs/member-data.md. Members reach this
through `/study mydata` and `/study forget` (bot/features/mydata.py), operators through
`studybot data export|forget` (bot/cli_data.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select, update
from sqlalchemy.orm import Session

from bot.store.models import (
    Answer,
    Away,
    Base,
    ChecklistMark,
    ExamAnswer,
    ExamAttempt,
    Flag,
    Group,
    Membership,
    Outbox,
    Pass,
    QuizAnswer,
    QuizSession,
    ReviewAnswer,
    ReviewCard,
    ReviewSession,
    User,
    Workspace,
)
from bot.store.records import UserRecord, WorkspaceRecord
from bot.timeutil import as_utc

FORMAT = "studybot-member-data"
VERSION = 1


@dataclass(frozen=True)
class Section:
    """One kind of row in the export: its key, what one row is called, the table, and the
    exported values as `key=column` (or `column`, same name); a `group_id` shows as the
    group's channel id."""

    key: str
    label: str
    model: type[Base]
    spec: str
    plural: str = ""

    def count(self, n: int) -> str:
        return f"{n} {self.label if n == 1 else self.plural or self.label + 's'}"

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    @property
    def fields(self) -> list[tuple[str, str]]:
        return [(f.partition("=")[0], f.partition("=")[2] or f) for f in self.spec.split()]

    def mine(self, m: Member) -> ColumnElement[bool]:
        if self.model is Outbox:  # addressed by the platform's id, not the user row
            c = self.table.c
            return (
                (c.workspace_id == m.workspace.id)
                & (c.target_kind == "user")
                & (c.target_id == m.user.external_id)
            )
        return self.table.c.user_id == m.user.id


# In erasure order: rows that point at others (answers at their sets) go first.
SECTIONS: tuple[Section, ...] = (
    Section(
        "memberships",
        "group membership",
        Membership,
        "channel=group_id active joined_at reminder=remind_at",
    ),
    Section("away", "away period", Away, "start=start_date end=end_date"),
    Section(
        "passes",
        "recorded pass",
        Pass,
        "track passed_on channel=group_id recorded_at=created_at",
        "recorded passes",
    ),
    Section(
        "daily_answers",
        "daily answer",
        Answer,
        "channel=group_id date=local_date question_id chosen=choice right=correct points "
        "answered_at",
    ),
    Section(
        "quiz_answers",
        "quiz answer",
        QuizAnswer,
        "set=session_id position channel=group_id date=local_date question_id chosen=choice "
        "right=correct points answered_at",
    ),
    Section("quiz_sets", "quiz set", QuizSession, "id channel=group_id question_ids created_at"),
    Section(
        "review_answers",
        "review answer",
        ReviewAnswer,
        "set=session_id position question_id chosen=choice right=correct answered_at",
    ),
    Section(
        "review_sets", "review set", ReviewSession, "id channel=group_id question_ids created_at"
    ),
    Section(
        "review_cards",
        "review card",
        ReviewCard,
        "question_id state step stability difficulty due last_review last_rating reps lapses",
    ),
    Section(
        "mock_exam_answers",
        "mock exam answer",
        ExamAnswer,
        "exam=attempt_id position question_id domain chosen=choice flagged shown_at "
        "answered_at right=correct",
    ),
    Section(
        "mock_exams",
        "mock exam",
        ExamAttempt,
        "id channel=group_id track guide status question_ids minutes pass_mark=passing "
        "position started_at deadline finished_at correct total",
    ),
    Section(
        "flags",
        "question report",
        Flag,
        "question_id channel=group_id reason seen_in chosen filed_at=created_at reviewed_at",
    ),
    Section("checklist", "checklist tick", ChecklistMark, "item=item_id ticked_at=checked_at"),
    Section(
        "direct_messages",
        "post addressed to you",
        Outbox,
        "kind date=local_date status channel=group_id created_at due=next_attempt_at sent_at",
        "posts addressed to you",
    ),
)


@dataclass(frozen=True)
class Member:
    """A member as operators and the commands find them: the user row and its workspace."""

    user: UserRecord
    workspace: WorkspaceRecord

    @property
    def label(self) -> str:
        ws = self.workspace
        return (
            f"{self.user.external_id} ({self.user.display_name}) in {ws.platform}:{ws.external_id}"
        )


def find_member(s: Session, platform: str, workspace: str, user: str) -> Member | None:
    """The member by the platform's own ids, or None: a look-up never creates anyone."""
    ws = WorkspaceRecord.all(s, Workspace.platform == platform, Workspace.external_id == workspace)
    if not ws:
        return None
    found = UserRecord.all(s, User.workspace_id == ws[0].id, User.external_id == user)
    return Member(found[0], ws[0]) if found else None


def export_name(m: Member) -> str:
    """The file's name: the member's platform id, kept to safe characters."""
    return "studybot-data-" + re.sub(r"[^A-Za-z0-9_-]+", "-", m.user.external_id) + ".json"


def _value(value: Any) -> Any:
    """Dates as ISO dates, times as ISO times in UTC (SQLite hands them back naive), a
    time of day as HH:MM (a reminder's, in the member's timezone)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return value.isoformat() if isinstance(value, date) else value


def export(s: Session, m: Member, now: datetime) -> dict[str, Any]:
    """Everything stored about the member, under the keys docs/member-data.md lists."""
    channels = dict(
        s.execute(
            select(Group.id, Group.channel_id).where(Group.workspace_id == m.workspace.id)
        ).all()
    )
    first_seen = s.scalar(select(User.created_at).where(User.id == m.user.id))
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "member": {
            "platform": m.workspace.platform,
            "workspace": m.workspace.external_id,
            "user_id": m.user.external_id,
            "display_name": m.user.display_name,
            "timezone": m.user.tz,
            "weekly_dm": m.user.dm_enabled,
            "first_seen": _value(first_seen),
        },
        "lead_of": [
            {"channel": g.channel, "named_lead": g.named, "created": g.created}
            for g in led_groups(s, m)
        ],
    }
    for sec in SECTIONS:
        fields = sec.fields
        q = select(*(sec.table.c[col] for _, col in fields)).where(sec.mine(m))
        data[sec.key] = [
            {
                key: channels.get(v) if col == "group_id" and v is not None else _value(v)
                for (key, col), v in zip(fields, row, strict=True)
            }
            for row in s.execute(q.order_by(sec.table.c.id))
        ]
    return data


def export_json(s: Session, m: Member, now: datetime) -> str:
    return json.dumps(export(s, m, now), indent=2, ensure_ascii=False) + "\n"


def counts(s: Session, m: Member) -> dict[str, int]:
    """How many rows of each kind the member has (what erasure removes) by export key,
    zeros left out."""
    found: dict[str, int] = {}
    for sec in SECTIONS:
        n = int(s.scalar(select(func.count()).select_from(sec.table).where(sec.mine(m))) or 0)
        if n:
            found[sec.key] = n
    return found


def summary(found: Mapping[str, int]) -> str:
    """`your settings and 3 daily answers, 1 review card`: what is stored, in words."""
    if not found:
        return "your settings (nothing else yet)"
    words = [sec.count(found[sec.key]) for sec in SECTIONS if found.get(sec.key)]
    return "your settings and " + ", ".join(words)


@dataclass(frozen=True)
class Led:
    id: int
    channel: str
    leads: list[str]
    created_by: str
    named: bool
    created: bool


def led_groups(s: Session, m: Member) -> list[Led]:
    """The workspace's groups that name the member as a lead, or were created by them
    (the creator is a lead too, `Ctx.is_lead`)."""
    me = m.user.external_id
    rows = s.execute(
        select(Group.id, Group.channel_id, Group.leads, Group.created_by)
        .where(Group.workspace_id == m.workspace.id)
        .order_by(Group.id)
    ).all()
    out = []
    for gid, channel, leads, by in rows:
        leads = list(leads or [])
        if me in leads or by == me:
            out.append(Led(gid, channel, leads, by, me in leads, by == me))
    return out


@dataclass(frozen=True)
class Erased:
    rows: dict[str, int]
    leaderless: list[str]  # channels that now name no lead (channel admins still are)


def erase(s: Session, m: Member) -> Erased:
    """Delete everything stored about the member in the caller's one transaction: every
    section's rows, their place in groups' leads, and their user row last. Leaderboards,
    "N answered" counts and reveals are computed from these tables, so they reflect it at
    once."""
    found = counts(s, m)
    for sec in SECTIONS:
        s.execute(delete(sec.table).where(sec.mine(m)))
    leaderless = []
    me = m.user.external_id
    for g in led_groups(s, m):
        rest = [x for x in g.leads if x != me]
        creator = "" if g.created else g.created_by
        if not rest and not creator:
            leaderless.append(g.channel)
        s.execute(update(Group).where(Group.id == g.id).values(leads=rest, created_by=creator))
    s.execute(delete(User).where(User.id == m.user.id))
    return Erased(found, leaderless)
