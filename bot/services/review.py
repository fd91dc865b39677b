"""Spaced review: every answer updates the member's FSRS card for that question.

Ratings: a wrong answer is Again, a right one Good, and a fast right answer to an easy
(difficulty 1) question Easy. The scheduler runs without same-day learning steps and without
fuzzing, so every interval is a whole number of days and the same answers always give the
same schedule: a miss comes back the next day, a first right answer a few days later.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.commands import SLASH
from bot.content.models import Content, Question
from bot.errors import UserError
from bot.seam import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Heading,
    Paragraph,
    Reply,
    text,
)
from bot.services import questions as qv
from bot.services.context import Ctx
from bot.services.flags import pulled
from bot.store.db import Tx, insert_ignore, orm
from bot.store.learning import ReviewAnswer, ReviewCard, ReviewSession
from bot.timeutil import as_utc, parse_positive_int

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
FAST_SECONDS = 30.0  # a right answer this quick on an easy question rates Easy
DEFAULT_N = 10
MAX_N = 20
REVIEW_ANSWER = "review.answer"
REVIEW_TOGGLE = "review.toggle"


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
    s: Session | Tx,
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
    row = orm(s).scalar(_CARD, {"user": user_id, "question": q.id})
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
    s: Session, user_id: int, now: datetime, exclude: frozenset[str] = frozenset()
) -> int:
    """Cards due now (the number `progress` and the weekly DM show)."""
    q = (
        select(func.count())
        .select_from(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.due <= as_utc(now))
    )
    if exclude:
        q = q.where(ReviewCard.question_id.not_in(exclude))
    return int(s.scalar(q) or 0)


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


def next_due(s: Session, user_id: int, now: datetime) -> datetime | None:
    nxt = s.scalar(
        select(func.min(ReviewCard.due)).where(
            ReviewCard.user_id == user_id, ReviewCard.due > as_utc(now)
        )
    )
    return as_utc(nxt) if nxt is not None else None


def overdue_label(due: datetime, now: datetime) -> str:
    late = as_utc(now) - as_utc(due)
    if late < timedelta(hours=1):
        return "due now"
    if late < timedelta(days=1):
        return f"due {int(late.total_seconds() // 3600)} h ago"
    days = late.days
    return f"overdue by {days} day{'s' if days != 1 else ''}"


# --------------------------------------------------------------------------- the command


def review(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    ctx.ensure_member()
    n_raw = args.get("n")
    n = parse_positive_int(n_raw, "number of cards", 1, MAX_N) if n_raw else DEFAULT_N
    excluded = ctx.content.stale | pulled(ctx.s, ctx.flag_threshold)
    cards = due_cards(ctx.s, ctx.content, ctx.user.id, ctx.now, excluded, n)
    if not cards:
        nxt = next_due(ctx.s, ctx.user.id, ctx.now)
        when = (
            f"The next card is due {nxt:%a %d %b %Y %H:%M} UTC."
            if nxt
            else "Answer the daily question or a quiz and missed questions come back here."
        )
        return Reply.message(f"Nothing to review right now. {when}")
    total = due_count(ctx.s, ctx.user.id, ctx.now, excluded)
    session = ReviewSession(
        workspace_id=ctx.workspace.id,
        group_id=g.id,
        user_id=ctx.user.id,
        question_ids=[c.question_id for c in cards],
        created_at=ctx.now,
    )
    ctx.s.add(session)
    ctx.s.flush()
    blocks: list[Block] = [
        Paragraph(
            text(
                f"{total} card{'s' if total != 1 else ''} due; here "
                f"{'are' if len(cards) != 1 else 'is'} {len(cards)}, most overdue first."
            )
        )
    ]
    blocks += _question(ctx, session, 0, due=cards[0].due)
    return Reply.of(*blocks)


def _session(ctx: Ctx, ref: str) -> tuple[ReviewSession, int]:
    sid, _, pos = ref.partition(".")
    if not sid.isdigit() or not pos.isdigit():
        raise UserError(f"That button is no longer valid. Start again with `{SLASH} review`.")
    session = ctx.s.get(ReviewSession, int(sid))
    if session is None or session.user_id != ctx.user.id:
        raise UserError(f"That review belongs to someone else. Yours: `{SLASH} review`.")
    position = int(pos)
    if position >= len(session.question_ids):
        raise UserError("That review has no such card.")
    return session, position


def _q(ctx: Ctx, session: ReviewSession, position: int) -> Question:
    q = ctx.content.by_id.get(session.question_ids[position])
    if q is None:
        raise UserError("That question has been retired from the bank.")
    return q


def _buttons(q: Question, ref: str, selection: str) -> Buttons:
    remap = {qv.ANSWER: REVIEW_ANSWER, qv.TOGGLE: REVIEW_TOGGLE}
    raw = qv.answer_buttons(q, "r", ref, selection)
    return Buttons(
        tuple(Button(b.label, remap[b.action_id], b.value, b.style) for b in raw.buttons)
    )


def _question(
    ctx: Ctx,
    session: ReviewSession,
    position: int,
    selection: str = "",
    due: datetime | None = None,
) -> list[Block]:
    q = _q(ctx, session, position)
    title = f"Review {position + 1} of {len(session.question_ids)}"
    ref = f"{session.id}.{position}"
    blocks = qv.question_blocks(ctx.content, q, title, "r", ref, selection, buttons=False)
    blocks.insert(3, _buttons(q, ref, selection))
    if due is None:
        due = ctx.s.scalar(
            select(ReviewCard.due).where(
                ReviewCard.user_id == session.user_id, ReviewCard.question_id == q.id
            )
        )
    if due is not None and as_utc(due) <= as_utc(ctx.now):
        blocks.insert(4, Context(text(overdue_label(due, ctx.now))))
    return blocks


@dataclass(frozen=True)
class Pick:
    ref: str
    selection: str

    @staticmethod
    def decode(value: str) -> Pick:
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != "r" or not parts[1]:
            raise UserError("That button is no longer valid. Try the command again.")
        return Pick(parts[1], "".join(sorted(set(parts[2].upper()))))


def toggle(ctx: Ctx, value: str) -> Reply:
    pick = Pick.decode(value)
    session, position = _session(ctx, pick.ref)
    return Reply.of(*_question(ctx, session, position, pick.selection), replace=True)


def answer(ctx: Ctx, value: str) -> Reply:
    pick = Pick.decode(value)
    session, position = _session(ctx, pick.ref)
    q = _q(ctx, session, position)
    qv.check_selection(q, pick.selection)
    correct = q.is_correct(pick.selection)
    inserted = insert_ignore(
        ctx.s,
        ReviewAnswer,
        {
            "workspace_id": session.workspace_id,
            "session_id": session.id,
            "user_id": ctx.user.id,
            "position": position,
            "question_id": q.id,
            "choice": pick.selection,
            "correct": correct,
            "answered_at": ctx.now,
        },
        ["session_id", "position"],
    )
    if not inserted:
        return Reply.message("You already answered this card; only the first answer counts.")
    shown = _shown_at(ctx, session, position)
    seconds = (as_utc(ctx.now) - shown).total_seconds()
    due = record(ctx.s, session.workspace_id, ctx.user.id, q, correct, ctx.now, seconds)
    days = max(0, round((as_utc(due) - as_utc(ctx.now)).total_seconds() / 86400))
    extra = f"Next review in {days} day{'s' if days != 1 else ''} ({due:%a %d %b %Y})."
    blocks: list[Block] = qv.feedback_blocks(
        q, pick.selection, correct, 0, extra=extra, where="review"
    )
    nxt = position + 1
    if nxt < len(session.question_ids):
        blocks += [Divider(), *_question(ctx, session, nxt)]
    else:
        right = (
            ctx.s.scalar(
                select(func.count())
                .select_from(ReviewAnswer)
                .where(ReviewAnswer.session_id == session.id, ReviewAnswer.correct.is_(True))
            )
            or 0
        )
        left = due_count(ctx.s, ctx.user.id, ctx.now)
        blocks += [
            Divider(),
            Heading(f"Review done: {right} of {len(session.question_ids)} right"),
            Paragraph(
                text(
                    f"Cards still due: {left}. More: {SLASH} review; "
                    f"where you stand: {SLASH} progress."
                )
            ),
        ]
    return Reply.of(*blocks)


def _shown_at(ctx: Ctx, session: ReviewSession, position: int) -> datetime:
    """When the card appeared: the previous card's answer, or the start of the set."""
    if position == 0:
        return as_utc(session.created_at)
    prev = ctx.s.scalar(
        select(ReviewAnswer.answered_at).where(
            ReviewAnswer.session_id == session.id, ReviewAnswer.position == position - 1
        )
    )
    return as_utc(prev) if prev is not None else as_utc(session.created_at)
