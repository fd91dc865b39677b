"""Due-post planning: which posts are due now, each group in its own local time.

A tick reads only the groups whose next due instant (`groups.next_due_at`, kept by
`bot/due_times.py`) has come, through its index, so an idle tick costs the same among a
hundred thousand groups as among a thousand. What is due is worked out on the group's
local today and yesterday (so a post due just before midnight is still caught up), once
for all the groups that share a schedule and were due at the same instant, and written
(`scheduler/plan_writes.py`) with the groups' next due instants, one transaction per
batch, keyed so that each post exists once however many ticks, restarts or clocks see
it. Posts older than the grace window are recorded as skipped (and logged) instead of
sent late. A group whose members' DMs (a weekly DM in an early timezone, a reminder at a
member's own time) may come before its next channel post is planned member by member
(`scheduler/member_dues.py`), and so are the leads' digests that come with the weekly
board.

The question a daily post asks is chosen when the post is composed (`bot.features.posts`),
as `/study today` does, not here: planning costs about what writing its rows costs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, bindparam, case, cast, false, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from bot.cohort import is_post_day
from bot.content.models import Content
from bot.due_times import LOOKBACK, ChannelPost, DueTimes, Schedule, local_due
from bot.store.models import Group, Workspace
from bot.store.models.base import TS
from bot.store.prepared import Prepared
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import as_utc
from scheduler.member_dues import digest_dues, member_dues, reminding
from scheduler.plans import ChannelDue, Cohort, DueGroup, Plan

DEFAULT_GRACE = timedelta(hours=6)
BATCH = 1000  # groups planned per transaction: short write locks, early delivery
_TICK = timedelta(microseconds=1)


_RECENT: BindParameter[datetime] = bindparam("recent", type_=TS)
_COLUMNS = (
    Group.id,
    Group.workspace_id,
    Group.channel_id,
    Group.tz,
    Group.post_time,
    Group.post_days,
    cast(Group.skip_dates, String),  # JSON as text: the same from both drivers, hashable
    Group.summary_day,
    Group.start_date,
    Group.exam_date,
    case((Group.created_at > _RECENT, Group.created_at), else_=None),
    Group.next_due_at,
)
_ACTIVE = Group.paused == false()  # `= false`, which the index serves (`IS false` it does not)
# Two index look-ups: the groups whose next due instant has come, a page at a time, and
# those without one yet (made before it was kept, or written by something that does not
# keep it). A page is the earliest due, in the index's order: PostgreSQL then walks the
# index, which marks the entries a morning's updates left dead so later ticks step over
# them. Unpaged, with statistics from before the morning, it chose a bitmap scan, which
# marks nothing, and every idle tick read the morning's 10,000 dead versions again
# (`python -m bench.clock`: 1.6 to 1.8 times the idle tick among 1,000 groups).
_DUE: Prepared[tuple[Any, ...]] = Prepared(
    select(*_COLUMNS)
    .where(_ACTIVE, Group.next_due_at <= bindparam("now"))
    .order_by(Group.next_due_at)
    .limit(bindparam("limit", type_=Integer))
)
_UNKNOWN: Prepared[tuple[Any, ...]] = Prepared(
    select(*_COLUMNS).where(_ACTIVE, Group.next_due_at.is_(None))
)
_ALL = 2**31 - 1


def due_groups(
    s: Session, now: datetime, limit: int | None = None, *, unknown: bool = True
) -> list[DueGroup]:
    """The active groups with something to plan now, by cohort; nothing else is read:
    the `limit` earliest due (all without one), and, with `unknown`, every group whose
    next due instant is not known yet."""
    params = {"now": now, "recent": now - LOOKBACK, "limit": _ALL if limit is None else limit}
    cohorts: dict[tuple[Any, ...], tuple[Schedule, datetime | None, datetime | None]] = {}
    out: dict[tuple[Any, ...], list[DueGroup]] = {}
    rows = _DUE.raw(s, params) if limit != 0 else []
    if unknown:
        rows += _UNKNOWN.raw(s, params)
    for raw in rows:
        key = tuple(raw[3:12])  # the schedule, the recent creation, the due instant, as read
        found = cohorts.get(key)
        if found is None:  # a cohort's values are converted once
            r = _DUE.convert(s, raw)
            skips = tuple(json.loads(r[6]) or ())
            sched = Schedule(r[3], r[4], r[5], skips, r[7] or "fri", r[8], r[9])
            found = cohorts[key] = (sched, _utc(r[10]), _utc(r[11]))
            out[key] = []
        out[key].append(DueGroup(raw[0], raw[1], raw[2], *found))
    return [g for groups in out.values() for g in groups]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def decide(
    s: Session,
    content: Content,
    now: datetime,
    grace: timedelta,
    groups: list[DueGroup],
    times: DueTimes | None = None,
) -> Plan:
    """What is due for these groups, and when each is next due. Only reads, so the clock
    runs it outside the write lock; the unique keys make a race with another clock (or a
    replay after a restart) harmless."""
    times = times or DueTimes(content)
    plan = Plan()
    plan.workspaces = {
        w.id: w for w in WorkspaceRecord.all(s, Workspace.id.in_({g.workspace_id for g in groups}))
    }
    alike: dict[tuple[Schedule, datetime | None, datetime | None], list[DueGroup]] = defaultdict(
        list
    )
    for g in groups:
        alike[(g.schedule, g.created_at, g.next_due_at)].append(g)
    reminders = reminding(s, [g.id for g in groups])
    members: dict[int, tuple[DueGroup, datetime | None]] = {}
    dms: set[int] = set()  # the groups whose members' weekly DMs may come first
    for (sched, created, seen), cohort in alike.items():
        dues = _channel_dues(times, sched, created, seen, now, grace)
        channel = times.next_channel_due(
            sched, now if created is None else max(now, created - _TICK)
        )
        since = now - LOOKBACK if seen is None else seen - _TICK
        alone = [g for g in cohort if g.id in reminders]  # a member's reminder may come first
        cohort = [g for g in cohort if g.id not in reminders]
        if channel is not None and times.dm_window_opens(sched, since) >= channel:
            if cohort:
                plan.cohorts.append(Cohort(cohort, dues, seen, channel))
        else:
            alone += cohort  # a member's DM may come first
            dms.update(g.id for g in alone)
        if alone:
            plan.cohorts.append(Cohort(alone, dues, seen, None, moves=False))
            members.update((g.id, (g, channel)) for g in alone)
    if members:
        member_dues(s, times, members, dms, reminders, plan, now, grace)
    digest_dues(s, plan, now, grace)  # after a lead's own weekly DM, a second apart
    return plan


def _channel_dues(
    times: DueTimes,
    sched: Schedule,
    created: datetime | None,
    seen: datetime | None,
    now: datetime,
    grace: timedelta,
) -> list[ChannelDue]:
    today = now.astimezone(ZoneInfo(sched.tz)).date()
    found: list[tuple[datetime, str, str, date, ChannelPost]] = []
    for day in (today - timedelta(days=1), today):
        due_at = times.instant(day, sched.post_time, sched.tz)
        if due_at > now or (created is not None and due_at < created):
            continue  # not due yet, or due before the group existed
        if seen is not None and due_at < seen:
            continue  # planned when it was due
        found += [(due_at, p.kind, p.suffix, day, p) for p in times.channel_posts(sched, day)]
    found.sort(key=lambda f: f[:3])  # as their keys sort: the order a channel gets them in
    out = []
    for slot, (due_at, _, _, day, post) in enumerate(found):
        late = now - due_at
        out.append(
            ChannelDue(post, day, due_at, "pending" if late <= grace else "skipped", late, slot)
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
