"""`/study quiz`: private practice sets, unseen questions first, a small capped reward."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.context import Ctx
from bot.errors import UserError
from bot.features import own_bank, review_cards
from bot.features import questions as qv
from bot.features.flags import pulled
from bot.registry import SLASH, Audience, ButtonValue, Kind, Param, button, command
from bot.seam import Block, Buttons, ButtonStyle, Divider, Heading, Paragraph, Reply, text
from bot.store.db import insert_ignore
from bot.store.models import Answer, QuizAnswer, QuizSession
from bot.timeutil import as_utc, parse_positive_int

DEFAULT_N = 5
MAX_N = 20
QUIZ_POINT = 1
QUIZ_DAILY_CAP = 5
STALE = f"That button is no longer valid. Start a new set with `{SLASH} quiz`."


class QuizPick(qv.Pick):
    """A choice in a practice set: `q:<set id>.<position>:<selection>`."""

    kind = "q"


@dataclass(frozen=True)
class QuizResume(ButtonValue):
    """Continue an unfinished set (`<set id>`) or, with set id 0, start a new one."""

    set_id: int
    actions = ("quiz.resume",)

    def encode(self) -> str:
        return str(self.set_id)

    @classmethod
    def decode(cls, value: str) -> QuizResume:
        if not value.isdigit():
            raise UserError(STALE)
        return cls(int(value))


@command(
    "quiz",
    summary="A private practice set (default 5, at most 20), unseen questions first",
    audience=Audience.MEMBER,
    params=(
        Param("domain", Kind.WORD, "an exam domain of the group's track"),
        Param("n", Kind.INT, "how many questions, 1 to 20"),
    ),
    examples=("/study quiz", "/study quiz {domain} 10", "/study quiz 3"),
)
def quiz(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """A new set; `/study quiz` alone first offers to finish an unfinished one."""
    ctx.require_group()
    ctx.ensure_member()
    if not args:
        unfinished = _unfinished(ctx)
        if unfinished is not None:
            session, done = unfinished
            total = len(session.question_ids)
            return Reply.of(
                Paragraph(
                    text(
                        f"You have an unfinished practice set: {done} of {total} answered. "
                        "Continue it, or start a new one?"
                    )
                ),
                Buttons(
                    (
                        QuizResume(session.id).button(
                            "Continue the set", style=ButtonStyle.PRIMARY
                        ),
                        QuizResume(0).button("New set"),
                    )
                ),
            )
    return _new_set(ctx, args)


@button(QuizResume)
def resume(ctx: Ctx, v: QuizResume) -> Reply:
    if v.set_id == 0:
        return _new_set(ctx, {})
    session, _ = qv.owned_at(
        ctx,
        QuizSession,
        f"{v.set_id}.0",
        stale=STALE,
        others=f"That practice set belongs to someone else. Start your own with `{SLASH} quiz`.",
        missing="That practice set has no questions.",
    )
    answered = _answered_positions(ctx, session.id)
    left = [i for i in range(len(session.question_ids)) if i not in answered]
    if not left:
        return Reply.of(*_summary(ctx, session))
    return Reply.of(*_question(ctx, session, left[0]))


def _answered_positions(ctx: Ctx, session_id: int) -> set[int]:
    return set(
        ctx.s.scalars(select(QuizAnswer.position).where(QuizAnswer.session_id == session_id))
    )


def _unfinished(ctx: Ctx) -> tuple[QuizSession, int] | None:
    """The caller's latest set in this group, if some of its questions are unanswered."""
    session = ctx.s.scalars(
        select(QuizSession)
        .where(QuizSession.user_id == ctx.user.id, QuizSession.group_id == ctx.require_group().id)
        .order_by(QuizSession.created_at.desc(), QuizSession.id.desc())
        .limit(1)
    ).first()
    if session is None:
        return None
    done = len(_answered_positions(ctx, session.id))
    return (session, done) if done < len(session.question_ids) else None


def _new_set(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    track = ctx.track()
    domain, n_raw = args.get("domain"), args.get("n")
    if domain and domain.isdigit() and not n_raw:  # `/study quiz 10`
        domain, n_raw = None, domain
    n = parse_positive_int(n_raw, "number of questions", 1, MAX_N) if n_raw else DEFAULT_N
    content = ctx.bank  # the bank and the group's own questions, as `setup own=` says
    excluded = own_bank.exclusions(content, g, content.retired | pulled(ctx.s, ctx.flag_threshold))
    bank = [q for q in content.by_track.get(g.track, ()) if q.id not in excluded]
    if domain:
        d = track.domain(domain.lower())
        if d is None:
            known = ", ".join(x.id for x in track.domains)
            raise UserError(
                f"Unknown domain {domain!r} for the {track.id} track. Use one of: {known}."
            )
        bank = [q for q in bank if q.domain == d.id]
    if not bank:
        raise UserError("There are no questions for that choice yet.")
    seen = _seen(ctx)
    rng = random.Random(f"{ctx.user.id}:{ctx.now.isoformat()}")
    unseen = [q for q in bank if q.id not in seen]
    seen_qs = [q for q in bank if q.id in seen]
    rng.shuffle(unseen)
    rng.shuffle(seen_qs)
    picked = (unseen + seen_qs)[:n]
    session = QuizSession(
        workspace_id=ctx.workspace.id,
        group_id=g.id,
        user_id=ctx.user.id,
        question_ids=[q.id for q in picked],
        created_at=ctx.now,
    )
    ctx.s.add(session)
    ctx.s.flush()
    return Reply.of(*_question(ctx, session, 0))


def _seen(ctx: Ctx) -> set[str]:
    daily = ctx.s.scalars(select(Answer.question_id).where(Answer.user_id == ctx.user.id))
    quiz = ctx.s.scalars(select(QuizAnswer.question_id).where(QuizAnswer.user_id == ctx.user.id))
    return set(daily) | set(quiz)


def _session(ctx: Ctx, pick: QuizPick) -> tuple[QuizSession, int]:
    return qv.owned_at(
        ctx,
        QuizSession,
        pick.ref,
        stale=STALE,
        others=f"That practice set belongs to someone else. Start your own with `{SLASH} quiz`.",
        missing="That practice set has no such question.",
    )


def _question(ctx: Ctx, session: QuizSession, position: int, selection: str = "") -> list[Block]:
    q = qv.question_at(ctx, session, position)
    title = f"Practice {position + 1} of {len(session.question_ids)}"
    pick = QuizPick(f"{session.id}.{position}", selection)
    return qv.question_blocks(ctx.content, q, title, pick)


@button(QuizPick, qv.TOGGLE)
def toggle(ctx: Ctx, pick: QuizPick) -> Reply:
    session, position = _session(ctx, pick)
    return Reply.of(*_question(ctx, session, position, pick.selection), replace=True)


@button(QuizPick, qv.ANSWER)
def answer(ctx: Ctx, pick: QuizPick) -> Reply:
    session, position = _session(ctx, pick)
    q = qv.question_at(ctx, session, position)
    qv.check_selection(q, pick.selection)
    today = ctx.today()
    correct = q.is_correct(pick.selection)
    earned_today = (
        ctx.s.scalar(
            select(func.coalesce(func.sum(QuizAnswer.points), 0)).where(
                QuizAnswer.user_id == ctx.user.id,
                QuizAnswer.group_id == session.group_id,
                QuizAnswer.local_date == today,
            )
        )
        or 0
    )
    pts = QUIZ_POINT if correct and earned_today < QUIZ_DAILY_CAP else 0
    inserted = insert_ignore(
        ctx.s,
        QuizAnswer,
        {
            "workspace_id": session.workspace_id,
            "group_id": session.group_id,
            "session_id": session.id,
            "user_id": ctx.user.id,
            "position": position,
            "question_id": q.id,
            "choice": pick.selection,
            "correct": correct,
            "points": pts,
            "local_date": today,
            "answered_at": ctx.now,
        },
        ["session_id", "position"],
    )
    if not inserted:
        first = ctx.s.scalar(
            select(QuizAnswer).where(
                QuizAnswer.session_id == session.id, QuizAnswer.position == position
            )
        )
        assert first is not None
        return Reply.message(
            f"You already answered {first.choice} to this one; only the first answer counts."
        )
    shown = _shown_at(ctx, session, position)
    seconds = (as_utc(ctx.now) - shown).total_seconds()
    review_cards.record(ctx.s, session.workspace_id, ctx.user.id, q, correct, ctx.now, seconds)
    extra = "" if not correct or pts else "Daily quiz points are capped at 5; this one is practice."
    blocks: list[Block] = qv.feedback_blocks(
        q, pick.selection, correct, pts, extra=extra, where="quiz"
    )
    nxt = position + 1
    if nxt < len(session.question_ids):
        blocks += [Divider(), *_question(ctx, session, nxt)]
    else:
        blocks += [Divider(), *_summary(ctx, session)]
    return Reply.of(*blocks)


def _summary(ctx: Ctx, session: QuizSession) -> list[Block]:
    rows = ctx.s.execute(
        select(QuizAnswer.correct, QuizAnswer.points).where(QuizAnswer.session_id == session.id)
    ).all()
    right = sum(1 for c, _ in rows if c)
    pts = sum(p for _, p in rows)
    total = len(session.question_ids)
    return [
        Heading(f"Practice set done: {right} of {total} right"),
        Paragraph(
            text(
                f"Points earned: {pts}. Another set: {SLASH} quiz, or see where you "
                f"stand: {SLASH} progress."
            )
        ),
    ]


def _shown_at(ctx: Ctx, session: QuizSession, position: int) -> datetime:
    """When a question appeared: the previous answer in the set, or the set's start."""
    if position > 0:
        prev = ctx.s.scalar(
            select(QuizAnswer.answered_at).where(
                QuizAnswer.session_id == session.id, QuizAnswer.position == position - 1
            )
        )
        if prev is not None:
            return as_utc(prev)
    return as_utc(session.created_at)
