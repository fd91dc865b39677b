"""The plan's calendar through the real Bolt app: "Add to my calendar" uploads an .ics
file into the member's DMs, and the file parses back as the group's schedule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack


def test_the_calendar_file_is_uploaded_to_the_members_dms(
    lee: SlackUser, ali: SlackUser, fake: FakeSlack
) -> None:
    lee.command("setup tz=America/New_York time=07:30 days=tue,thu")
    plan = ali.command("plan")
    pressed = ali.click("Add to my calendar", plan.blocks)
    assert "at 07:30 (America/New_York) on Tue, Thu" in pressed.text()
    done = fake.wait_for("files.completeUploadExternal")[-1].args
    assert done["channel_id"] == "DUALICE"
    asked = fake.of("files.getUploadURLExternal")[-1].args
    assert asked["filename"] == "study-plan-associate.ics"
    cal = Calendar.from_ical(fake.of("upload")[-1].args["data"])
    daily = next(e for e in cal.walk("VEVENT") if str(e["summary"]) == "Question of the day")
    start = daily.decoded("dtstart")
    assert start.tzinfo == ZoneInfo("America/New_York") and (start.hour, start.minute) == (7, 30)
    assert daily["rrule"]["BYDAY"] == ["TU", "TH"]
    assert start.weekday() == 1 and start >= datetime(2026, 3, 2, tzinfo=ZoneInfo("UTC"))
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "America/New_York"
