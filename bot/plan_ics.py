"""The cohort's plan as an iCalendar file (RFC 5545), for members' own calendars.

Built with the `icalendar` library from the group's settings alone, so every member of a
group gets the same file and importing it again updates the events instead of doubling
them (each event's UID names the group and what it is). The phases, their checkpoints
and the exam are all-day events; the daily question is one event repeating on the post
days at the group's local post time, in the group's timezone (a TZID with its VTIMEZONE,
so it stays at 09:00 local across a DST change), its skip dates excluded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar
from icalendar import Event, vRecur

from bot.cohort import Calendar, post_weekdays
from bot.content.models import Track
from bot.registry import SLASH
from bot.store.records import GroupRecord

PRODID = "-//studybot//study plan//EN"
MIME = "text/calendar"
QUESTION_MINUTES = 15  # how long the daily question's event lasts
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # date.weekday() order


def filename(track: Track) -> str:
    return f"study-plan-{track.id}.ics"


def last_day(group: GroupRecord, cal: Calendar) -> date:
    """The cohort's last day: the exam, or without one the plan's last day."""
    return group.exam_date or cal.end - timedelta(days=1)


def first_post_day(group: GroupRecord, until: date) -> date | None:
    """The first day on or after the cohort start whose weekday the group posts on."""
    weekdays = post_weekdays(group.post_days)
    day = group.start_date
    while day <= until:
        if day.weekday() in weekdays:
            return day
        day += timedelta(days=1)
    return None


def plan_calendar(
    group: GroupRecord, track: Track, cal: Calendar, uid_base: str, now: datetime
) -> bytes:
    """The whole cohort, past and future, as the bytes of an .ics file.

    `uid_base` tells this group from every other (platform, workspace and channel), so
    the UIDs are unique across calendars and stable across downloads."""
    ical = ICalendar()
    ical.add("prodid", PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("method", "PUBLISH")
    ical.add("x-wr-calname", f"Study plan · {track.name}")
    ical.add("x-wr-timezone", group.tz)

    def event(uid: str, summary: str, description: str) -> Event:
        ev = Event()
        ev.add("uid", f"{uid}.{uid_base}@studybot")
        ev.add("dtstamp", now)
        ev.add("summary", summary)
        ev.add("description", description)
        ical.add_component(ev)
        return ev

    for span in cal.spans:
        ph = span.phase
        lines = [f"{ph.weeks_min}–{ph.weeks_max} weeks.", "Topics: " + "; ".join(ph.topics)]
        if ph.goals:
            lines.append("Goals: " + "; ".join(ph.goals))
        ev = event(f"phase-{ph.number}", f"Phase {ph.number}: {ph.name}", "\n".join(lines))
        ev.add("dtstart", span.start)
        ev.add("dtend", span.end)  # all-day: the day after the last, as RFC 5545 counts
        ev.add("transp", "TRANSPARENT")  # a phase does not make anyone busy
        items = "\n".join(f"{it.id}: {it.text}" for it in ph.checklist)
        check = event(
            f"phase-{ph.number}-checkpoint",
            f"Checkpoint: phase {ph.number} wraps up",
            f"Make sure you can tick phase {ph.number}'s checklist ({SLASH} plan):\n{items}",
        )
        check.add("dtstart", span.end - timedelta(days=1))
        check.add("dtend", span.end)
        check.add("transp", "TRANSPARENT")
    if group.exam_date is not None:
        exam = event(
            "exam", f"Exam: {track.name}", f"Good luck! {SLASH} progress shows how ready you are."
        )
        exam.add("dtstart", group.exam_date)
        exam.add("dtend", group.exam_date + timedelta(days=1))
    _daily_question(group, cal, event)
    first = group.start_date - timedelta(days=366)
    ical.add_missing_timezones(first, last_day(group, cal) + timedelta(days=366))
    return bytes(ical.to_ical())


def _daily_question(
    group: GroupRecord, cal: Calendar, event: Callable[[str, str, str], Event]
) -> None:
    """One repeating event on the post days at the post time, skip dates excluded."""
    until = last_day(group, cal)
    first = first_post_day(group, until)
    if first is None:
        return
    zone = ZoneInfo(group.tz)

    def at(day: date) -> datetime:
        return datetime.combine(day, group.post_time, tzinfo=zone)

    ev = event(
        "daily-question",
        "Question of the day",
        f"The study group's daily question, posted in its channel: answer it there or "
        f"with {SLASH} today.",
    )
    ev.add("dtstart", at(first))
    ev.add("dtend", at(first) + timedelta(minutes=QUESTION_MINUTES))
    ev.add("transp", "TRANSPARENT")
    days = sorted(post_weekdays(group.post_days))
    # UNTIL in UTC, as RFC 5545 asks when DTSTART has a TZID: the last post time counts.
    last = at(until).astimezone(UTC)
    ev.add("rrule", vRecur(freq="WEEKLY", byday=[_BYDAY[d] for d in days], until=last))
    skipped = sorted(
        d
        for raw in group.skip_dates or []
        if first <= (d := date.fromisoformat(raw)) <= until and d.weekday() in days
    )
    if skipped:
        ev.add("exdate", [at(d) for d in skipped])
