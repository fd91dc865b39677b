"""Due-post planning: which posts are due now, each group in its own local time.

A tick reads only the groups whose next due instant (`groups.next_due_at`, kept by
`bot/due_times.py`) has come, through its index, so an idle tick costs the same among a
hundred thousand groups as among a thousand. What is due is worked out on the group's
local today and yesterday (so a post due just before midnight is still caught up), once
for all the groups that share a schedule and were due at the same instant, and written
(`scheduler/plan_writes.py`) with the groups' next due instants, one transaction per
batch, keyed so that each post exists once however many ticks, restarts or clocks see
it. Posts older than the grace window are recorded as skipped (and logged) instead of
sent late.

The question a daily post asks is chosen when the post is composed (`bot.features.posts`),
as `/study today` does, not here: planning costs about what writing its rows costs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, case, cast, false, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from bot.cohort import is_post_day
from bot.content.models import Content
from bot.due_times import LOOKBACK, ChannelPost, DueTimes, Schedule, local_due
from bot.store.models import Group, Membership, User, Workspace
from bot.store.models.base import TS
from bot.store.prepared import Prepared
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import WEEKDAYS, as_utc

DEFAULT_GRACE = timedelta(hours=6)
BATCH = 1000  # groups planned per transaction: short write locks, early delivery
_TICK = timedelta(microseconds=1)


class DueGroup(NamedTuple):
    """What planning reads of a group (read by the thousand at a morning's peak)."""

    id: int
    workspace_id: int
    channel_id: str
    schedule: Schedule
    created_at: datetime | None  # None: made long before anything planning looks at
    next_due_at: datetime | None  # as read: the write checks it is unchanged

    @classmethod
    def of(cls, g: GroupRecord, next_due_at: datetime | None = None) -> DueGroup:
        created = as_utc(g.created_at)
        return cls(g.id, g.workspace_id, g.channel_id, Schedule.of(g), created, next_due_at)


@dataclass(slots=True)
class _Due:
    group: DueGroup | None
    workspace: WorkspaceRecord
    kind: str
    local_date: date
    key: str
    target_kind: str  # channel | user | update
    target_id: str
    due_at: datetime
    payload: dict[str, Any]  # shared by the posts of a kind: read, never change


@dataclass(slots=True)
class Planned:
    due: _Due
    status: str  # pending | skipped
    late: timedelta


@dataclass
class PlanResult:
    enqueued: int = 0
    skipped: int = 0
    planned: list[Planned] = field(default_factory=list)  # the rows written, in order


@dataclass(frozen=True, slots=True)
class ChannelDue:
    """A channel post due for every group of a `Cohort`: one row each, made together."""

    post: ChannelPost
    local_date: date
    due_at: datetime
    status: str
    late: timedelta
    slot: int  # its place among the cohort's posts to one channel (they are spaced)


@dataclass
class Cohort:
    """Groups that share a schedule and were due at the same instant: what is due for one
    is due for all, and they move on to the same next due instant."""

    groups: list[DueGroup]
    dues: list[ChannelDue]
    seen: datetime | None
    next_due_at: datetime | None
    moves: bool = True  # False: each group's next due instant depends on its members


@dataclass
class Plan:
    """What one batch writes: channel posts by cohort, posts made one by one (members'
    DMs, answer counts, reminders), and the next due instants of groups planned alone
    (each written only where it is still the one read, so a settings change made
    meanwhile wins)."""

    cohorts: list[Cohort] = field(default_factory=list)
    posts: list[Planned] = field(default_factory=list)
    moves: list[tuple[int, datetime | None, datetime | None]] = field(default_factory=list)
    workspaces: dict[int, WorkspaceRecord] = field(default_factory=dict)


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
# Two index look-ups: the groups whose next due instant has come, and those without one yet
# (made before it was kept, or written by something that does not keep it).
_DUE: Prepared[tuple[Any, ...]] = Prepared(
    select(*_COLUMNS).where(_ACTIVE, Group.next_due_at <= bindparam("now"))
)
_UNKNOWN: Prepared[tuple[Any, ...]] = Prepared(
    select(*_COLUMNS).where(_ACTIVE, Group.next_due_at.is_(None))
)


def due_groups(s: Session, now: datetime) -> list[DueGroup]:
    """The active groups with something to plan now, by cohort; nothing else is read."""
    params = {"now": now, "recent": now - LOOKBACK}
    cohorts: dict[tuple[Any, ...], tuple[Schedule, datetime | None, datetime | None]] = {}
    out: dict[tuple[Any, ...], list[DueGroup]] = {}
    for raw in _DUE.raw(s, params) + _UNKNOWN.raw(s, params):
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


def planned(due: _Due, now: datetime, grace: timedelta) -> Planned:
    late = now - due.due_at
    return Planned(due, "pending" if late <= grace else "skipped", late)


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
    members: dict[int, tuple[DueGroup, datetime | None]] = {}
    for (sched, created, seen), cohort in alike.items():
        dues = _channel_dues(times, sched, created, seen, now, grace)
        channel = times.next_channel_due(
            sched, now if created is None else max(now, created - _TICK)
        )
        since = now - LOOKBACK if seen is None else seen - _TICK
        if channel is not None and times.dm_window_opens(sched, since) >= channel:
            plan.cohorts.append(Cohort(cohort, dues, seen, channel))
            continue
        plan.cohorts.append(Cohort(cohort, dues, seen, None, moves=False))
        members.update((g.id, (g, channel)) for g in cohort)  # a member's DM may come first
    if members:
        _member_dues(s, times, members, plan, now, grace)
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


def _member_dues(
    s: Session,
    times: DueTimes,
    groups: dict[int, tuple[DueGroup, datetime | None]],
    plan: Plan,
    now: datetime,
    grace: timedelta,
) -> None:
    """Weekly progress DMs, each at the group's post time in the member's own timezone;
    and the groups' next due instants, their members' next DMs taken into account."""
    rows = s.execute(
        select(Membership.group_id, User.id, User.external_id, User.tz)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.group_id.in_(list(groups)),
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
    for gid, (g, channel) in groups.items():
        dms = [times.next_dm_due(g.schedule, z, now) for z in zones[gid]]
        nxt = min([d for d in (channel, *dms) if d is not None], default=None)
        plan.moves.append((gid, g.next_due_at, nxt))


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
