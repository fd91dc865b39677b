"""Grading: an open attempt is closed once, its answers rated into the member's review
cards in the same transaction; the clock submits the attempts whose time ran out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.content.models import Content
from bot.features import own_bank, review_cards
from bot.features.exam.attempt import EXPIRED, OPEN, SUBMITTED, rows
from bot.store.models import ExamAttempt
from bot.timeutil import as_utc


def close(s: Session, content: Content, attempt: ExamAttempt, now: datetime, expired: bool) -> bool:
    """Grade and close an open attempt, once (a conditional UPDATE claims it); the member's
    review cards are updated in the same transaction. False if it was already closed."""
    finished = min(as_utc(now), as_utc(attempt.deadline)) if expired else as_utc(now)
    claimed = s.execute(
        update(ExamAttempt)
        .where(ExamAttempt.id == attempt.id, ExamAttempt.status == OPEN)
        .values(status=EXPIRED if expired else SUBMITTED, finished_at=finished)
        .execution_options(synchronize_session=False)
    )
    s.refresh(attempt)
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        return False
    content = own_bank.view(s, content, attempt.group_id)  # the group's own questions too
    right = 0
    answers = rows(s, attempt)
    # answered questions, and the ones shown but left blank (a miss), in the order they happened
    seen = [r for r in answers if r.choice or r.shown_at is not None]
    answered = sorted(seen, key=lambda r: as_utc(r.answered_at or r.shown_at or finished))
    for r in answers:
        q = content.by_id.get(r.question_id)
        r.correct = bool(q is not None and r.choice and q.is_correct(r.choice))
        right += int(r.correct)
    for r in answered:
        q = content.by_id.get(r.question_id)
        if q is None:
            continue
        when = as_utc(r.answered_at or finished)
        seconds = (
            (when - as_utc(r.shown_at)).total_seconds() if r.shown_at and r.answered_at else None
        )
        review_cards.record(
            s, attempt.workspace_id, attempt.user_id, q, bool(r.correct), when, seconds
        )
    attempt.correct = right
    return True


def close_expired_exams(session: Session, content: Content, now: datetime) -> int:
    """Submit every open exam whose time has run out; the clock calls this each tick.
    Returns how many this call closed (a racing process's closes are not counted)."""
    due = list(
        session.scalars(
            select(ExamAttempt)
            .where(ExamAttempt.status == OPEN, ExamAttempt.deadline <= as_utc(now))
            .order_by(ExamAttempt.id)
        )
    )
    return sum(1 for a in due if close(session, content, a, now, expired=True))
