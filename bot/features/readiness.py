"""Readiness (an estimated exam score with an interval) and pacing (ahead or behind plan).

Readiness. For each section of the official exam guide the member's recent answers give a
Beta posterior on their accuracy there: a uniform Beta(1, 1) prior, plus each answer as a
weighted success or failure, the weight halving every 14 days of age (answers older than
90 days are dropped). The estimated exam score is the section means weighted by the
guide's section weights (the exam follows the guide); its interval is the 80% normal
interval of the predictive spread of one sitting: the posterior variance of the weighted
mean plus the binomial noise of the exam's question count. An unanswered section sits at
50% with a wide spread, so little data shows as a wide interval. The same estimate per
study domain says which domain to study next.

Member pacing. Each phase of the cohort calendar counts as done in proportion to the member's
ticked checklist items of that phase (half) and the distinct questions of that phase they
have answered against about five a week of the phase (half). Done days (each phase's done
share × its length) against the days elapsed since the cohort start gives "on track" or
"N days behind/ahead".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cohort import Calendar
from bot.content.models import Content, Domain, GuideSection, Phase, Question, Track
from bot.store.models import Answer, ExamAnswer, ExamAttempt, QuizAnswer, ReviewAnswer
from bot.timeutil import as_utc

HALF_LIFE_DAYS = 14.0
WINDOW_DAYS = 90
PRIOR = (1.0, 1.0)
Z80 = 1.2816  # the 90th percentile of the standard normal: an 80% two-sided interval
QUESTIONS_PER_WEEK = 5
ON_TRACK_DAYS = 2
PRACTICE_LINE = 70  # percent: the labelled line where the exam guide publishes no pass mark


def pass_line(track: Track) -> float:
    """The published pass mark as a fraction, else the 70% practice line."""
    return (track.exam.passing or PRACTICE_LINE) / 100


@dataclass(frozen=True)
class Answered:
    question_id: str
    correct: bool
    at: datetime
    blank: bool = False  # a mock-exam question left unanswered (counted as wrong)


def history(s: Session, user_id: int, now: datetime, days: int = WINDOW_DAYS) -> list[Answered]:
    """The member's answers of the last `days`: daily, quiz, review and closed mock exams
    (their blank questions as wrong answers)."""
    return histories(s, [user_id], now, days).get(user_id, [])


def histories(
    s: Session, user_ids: Collection[int], now: datetime, days: int = WINDOW_DAYS
) -> dict[int, list[Answered]]:
    """`history` of several members at once (a lead's cohort report), in the same four
    statements whatever their number."""
    since = as_utc(now) - timedelta(days=days)
    out: dict[int, list[Answered]] = {uid: [] for uid in user_ids}
    if not out:
        return out
    ids = list(out)
    for qid, correct, at, owner in (
        (Answer.question_id, Answer.correct, Answer.answered_at, Answer.user_id),
        (QuizAnswer.question_id, QuizAnswer.correct, QuizAnswer.answered_at, QuizAnswer.user_id),
        (
            ReviewAnswer.question_id,
            ReviewAnswer.correct,
            ReviewAnswer.answered_at,
            ReviewAnswer.user_id,
        ),
    ):
        rows = s.execute(select(owner, qid, correct, at).where(owner.in_(ids), at >= since))
        for uid, q, c, t in rows:
            out[uid].append(Answered(q, bool(c), as_utc(t)))
    # Every question of a closed mock exam counts, a blank one as wrong (as the exam does),
    # at the time it was answered or else when the exam closed.
    exam_rows = s.execute(
        select(
            ExamAttempt.user_id,
            ExamAnswer.question_id,
            ExamAnswer.correct,
            func.coalesce(ExamAnswer.answered_at, ExamAttempt.finished_at),
            ExamAnswer.answered_at.is_(None),
        )
        .join(ExamAttempt, ExamAttempt.id == ExamAnswer.attempt_id)
        .where(
            ExamAttempt.user_id.in_(ids),
            ExamAttempt.status != "open",
            ExamAttempt.finished_at >= since,
        )
    )
    for uid, q, right, t, b in exam_rows:
        if t is not None:
            out[uid].append(Answered(q, bool(right), as_utc(t), blank=bool(b)))
    return out


def weight(age_days: float) -> float:
    return float(0.5 ** (max(0.0, age_days) / HALF_LIFE_DAYS))


P = TypeVar("P", Domain, GuideSection)


@dataclass(frozen=True)
class Estimate(Generic[P]):
    """The accuracy on one part of the exam (a guide section or a study domain): a
    Beta posterior over the member's recent answers, weighted by age."""

    part: P
    share: float  # the part's share of the exam (weights normalised)
    alpha: float
    beta: float
    right: int
    answered: int

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> float:
        a, b = self.alpha, self.beta
        return a * b / ((a + b) ** 2 * (a + b + 1))

    @property
    def accuracy(self) -> float | None:
        """Plain (unweighted) accuracy of the answers in the window."""
        return None if self.answered == 0 else self.right / self.answered


@dataclass(frozen=True)
class Readiness:
    estimate: float  # 0..1, the guide sections' estimates weighted by the guide
    low: float
    high: float
    chance: float  # probability of scoring at least `line`
    line: float
    answered: int
    sections: tuple[Estimate[GuideSection], ...]
    domains: tuple[Estimate[Domain], ...]  # for choosing what to study


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _estimates(
    parts: Sequence[P],
    part_of: Callable[[Question], str],
    content: Content,
    track: Track,
    answers: Sequence[Answered],
    now: datetime,
) -> tuple[Estimate[P], ...]:
    total_w = sum(p.weight for p in parts) or 1.0
    succ: dict[str, float] = {p.id: 0.0 for p in parts}
    fail: dict[str, float] = {p.id: 0.0 for p in parts}
    right: dict[str, int] = {p.id: 0 for p in parts}
    count: dict[str, int] = {p.id: 0 for p in parts}
    for a in answers:
        q = content.by_id.get(a.question_id)
        if q is None or q.track != track.id or part_of(q) not in succ:
            continue
        age = (now - as_utc(a.at)).total_seconds() / 86400
        if age > WINDOW_DAYS:
            continue
        w = weight(age)
        key = part_of(q)
        if a.correct:
            succ[key] += w
            right[key] += 1
        else:
            fail[key] += w
        count[key] += 1
    return tuple(
        Estimate(
            p,
            p.weight / total_w,
            PRIOR[0] + succ[p.id],
            PRIOR[1] + fail[p.id],
            right[p.id],
            count[p.id],
        )
        for p in parts
    )


def readiness(
    content: Content,
    track: Track,
    answers: Iterable[Answered],
    now: datetime,
    line: float = 0.70,
) -> Readiness:
    """The estimated exam score: each guide section's estimate, weighted as the guide
    weighs the sections (the exam a member sits follows the guide, not the study plan's
    domains), with an 80% interval and the chance of reaching `line`."""
    now = as_utc(now)
    answers = list(answers)
    sections = _estimates(
        track.guide_sections, lambda q: q.guide_section, content, track, answers, now
    )
    domains = _estimates(track.domains, lambda q: q.domain, content, track, answers, now)
    est = sum(e.share * e.mean for e in sections)
    var = sum(e.share**2 * e.variance for e in sections)
    var += est * (1 - est) / max(1, track.exam.questions)  # one sitting's question noise
    sd = math.sqrt(var)
    chance = 1.0 - _phi((line - est) / sd) if sd > 0 else float(est >= line)
    return Readiness(
        estimate=est,
        low=max(0.0, est - Z80 * sd),
        high=min(1.0, est + Z80 * sd),
        chance=chance,
        line=line,
        answered=sum(e.answered for e in sections),
        sections=sections,
        domains=domains,
    )


# --------------------------------------------------------------------------- member pacing


@dataclass(frozen=True)
class MemberPace:
    """A member's own pace through the plan (the group's is `plan.group_pace`)."""

    days: int  # positive ahead, negative behind
    label: str  # "on track", "3 days behind", "2 days ahead", "starts on ..."
    expected_phase: int
    actual_phase: int
    phase_done: Mapping[int, float]


def phase_done(
    content: Content,
    track: Track,
    cal: Calendar,
    checked: set[str],
    answered_ids: Iterable[str],
) -> dict[int, float]:
    """Each phase's done share, 0..1: half its checklist, half its answered questions."""
    answered_by_phase: dict[int, set[str]] = {}
    for qid in answered_ids:
        q = content.by_id.get(qid)
        if q is not None and q.track == track.id:
            answered_by_phase.setdefault(q.phase, set()).add(qid)
    bank: dict[int, int] = {}
    for q in content.by_track.get(track.id, ()):
        bank[q.phase] = bank.get(q.phase, 0) + 1
    out: dict[int, float] = {}
    for span in cal.spans:
        ph = span.phase
        items = [it.id.upper() for it in ph.checklist]
        check = sum(1 for i in items if i in checked) / len(items) if items else None
        target = min(bank.get(ph.number, 0), round(span.days / 7 * QUESTIONS_PER_WEEK))
        quiz = min(1.0, len(answered_by_phase.get(ph.number, ())) / target) if target > 0 else None
        parts = [x for x in (check, quiz) if x is not None]
        out[ph.number] = sum(parts) / len(parts) if parts else 1.0
    return out


def member_pace(cal: Calendar, today: date, done: Mapping[int, float]) -> MemberPace:
    total = (cal.end - cal.start).days
    expected_days = min(total, max(0, (today - cal.start).days))
    done_days = sum(done.get(s.phase.number, 0.0) * s.days for s in cal.spans)
    diff = round(done_days - expected_days)
    expected = cal.phase_number_at(today)
    actual = next(
        (s.phase.number for s in cal.spans if done.get(s.phase.number, 0.0) < 1.0),
        cal.spans[-1].phase.number,
    )
    if today < cal.start:
        label = f"the cohort starts on {cal.start:%a %d %b %Y}"
    elif abs(diff) <= ON_TRACK_DAYS:
        label = "on track"
    else:
        n = abs(diff)
        label = f"{n} day{'s' if n != 1 else ''} {'ahead' if diff > 0 else 'behind'}"
    return MemberPace(diff, label, expected, actual, dict(done))


def next_steps(
    phases: Sequence[Phase],
    checked: set[str],
    expected_phase: int,
    due_cards: int,
    weakest: Domain | None,
    exam_soon: bool,
    limit: int = 3,
) -> list[tuple[str, str]]:
    """The next things to do, most pressing first, as (what, command or item id)."""
    steps: list[tuple[str, str]] = []
    open_items = [
        (ph.number, it)
        for ph in phases
        for it in ph.checklist
        if ph.number <= expected_phase and it.id.upper() not in checked
    ]
    late = [(n, it) for n, it in open_items if n < expected_phase]
    now_items = [(n, it) for n, it in open_items if n == expected_phase]
    for _n, it in late[:limit]:
        steps.append((f"Catch up: {it.text}", f"check {it.id}"))
    if due_cards:
        s = "s" if due_cards != 1 else ""
        steps.append((f"Review your {due_cards} due card{s}", "review"))
    if weakest is not None:
        steps.append((f"Practise your weakest domain, {weakest.name}", f"quiz {weakest.id}"))
    if exam_soon:
        steps.append(("Sit a timed mock exam", "exam"))
    for _n, it in now_items:
        steps.append((it.text, f"check {it.id}"))
    if not steps:
        upcoming = [it for ph in phases for it in ph.checklist if it.id.upper() not in checked]
        steps += [(it.text, f"check {it.id}") for it in upcoming]
    return steps[:limit]
