"""Which questions a mock exam gets: the exam's weights, unseen-lately questions first."""

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
    """Questions per domain: the whole parts of n × weight, and the leftover seats by
    systematic sampling on the fractional parts, so each domain's expected count is exactly
    n × its weight share."""
    total = sum(d.weight for d in track.domains)
    exact = {d.id: n * d.weight / total for d in track.domains}
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
    """n questions to the domain weights; unseen-lately first within each domain; a domain
    short of questions hands its seats to the others."""
    bank = [q for q in content.by_track.get(track.id, ()) if q.id not in excluded]
    by_domain: dict[str, list[Question]] = defaultdict(list)
    for q in bank:
        by_domain[q.domain].append(q)
    ordered: dict[str, list[Question]] = {}
    for d in track.domains:
        fresh = [q for q in by_domain[d.id] if q.id not in recent]
        stale = [q for q in by_domain[d.id] if q.id in recent]
        rng.shuffle(fresh)
        rng.shuffle(stale)
        ordered[d.id] = fresh + stale
    want = quotas(track, min(n, len(bank)), rng)
    picked: list[Question] = []
    spare = 0
    for d in track.domains:
        take = ordered[d.id][: want[d.id]]
        spare += want[d.id] - len(take)
        picked += take
        ordered[d.id] = ordered[d.id][len(take) :]
    if spare:
        rest = [q for d in track.domains for q in ordered[d.id]]
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
