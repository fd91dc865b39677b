"""A mock exam attempt in the store, and the buttons that name one (built and parsed here).

Exam buttons come from DMs, so nothing here needs the caller's group: an attempt is found
by its id and checked to be the caller's (`Ctx.owns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.models import Content, Question
from bot.context import Ctx
from bot.errors import UserError
from bot.features import own_bank
from bot.registry import SLASH, ButtonValue
from bot.store.models import ExamAnswer, ExamAttempt, Group, User
from bot.timeutil import as_utc

OPEN, SUBMITTED, EXPIRED = "open", "submitted", "expired"
STALE = f"That button is no longer valid. `{SLASH} exam` shows your exam."
NO_SUCH = "That exam has no such question."


def _attempt_id(raw: str) -> int:
    if not raw.isdigit():
        raise UserError(STALE)
    return int(raw)


def _position(raw: str) -> int:
    return int(raw) if raw.isdigit() else -1  # checked against the attempt by its handler


@dataclass(frozen=True)
class ExamChoice(ButtonValue):
    """A letter on the question on screen: `<attempt>.<position>:<selection it makes>`."""

    attempt: int
    position: int
    selection: str
    actions = ("exam.pick",)

    def encode(self) -> str:
        return f"{self.attempt}.{self.position}:{self.selection}"

    @classmethod
    def decode(cls, value: str) -> Self:
        head, _, selection = value.partition(":")
        aid, _, pos = head.partition(".")
        return cls(_attempt_id(aid), _position(pos), selection)


@dataclass(frozen=True)
class ExamQuestion(ButtonValue):
    """Go to a question, or flag it: `<attempt>.<position>`."""

    attempt: int
    position: int
    actions = ("exam.go", "exam.flag")

    def encode(self) -> str:
        return f"{self.attempt}.{self.position}"

    @classmethod
    def decode(cls, value: str) -> Self:
        aid, _, pos = value.partition(".")
        return cls(_attempt_id(aid), _position(pos))


@dataclass(frozen=True)
class ExamRef(ButtonValue):
    """The review-before-submit page, and the submission itself: `<attempt>`."""

    attempt: int
    actions = ("exam.submit", "exam.confirm")

    def encode(self) -> str:
        return str(self.attempt)

    @classmethod
    def decode(cls, value: str) -> Self:
        return cls(_attempt_id(value.partition(".")[0]))


@dataclass(frozen=True)
class ReportPage(ButtonValue):
    """A page of a closed attempt's report: `<attempt>:<page>`."""

    attempt: int
    page: int
    actions = ("exam.report",)

    def encode(self) -> str:
        return f"{self.attempt}:{self.page}"

    @classmethod
    def decode(cls, value: str) -> Self:
        aid, _, page = value.partition(":")
        return cls(_attempt_id(aid.partition(".")[0]), int(page) if page.isdigit() else 0)


def open_attempt(s: Session, user_id: int) -> ExamAttempt | None:
    return s.scalar(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.status == OPEN)
    )


def expired(attempt: ExamAttempt, now: datetime) -> bool:
    return attempt.status == OPEN and as_utc(now) >= as_utc(attempt.deadline)


def expire_mine(ctx: Ctx) -> None:
    """Submit the caller's exam if its time ran out (run before reports that count it)."""
    from bot.features.exam.grading import close

    attempt = open_attempt(ctx.s, ctx.user.id)
    if attempt is not None and expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)


def mine(ctx: Ctx, attempt_id: int) -> ExamAttempt:
    attempt = ctx.s.get(ExamAttempt, attempt_id)
    if attempt is None or not ctx.owns(attempt.user_id):
        raise UserError(f"That exam belongs to someone else. Yours: `{SLASH} exam`.")
    return attempt


def rows(s: Session, attempt: ExamAttempt) -> list[ExamAnswer]:
    return list(
        s.scalars(
            select(ExamAnswer)
            .where(ExamAnswer.attempt_id == attempt.id)
            .order_by(ExamAnswer.position)
        )
    )


def row_at(s: Session, attempt: ExamAttempt, position: int) -> ExamAnswer:
    row = s.scalar(
        select(ExamAnswer).where(
            ExamAnswer.attempt_id == attempt.id, ExamAnswer.position == position
        )
    )
    if row is None:
        raise UserError(NO_SUCH)
    return row


def bank_of(ctx: Ctx, attempt: ExamAttempt) -> Content:
    """The content as the exam's group sees it (its buttons are pressed in DMs, where
    there is no group): the bank and that group's own questions."""
    return own_bank.view(ctx.s, ctx.content, attempt.group_id)


def question(content: Content, qid: str) -> Question:
    q = content.by_id.get(qid)
    if q is None:
        raise UserError("That question has been retired from the bank.")
    return q


def tz_of(s: Session, attempt: ExamAttempt) -> str:
    """The member's own timezone, else their group's, else UTC."""
    tz = s.scalar(select(User.tz).where(User.id == attempt.user_id))
    if tz is None and attempt.group_id is not None:
        tz = s.scalar(select(Group.tz).where(Group.id == attempt.group_id))
    return tz or "UTC"


def remaining_label(deadline: datetime, now: datetime) -> str:
    left = max(0, int((as_utc(deadline) - as_utc(now)).total_seconds()))
    h, rem = divmod(left, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min left"
    if m >= 5:
        return f"{m} min left"
    return f"{m} min {sec:02d} s left"
