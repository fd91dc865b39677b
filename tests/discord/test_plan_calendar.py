"""The plan's calendar through the real discord.py client: "Add to my calendar" answers
with the .ics file attached, and the file parses back as the group's schedule."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.discord.harness import Harness
from tests.discord.test_commands import EPHEMERAL, flags

pytestmark = pytest.mark.anyio


async def test_the_calendar_file_is_attached_to_the_ephemeral_reply(h: Harness) -> None:
    from tests.discord.harness import LEAD

    await h.command("setup", LEAD, tz="Asia/Kolkata", time="20:00", days="mon,wed,fri")
    await h.command("join")
    plan = await h.command("plan")
    out = await h.press(plan.last, "📅 Add to my calendar")
    assert "at 20:00 (Asia/Kolkata) on Mon, Wed, Fri" in out.text()
    assert flags(out.callback.data) & EPHEMERAL
    [(name, raw)] = out.callback.files
    assert name == "study-plan-associate.ics"
    cal = Calendar.from_ical(raw)
    daily = next(e for e in cal.walk("VEVENT") if str(e["summary"]) == "Question of the day")
    start = daily.decoded("dtstart")
    assert start.tzinfo == ZoneInfo("Asia/Kolkata") and (start.hour, start.minute) == (20, 0)
    assert daily["rrule"]["BYDAY"] == ["MO", "WE", "FR"]
