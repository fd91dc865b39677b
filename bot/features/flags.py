"""Reports of wrong questions, and the questions they pull until a maintainer reviews them.

Wrong answer keys are the most damaging bug a bank can have, so a member can report one
from where they saw it; once enough different members report a question it leaves daily
posts and quizzes until `studybot content flags --review ID` puts it back. Reports on a
group's own question go to that group's leads instead: `/study questions` shows them, and
a lead's edit or restore reviews them (`bot/features/own_manage.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.content.models import OWN_ID_RE
from bot.errors import FieldError, UserError
from bot.registry import SLASH, Audience, ButtonValue, Kind, Param, button, command
from bot.seam import Reply, code
from bot.store.db import insert_ignore
from bot.store.models import Answer, Flag, QuizAnswer

if TYPE_CHECKING:
    from bot.context import Ctx

MAX_REASON = 500
QUESTION_ID = re.compile(r"^[a-z][a-z-]*-\d{1,4}$")  # looks like a-mt-012 or zz-999
FROM_FEEDBACK = "reported from the answer feedback"


@dataclass(frozen=True)
class Report(ButtonValue):
    """ "Report a problem" under an answer's feedback: `<question id>:<where>:<choice>`."""

    question_id: str
    where: str
    choice: str
    actions = ("flag",)

    def encode(self) -> str:
        return f"{self.question_id}:{self.where}:{self.choice}"

    @classmethod
    def decode(cls, value: str) -> Report:
        qid, _, rest = value.partition(":")
        where, _, choice = rest.partition(":")
        return cls(qid, where or "daily", choice)


def pulled(s: Session, threshold: int) -> frozenset[str]:
    """Questions with `threshold` or more unreviewed reports from different members."""
    rows = s.scalars(
        select(Flag.question_id)
        .where(Flag.reviewed_at.is_(None))
        .group_by(Flag.question_id)
        .having(func.count(func.distinct(Flag.user_id)) >= threshold)
    )
    return frozenset(rows)


def _last_answered(ctx: Ctx) -> tuple[str, str, str] | None:
    """The member's most recent answer in this group: (question id, where, choice)."""
    g = ctx.require_group()
    daily = ctx.s.execute(
        select(Answer.question_id, Answer.choice, Answer.answered_at)
        .where(Answer.user_id == ctx.user.id, Answer.group_id == g.id)
        .order_by(Answer.answered_at.desc())
        .limit(1)
    ).first()
    quiz = ctx.s.execute(
        select(QuizAnswer.question_id, QuizAnswer.choice, QuizAnswer.answered_at)
        .where(QuizAnswer.user_id == ctx.user.id, QuizAnswer.group_id == g.id)
        .order_by(QuizAnswer.answered_at.desc())
        .limit(1)
    ).first()
    cands = [(r[2], r[0], where, r[1]) for r, where in ((daily, "daily"), (quiz, "quiz")) if r]
    if not cands:
        return None
    _, qid, where, choice = max(cands, key=lambda c: c[0])
    return qid, where, choice


@command(
    "flag",
    summary="Report a wrong or unclear question (your last answered one, or give its id)",
    audience=Audience.MEMBER,
    params=(
        Param("reason", Kind.TEXT, "what is wrong; may start with a question id", required=True),
        Param(
            "question",
            Kind.WORD,
            "the question's id, shown under it (a form sets it)",
            positional=False,
            form="ID",
        ),
    ),
    examples=("/study flag the answer should be C", "/study flag a-mt-012 two choices fit"),
)
def flag(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    words = (args.get("reason") or "").split()
    named = (args.get("question") or "").strip().lower()
    if named:  # a form about one question: "Report this question" on a message
        if ctx.question(named) is None:
            raise UserError(f"There is no question {named} in this group any more.")
        reason = " ".join(words).strip()
        if not reason:
            raise FieldError("reason", "Say what is wrong with the question.")
        return _record(ctx, named, reason[:MAX_REASON], "command", None)
    if words and ctx.question(words[0].lower()) is not None:  # the bank's, or the group's own
        qid, where, choice = words[0].lower(), "command", None
        words = words[1:]
    elif words and (QUESTION_ID.match(words[0].lower()) or OWN_ID_RE.match(words[0].lower())):
        raise UserError(
            f"There is no question {words[0]}. Give the id shown under a question (like "
            f"a-mt-012), or leave it out to report the last question you answered: "
            f"`{SLASH} flag <reason>`."
        )
    else:
        last = _last_answered(ctx)
        if last is None:
            raise UserError(
                f"Answer a question first, or name one: `{SLASH} flag <question id> <reason>` "
                "(the id is under each question, e.g. a-mt-012)."
            )
        qid, where, choice = last[0], last[1], last[2]
    reason = " ".join(words).strip()
    if not reason:
        raise UserError(
            f"Say what is wrong: `{SLASH} flag {qid} <reason>`, e.g. "
            '"the answer should be C: log_metric takes a step".'
        )
    return _record(ctx, qid, reason[:MAX_REASON], where, choice)


@button(Report)
def report_button(ctx: Ctx, v: Report) -> Reply:
    if ctx.question(v.question_id) is None:
        raise UserError("That question is no longer in the bank.")
    ctx.require_group()
    ctx.ensure_member()
    return _record(ctx, v.question_id, FROM_FEEDBACK, v.where, v.choice or None)


def _record(ctx: Ctx, qid: str, reason: str, where: str, choice: str | None) -> Reply:
    g = ctx.require_group()
    new = insert_ignore(
        ctx.s,
        Flag,
        {
            "workspace_id": ctx.workspace.id,
            "user_id": ctx.user.id,
            "group_id": g.id,
            "question_id": qid,
            "reason": reason,
            "seen_in": where,
            "chosen": choice,
            "created_at": ctx.now,
            "reviewed_at": None,
        },
        ["user_id", "question_id"],
    )
    if not new:
        mine = ctx.s.scalar(
            select(Flag).where(Flag.user_id == ctx.user.id, Flag.question_id == qid)
        )
        assert mine is not None
        if mine.reviewed_at is None:
            mine.reason = reason if reason != FROM_FEEDBACK else mine.reason
            return Reply.message(
                "You already reported ", code(qid), "; your report is updated. Thank you."
            )
        mine.reason, mine.reviewed_at, mine.created_at = reason, None, ctx.now
    # A group's own question is its leads' to fix: they see the report in `questions`.
    to = "this group's leads" if qid in ctx.bank.own_ids else "the maintainers"
    return Reply.message(
        "Thanks: ",
        code(qid),
        f" is reported to {to}",
        f" ({reason})." if reason != FROM_FEEDBACK else ".",
        " Add details any time with ",
        code(f"{SLASH} flag {qid} <reason>"),
        ".",
    )


@dataclass(frozen=True)
class FlagReport:
    question_id: str
    reports: int
    members: int
    pulled: bool
    reasons: list[tuple[str, str, str | None, datetime]]  # reason, where, choice, when


def report(s: Session, threshold: int, include_reviewed: bool = False) -> list[FlagReport]:
    """Every flagged question of the bank with its reports, most-reported first (for
    maintainers); reports on a group's own question are its leads' (`/study questions`)."""
    q = select(Flag).order_by(Flag.question_id, Flag.created_at)
    if not include_reviewed:
        q = q.where(Flag.reviewed_at.is_(None))
    by_q: dict[str, list[Flag]] = {}
    for f in s.scalars(q):
        if not OWN_ID_RE.match(f.question_id):
            by_q.setdefault(f.question_id, []).append(f)
    pulled_now = pulled(s, threshold)
    out = [
        FlagReport(
            qid,
            len(flags),
            len({(f.workspace_id, f.user_id) for f in flags}),
            qid in pulled_now,
            [(f.reason, f.seen_in, f.chosen, f.created_at) for f in flags],
        )
        for qid, flags in by_q.items()
    ]
    return sorted(out, key=lambda r: (-r.members, r.question_id))


def mark_reviewed(s: Session, question_id: str, now: datetime) -> int:
    result = s.execute(
        update(Flag)
        .where(Flag.question_id == question_id, Flag.reviewed_at.is_(None))
        .values(reviewed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
