"""Spaced-review cards: every answer updates the member's FSRS card for that question.

Ratings: a wrong answer is Again, a right one Good, and a fast right answer to an easy
(difficulty 1) question Easy. The scheduler runs without same-day learning steps and without
fuzzing, so every interval is a whole number of days and the same answers always give the
same schedule: a miss comes back the next day, a first right answer a few days later.
"""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.content.models import Content, Question
from bot.store.db import insert_ignore
from bot.store.models import GroupQuestion, ReviewCard
from bot.timeutil import as_utc

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
FAST_SECONDS = 30.0  # a right answer this quick on an easy question rates Easy


def rating_for(q: Question, correct: bool, seconds: float | None) -> Rating:
    if not correct:
        return Rating.Again
    if q.difficulty == 1 and seconds is not None and 0 <= seconds <= FAST_SECONDS:
        return Rating.Easy
    return Rating.Good


def _to_card(row: ReviewCard) -> Card:
    return Card(
        card_id=row.id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=as_utc(row.due),
        last_review=as_utc(row.last_review) if row.last_review else None,
    )


_CARD = select(ReviewCard).where(
    ReviewCard.user_id == bindparam("user"), ReviewCard.question_id == bindparam("question")
)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@functools.cache
def _first_review_at_epoch(rating: Rating) -> Card:
    # card_id given: fsrs sleeps a millisecond to make up a unique id otherwise.
    new = Card(card_id=0, state=State.Learning, step=0, due=_EPOCH)
    card, _log = SCHEDULER.review_card(new, rating, review_datetime=_EPOCH)
    return card


def first_review(rating: Rating, when: datetime) -> Card:
    """A new card reviewed once at `when`: fsrs's answer, computed once per rating and
    moved to `when` (with fuzzing off, a first review depends on the rating alone; a test
    checks this against fsrs itself). Every daily answer creates one."""
    card = copy.copy(_first_review_at_epoch(rating))
    shift = when - _EPOCH
    card.due = card.due + shift
    card.last_review = card.last_review + shift if card.last_review else when
    return card


def record(
    s: Session,
    workspace_id: int,
    user_id: int,
    q: Question,
    correct: bool,
    when: datetime,
    seconds: float | None = None,
) -> datetime:
    """Update (or create) the member's card for `q`, in the caller's transaction; returns
    when the card is next due.

    A first answer (the usual case: daily questions rarely repeat) is one INSERT of the
    already-reviewed card; only a card that exists is read and updated."""
    when = as_utc(when)
    rating = rating_for(q, correct, seconds)
    first = first_review(rating, when)
    inserted = insert_ignore(
        s,
        ReviewCard,
        {
            "workspace_id": workspace_id,
            "user_id": user_id,
            "question_id": q.id,
            "state": int(first.state),
            "step": first.step,
            "stability": first.stability,
            "difficulty": first.difficulty,
            "due": first.due,
            "last_review": first.last_review,
            "last_rating": int(rating),
            "reps": 1,
            "lapses": 0,
        },
        ["user_id", "question_id"],
    )
    if inserted:
        return first.due
    row = s.scalar(_CARD, {"user": user_id, "question": q.id})
    assert row is not None
    card = _to_card(row)
    if card.last_review is not None and when < card.last_review:
        when = card.last_review  # answers recorded out of order (an exam graded late)
    was_review = card.state is State.Review
    card, _log = SCHEDULER.review_card(card, rating, review_datetime=when.astimezone(UTC))
    row.state = int(card.state)
    row.step = card.step
    row.stability = card.stability
    row.difficulty = card.difficulty
    row.due = card.due
    row.last_review = card.last_review
    row.last_rating = int(rating)
    row.reps = (row.reps or 0) + 1
    if was_review and rating is Rating.Again:
        row.lapses = (row.lapses or 0) + 1
    return row.due


def due_count(
    s: Session,
    user_id: int,
    now: datetime,
    exclude: frozenset[str] = frozenset(),
    group_id: int | None = None,
) -> int:
    """Cards due now (the number `progress` and the weekly DM show); with `group_id`, as
    that group's review shows them: no card of another group's own questions."""
    q = (
        select(func.count())
        .select_from(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.due <= as_utc(now))
    )
    if exclude:
        q = q.where(ReviewCard.question_id.not_in(exclude))
    if group_id is not None:
        q = q.where(ReviewCard.question_id.not_in(_others_own(group_id)))
    return int(s.scalar(q) or 0)


def _others_own(group_id: int) -> Any:
    return select(GroupQuestion.question_id).where(GroupQuestion.group_id != group_id)


def due_cards(
    s: Session, content: Content, user_id: int, now: datetime, excluded: frozenset[str], n: int
) -> list[ReviewCard]:
    """Due cards, most overdue first (then by id, so the order is stable)."""
    rows = s.scalars(
        select(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.due <= as_utc(now))
        .order_by(ReviewCard.due, ReviewCard.id)
    )
    out: list[ReviewCard] = []
    for r in rows:
        if r.question_id in excluded or r.question_id not in content.by_id:
            continue
        out.append(r)
        if len(out) == n:
            break
    return out


def next_due(
    s: Session, user_id: int, now: datetime, group_id: int | None = None
) -> datetime | None:
    q = select(func.min(ReviewCard.due)).where(
        ReviewCard.user_id == user_id, ReviewCard.due > as_utc(now)
    )
    if group_id is not None:
        q = q.where(ReviewCard.question_id.not_in(_others_own(group_id)))
    nxt = s.scalar(q)
    return as_utc(nxt) if nxt is not None else None


def overdue_label(due: datetime, now: datetime) -> str:
    late = as_utc(now) - as_utc(due)
    if late < timedelta(hours=1):
        return "due now"
    if late < timedelta(days=1):
        return f"due {int(late.total_seconds() // 3600)} h ago"
    days = late.days
    return f"overdue by {days} day{'s' if days != 1 else ''}"
