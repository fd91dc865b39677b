"""The study plan and its checklist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from bot.seam import Attachment, Reply
from tests.helpers import Chat, FakeClock


def test_plan_shows_dates_current_phase_and_pace(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    lead.send("/study setup exam=2026-05-18")  # 11 weeks: between the plan's 10 and 14
    clock.set(2026, 3, 16, 12)
    text = alice.send("/study plan").plain_text()
    assert "▶ Phase 1: ML fundamentals · week 3 (current)" in text
    assert "Mon 02 Mar 2026 – Tue 17 Mar 2026 · 2–3 weeks" in text
    assert "Exam Mon 18 May 2026 (63 days away)" in text
    assert "days behind" in text
    for item in ("F1-1", "F1-2", "F1-3", "F1-4", "F1-5", "F2-1", "F2-2"):
        alice.send(f"/study check {item}")
        lead.send(f"/study check {item}")
    assert "days ahead" in alice.send("/study plan").plain_text()


def test_checklist_check_and_uncheck(alice: Chat) -> None:
    assert "Ticked: P1-2" in alice.send("/study check p1-2").plain_text()
    assert "Already ticked" in alice.send("/study check P1-2").plain_text()
    assert "☑ P1-2" in alice.send("/study checklist").plain_text()
    assert "Unticked: P1-2" in alice.send("/study uncheck P1-2").plain_text()
    assert "No checklist item 'Z9'" in alice.send("/study check Z9").plain_text()


def test_the_plan_says_whose_pace_it_shows(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    """`plan` said "about 16 days behind" and `progress` "11 days behind", unlabelled."""
    lead.send("/study setup exam=2026-06-30")
    alice.send("/study join")
    clock.set(2026, 3, 20, 12)
    plan = alice.send("/study plan").plain_text()
    assert "Group pace, from every member's checklists" in plan
    assert "Your own pace is in `/study progress`." in plan
    assert "Your pace: " in alice.send("/study progress").plain_text()


def _calendar_of(reply: Reply) -> tuple[Attachment, Calendar]:
    files = [b for b in reply.blocks if isinstance(b, Attachment)]
    assert len(files) == 1, reply.plain_text()
    return files[0], Calendar.from_ical(files[0].data)


def test_add_to_my_calendar_gives_the_cohort_as_an_icalendar_file(
    lead: Chat, alice: Chat, clock: FakeClock
) -> None:
    """The plan's button gives an .ics file: the phases and their checkpoints as all-day
    events, the exam, and the daily question repeating at 09:00 Berlin time on the post
    days across the change to summer time (29 Mar 2026), the skip date left out."""
    lead.send(
        "/study setup tz=Europe/Berlin time=09:00 days=mon,wed,fri exam=2026-05-18 "
        "skip=2026-04-03,2026-04-04"
    )
    clock.set(2026, 3, 16, 12)
    plan = alice.send("/study plan")
    reply = alice.press("Add to my calendar", plan)
    assert "at 09:00 (Europe/Berlin) on Mon, Wed, Fri" in reply.plain_text()
    file, cal = _calendar_of(reply)
    assert (file.filename, file.mime) == ("study-plan-associate.ics", "text/calendar")
    assert str(cal["version"]) == "2.0" and str(cal["prodid"]).startswith("-//studybot//")

    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    phase1 = events["Phase 1: ML fundamentals"]
    assert phase1.decoded("dtstart") == date(2026, 3, 2)
    assert phase1.decoded("dtend") == date(2026, 3, 18)  # the plan's 17 Mar is its last day
    assert events["Checkpoint: phase 1 wraps up"].decoded("dtstart") == date(2026, 3, 17)
    assert "F1-1" in str(events["Checkpoint: phase 1 wraps up"]["description"])
    phases = [s for s in events if s.startswith("Phase ")]
    assert len(phases) == len(alice.bot.content.phases)
    assert events["Exam: " + alice.bot.content.track("associate").name].decoded("dtstart") == date(
        2026, 5, 18
    )

    daily = events["Question of the day"]
    start = daily.decoded("dtstart")
    assert start == datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert daily["dtstart"].params["TZID"] == "Europe/Berlin"
    rule = daily["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE", "FR"]
    assert rule["UNTIL"] == [datetime(2026, 5, 18, 7, tzinfo=UTC)]  # 09:00 CEST, in UTC
    excluded = [d.dt for d in daily["exdate"].dts]
    assert daily["exdate"].params["TZID"] == "Europe/Berlin"
    # 4 Apr is a Saturday, no post day: only Good Friday is left out
    assert excluded == [datetime(2026, 4, 3, 9, tzinfo=ZoneInfo("Europe/Berlin"))]

    # Expanded as a calendar would: 09:00 local before and after the DST change.
    text_rule = rule.to_ical().decode()
    occurrences = [o for o in rrulestr(f"RRULE:{text_rule}", dtstart=start) if o not in excluded]
    assert occurrences[0] == start
    before = datetime(2026, 3, 27, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    after = datetime(2026, 3, 30, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert before in occurrences and after in occurrences
    assert before.astimezone(UTC).hour == 8 and after.astimezone(UTC).hour == 7
    assert all(o.astimezone(ZoneInfo("Europe/Berlin")).hour == 9 for o in occurrences)
    assert datetime(2026, 4, 3, 9, tzinfo=ZoneInfo("Europe/Berlin")) not in occurrences
    assert occurrences[-1] == datetime(2026, 5, 18, 9, tzinfo=ZoneInfo("Europe/Berlin"))

    # The VTIMEZONE the TZID names, with both of the year's offsets.
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Berlin"
    offsets = {str(c.name): c["tzoffsetto"].td for c in zone.subcomponents}
    assert offsets == {"STANDARD": timedelta(hours=1), "DAYLIGHT": timedelta(hours=2)}
    assert zone.to_tz().utcoffset(datetime(2026, 3, 30, 9)) == timedelta(hours=2)
    assert cal.get_missing_tzids() == set()

    # Unique, stable UIDs: downloading again updates the same events.
    _, again = _calendar_of(alice.press("Add to my calendar", plan))
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["uid"]) for e in again.walk("VEVENT")]


def test_the_calendar_without_an_exam_runs_to_the_plans_end(lead: Chat, alice: Chat) -> None:
    _, cal = _calendar_of(alice.press("Add to my calendar", alice.send("/study plan")))
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert not [s for s in events if s.startswith("Exam")]
    last_phase = max(
        (e for s, e in events.items() if s.startswith("Phase ")), key=lambda e: e.decoded("dtend")
    )
    until = events["Question of the day"]["rrule"]["UNTIL"][0]
    assert until.date() == last_phase.decoded("dtend") - timedelta(days=1)
    # A group on UTC needs no VTIMEZONE: its times are written in UTC ("Z").
    assert "DTSTART:20260302T090000Z" in cal.to_ical().decode()
    assert cal.walk("VTIMEZONE") == [] and cal.get_missing_tzids() == set()
