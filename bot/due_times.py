"""When a group's posts fall due, and its next due instant, kept in `groups.next_due_at`.

The clock (`scheduler/due.py`) looks only at groups whose next due instant has come, so
that instant must never be later than anything still to plan. The clock moves it on after
planning a group; every change that can bring a post forward writes it in the change's
own transaction: a group's settings (`reschedule`), and a member joining, changing
timezone or turning DMs on (`member_may_be_due`, a member's weekly DM is due at the
group's post time in the member's own timezone), and a member setting a reminder, changing
timezone or coming back (`reminders_may_be_due`, a reminder is due at the member's own
time on the group's post days, never before the day's post). A settings change looks back
`LOOKBACK`, so what it makes due in the clock's catch-up days (the group's local yesterday
and today) is still planned, or recorded as missed, exactly as the clock always did; a
reminder is planned only on the member's own day it is for (`scheduler/due.py`), so no
catch-up sends one for a day that is over.

Instants are worked out per local day with zoneinfo (the local post time of that very
day), so DST changes and the date line need no special case: the stored value is never
more than a week ahead and is recomputed after every post. Groups share few schedules,
so `DueTimes` memoises the arithmetic per schedule; one is made per tick.
"""

from __future__ import annotations

import calendar as cal_mod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.cohort import Calendar, calendar, post_weekdays
from bot.content.models import Content
from bot.store.models import Group, Membership, User
from bot.store.records import GroupRecord
from bot.timeutil import WEEKDAYS, as_utc

LOOKBACK = timedelta(days=2)  # a change re-opens the clock's catch-up days (local yesterday)
COUNTDOWN_DAYS = (14, 7, 1)
EAST_MOST = timedelta(hours=14)  # Pacific/Kiritimati: the earliest a local time comes
WEST_MOST = timedelta(hours=12)  # Etc/GMT+12: the latest
_HORIZON = 400  # days searched for the next post (a weekly summary comes within 7)


def local_due(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of a local wall-clock time; a time skipped by DST falls after the gap,
    a time that occurs twice (DST ending) is its first occurrence."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The settings that decide when a group posts: groups that share them share the sums."""

    tz: str
    post_time: time
    post_days: str
    skip_dates: tuple[str, ...]
    summary_day: str
    start_date: date
    exam_date: date | None
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # a key of every memo: hashed once, not per look-up
        fields = (self.tz, self.post_time, self.post_days, self.skip_dates, self.summary_day)
        object.__setattr__(self, "_hash", hash((*fields, self.start_date, self.exam_date)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def of(cls, g: GroupRecord) -> Schedule:
        return cls(
            g.tz,
            g.post_time,
            g.post_days,
            tuple(g.skip_dates or ()),
            g.summary_day or "fri",
            g.start_date,
            g.exam_date,
        )


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """A post to the group's channel on a local day; its key is `kind:group:suffix`."""

    kind: str
    suffix: str
    payload: dict[str, Any]

    def key(self, group_id: int) -> str:
        return f"{self.kind}:{group_id}:{self.suffix}"


class DueTimes:
    """The due-time arithmetic for one moment's work (a tick, a settings change)."""

    def __init__(self, content: Content) -> None:
        self.phases = content.phases
        self._cals: dict[tuple[date, date | None], Calendar] = {}
        self._posts: dict[tuple[Schedule, date], tuple[ChannelPost, ...]] = {}
        self._instants: dict[tuple[date, time, str], datetime] = {}
        self._next: dict[tuple[Schedule, datetime], datetime | None] = {}
        self._reminders: dict[tuple[Schedule, str, time, datetime], datetime | None] = {}

    def instant(self, day: date, at: time, tz: str) -> datetime:
        key = (day, at, tz)
        found = self._instants.get(key)
        if found is None:
            found = self._instants[key] = local_due(day, at, tz)
        return found

    def calendar(self, sched: Schedule) -> Calendar:
        key = (sched.start_date, sched.exam_date)
        found = self._cals.get(key)
        if found is None:
            found = self._cals[key] = calendar(self.phases, sched.start_date, sched.exam_date)
        return found

    @staticmethod
    def asks(sched: Schedule, day: date) -> bool:
        """Whether the group has a question on this local date."""
        return (
            day >= sched.start_date
            and day.weekday() in post_weekdays(sched.post_days)
            and day.isoformat() not in sched.skip_dates
        )

    def channel_posts(self, sched: Schedule, day: date) -> tuple[ChannelPost, ...]:
        """What the channel gets on a local day, at the post time: the daily question on
        post days (after the first, with the answer to the one before), phase starts and
        ends, exam countdowns, the weekly and monthly boards."""
        key = (sched, day)
        found = self._posts.get(key)
        if found is not None:
            return found
        out: list[ChannelPost] = []
        if day >= sched.start_date:
            if self.asks(sched, day):
                out.append(ChannelPost("daily", day.isoformat(), {}))
                if self._asked_before(sched, day):  # the last question's answer, in its thread
                    out.append(ChannelPost("reveal", day.isoformat(), {}))
            for span in self.calendar(sched).spans:
                n = span.phase.number
                if day == span.start:
                    out.append(
                        ChannelPost("milestone", f"{n}:start", {"phase": n, "edge": "start"})
                    )
                if day == span.end - timedelta(days=1):
                    out.append(ChannelPost("milestone", f"{n}:end", {"phase": n, "edge": "end"}))
            if sched.exam_date is not None:
                left = (sched.exam_date - day).days
                if left in COUNTDOWN_DAYS:
                    out.append(
                        ChannelPost("countdown", f"{sched.exam_date}:{left}", {"days": left})
                    )
            if WEEKDAYS[day.weekday()] == sched.summary_day:
                out.append(ChannelPost("weekly", day.isoformat(), {"period": "week"}))
            if day.day == cal_mod.monthrange(day.year, day.month)[1]:
                out.append(ChannelPost("monthly", f"{day:%Y-%m}", {"period": "month"}))
        found = self._posts[key] = tuple(out)
        return found

    def _asked_before(self, sched: Schedule, day: date) -> bool:
        """Whether the group had a question on a day before this one."""
        before = day - timedelta(days=1)
        while before >= sched.start_date:
            if self.asks(sched, before):
                return True
            before -= timedelta(days=1)
        return False

    def next_channel_due(self, sched: Schedule, after: datetime) -> datetime | None:
        """The first post time after `after` on a day the channel gets something."""
        key = (sched, after)
        if key in self._next:
            return self._next[key]
        found: datetime | None = None
        first = max(after.astimezone(ZoneInfo(sched.tz)).date(), sched.start_date)
        for i in range(_HORIZON):
            day = first + timedelta(days=i)
            due = self.instant(day, sched.post_time, sched.tz)
            if due > after and self.channel_posts(sched, day):
                found = due
                break
        self._next[key] = found
        return found

    def next_dm_due(self, sched: Schedule, zone: str, after: datetime) -> datetime | None:
        """A member's next weekly progress DM after `after`: the summary weekday at the
        group's post time in the member's timezone."""
        weekday = WEEKDAYS.index(sched.summary_day)
        day = max(after.astimezone(ZoneInfo(zone)).date(), sched.start_date)
        day += timedelta(days=(weekday - day.weekday()) % 7)
        for _ in range(3):  # this week's may already be past `after`
            due = self.instant(day, sched.post_time, zone)
            if due > after:
                return due
            day += timedelta(days=7)
        return None

    def reminder_at(self, sched: Schedule, zone: str, at: time, day: date) -> datetime | None:
        """A member's reminder on their local `day`: at their time `at` in their timezone,
        but never before the group posts that day's question (then it comes with the
        post); None on a day without a question, or when that post comes only after the
        member's day is over (their "today" has moved on to the next question)."""
        if not self.asks(sched, day):
            return None
        due = max(self.instant(day, at, zone), self.instant(day, sched.post_time, sched.tz))
        if due >= self.instant(day + timedelta(days=1), time(0), zone):
            return None
        return due

    def next_reminder_due(
        self, sched: Schedule, zone: str, at: time, after: datetime
    ) -> datetime | None:
        """A member's next reminder after `after` (members who share a time, a timezone
        and a group's schedule share the sum)."""
        key = (sched, zone, at, after)
        if key in self._reminders:
            return self._reminders[key]
        found: datetime | None = None
        first = max(after.astimezone(ZoneInfo(zone)).date(), sched.start_date)
        for i in range(_HORIZON):
            due = self.reminder_at(sched, zone, at, first + timedelta(days=i))
            if due is not None and due > after:
                found = due
                break
        self._reminders[key] = found
        return found

    def dm_window_opens(self, sched: Schedule, after: datetime) -> datetime:
        """No member's weekly DM after `after` comes before this, in any timezone: the
        first summary day whose DMs are not all past, at the post time east-most."""
        weekday = WEEKDAYS.index(sched.summary_day)
        day = max((after - WEST_MOST - timedelta(days=1)).date(), sched.start_date)
        day += timedelta(days=(weekday - day.weekday()) % 7)
        while True:
            at_utc = datetime.combine(day, sched.post_time, tzinfo=UTC)
            if at_utc + WEST_MOST > after:
                return at_utc - EAST_MOST
            day += timedelta(days=7)

    def next_due(
        self,
        sched: Schedule,
        created_at: datetime,
        after: datetime,
        zones: Iterable[str],
        reminders: Iterable[tuple[str, time]] = (),
    ) -> datetime | None:
        """The group's next due instant after `after`: its next channel post, or a DM
        member's weekly DM (`zones`: the timezones of the members who get one), or a
        member's reminder (`reminders`: their timezones and times), if sooner. Channel
        posts due before the group existed are never planned."""
        channel = self.next_channel_due(sched, max(after, created_at - timedelta(microseconds=1)))
        dms = [d for z in set(zones) if (d := self.next_dm_due(sched, z, after)) is not None]
        dms += [
            d
            for z, at in set(reminders)
            if (d := self.next_reminder_due(sched, z, at, after)) is not None
        ]
        return min([d for d in (channel, *dms) if d is not None], default=None)


# ---------------------------------------------------------------------- keeping it


def dm_zones(s: Session, group_ids: list[int]) -> dict[int, set[str]]:
    """The timezones of each group's members who get the weekly DM (theirs or the group's)."""
    out: dict[int, set[str]] = {gid: set() for gid in group_ids}
    if not group_ids:
        return out
    rows = s.execute(
        select(Membership.group_id, User.tz, Group.tz)
        .join(User, User.id == Membership.user_id)
        .join(Group, Group.id == Membership.group_id)
        .where(
            Membership.group_id.in_(group_ids),
            Membership.active.is_(True),
            User.dm_enabled.is_(True),
        )
        .distinct()
    )
    for gid, tz, group_tz in rows:
        out[gid].add(tz or group_tz)
    return out


def reminder_times(s: Session, group_id: int) -> set[tuple[str, time]]:
    """The timezones (theirs or the group's) and times of the group's members' reminders."""
    rows = s.execute(
        select(User.tz, Group.tz, Membership.remind_at)
        .join(User, User.id == Membership.user_id)
        .join(Group, Group.id == Membership.group_id)
        .where(
            Membership.group_id == group_id,
            Membership.remind_at.is_not(None),
            Membership.active.is_(True),
        )
        .distinct()
    )
    return {(tz or group_tz, at) for tz, group_tz, at in rows if at is not None}


def reschedule(s: Session, content: Content, g: GroupRecord, now: datetime) -> datetime | None:
    """Write a group's next due instant after its settings changed (None while paused)."""
    value: datetime | None = None
    if not g.paused:
        zones = dm_zones(s, [g.id])[g.id]
        value = DueTimes(content).next_due(
            Schedule.of(g), as_utc(g.created_at), now - LOOKBACK, zones, reminder_times(s, g.id)
        )
    s.connection().execute(update(Group).where(Group.id == g.id).values(next_due_at=value))
    return value


def member_may_be_due(
    s: Session, content: Content, zone: str | None, groups: Iterable[GroupRecord], now: datetime
) -> None:
    """A member who gets the weekly DM joined these groups, or changed timezone (None: the
    group's): bring each group's next due instant forward to their DM if it comes sooner."""
    times = DueTimes(content)
    conn = s.connection()
    for g in groups:
        if g.paused:
            continue
        due = times.next_dm_due(Schedule.of(g), zone or g.tz, now - LOOKBACK)
        if due is None:
            continue
        conn.execute(
            update(Group).where(Group.id == g.id, Group.next_due_at > due).values(next_due_at=due)
        )


def reminders_may_be_due(
    s: Session, content: Content, user_id: int, now: datetime, group_id: int | None = None
) -> None:
    """A member set a reminder, changed timezone or came back (to `group_id`, else to any
    of their groups): bring each group's next due instant forward to their next reminder
    if it comes sooner. A reminder is never caught up from before the change."""
    where = [
        Membership.user_id == user_id,
        Membership.active.is_(True),
        Membership.remind_at.is_not(None),
    ]
    if group_id is not None:
        where.append(Membership.group_id == group_id)
    rows = s.execute(
        select(Membership.group_id, Membership.remind_at, User.tz)
        .join(User, User.id == Membership.user_id)
        .where(*where)
    ).all()
    if not rows:
        return
    groups = {g.id: g for g in GroupRecord.all(s, Group.id.in_([r[0] for r in rows]))}
    times = DueTimes(content)
    conn = s.connection()
    for gid, at, tz in rows:
        g = groups[gid]
        if g.paused or at is None:
            continue
        due = times.next_reminder_due(Schedule.of(g), tz or g.tz, at, now)
        if due is None:
            continue
        conn.execute(
            update(Group).where(Group.id == g.id, Group.next_due_at > due).values(next_due_at=due)
        )
