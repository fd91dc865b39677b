"""The daily question: which one a group gets on a date, and answering it once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from bot.commands import SLASH
from bot.content.models import Content, Question
from bot.errors import UserError
from bot.schedule import calendar, is_post_day, next_post_day
from bot.seam import Context, Reply, code, text
from bot.services import questions as qv
from bot.services import review
from bot.services.board import member_streak
from bot.services.context import AfterCommit, Ctx
from bot.services.flags import pulled
from bot.store.db import insert_ignore
from bot.store.models import Answer, DailyQuestion
from bot.store.prepared import Prepared
from bot.store.rows import GroupLike
from bot.timeutil import days_label, fmt_date

POINTS = {1: 10, 2: 15, 3: 20}
ANSWER_WINDOW_DAYS = 1  # a daily question may be answered on its date and the day after
BALANCE_DAYS = 28  # daily questions follow the exam's domain weights over this window
LEAN = 0.2  # the share of the weights moved to the group's weakest domain
WEAK_LOOKBACK_DAYS = 28
MIN_WEAK_ANSWERS = 5


def points_for(q: Question) -> int:
    return POINTS.get(q.difficulty, 10)


def pick_question(
    content: Content,
    s: Session,
    group: GroupLike,
    day: date,
    excluded: frozenset[str] = frozenset(),
) -> Question:
    """Choose deterministically: least-used questions of the track first (so nothing repeats
    until the bank is used up); among them the phases reached so far, then the domain the
    week's posts owe most (`target_domain`), then the current phase, then a hash of group,
    date and id."""
    bank = [q for q in content.by_track.get(group.track, ()) if q.id not in excluded]
    if not bank:
        raise UserError(f"The question bank has no {group.track} questions yet.")
    used = dict(
        s.execute(
            select(DailyQuestion.question_id, func.count())
            .where(DailyQuestion.group_id == group.id)
            .group_by(DailyQuestion.question_id)
        ).all()
    )
    least = min(used.get(q.id, 0) for q in bank)
    pool = [q for q in bank if used.get(q.id, 0) == least]
    phase = calendar(content.phases, group.start_date, group.exam_date).phase_number_at(day)
    eligible = [q for q in pool if q.phase <= phase] or pool
    target = target_domain(content, s, group, day, {q.domain for q in eligible})
    in_domain = [q for q in eligible if q.domain == target] or eligible
    preferred = [q for q in in_domain if q.phase == phase] or in_domain

    def rank(q: Question) -> str:
        return hashlib.sha256(f"{group.id}:{day.isoformat()}:{q.id}".encode()).hexdigest()

    return min(preferred, key=rank)


def weakest_domain(content: Content, s: Session, group: GroupLike, day: date) -> str | None:
    """The group's weakest domain on its daily answers of the last four weeks: the lowest
    accuracy smoothed by a Beta(1, 1) prior; None until the group has a few answers."""
    since = day - timedelta(days=WEAK_LOOKBACK_DAYS)
    rows = s.execute(
        select(Answer.question_id, Answer.correct).where(
            Answer.group_id == group.id, Answer.local_date >= since, Answer.local_date < day
        )
    ).all()
    track = content.track(group.track)
    tally = {d.id: [0, 0] for d in track.domains}
    for qid, correct in rows:
        q = content.by_id.get(qid)
        if q is not None and q.domain in tally:
            tally[q.domain][0] += int(bool(correct))
            tally[q.domain][1] += 1
    if sum(n for _, n in tally.values()) < MIN_WEAK_ANSWERS:
        return None
    order = {d.id: i for i, d in enumerate(track.domains)}
    return min(tally, key=lambda d: ((tally[d][0] + 1) / (tally[d][1] + 2), order[d]))


def target_domain(
    content: Content, s: Session, group: GroupLike, day: date, available: set[str]
) -> str | None:
    """The domain today's question should come from: over the last four weeks of posts each
    domain gets its share of the exam weights, with `LEAN` of the whole moved to the group's
    weakest domain; the domain furthest below its share is due (heavier weight breaks ties).
    So every week carries each domain about as often as the exam does, leaning to the weak."""
    track = content.track(group.track)
    domains = [d for d in track.domains if d.id in available]
    if not domains:
        return None
    since = day - timedelta(days=BALANCE_DAYS - 1)
    recent = s.scalars(
        select(DailyQuestion.question_id).where(
            DailyQuestion.group_id == group.id,
            DailyQuestion.local_date >= since,
            DailyQuestion.local_date < day,
        )
    )
    counts = {d.id: 0 for d in domains}
    for qid in recent:
        q = content.by_id.get(qid)
        if q is not None and q.domain in counts:
            counts[q.domain] += 1
    total_w = sum(d.weight for d in domains) or 1.0
    weak = weakest_domain(content, s, group, day)
    lean = LEAN if weak in counts else 0.0
    share = {
        d.id: (1 - lean) * d.weight / total_w + (lean if d.id == weak else 0.0) for d in domains
    }
    slots = sum(counts.values()) + 1
    order = {d.id: i for i, d in enumerate(domains)}
    weights = {d.id: d.weight for d in domains}
    return max(counts, key=lambda d: (share[d] * slots - counts[d], weights[d], -order[d]))


class DailyRef(NamedTuple):
    """What an answer or a toggle needs of the daily question its button names."""

    id: int
    group_id: int
    workspace_id: int
    local_date: date
    question_id: str


class Mine(NamedTuple):
    """The caller's answer to a daily question."""

    choice: str
    correct: bool
    points: int
    local_date: date


_DAILY = select(DailyQuestion).where(
    DailyQuestion.group_id == bindparam("group"), DailyQuestion.local_date == bindparam("day")
)
# Prepared: `today` and answer clicks are what members run most (see store/prepared.py).
_REF_COLUMNS = [getattr(DailyQuestion, f) for f in DailyRef._fields]
_MINE_COLUMNS = [getattr(Answer, f) for f in Mine._fields]
_DAILY_WITH_MINE = Prepared(
    select(*_REF_COLUMNS, *_MINE_COLUMNS)
    .outerjoin(
        Answer, and_(Answer.daily_id == DailyQuestion.id, Answer.user_id == bindparam("user"))
    )
    .where(
        DailyQuestion.group_id == bindparam("group"), DailyQuestion.local_date == bindparam("day")
    )
)
_DAILY_BY_ID = Prepared(select(*_REF_COLUMNS).where(DailyQuestion.id == bindparam("id")))
_MINE = Prepared(
    select(*_MINE_COLUMNS).where(
        Answer.daily_id == bindparam("daily"), Answer.user_id == bindparam("user")
    )
)


def daily_for(ctx: Ctx, group: GroupLike, day: date) -> DailyQuestion:
    """The group's question for a local date, created once (the unique key settles races)."""
    params = {"group": group.id, "day": day}
    row = ctx.s.scalar(_DAILY, params)
    if row is None:
        excluded = ctx.content.stale | pulled(ctx.s, ctx.flag_threshold)
        chosen = pick_question(ctx.content, ctx.s, group, day, excluded)
        insert_ignore(
            ctx.s,
            DailyQuestion,
            {
                "workspace_id": group.workspace_id,
                "group_id": group.id,
                "local_date": day,
                "question_id": chosen.id,
                "created_at": ctx.now,
            },
            ["group_id", "local_date"],
        )
        row = ctx.s.scalar(_DAILY, params)
    assert row is not None
    return row


def question_of(ctx: Ctx, daily: DailyQuestion | DailyRef) -> Question:
    q = ctx.content.by_id.get(daily.question_id)
    if q is None:
        raise UserError(
            f"That question has been retired from the bank. Try `{SLASH} quiz` for practice."
        )
    return q


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
    found = _DAILY_WITH_MINE.first(ctx.db, {"group": g.id, "day": day, "user": ctx.user.id})
    if found is None:
        daily: DailyQuestion | DailyRef = daily_for(ctx, g, day)
        mine = None
    else:
        n = len(DailyRef._fields)
        daily = DailyRef(*found[:n])
        mine = Mine(*found[n:]) if found[n] is not None else None
    q = question_of(ctx, daily)
    title = f"Question of the day · {fmt_date(day)}"
    if mine is not None:
        blocks = qv.question_blocks(ctx.content, q, title, "d", str(daily.id), buttons=False)
        blocks += qv.feedback_blocks(
            q,
            mine.choice,
            mine.correct,
            mine.points,
            extra=f"You answered on {fmt_date(mine.local_date)}.",
        )
        return Reply.of(*blocks)
    blocks = qv.question_blocks(ctx.content, q, title, "d", str(daily.id))
    if joined:
        blocks.append(Context(text("You joined this study group.")))
    return Reply.of(*blocks)


def toggle(ctx: Ctx, ref: qv.AnswerRef) -> Reply:
    """Show a multi-answer question's buttons with the caller's current selection."""
    daily = _daily_by_ref(ctx, ref.ref)
    q = question_of(ctx, daily)
    title = f"Question of the day · {fmt_date(daily.local_date)}"
    # A pick on the shared channel post opens the member's own selection; later picks
    # replace that private message, never the channel's.
    blocks = qv.question_blocks(ctx.content, q, title, "d", ref.ref, ref.selection)
    if ref.kind == "c":
        return Reply.of(*blocks)
    return Reply.of(*blocks, replace=True)


def _daily_by_ref(ctx: Ctx, ref: str) -> DailyRef:
    try:
        daily_id = int(ref)
    except ValueError:
        raise UserError("That button is no longer valid.") from None
    row = _DAILY_BY_ID.first(ctx.db, {"id": daily_id})
    daily = DailyRef(*row) if row is not None else None
    g = ctx.require_group()
    if daily is None or daily.group_id != g.id or daily.workspace_id != ctx.workspace.id:
        raise UserError("That question belongs to another study group.")
    return daily


def answer(ctx: Ctx, ref: qv.AnswerRef) -> Reply | AfterCommit:
    """Record the first answer; a second one is refused by the unique key, not by a check.

    The feedback, with the member's streak, is made after the commit (`AfterCommit`): a
    platform that confirms the click once the answer is recorded does so without waiting
    for the streak, which counts today's answer all the same."""
    daily = _daily_by_ref(ctx, ref.ref)
    q = question_of(ctx, daily)
    qv.check_selection(q, ref.selection)
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
    correct = q.is_correct(ref.selection)
    pts = points_for(q) if correct else 0
    inserted = insert_ignore(
        ctx.db,
        Answer,
        {
            "workspace_id": g.workspace_id,
            "group_id": g.id,
            "daily_id": daily.id,
            "user_id": ctx.user.id,
            "question_id": q.id,
            "choice": ref.selection,
            "correct": correct,
            "points": pts,
            "local_date": daily.local_date,
            "answered_at": ctx.now,
        },
        ["daily_id", "user_id"],
    )
    if not inserted:
        row = _MINE.first(ctx.db, {"daily": daily.id, "user": ctx.user.id})
        assert row is not None
        first = Mine(*row)
        verdict = "right" if first.correct else "not right"
        return Reply.message(
            f"You already answered {first.choice} ({verdict}); only your first answer counts. ",
            code(f"{SLASH} quiz"),
            " has more practice.",
        )
    user_id = ctx.user.id
    review.record(ctx.db, g.workspace_id, user_id, q, correct, ctx.now)

    def feedback(after: Ctx | None) -> Reply:
        notes = []
        if after is not None:
            streak = member_streak(after.db, g, user_id, today)
            notes.append(f"Streak: {streak} day{'s' if streak != 1 else ''}.")
        if joined:
            notes.append("You joined this study group.")
        extra = " ".join(notes)
        return Reply.of(*qv.feedback_blocks(q, ref.selection, correct, pts, extra=extra))

    return AfterCommit(feedback)
