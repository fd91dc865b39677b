"""Question statistics from members' first attempts: which questions look wrong.

A wrong answer key is the most damaging defect a question bank can have, and members'
answers show it: when the members who do best everywhere else agree on another choice,
the key is likely wrong. For every question this counts, from each member's FIRST attempt
at it (a daily question, a quiz, a review or a closed mock exam, whichever came first;
a mock-exam question left blank is no attempt, nothing was picked):

- attempts: members with a first attempt; facility: the share of them that got it right;
- discrimination: the corrected point-biserial correlation between getting this question
  right (1 or 0) and the member's overall share right, where the overall share is over
  the member's first attempts at every OTHER question in the same scope (this question is
  excluded, so it cannot correlate with itself). Members with no other first attempt are
  left out of it; None when either side has no variance (everyone right, or everyone
  equally strong) or fewer than two members remain;
- choices: how many members picked each letter (a multi-answer selection counts for each
  of its letters), overall and among the strongest third: the ceil(n / 3) attempters with
  the highest overall share right (ties go to the member with more other attempts, then
  to the lower member id, so the same data always gives the same third).

Flags, each only with at least `min_attempts` first attempts (default 10; a flag never
needs more than 10, so noise is not flagged and a small group still gets its flags):
`likely_wrong_key` when the strongest third picks some other selection more often than
the key (one distractor, on a single-answer question; on a multi-answer question, their
most common selection is not the key), `too_easy` above 95% right, `too_hard` below 20%
right, `not_discriminating` when discrimination is below zero.

The work is a few set-based statements: the four answer tables as one union, the first
attempt per member and question by a window, the per-member totals and the strongest
third by windows, and one aggregate grouped by question and choice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import Float, Integer, Select, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from bot.content.models import Content, Question
from bot.store.models import (
    Answer,
    ExamAnswer,
    ExamAttempt,
    Membership,
    QuizAnswer,
    ReviewAnswer,
    ReviewSession,
)

MIN_ATTEMPTS = 10  # the default, and the most a flag ever needs
TOO_EASY = 0.95
TOO_HARD = 0.20
WRONG_KEY = "likely_wrong_key"
FLAGS = (WRONG_KEY, "too_easy", "too_hard", "not_discriminating")
_EPSILON = 1e-12


@dataclass(frozen=True)
class QuestionStats:
    """One question's statistics in a scope (all groups, or one group).

    `choices` and `strong_choices` count members per letter; `selections` and
    `strong_selections` count whole selections ("B", or "AC" on a multi-answer question).
    `strong_top` is the strongest third's most common selection (a tie goes to the key,
    then to the alphabet). The mappings are read-only."""

    question_id: str
    track: str
    key: str  # the answer's letters, e.g. "B" or "AD"
    attempts: int
    right: int
    discrimination: float | None
    strong: int  # members in the strongest third
    strong_top: str
    flags: tuple[str, ...]
    choices: Mapping[str, int] = field(compare=False)
    strong_choices: Mapping[str, int] = field(compare=False)
    selections: Mapping[str, int] = field(compare=False)
    strong_selections: Mapping[str, int] = field(compare=False)

    @property
    def facility(self) -> float:
        """The share of first attempts that were right."""
        return self.right / self.attempts if self.attempts else 0.0

    @property
    def likely_wrong_key(self) -> bool:
        return WRONG_KEY in self.flags

    def as_record(self) -> dict[str, Any]:
        """The question as `studybot content analytics --json` prints it."""
        return {
            "id": self.question_id,
            "track": self.track,
            "key": self.key,
            "attempts": self.attempts,
            "facility": round(self.facility, 4),
            "discrimination": _rounded(self.discrimination),
            "choices": dict(self.choices),
            "strongest_third": self.strong,
            "strong_choices": dict(self.strong_choices),
            "selections": dict(self.selections),
            "strong_selections": dict(self.strong_selections),
            "flags": list(self.flags),
        }


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def question_stats(
    s: Session,
    content: Content,
    *,
    group_id: int | None = None,
    track: str | None = None,
    min_attempts: int = MIN_ATTEMPTS,
) -> list[QuestionStats]:
    """Every question of the bank with a first attempt in the scope, flagged ones first
    (likely wrong keys before the other flags), then by id.

    The scope is every group, or with `group_id` one group: its members' first attempts
    that were made in that group (a member's first attempt is theirs wherever it was, so
    a second sight of a question in another group never counts as first). With `track`
    only that track's questions count, for the overall shares too. `min_attempts` is the
    first attempts a flag needs (1 to 10)."""
    if not 1 <= min_attempts <= MIN_ATTEMPTS:
        raise ValueError(f"min_attempts must be 1 to {MIN_ATTEMPTS}, not {min_attempts}")
    ids = [q.id for q in content.by_track.get(track, ())] if track is not None else None
    totals: dict[str, _Totals] = {}
    for row in s.execute(_aggregate(ids, group_id)):
        qid, choice, n, right, strong, m, sx, sy, sxy, syy = row
        t = totals.setdefault(qid, _Totals())
        sel = "".join(sorted(set(str(choice).upper())))
        t.selections[sel] = t.selections.get(sel, 0) + int(n)
        t.strong[sel] = t.strong.get(sel, 0) + int(strong or 0)
        t.n += int(n)
        t.right += int(right or 0)
        t.m += int(m or 0)
        t.sx += float(sx or 0)
        t.sy += float(sy or 0)
        t.sxy += float(sxy or 0)
        t.syy += float(syy or 0)
    out = [
        _stats(content.by_id[qid], t, min_attempts)
        for qid, t in totals.items()
        if qid in content.by_id
    ]
    return sorted(out, key=_order)


def flagged(stats: Iterable[QuestionStats]) -> list[QuestionStats]:
    return [q for q in stats if q.flags]


def _order(q: QuestionStats) -> tuple[int, str]:
    return (0 if q.likely_wrong_key else 1 if q.flags else 2, q.question_id)


@dataclass
class _Totals:
    n: int = 0
    right: int = 0
    m: int = 0  # attempts with an overall share (the member has other first attempts)
    sx: float = 0.0
    sy: float = 0.0
    sxy: float = 0.0
    syy: float = 0.0
    selections: dict[str, int] = field(default_factory=dict)
    strong: dict[str, int] = field(default_factory=dict)


def _stats(q: Question, t: _Totals, min_attempts: int) -> QuestionStats:
    key = "".join(sorted(q.answer))
    letters = q.letters()
    strong_n = sum(t.strong.values())
    # the key first, then alphabetical: a tie with the key is no sign of a wrong key
    ranked = sorted(t.strong.items(), key=lambda kv: (-kv[1], kv[0] != key, kv[0]))
    top = ranked[0][0] if ranked and ranked[0][1] > 0 else key
    disc = _point_biserial(t)
    flags: list[str] = []
    if t.n >= min_attempts:
        facility = t.right / t.n
        if top != key:
            flags.append(WRONG_KEY)
        if facility > TOO_EASY:
            flags.append("too_easy")
        if facility < TOO_HARD:
            flags.append("too_hard")
        if disc is not None and disc < 0:
            flags.append("not_discriminating")
    return QuestionStats(
        question_id=q.id,
        track=q.track,
        key=key,
        attempts=t.n,
        right=t.right,
        discrimination=disc,
        strong=strong_n,
        strong_top=top,
        flags=tuple(flags),
        choices=_per_letter(letters, t.selections),
        strong_choices=_per_letter(letters, t.strong),
        selections=MappingProxyType(dict(sorted(t.selections.items()))),
        strong_selections=MappingProxyType(dict(sorted((k, v) for k, v in t.strong.items() if v))),
    )


def _per_letter(letters: str, selections: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(
        {x: sum(n for sel, n in selections.items() if x in sel) for x in letters}
    )


def _point_biserial(t: _Totals) -> float | None:
    """Pearson's r between right (0/1) and the overall share, from the sums."""
    m = t.m
    if m < 2:
        return None
    var_x = m * t.sx - t.sx * t.sx  # x is 0 or 1: the sum of squares is the sum
    var_y = m * t.syy - t.sy * t.sy
    if var_x <= _EPSILON or var_y <= _EPSILON * m * m:
        return None
    r = (m * t.sxy - t.sx * t.sy) / math.sqrt(var_x * var_y)
    return max(-1.0, min(1.0, r))


# --------------------------------------------------------------------------- the SQL


def _attempts(ids: list[str] | None, group_id: int | None) -> Any:
    """Every answer in the store as (member, question, choice, right, when, group)."""

    def right(col: Any) -> Any:
        return case((col.is_(True), 1), else_=0)

    parts: list[Select[Any]] = [
        select(
            Answer.user_id.label("user_id"),
            Answer.question_id.label("question_id"),
            Answer.choice.label("choice"),
            right(Answer.correct).label("right"),
            Answer.answered_at.label("at"),
            Answer.group_id.label("group_id"),
            literal(0, Integer).label("source"),
            Answer.id.label("row_id"),
        ),
        select(
            QuizAnswer.user_id,
            QuizAnswer.question_id,
            QuizAnswer.choice,
            right(QuizAnswer.correct),
            QuizAnswer.answered_at,
            QuizAnswer.group_id,
            literal(1, Integer),
            QuizAnswer.id,
        ),
        select(
            ReviewAnswer.user_id,
            ReviewAnswer.question_id,
            ReviewAnswer.choice,
            right(ReviewAnswer.correct),
            ReviewAnswer.answered_at,
            ReviewSession.group_id,
            literal(2, Integer),
            ReviewAnswer.id,
        ).join(ReviewSession, ReviewSession.id == ReviewAnswer.session_id),
        select(
            ExamAnswer.user_id,
            ExamAnswer.question_id,
            ExamAnswer.choice,
            right(ExamAnswer.correct),
            func.coalesce(ExamAnswer.answered_at, ExamAttempt.finished_at),
            ExamAttempt.group_id,
            literal(3, Integer),
            ExamAnswer.id,
        )
        .join(ExamAttempt, ExamAttempt.id == ExamAnswer.attempt_id)
        .where(ExamAttempt.status != "open", ExamAnswer.choice != ""),
    ]
    owners = (Answer.user_id, QuizAnswer.user_id, ReviewAnswer.user_id, ExamAnswer.user_id)
    questions = (
        Answer.question_id,
        QuizAnswer.question_id,
        ReviewAnswer.question_id,
        ExamAnswer.question_id,
    )
    members = select(Membership.user_id).where(Membership.group_id == group_id)
    for i, (owner, qid) in enumerate(zip(owners, questions, strict=True)):
        if ids is not None:
            parts[i] = parts[i].where(qid.in_(ids))
        if group_id is not None:  # only the group's members can have first attempts in it
            parts[i] = parts[i].where(owner.in_(members))
    return union_all(*parts).subquery("attempts")


def _aggregate(ids: list[str] | None, group_id: int | None) -> Select[Any]:
    a = _attempts(ids, group_id)
    nth = func.row_number().over(
        partition_by=(a.c.user_id, a.c.question_id),
        order_by=(a.c.at, a.c.source, a.c.row_id),
    )
    firsts = select(
        a.c.user_id, a.c.question_id, a.c.choice, a.c.right, a.c.group_id, nth.label("nth")
    ).subquery("firsts")
    scope = select(firsts.c.user_id, firsts.c.question_id, firsts.c.choice, firsts.c.right).where(
        firsts.c.nth == 1
    )
    if group_id is not None:
        scope = scope.where(firsts.c.group_id == group_id)
    sc = scope.subquery("scope")
    by_member = select(
        sc.c.user_id,
        sc.c.question_id,
        sc.c.choice,
        sc.c.right,
        (func.sum(sc.c.right).over(partition_by=sc.c.user_id) - sc.c.right).label("rest_right"),
        (func.count().over(partition_by=sc.c.user_id) - 1).label("rest_n"),
    ).subquery("by_member")
    rest = case(
        (by_member.c.rest_n > 0, cast(by_member.c.rest_right, Float) / by_member.c.rest_n),
        else_=None,
    )
    place = func.row_number().over(
        partition_by=by_member.c.question_id,
        order_by=(
            func.coalesce(rest, -1.0).desc(),
            by_member.c.rest_n.desc(),
            by_member.c.user_id,
        ),
    )
    ranked = select(
        by_member.c.question_id,
        by_member.c.choice,
        by_member.c.right,
        rest.label("rest"),
        place.label("place"),
        func.count().over(partition_by=by_member.c.question_id).label("takers"),
    ).subquery("ranked")
    r = ranked.c
    strong = case((r.place * 3 <= r.takers + 2, 1), else_=0)  # place <= ceil(takers / 3)
    has_rest = case((r.rest.is_not(None), 1), else_=0)
    return select(
        r.question_id,
        r.choice,
        func.count(),
        func.sum(r.right),
        func.sum(strong),
        func.sum(has_rest),
        func.sum(r.right * has_rest),
        func.sum(r.rest),
        func.sum(r.right * r.rest),
        func.sum(r.rest * r.rest),
    ).group_by(r.question_id, r.choice)
