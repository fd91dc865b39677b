"""Due-post planning: which posts are due now, each group in its own local time.

One tick asks the store for every active group, works out what is due on the group's
local today and yesterday (so a post due just before midnight is still caught up), and
writes the due posts into the outbox in the same transaction, keyed so that each post
exists once however many ticks, restarts or clocks see it. Posts older than the grace
window are recorded as skipped (and logged) instead of sent late.
"""

from __future__ import annotations

import calendar as cal_mod
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cohort import calendar, is_post_day
from bot.content.models import Content
from bot.features.flags import pulled
from bot.features.rotation import pick_question
from bot.store.db import insert_ignore
from bot.store.models import (
    Answer,
    DailyQuestion,
    Group,
    Membership,
    Outbox,
    Pass,
    User,
)
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import WEEKDAYS, as_utc

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
COUNTDOWN_DAYS = (14, 7, 1)
CHANNEL_SPACING = timedelta(seconds=1.1)  # Slack allows about one post per second per channel


@dataclass
class PlanResult:
    enqueued: int = 0
    skipped: int = 0
    planned: list[Planned] = field(default_factory=list)  # the rows written, in order


@dataclass
class _Due:
    group: GroupRecord | None
    workspace: WorkspaceRecord
    kind: str
    local_date: date
    key: str
    target_kind: str  # channel | user | update
    target_id: str
    due_at: datetime
    payload: dict[str, Any]


def local_due(day: date, at: Any, tz: str) -> datetime:
    """The UTC instant of a local wall-clock time; a time skipped by DST falls after the gap."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def active_group_ids(s: Session) -> list[int]:
    return list(s.scalars(select(Group.id).where(Group.paused.is_(False)).order_by(Group.id)))


@dataclass
class Planned:
    due: _Due
    status: str  # pending | skipped
    late: timedelta
    question_id: str | None = None  # a daily question to create with the post


def decide(
    s: Session,
    content: Content,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    flag_threshold: int = 3,
    group_ids: list[int] | None = None,
) -> list[Planned]:
    """What is due and not yet in the outbox, with each new daily question chosen.

    Only reads, so the clock runs it outside the write lock; `write` then records the
    choices, and the unique keys make a race with another clock harmless."""
    where = [Group.paused.is_(False)]
    if group_ids is not None:
        where.append(Group.id.in_(group_ids))
    groups = GroupRecord.all(s, *where)
    workspaces = {w.id: w for w in WorkspaceRecord.all(s)}
    dues: list[_Due] = []
    for g in groups:
        dues += _group_dues(content, g, workspaces[g.workspace_id], now)
    dues += _member_dues(s, content, groups, workspaces, now)
    dues += _update_dues(s, now, [g.id for g in groups])
    keys = [d.key for d in dues]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        existing |= set(
            s.scalars(select(Outbox.idem_key).where(Outbox.idem_key.in_(keys[i : i + 500])))
        )
    todo = [d for d in sorted(dues, key=lambda d: (d.due_at, d.key)) if d.key not in existing]
    daily_groups = [d.group.id for d in todo if d.kind == "daily" and d.group is not None]
    have: set[tuple[int, date]] = set()
    if daily_groups:
        have = {
            (gid, day)
            for gid, day in s.execute(
                select(DailyQuestion.group_id, DailyQuestion.local_date).where(
                    DailyQuestion.group_id.in_(daily_groups),
                    DailyQuestion.local_date >= (now - timedelta(days=2)).date(),
                )
            ).all()
        }
    excluded = content.retired | pulled(s, flag_threshold)
    out: list[Planned] = []
    for d in todo:
        late = now - d.due_at
        p = Planned(d, "pending" if late <= grace else "skipped", late)
        new_daily = d.kind == "daily" and d.group is not None and p.status == "pending"
        if new_daily and d.group is not None and (d.group.id, d.local_date) not in have:
            p.question_id = pick_question(content, s, d.group, d.local_date, excluded).id
        out.append(p)
    return out


def write(s: Session, planned: list[Planned], now: datetime) -> PlanResult:
    """Record the decided posts (and new daily questions) in this transaction."""
    result = PlanResult()
    spacing: dict[str, int] = {}
    for p in planned:
        d = p.due
        if p.status == "pending" and d.kind == "daily" and d.group is not None:
            if p.question_id is not None:
                insert_ignore(
                    s,
                    DailyQuestion,
                    {
                        "workspace_id": d.group.workspace_id,
                        "group_id": d.group.id,
                        "local_date": d.local_date,
                        "question_id": p.question_id,
                        "created_at": now,
                    },
                    ["group_id", "local_date"],
                )
            daily_id = s.scalar(
                select(DailyQuestion.id).where(
                    DailyQuestion.group_id == d.group.id, DailyQuestion.local_date == d.local_date
                )
            )
            d.payload["daily_id"] = daily_id
        slot = spacing.get(d.target_id, 0)
        spacing[d.target_id] = slot + 1
        inserted = insert_ignore(
            s,
            Outbox,
            {
                "workspace_id": d.workspace.id,
                "group_id": d.group.id if d.group else None,
                "platform": d.workspace.platform,
                "target_kind": d.target_kind,
                "target_id": d.target_id,
                "kind": d.kind,
                "local_date": d.local_date,
                "idem_key": d.key,
                "payload": d.payload,
                "status": p.status,
                "attempts": 0,
                "next_attempt_at": now + slot * CHANNEL_SPACING,
                "created_at": now,
                "last_error": None if p.status == "pending" else f"missed by {p.late}",
            },
            ["idem_key"],
        )
        if not inserted:
            continue
        result.planned.append(p)
        if p.status == "pending":
            result.enqueued += 1
        else:
            result.skipped += 1
            log.warning(
                "skipped %s: due %s, %s ago, beyond the grace window",
                d.key,
                d.due_at.isoformat(),
                p.late,
            )
    return result


def _group_dues(content: Content, g: GroupRecord, ws: WorkspaceRecord, now: datetime) -> list[_Due]:
    out: list[_Due] = []
    today = now.astimezone(ZoneInfo(g.tz)).date()
    cal = calendar(content.phases, g.start_date, g.exam_date)
    for day in (today - timedelta(days=1), today):
        if day < g.start_date:
            continue
        due_at = local_due(day, g.post_time, g.tz)
        if due_at > now or due_at < as_utc(g.created_at):
            continue  # not due yet, or due before the group existed

        def add(
            kind: str, key: str, payload: dict[str, Any], day: date = day, due_at: datetime = due_at
        ) -> None:
            out.append(_Due(g, ws, kind, day, key, "channel", g.channel_id, due_at, payload))

        if is_post_day(day, g.post_days, g.skip_dates or []):
            add("daily", f"daily:{g.id}:{day}", {})
        for span in cal.spans:
            n = span.phase.number
            if day == span.start:
                add("milestone", f"milestone:{g.id}:{n}:start", {"phase": n, "edge": "start"})
            if day == span.end - timedelta(days=1):
                add("milestone", f"milestone:{g.id}:{n}:end", {"phase": n, "edge": "end"})
        if g.exam_date is not None:
            left = (g.exam_date - day).days
            if left in COUNTDOWN_DAYS:
                add("countdown", f"countdown:{g.id}:{g.exam_date}:{left}", {"days": left})
        if WEEKDAYS[day.weekday()] == (g.summary_day or "fri"):
            add("weekly", f"weekly:{g.id}:{day}", {"period": "week"})
        if day.day == cal_mod.monthrange(day.year, day.month)[1]:
            add("monthly", f"monthly:{g.id}:{day:%Y-%m}", {"period": "month"})
    return out


def _member_dues(
    s: Session,
    content: Content,
    groups: list[GroupRecord],
    workspaces: dict[int, WorkspaceRecord],
    now: datetime,
) -> list[_Due]:
    """Weekly progress DMs and recertification reminders, in each member's own timezone."""
    out: list[_Due] = []
    by_id = {g.id: g for g in groups}
    if not by_id:
        return out
    near = {WEEKDAYS[(now + timedelta(days=k)).weekday()] for k in (-1, 0, 1)}
    summary_groups = [g.id for g in groups if (g.summary_day or "fri") in near]
    if summary_groups:
        rows = s.execute(
            select(Membership.group_id, User.id, User.external_id, User.tz)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.group_id.in_(summary_groups),
                Membership.active.is_(True),
                User.dm_enabled.is_(True),
            )
        ).all()
        for group_id, user_id, external_id, tz in rows:
            g = by_id[group_id]
            tz = tz or g.tz
            today = now.astimezone(ZoneInfo(tz)).date()
            for day in (today - timedelta(days=1), today):
                if WEEKDAYS[day.weekday()] != (g.summary_day or "fri") or day < g.start_date:
                    continue
                due_at = local_due(day, g.post_time, tz)
                if due_at <= now:
                    out.append(
                        _Due(
                            g,
                            workspaces[g.workspace_id],
                            "progress_dm",
                            day,
                            f"progress_dm:{g.id}:{user_id}:{day}",
                            "user",
                            external_id,
                            due_at,
                            {"user_id": user_id},
                        )
                    )
    today = now.date()
    passes = s.execute(  # passes around their two-year anniversary (a day's slack each side)
        select(Pass, User.external_id, User.tz)
        .join(User, User.id == Pass.user_id)
        .where(
            Pass.passed_on >= today - timedelta(days=733),
            Pass.passed_on <= today - timedelta(days=729),
        )
    ).all()
    for p, external_id, tz in passes:
        years = content.track(p.track).exam.recert_years
        try:
            due_day = p.passed_on.replace(year=p.passed_on.year + years)
        except ValueError:  # 29 February
            due_day = p.passed_on.replace(year=p.passed_on.year + years, day=28)
        pass_group = by_id.get(p.group_id) if p.group_id else None
        zone = tz or (pass_group.tz if pass_group else "UTC")
        if now.astimezone(ZoneInfo(zone)).date() < due_day:
            continue
        post_time = pass_group.post_time if pass_group else datetime.min.time().replace(hour=9)
        out.append(
            _Due(
                pass_group,
                workspaces[p.workspace_id],
                "recert",
                due_day,
                f"recert:{p.id}",
                "user",
                external_id,
                local_due(due_day, post_time, zone),
                {"track": p.track, "passed_on": p.passed_on.isoformat()},
            )
        )
    return out


def _update_dues(s: Session, now: datetime, group_ids: list[int]) -> list[_Due]:
    """Refresh "N answered" on today's posts when the count has moved (one pending at a time)."""
    if not group_ids:
        return []
    posts = s.scalars(
        select(Outbox).where(
            Outbox.group_id.in_(group_ids),
            Outbox.kind == "daily",
            Outbox.status == "sent",
            Outbox.sent_at >= now - timedelta(hours=36),
            Outbox.message_id.is_not(None),
        )
    ).all()
    if not posts:
        return []
    daily_ids = [int(p.payload["daily_id"]) for p in posts]
    counts = dict(
        s.execute(
            select(Answer.daily_id, func.count())
            .where(Answer.daily_id.in_(daily_ids))
            .group_by(Answer.daily_id)
        ).all()
    )
    pending = set(
        s.scalars(
            select(Outbox.target_id).where(
                Outbox.kind == "update",
                Outbox.status.in_(("pending", "sending")),
                Outbox.target_id.in_([p.message_id for p in posts]),
            )
        )
    )
    workspaces = {w.id: w for w in WorkspaceRecord.all(s)}
    out: list[_Due] = []
    for p in posts:
        n = int(counts.get(int(p.payload["daily_id"]), 0))
        if n == 0 or p.message_id in pending:
            continue
        assert p.message_id is not None
        out.append(
            _Due(
                None,
                workspaces[p.workspace_id],
                "update",
                p.local_date,
                f"update:{p.id}:{n}",
                "update",
                p.message_id,
                now,
                {
                    "daily_id": p.payload["daily_id"],
                    "channel_id": p.target_id,
                    "count": n,
                    "group_id": p.group_id,
                },
            )
        )
    return out


def next_due(g: GroupRecord, now: datetime) -> datetime | None:
    """When the group's next daily question is due (UTC), or None while paused."""
    if g.paused:
        return None
    today = now.astimezone(ZoneInfo(g.tz)).date()
    for i in range(0, 400):
        day = max(today, g.start_date) + timedelta(days=i)
        if is_post_day(day, g.post_days, g.skip_dates or []):
            due = local_due(day, g.post_time, g.tz)
            if due > now:
                return due
    return None
