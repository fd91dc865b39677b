"""`/study leaderboard`: points, streaks and accuracy per member for a week, a month or all
time.

Points come from correct first answers to daily questions; quizzes add a capped trickle.
Every query is bounded by the group and a date range on an index, so a board costs the
same at ten thousand answers as at a million.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    String,
    bindparam,
    case,
    func,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from bot.cohort import streak
from bot.context import Ctx
from bot.errors import UserError
from bot.registry import PERIODS, SLASH, Audience, ButtonValue, Kind, Param, button, command
from bot.seam import (
    Block,
    Buttons,
    Context,
    Heading,
    Paragraph,
    Reply,
    Span,
    bold,
    text,
)
from bot.store.functions import joined_text
from bot.store.models import Answer, Away, Membership, QuizAnswer, User
from bot.store.prepared import Prepared
from bot.store.records import GroupRecord
from bot.timeutil import local_today, month_start, week_start

PAGE = 10
STREAK_LOOKBACK_DAYS = 400
PERIOD_TITLE = {"week": "This week", "month": "This month", "all": "All time"}


@dataclass(frozen=True)
class BoardPage(ButtonValue):
    """A page of a period's board: `<period>:<page>`."""

    period: str
    page: int
    actions = ("board",)

    def encode(self) -> str:
        return f"{self.period}:{self.page}"

    @classmethod
    def decode(cls, value: str) -> BoardPage:
        period, _, page = value.partition(":")
        if period not in PERIODS or not page.isdigit():
            raise UserError("That button is no longer valid. Try the command again.")
        return cls(period, int(page))


@dataclass
class Row:
    user_id: int
    external_id: str
    name: str
    points: int = 0
    correct: int = 0
    answered: int = 0
    streak: int = 0
    rank: int = 0

    @property
    def accuracy(self) -> float | None:
        return None if self.answered == 0 else self.correct / self.answered


def period_range(period: str, today: date) -> tuple[date | None, date]:
    if period == "week":
        return week_start(today), today
    if period == "month":
        return month_start(today), today
    return None, today


def standings(ctx: Ctx, g: GroupRecord, period: str) -> list[Row]:
    today = local_today(g.tz, ctx.now)
    start, end = period_range(period, today)
    members = ctx.s.execute(
        select(User.id, User.external_id, User.display_name, User.tz)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == g.id, Membership.active.is_(True))
    ).all()
    rows = {uid: Row(uid, ext, name) for uid, ext, name, _tz in members}
    tzs = {uid: tz or g.tz for uid, _ext, _name, tz in members}

    daily = select(
        Answer.user_id,
        func.sum(Answer.points),
        func.sum(case((Answer.correct.is_(True), 1), else_=0)),
        func.count(),
    ).where(Answer.group_id == g.id, Answer.local_date <= end)
    quiz = select(QuizAnswer.user_id, func.sum(QuizAnswer.points)).where(
        QuizAnswer.group_id == g.id, QuizAnswer.local_date <= end
    )
    if start is not None:
        daily = daily.where(Answer.local_date >= start)
        quiz = quiz.where(QuizAnswer.local_date >= start)
    for uid, pts, correct, n in ctx.s.execute(daily.group_by(Answer.user_id)):
        if uid in rows:
            r = rows[uid]
            r.points, r.correct, r.answered = int(pts or 0), int(correct or 0), int(n)
    for uid, pts in ctx.s.execute(quiz.group_by(QuizAnswer.user_id)):
        if uid in rows:
            rows[uid].points += int(pts or 0)

    streaks = _streaks(ctx, g, list(rows), tzs)
    for uid, r in rows.items():
        r.streak = streaks.get(uid, 0)
    ordered = sorted(
        rows.values(),
        key=lambda r: (-r.points, -r.correct, -(r.accuracy or 0), r.name.lower(), r.external_id),
    )
    for i, r in enumerate(ordered, 1):
        r.rank = i
    return ordered


def _streaks(
    ctx: Ctx, g: GroupRecord, user_ids: list[int], tzs: Mapping[int, str]
) -> dict[int, int]:
    if not user_ids:
        return {}
    since = max(g.start_date, local_today(g.tz, ctx.now) - timedelta(days=STREAK_LOOKBACK_DAYS))
    answered: dict[int, set[date]] = defaultdict(set)
    for uid, d in ctx.s.execute(
        select(Answer.user_id, Answer.local_date).where(
            Answer.group_id == g.id, Answer.local_date >= since
        )
    ):
        answered[uid].add(d)
    aways: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for uid, a, b in ctx.s.execute(
        select(Away.user_id, Away.start_date, Away.end_date).where(
            Away.user_id.in_(user_ids), Away.end_date >= since
        )
    ):
        aways[uid].append((a, b))
    return {
        uid: streak(
            answered[uid],
            local_today(tzs[uid], ctx.now),
            g.post_days,
            g.skip_dates or [],
            aways[uid],
            since,
        )
        for uid in user_ids
    }


# One round trip, prepared (bot/store/prepared.py): every answer click computes the member's streak
# from their answer dates (one row: the dates joined into one string, so a long streak
# costs one split, not a row each) and their aways (a row each, with an end date).
_STREAK_DATES: Prepared[tuple[str | None, date | None, date | None]] = Prepared(
    union_all(
        select(
            joined_text(Answer.local_date).label("days"),
            type_coerce(null(), Date).label("start"),
            type_coerce(null(), Date).label("until"),
        ).where(
            Answer.group_id == bindparam("group"),
            Answer.user_id == bindparam("user"),
            Answer.local_date >= bindparam("since"),
        ),
        select(type_coerce(null(), String), Away.start_date, Away.end_date).where(
            Away.user_id == bindparam("user"), Away.end_date >= bindparam("since")
        ),
    )
)


def member_streak(s: Session, g: GroupRecord, user_id: int, today: date) -> int:
    """The member's streak on their local `today`."""
    since = max(g.start_date, today - timedelta(days=STREAK_LOOKBACK_DAYS))
    days: set[date] = set()
    aways: list[tuple[date, date]] = []
    params = {"group": g.id, "user": user_id, "since": since}
    for joined, start, until in _STREAK_DATES.all(s, params):
        if start is None:
            days.update(date.fromisoformat(d) for d in (joined or "").split(",") if d)
        else:
            assert until is not None  # an away's end date is never null
            aways.append((start, until))
    return streak(days, today, g.post_days, g.skip_dates or [], aways, since)


@command(
    "leaderboard",
    summary="Group ranks by points for the week, the month or all time",
    audience=Audience.MEMBER,
    params=(Param("period", Kind.CHOICE, "week, month or all", choices=PERIODS),),
    details=(
        "Points come from correct first answers to the daily question (10, 15 or 20 by "
        "difficulty); practice quizzes add 1 point per correct answer, at most 5 a day. "
        "Ties go to more correct answers, then the earlier last correct answer."
    ),
)
def leaderboard(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    period = (args.get("period") or "week").lower()
    if period not in PERIODS:
        raise UserError(f"Unknown period {period!r}. Use week, month or all.")
    return board_page(ctx, period, 1)


@button(BoardPage)
def turn_page(ctx: Ctx, v: BoardPage) -> Reply:
    reply = board_page(ctx, v.period, v.page)
    return Reply(reply.blocks, reply.visibility, replace=True)


def board_page(ctx: Ctx, period: str, page: int) -> Reply:
    g = ctx.require_group()
    rows = standings(ctx, g, period)
    today = local_today(g.tz, ctx.now)
    start, _ = period_range(period, today)
    since = f" (since {start:%d %b})" if start else ""
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * PAGE : page * PAGE]
    blocks: list[Block] = [Heading(f"Leaderboard · {PERIOD_TITLE[period]}{since}")]
    if not rows or all(r.answered == 0 and r.points == 0 for r in rows):
        blocks.append(
            Paragraph(
                text(
                    "No points yet in this period. Answer ",
                    bold(f"{SLASH} today"),
                    " to get on the board.",
                )
            )
        )
        return Reply.of(*blocks)
    blocks.append(Paragraph(_lines(shown, ctx.who.user_id)))
    me = next((r for r in rows if r.external_id == ctx.who.user_id), None)
    if me is not None and me not in shown:
        blocks.append(Context(text(f"You: #{me.rank} of {len(rows)} · {me.points} pts")))
    blocks.append(
        Context(
            text(
                f"Page {page} of {pages} · points from correct first answers to the daily "
                "question; quizzes add at most 5 a day."
            )
        )
    )
    nav = []
    if page > 1:
        nav.append(BoardPage(period, page - 1).button("◀ Previous"))
    if page < pages:
        nav.append(BoardPage(period, page + 1).button("Next ▶"))
    if nav:
        blocks.append(Buttons(tuple(nav)))
    return Reply.of(*blocks)


def _lines(rows: list[Row], caller: str) -> tuple[Span, ...]:
    out: list[Span] = []
    for i, r in enumerate(rows):
        if i:
            out.append(Span("\n"))
        acc = "–" if r.accuracy is None else f"{r.accuracy:.0%}"
        out.append(bold(f"{r.rank}.") if r.external_id != caller else bold(f"{r.rank}. ▶"))
        out.append(Span(" "))
        out.append(Span(r.name))  # user data: each renderer escapes it
        out.append(Span(f" — {r.points} pts · streak {r.streak} · accuracy {acc}"))
    return tuple(out)
