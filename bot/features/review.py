"""`/study review`: the member's due spaced-review cards, most overdue first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.context import Ctx
from bot.features import questions as qv
from bot.features.exam.attempt import expire_mine
from bot.features.flags import pulled
from bot.features.review_cards import due_cards, due_count, next_due, overdue_label, record
from bot.registry import SLASH, Audience, Kind, Param, button, command
from bot.seam import Block, Context, Divider, Heading, Paragraph, Reply, text
from bot.store.db import insert_ignore
from bot.store.models import ReviewAnswer, ReviewCard, ReviewSession
from bot.timeutil import as_utc, parse_positive_int

DEFAULT_N = 10
MAX_N = 20
STALE = f"That button is no longer valid. Start again with `{SLASH} review`."


class ReviewPick(qv.Pick):
    """A choice on a review card: `r:<review id>.<position>:<selection>`."""

    kind = "r"
    actions = ("review.answer", "review.toggle")


@command(
    "review",
    summary="Your spaced-review cards that are due, most overdue first (default 10, at most 20)",
    audience=Audience.MEMBER,
    params=(Param("n", Kind.INT, "how many cards, 1 to 20"),),
    details=(
        "Every answer you give (daily question, quiz, review, mock exam) schedules that "
        "question for you with the FSRS algorithm: a miss comes back the next day, a "
        "right answer later and later. Only you see your review."
    ),
    examples=("/study review", "/study review 5"),
)
def review(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    expire_mine(ctx)  # a timed-out mock exam is graded first: its answers make cards due
    g = ctx.require_group()
    ctx.ensure_member()
    n_raw = args.get("n")
    n = parse_positive_int(n_raw, "number of cards", 1, MAX_N) if n_raw else DEFAULT_N
    bank = ctx.bank  # the group's view: no card of another group's own questions
    excluded = bank.retired | pulled(ctx.s, ctx.flag_threshold)
    cards = due_cards(ctx.s, bank, ctx.user.id, ctx.now, excluded, n)
    if not cards:
        nxt = next_due(ctx.s, ctx.user.id, ctx.now, g.id)
        tz = ctx.member_tz()
        when = (
            f"The next card is due {as_utc(nxt).astimezone(ZoneInfo(tz)):%a %d %b %Y %H:%M} ({tz})."
            if nxt
            else "Answer the daily question or a quiz and missed questions come back here."
        )
        return Reply.message(f"Nothing to review right now. {when}")
    total = due_count(ctx.s, ctx.user.id, ctx.now, excluded, g.id)
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


def _session(ctx: Ctx, pick: ReviewPick) -> tuple[ReviewSession, int]:
    return qv.owned_at(
        ctx,
        ReviewSession,
        pick.ref,
        stale=STALE,
        others=f"That review belongs to someone else. Yours: `{SLASH} review`.",
        missing="That review has no such card.",
    )


def _question(
    ctx: Ctx,
    session: ReviewSession,
    position: int,
    selection: str = "",
    due: datetime | None = None,
) -> list[Block]:
    q = qv.question_at(ctx, session, position)
    title = f"Review {position + 1} of {len(session.question_ids)}"
    pick = ReviewPick(f"{session.id}.{position}", selection)
    blocks = qv.question_blocks(ctx.content, q, title, pick)
    if due is None:
        due = ctx.s.scalar(
            select(ReviewCard.due).where(
                ReviewCard.user_id == session.user_id, ReviewCard.question_id == q.id
            )
        )
    if due is not None and as_utc(due) <= as_utc(ctx.now):
        blocks.insert(4, Context(text(overdue_label(due, ctx.now))))
    return blocks


@button(ReviewPick, "review.toggle")
def toggle(ctx: Ctx, pick: ReviewPick) -> Reply:
    session, position = _session(ctx, pick)
    return Reply.of(*_question(ctx, session, position, pick.selection), replace=True)


@button(ReviewPick, "review.answer")
def answer(ctx: Ctx, pick: ReviewPick) -> Reply:
    session, position = _session(ctx, pick)
    q = qv.question_at(ctx, session, position)
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
        left = due_count(ctx.s, ctx.user.id, ctx.now, group_id=session.group_id)
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
