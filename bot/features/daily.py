"""The daily question: `/study today`, and answering it once (buttons on the reply and on
the clock's channel post)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from bot.cohort import is_post_day, next_post_day
from bot.content.models import Content, Question
from bot.context import AfterWrites, Ctx
from bot.errors import UserError
from bot.features import questions as qv
from bot.features import review_cards
from bot.features.board import member_streak
from bot.features.flags import pulled
from bot.features.rotation import pick_question
from bot.registry import SLASH, Audience, button, command
from bot.seam import Context, Reply, code, text
from bot.store.db import insert_ignore
from bot.store.models import Answer, DailyQuestion
from bot.store.prepared import Prepared
from bot.store.records import GroupRecord
from bot.timeutil import days_label, fmt_date

POINTS = {1: 10, 2: 15, 3: 20}
ANSWER_WINDOW_DAYS = 1  # a daily question may be answered on its date and the day after


def points_for(q: Question) -> int:
    return POINTS.get(q.difficulty, 10)


class DailyPick(qv.Pick):
    """A choice on a member's own copy of the daily question: `d:<daily id>:<selection>`."""

    kind = "d"


class SharedPick(qv.Pick):
    """A choice on the clock's channel post, `c:<daily id>:<selection>`: a single-answer
    pick answers; a multi-answer pick opens the member's own selection (no Submit on a
    post everyone shares)."""

    kind = "c"
    submit = False


class DailyRef(NamedTuple):
    """What an answer or a toggle needs of the daily question its button names."""

    id: int
    group_id: int
    workspace_id: int
    local_date: date
    question_id: str


_DAILY = select(DailyQuestion).where(
    DailyQuestion.group_id == bindparam("group"), DailyQuestion.local_date == bindparam("day")
)
# The reads every member's `today` and click make run as Core on the Session's connection,
# which costs a third of an ORM query (SQLAlchemy's compiled cache skips recompiling).
_DAILY_BY_ID = Prepared(
    select(*(getattr(DailyQuestion, f) for f in DailyRef._fields)).where(
        DailyQuestion.id == bindparam("id")
    ),
    DailyRef,
)


class _Mine(NamedTuple):
    id: int
    local_date: date
    question_id: str
    choice: str | None
    correct: bool | None
    points: int | None
    answered_on: date | None


# What `today` shows: the day's question and the caller's answer to it, in one query.
_DAILY_WITH_MINE = Prepared(
    select(
        DailyQuestion.id,
        DailyQuestion.local_date,
        DailyQuestion.question_id,
        Answer.choice,
        Answer.correct,
        Answer.points,
        Answer.local_date.label("answered_on"),
    )
    .outerjoin(
        Answer, and_(Answer.daily_id == DailyQuestion.id, Answer.user_id == bindparam("user"))
    )
    .where(
        DailyQuestion.group_id == bindparam("group"), DailyQuestion.local_date == bindparam("day")
    ),
    _Mine,
)


def daily_for(ctx: Ctx, group: GroupRecord, day: date) -> DailyQuestion:
    """The group's question for a local date, created once (the unique key settles races)."""
    return ensure_daily(ctx.s, ctx.content, group, day, ctx.now, ctx.flag_threshold)


def ensure_daily(
    s: Session,
    content: Content,
    group: GroupRecord,
    day: date,
    now: datetime,
    flag_threshold: int,
) -> DailyQuestion:
    """The group's question for a local date, chosen by whoever needs it first: a member's
    `/study today`, or the clock's post as it is composed."""
    params = {"group": group.id, "day": day}
    row = s.scalar(_DAILY, params)
    if row is None:
        excluded = content.retired | pulled(s, flag_threshold)
        chosen = pick_question(content, s, group, day, excluded)
        insert_ignore(
            s,
            DailyQuestion,
            {
                "workspace_id": group.workspace_id,
                "group_id": group.id,
                "local_date": day,
                "question_id": chosen.id,
                "created_at": now,
            },
            ["group_id", "local_date"],
        )
        row = s.scalar(_DAILY, params)
    assert row is not None
    return row


def question_of(ctx: Ctx, question_id: str) -> Question:
    q = ctx.question(question_id)
    if q is None:
        raise UserError(
            f"That question has been retired from the bank. Try `{SLASH} quiz` for practice."
        )
    return q


def title_of(day: date) -> str:
    return f"Question of the day · {fmt_date(day)}"


@command("today", summary="Show today's question for the group", audience=Audience.MEMBER)
def today(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    joined = ctx.ensure_member()
    day = ctx.today()
    if not is_post_day(day, g.post_days, g.skip_dates or []):
        nxt = next_post_day(day, g.post_days, g.skip_dates or [])
        return Reply.message(
            f"No question today ({fmt_date(day)}): this group posts on "
            f"{days_label(g.post_days)}. The next one is on {fmt_date(nxt)}. Practise with ",
            code(f"{SLASH} quiz"),
            ".",
        )
    params = {"group": g.id, "day": day, "user": ctx.user.id}
    row = _DAILY_WITH_MINE.first(ctx.s, params)
    if row is None:
        daily = daily_for(ctx, g, day)
        daily_id, question_id = daily.id, daily.question_id
    else:
        daily_id, question_id = row.id, row.question_id
    q = question_of(ctx, question_id)
    pick = DailyPick(str(daily_id))
    if row is not None and row.choice is not None:
        # an answer row has all three (the outer join leaves them null together)
        assert row.correct is not None and row.points is not None and row.answered_on
        blocks = qv.question_blocks(ctx.content, q, title_of(day), pick, buttons=False)
        blocks += qv.feedback_blocks(
            q,
            row.choice,
            row.correct,
            row.points,
            extra=f"You answered on {fmt_date(row.answered_on)}.",
        )
        return Reply.of(*blocks)
    blocks = qv.question_blocks(ctx.content, q, title_of(day), pick)
    if joined:
        blocks.append(Context(text("You joined this study group.")))
    return Reply.of(*blocks)


def _daily_of(ctx: Ctx, pick: qv.Pick) -> DailyRef:
    if not pick.ref.isdigit():
        raise UserError("That button is no longer valid.")
    daily = _DAILY_BY_ID.first(ctx.s, {"id": int(pick.ref)})
    g = ctx.require_group()
    if daily is None or daily.group_id != g.id or daily.workspace_id != ctx.workspace.id:
        raise UserError("That question belongs to another study group.")
    return daily


@button(DailyPick, qv.TOGGLE)
@button(SharedPick, qv.TOGGLE)
def toggle(ctx: Ctx, pick: qv.Pick) -> Reply:
    """Show a multi-answer question's buttons with the caller's current selection. A pick
    on the shared channel post opens the member's own selection; later picks replace that
    private message, never the channel's."""
    daily = _daily_of(ctx, pick)
    q = question_of(ctx, daily.question_id)
    own = DailyPick(pick.ref, pick.selection)
    blocks = qv.question_blocks(ctx.content, q, title_of(daily.local_date), own)
    return Reply.of(*blocks, replace=not isinstance(pick, SharedPick))


@button(DailyPick, qv.ANSWER)
@button(SharedPick, qv.ANSWER)
def answer(ctx: Ctx, pick: qv.Pick) -> Reply | AfterWrites:
    """Record the first answer; a second one is refused by the unique key, not by a check.

    The feedback, with the member's streak, is made after the writes (`AfterWrites`), in
    the same transaction, so the streak counts today's answer; a bug in making it does
    not undo the answer."""
    daily = _daily_of(ctx, pick)
    q = question_of(ctx, daily.question_id)
    qv.check_selection(q, pick.selection)
    g = ctx.require_group()
    joined = ctx.ensure_member()
    today = ctx.today()
    if daily.local_date > today:
        raise UserError(f"That question opens on {fmt_date(daily.local_date)}.")
    if daily.local_date < today - timedelta(days=ANSWER_WINDOW_DAYS):
        raise UserError(
            f"The question of {fmt_date(daily.local_date)} is closed. Today's is "
            f"at `{SLASH} today`."
        )
    correct = q.is_correct(pick.selection)
    pts = points_for(q) if correct else 0
    user_id = ctx.user.id
    inserted = insert_ignore(
        ctx.s,
        Answer,
        {
            "workspace_id": g.workspace_id,
            "group_id": g.id,
            "daily_id": daily.id,
            "user_id": user_id,
            "question_id": q.id,
            "choice": pick.selection,
            "correct": correct,
            "points": pts,
            "local_date": daily.local_date,
            "answered_at": ctx.now,
        },
        ["daily_id", "user_id"],
    )
    if not inserted:
        first = ctx.s.scalars(select(Answer).filter_by(daily_id=daily.id, user_id=user_id)).one()
        verdict = "right" if first.correct else "not right"
        return Reply.message(
            f"You already answered {first.choice} ({verdict}); only your first answer counts. ",
            code(f"{SLASH} quiz"),
            " has more practice.",
        )
    review_cards.record(ctx.s, g.workspace_id, user_id, q, correct, ctx.now)
    selection = pick.selection

    def feedback(after: Ctx | None) -> Reply:
        notes = []
        if after is not None:  # `g` is loaded: readable after its Session ended
            streak = member_streak(after.s, g, user_id, today)
            notes.append(f"Streak: {streak} day{'s' if streak != 1 else ''}.")
        if joined:
            notes.append("You joined this study group.")
        extra = " ".join(notes)
        return Reply.of(*qv.feedback_blocks(q, selection, correct, pts, extra=extra))

    return AfterWrites(feedback)
