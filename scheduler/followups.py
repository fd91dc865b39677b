"""Posts a tick plans that follow what members did rather than a group's post time.

- "N answered so far" on today's posts, refreshed when the count has moved (one pending
  at a time): only daily questions answered since the clock last looked are counted,
  through the index on answers by time, so the cost follows the clicks.
- Recertification reminders, two years after a recorded pass, through the index on
  passes by date.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from bot.content.models import Content
from bot.due_times import local_due
from bot.store.models import Answer, DailyQuestion, Group, Outbox, Pass, User, Workspace
from bot.store.records import GroupRecord, WorkspaceRecord
from scheduler.plans import DueGroup, Plan, _Due, planned

UPDATE_WINDOW = timedelta(hours=36)  # posts older than this keep their last count
ANSWERS_MARGIN = timedelta(minutes=5)  # clicks committed late, and clocks a little apart
RECERT_TIME = time(9, 0)  # for a pass recorded outside any group
_IN = 500  # values per IN list


def decide_followups(
    s: Session, content: Content, now: datetime, grace: timedelta, answered_since: datetime
) -> Plan:
    dues = _update_dues(s, now, answered_since) + _recert_dues(s, content, now)
    dues.sort(key=lambda d: (d.due_at, d.key))
    return Plan(posts=[planned(d, now, grace) for d in dues])


def _chunks(values: list[int] | list[str]) -> list[list[int] | list[str]]:
    return [values[i : i + _IN] for i in range(0, len(values), _IN)]


def _update_dues(s: Session, now: datetime, since: datetime) -> list[_Due]:
    answered = list(s.scalars(select(Answer.daily_id).where(Answer.answered_at > since).distinct()))
    if not answered:
        return []
    keys: dict[str, int] = {}  # the daily post's key, for its question
    for part in _chunks(answered):
        for daily_id, group_id, day in s.execute(
            select(DailyQuestion.id, DailyQuestion.group_id, DailyQuestion.local_date)
            .join(Group, Group.id == DailyQuestion.group_id)
            .where(DailyQuestion.id.in_(part), Group.paused == false())
        ):
            keys[f"daily:{group_id}:{day}"] = daily_id
    posts: list[Outbox] = []
    for part in _chunks(list(keys)):
        posts += s.scalars(
            select(Outbox).where(
                Outbox.idem_key.in_(part),
                Outbox.status == "sent",
                Outbox.sent_at >= now - UPDATE_WINDOW,
                Outbox.message_id.is_not(None),
            )
        ).all()
    if not posts:
        return []
    daily_ids = [keys[p.idem_key] for p in posts]
    counts: dict[int, int] = {}
    for part in _chunks(daily_ids):
        counts.update(
            s.execute(
                select(Answer.daily_id, func.count())
                .where(Answer.daily_id.in_(part))
                .group_by(Answer.daily_id)
            ).all()
        )
    pending: set[str] = set()
    for part in _chunks([str(p.message_id) for p in posts]):
        pending |= set(
            s.scalars(
                select(Outbox.target_id).where(
                    Outbox.kind == "update",
                    Outbox.status.in_(("pending", "sending")),
                    Outbox.target_id.in_(part),
                )
            )
        )
    workspaces = {
        w.id: w for w in WorkspaceRecord.all(s, Workspace.id.in_({p.workspace_id for p in posts}))
    }
    out: list[_Due] = []
    for p in posts:
        daily_id = keys[p.idem_key]
        n = int(counts.get(daily_id, 0))
        if n == 0 or p.message_id is None or p.message_id in pending:
            continue
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
                    "daily_id": daily_id,
                    "channel_id": p.target_id,
                    "count": n,
                    "group_id": p.group_id,
                },
            )
        )
    return out


def _recert_dues(s: Session, content: Content, now: datetime) -> list[_Due]:
    """Reminders for passes around their anniversary (a day's slack each side), due in the
    member's timezone from the start of the day, at the group's post time."""
    today = now.date()
    passes = s.execute(
        select(Pass, User.external_id, User.tz)
        .join(User, User.id == Pass.user_id)
        .where(
            Pass.passed_on >= today - timedelta(days=733),
            Pass.passed_on <= today - timedelta(days=729),
        )
    ).all()
    if not passes:
        return []
    group_ids = {p.group_id for p, _, _ in passes if p.group_id}
    groups = {g.id: g for g in GroupRecord.all(s, Group.id.in_(group_ids))} if group_ids else {}
    workspaces = {
        w.id: w
        for w in WorkspaceRecord.all(s, Workspace.id.in_({p.workspace_id for p, _, _ in passes}))
    }
    out: list[_Due] = []
    for p, external_id, tz in passes:
        years = content.track(p.track).exam.recert_years
        try:
            due_day = p.passed_on.replace(year=p.passed_on.year + years)
        except ValueError:  # 29 February
            due_day = p.passed_on.replace(year=p.passed_on.year + years, day=28)
        record = groups.get(p.group_id) if p.group_id else None
        group = DueGroup.of(record) if record else None
        zone = tz or (record.tz if record else "UTC")
        if now.astimezone(ZoneInfo(zone)).date() < due_day:
            continue  # not yet the due day where the member is
        post_time = record.post_time if record else RECERT_TIME
        out.append(
            _Due(
                group,
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
