"""The cohort calendar: when each phase runs, and which local dates get a question.

Pure functions of the group's settings, so the clock, `plan` and `progress` agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from bot.content.models import Phase
from bot.timeutil import WEEKDAYS


@dataclass(frozen=True)
class PhaseSpan:
    phase: Phase
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, d: date) -> bool:
        return self.start <= d < self.end


@dataclass(frozen=True)
class Calendar:
    spans: tuple[PhaseSpan, ...]
    exam: date | None
    compressed: bool  # the exam leaves less than the plan's minimum
    min_days: int
    max_days: int

    @property
    def start(self) -> date:
        return self.spans[0].start

    @property
    def end(self) -> date:
        return self.spans[-1].end

    def at(self, d: date) -> PhaseSpan | None:
        return next((s for s in self.spans if s.contains(d)), None)

    def phase_number_at(self, d: date) -> int:
        """The phase a date belongs to, clamped to the first before and the last after."""
        if d < self.start:
            return self.spans[0].phase.number
        span = self.at(d)
        return span.phase.number if span else self.spans[-1].phase.number

    def week_in_phase(self, d: date) -> int:
        span = self.at(d)
        return 0 if span is None else (d - span.start).days // 7 + 1

    def elapsed_fraction(self, d: date) -> float:
        total = (self.end - self.start).days
        return 0.0 if total <= 0 else min(1.0, max(0.0, (d - self.start).days / total))


def calendar(phases: Sequence[Phase], start: date, exam: date | None) -> Calendar:
    """Lay the phases end to end from `start`.

    Without an exam date each phase takes its longest length. With one, the phases stretch
    between their shortest and longest lengths to end by the exam; if even the shortest
    plan ends after the exam, it is marked compressed.
    """
    min_days = sum(p.weeks_min for p in phases) * 7
    max_days = sum(p.weeks_max for p in phases) * 7
    f = 1.0
    compressed = False
    if exam is not None:
        available = (exam - start).days
        if available < min_days:
            f, compressed = 0.0, True
        elif available < max_days and max_days > min_days:
            f = (available - min_days) / (max_days - min_days)
    spans: list[PhaseSpan] = []
    cursor = start
    for p in phases:
        length = round((p.weeks_min + f * (p.weeks_max - p.weeks_min)) * 7)
        spans.append(PhaseSpan(p, cursor, cursor + timedelta(days=length)))
        cursor += timedelta(days=length)
    return Calendar(tuple(spans), exam, compressed, min_days, max_days)


@lru_cache(maxsize=256)
def post_weekdays(post_days: str) -> frozenset[int]:
    """`mon,wed,fri` as `date.weekday()` numbers (parsed once per setting, not per day)."""
    return frozenset(WEEKDAYS.index(n) for n in post_days.split(",") if n in WEEKDAYS)


def is_post_day(d: date, post_days: str, skip_dates: Collection[str]) -> bool:
    return d.weekday() in post_weekdays(post_days) and d.isoformat() not in skip_dates


def next_post_day(d: date, post_days: str, skip_dates: Collection[str]) -> date:
    skips = set(skip_dates)
    for i in range(1, 400):
        cand = d + timedelta(days=i)
        if is_post_day(cand, post_days, skips):
            return cand
    return d


def streak(
    answered: set[date],
    today: date,
    post_days: str,
    skip_dates: Iterable[str],
    away: Sequence[tuple[date, date]],
    since: date,
) -> int:
    """Consecutive post days answered, ending today (or yesterday if today is still open).

    Days that are not post days, group skip dates and the member's away days do not break
    the streak, and a day answered always counts (going away never takes back a day
    already earned). Every answer click walks up to a year of days, so the
    walk runs on day numbers (`date.toordinal()`), several times faster than on dates.
    """
    done = {d.toordinal() for d in answered}
    weekdays = post_weekdays(post_days)
    skips = {date.fromisoformat(s).toordinal() for s in skip_dates}
    aways = [(a.toordinal(), b.toordinal()) for a, b in away]
    first = since.toordinal()
    day = last = today.toordinal()
    weekday = today.weekday()
    count = 0
    while day >= first:
        if day in done:
            count += 1
        elif not (
            weekday not in weekdays
            or day in skips
            or (aways and any(a <= day <= b for a, b in aways))
            or day == last
        ):
            break
        day -= 1
        weekday = weekday - 1 if weekday else 6
    return count
