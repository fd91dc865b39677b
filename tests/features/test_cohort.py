"""The cohort calendar: phases, post days and streak rules."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.cohort import calendar, is_post_day, next_post_day, streak
from bot.content.models import Content

MON = date(2026, 3, 2)


def test_calendar_without_exam_uses_longest_phases(content: Content) -> None:
    cal = calendar(content.phases, MON, None)
    assert [s.days for s in cal.spans] == [21, 28, 28, 21]
    assert cal.end == MON + timedelta(days=98)
    assert cal.phase_number_at(MON - timedelta(days=5)) == 1
    assert cal.phase_number_at(MON + timedelta(days=21)) == 2
    assert cal.phase_number_at(MON + timedelta(days=500)) == 4
    assert cal.week_in_phase(MON + timedelta(days=22)) == 1


def test_calendar_fits_the_exam_or_says_it_is_compressed(content: Content) -> None:
    fits = calendar(content.phases, MON, MON + timedelta(days=84))
    assert fits.end == MON + timedelta(days=84) and not fits.compressed
    tight = calendar(content.phases, MON, MON + timedelta(days=40))
    assert tight.compressed and [s.days for s in tight.spans] == [14, 21, 21, 14]


def test_post_days_and_skips() -> None:
    assert is_post_day(MON, "mon,wed", [])
    assert not is_post_day(MON, "mon,wed", ["2026-03-02"])
    assert next_post_day(MON, "mon,wed", ["2026-03-04"]) == date(2026, 3, 9)


def test_streak_rules() -> None:
    days = "mon,tue,wed,thu,fri"
    answered = {date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9)}
    today = date(2026, 3, 10)  # Tuesday, not answered yet
    assert streak(answered, today, days, [], [], MON) == 6  # weekend neither counts nor breaks
    assert streak(answered, date(2026, 3, 11), days, [], [], MON) == 0
    skipped = streak(answered - {date(2026, 3, 5)}, today, days, ["2026-03-05"], [], MON)
    assert skipped == 5
    away = [(date(2026, 3, 5), date(2026, 3, 6))]
    assert streak(answered - {date(2026, 3, 5), date(2026, 3, 6)}, today, days, [], away, MON) == 4


@given(st.sets(st.integers(0, 40)), st.integers(0, 40))
def test_streak_never_exceeds_answered_days(offsets: set[int], t: int) -> None:
    answered = {MON + timedelta(days=o) for o in offsets}
    today = MON + timedelta(days=t)
    s = streak(answered, today, "mon,tue,wed,thu,fri,sat,sun", [], [], MON)
    assert 0 <= s <= len([d for d in answered if d <= today])
