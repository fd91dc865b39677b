"""Which questions a mock exam gets: the exam guide's section weights, unseen-lately first."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.models import Content, Question, Track
from bot.store.models import Answer, ExamAnswer, ExamAttempt, QuizAnswer, ReviewAnswer
from bot.timeutil import as_utc

RECENT_DAYS = 14


def quotas(track: Track, n: int, rng: random.Random) -> dict[str, int]:
    """Questions per guide section: the whole parts of n × weight, and the leftover seats
    by systematic sampling on the fractional parts, so each section's expected count is
    exactly n × its weight share."""
    total = sum(sec.weight for sec in track.guide_sections)
    exact = {sec.id: n * sec.weight / total for sec in track.guide_sections}
    out = {k: int(v) for k, v in exact.items()}
    fracs = [(k, exact[k] - out[k]) for k in exact]
    seats = n - sum(out.values())
    if seats > 0:
        u = rng.random()
        points = [u + i for i in range(seats)]
        cum = 0.0
        for k, f in fracs:
            lo, cum = cum, cum + f
            out[k] += sum(1 for p in points if lo <= p < cum)
        short = n - sum(out.values())  # rounding at the very end of the interval
        for k, _f in sorted(fracs, key=lambda x: -x[1])[:short]:
            out[k] += 1
    return out


def draw(
    content: Content,
    track: Track,
    n: int,
    recent: set[str],
    excluded: frozenset[str],
    rng: random.Random,
) -> list[Question]:
    """n questions to the guide's section weights; unseen-lately first within each section;
    a section short of questions hands its seats to the others."""
    bank = [q for q in content.by_track.get(track.id, ()) if q.id not in excluded]
    by_section: dict[str, list[Question]] = defaultdict(list)
    for q in bank:
        by_section[q.guide_section].append(q)
    sections = [sec.id for sec in track.guide_sections]
    ordered: dict[str, list[Question]] = {}
    for sid in sections:
        fresh = [q for q in by_section[sid] if q.id not in recent]
        seen = [q for q in by_section[sid] if q.id in recent]
        rng.shuffle(fresh)
        rng.shuffle(seen)
        ordered[sid] = fresh + seen
    want = quotas(track, min(n, len(bank)), rng)
    picked: list[Question] = []
    spare = 0
    for sid in sections:
        take = ordered[sid][: want[sid]]
        spare += want[sid] - len(take)
        picked += take
        ordered[sid] = ordered[sid][len(take) :]
    if spare:
        rest = [q for sid in sections for q in ordered[sid]]
        rest.sort(key=lambda q: q.id in recent)  # fresh ones first
        picked += rest[:spare]
    rng.shuffle(picked)
    return picked


def recently_seen(s: Session, user_id: int, now: datetime) -> set[str]:
    since = as_utc(now) - timedelta(days=RECENT_DAYS)
    seen: set[str] = set()
    for col, when, owner in (
        (Answer.question_id, Answer.answered_at, Answer.user_id),
        (QuizAnswer.question_id, QuizAnswer.answered_at, QuizAnswer.user_id),
        (ReviewAnswer.question_id, ReviewAnswer.answered_at, ReviewAnswer.user_id),
    ):
        seen.update(s.scalars(select(col).where(owner == user_id, when >= since)))
    seen.update(
        s.scalars(
            select(ExamAnswer.question_id)
            .join(ExamAttempt, ExamAttempt.id == ExamAnswer.attempt_id)
            .where(
                ExamAttempt.user_id == user_id,
                ExamAttempt.started_at >= since,
                ExamAnswer.shown_at.is_not(None),  # drawn but never shown is not seen
            )
        )
    )
    return seen
