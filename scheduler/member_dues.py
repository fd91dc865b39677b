"""Posts planned member by member: weekly progress DMs, members' reminders at their own
time, and the leads' weekly digest; and the next due instants of groups whose members'
DMs may come before their next channel post.

Groups are planned by cohort (`scheduler/due.py`) until a member-level DM may come first:
a weekly DM in an early timezone, or a member's reminder. Those groups' members are read
here (a reminder's look-up goes through `ix_memberships_remind`, so groups without one
cost one index probe each), and each group moves on to the earliest of its next channel
post, its members' next weekly DMs and their next reminders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select, true
from sqlalchemy.orm import Session

from bot.due_times import DueTimes
from bot.store.models import Answer, Away, Group, Membership, User
from bot.timeutil import WEEKDAYS
from scheduler.plans import DueGroup, Plan, _Due, among, planned


def reminding(s: Session, group_ids: list[int]) -> set[int]:
    """Which of these groups have a member with a reminder set (through its index)."""
    if not group_ids:
        return set()
    return set(
        s.scalars(
            select(Membership.group_id)
            .where(
                among(s, Membership.group_id, group_ids),
                Membership.remind_at.is_not(None),
                Membership.active.is_(True),
            )
            .distinct()
        )
    )


def digest_dues(s: Session, plan: Plan, now: datetime, grace: timedelta) -> None:
    """The weekly lead digest: a DM to each lead (the named ones, else the group's
    creator) of a group whose weekly board is due, once per lead and ISO week."""
    weekly = [(c, d) for c in plan.cohorts for d in c.dues if d.post.kind == "weekly"]
    if not weekly:
        return
    ids = [g.id for c, _ in weekly for g in c.groups]
    leads = {
        gid: [x for x in (named or [creator]) if x]
        for gid, named, creator in s.execute(
            select(Group.id, Group.leads, Group.created_by).where(
                among(s, Group.id, ids), Group.digest == true()
            )
        )
    }
    for cohort, due in weekly:
        year, week, _ = due.local_date.isocalendar()
        for g in cohort.groups:
            ws = plan.workspaces[g.workspace_id]
            for lead in leads.get(g.id, ()):
                key = f"digest:{g.id}:{lead}:{year}-W{week:02d}"
                d = _Due(g, ws, "digest", due.local_date, key, "user", lead, due.due_at, {})
                plan.posts.append(planned(d, now, grace))


def member_dues(
    s: Session,
    times: DueTimes,
    groups: dict[int, tuple[DueGroup, datetime | None]],
    dms: set[int],
    reminding: set[int],
    plan: Plan,
    now: datetime,
    grace: timedelta,
) -> None:
    """Weekly progress DMs, each at the group's post time in the member's own timezone
    (in `dms`, the groups where one may come before the next channel post), and members'
    reminders; and the groups' next due instants, their members' next DMs taken into
    account."""
    rows: Sequence[Row[int, int, str, str | None]] = ()
    if dms:
        rows = s.execute(
            select(Membership.group_id, User.id, User.external_id, User.tz)
            .join(User, User.id == Membership.user_id)
            .where(
                among(s, Membership.group_id, dms),
                Membership.active.is_(True),
                User.dm_enabled.is_(True),
            )
        ).all()
    zones: dict[int, set[str]] = {gid: set() for gid in groups}
    for group_id, user_id, external_id, tz in rows:
        g, _ = groups[group_id]
        sched = g.schedule
        zone = tz or sched.tz
        zones[group_id].add(zone)
        today = now.astimezone(ZoneInfo(zone)).date()
        for day in (today - timedelta(days=1), today):
            if WEEKDAYS[day.weekday()] != sched.summary_day or day < sched.start_date:
                continue
            due_at = times.instant(day, sched.post_time, zone)
            if due_at > now or (g.next_due_at is not None and due_at < g.next_due_at):
                continue
            key = f"progress_dm:{g.id}:{user_id}:{day}"
            ws = plan.workspaces[g.workspace_id]
            due = _Due(
                g, ws, "progress_dm", day, key, "user", external_id, due_at, {"user_id": user_id}
            )
            plan.posts.append(planned(due, now, grace))
    later = _reminder_dues(s, times, groups, reminding & groups.keys(), plan, now, grace)
    for gid, (g, channel) in groups.items():
        weekly = [times.next_dm_due(g.schedule, z, now) for z in zones[gid]]
        nxt = min([d for d in (channel, *weekly, *later[gid]) if d is not None], default=None)
        plan.moves.append((gid, g.next_due_at, nxt))


def _reminder_dues(
    s: Session,
    times: DueTimes,
    groups: dict[int, tuple[DueGroup, datetime | None]],
    reminding: set[int],
    plan: Plan,
    now: datetime,
    grace: timedelta,
) -> dict[int, list[datetime | None]]:
    """Members' reminders due now: on the member's own day it is for (never caught up
    once that day is over), while they are in the group, not away, and have not answered
    the day's question; and each group's members' next reminders."""
    later: dict[int, list[datetime | None]] = defaultdict(list)
    if not reminding:
        return later
    rows = s.execute(
        select(Membership.group_id, Membership.remind_at, User.id, User.external_id, User.tz)
        .join(User, User.id == Membership.user_id)
        .where(
            among(s, Membership.group_id, reminding),
            Membership.remind_at.is_not(None),
            Membership.active.is_(True),
        )
    ).all()
    due: list[tuple[DueGroup, int, str, date, datetime]] = []
    for group_id, at, user_id, external_id, tz in rows:
        if at is None:  # the query leaves none out; the type does not know
            continue
        g, _ = groups[group_id]
        zone = tz or g.schedule.tz
        later[group_id].append(times.next_reminder_due(g.schedule, zone, at, now))
        today = now.astimezone(ZoneInfo(zone)).date()
        due_at = times.reminder_at(g.schedule, zone, at, today)
        if due_at is None or due_at > now:
            continue
        if g.next_due_at is not None and due_at < g.next_due_at:
            continue  # planned when it was due
        due.append((g, user_id, external_id, today, due_at))
    if not due:
        return later
    users = list({u for _, u, _, _, _ in due})
    days = list({d for _, _, _, d, _ in due})
    answered = {
        (u, g, d)
        for u, g, d in s.execute(
            select(Answer.user_id, Answer.group_id, Answer.local_date).where(
                Answer.user_id.in_(users),
                Answer.group_id.in_(list({g.id for g, *_ in due})),
                Answer.local_date.in_(days),
            )
        )
    }
    away = s.execute(
        select(Away.user_id, Away.start_date, Away.end_date).where(
            Away.user_id.in_(users), Away.end_date >= min(days), Away.start_date <= max(days)
        )
    ).all()
    for g, user_id, external_id, day, due_at in due:
        if (user_id, g.id, day) in answered:
            continue
        if any(u == user_id and start <= day <= end for u, start, end in away):
            continue
        key = f"reminder:{g.id}:{user_id}:{day}"
        ws = plan.workspaces[g.workspace_id]
        d = _Due(g, ws, "reminder", day, key, "user", external_id, due_at, {"user_id": user_id})
        plan.posts.append(planned(d, now, grace))
    return later
