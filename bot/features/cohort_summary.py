"""A group's cohort summary for its leads: every member's pace and activity, the group's
accuracy by domain, and its questions whose statistics look wrong.

`cohort_summary` is the one reader: the `/study cohort` report (bot/features/cohort_report.py)
draws it, and anything else a lead is shown about the group (a digest, a home screen) can
reuse it. It runs a fixed number of statements whatever the group's size: the members, the
answers of the last 90 days of them all (`readiness.histories`), the questions each has
answered, their ticks, their last answers, the board's streaks and the group's question
statistics; the rest is arithmetic on those rows, with the same functions `progress` uses
(`readiness.readiness`, `readiness.phase_done`, `readiness.member_pace`, `cohort.streak`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, union, union_all
from sqlalchemy.orm import Session

from bot.cohort import calendar
from bot.content.models import Content, Domain, Track
from bot.context import Ctx
from bot.features import readiness
from bot.features.board import standings
from bot.features.question_stats import MIN_ATTEMPTS, QuestionStats, question_stats
from bot.registry import SLASH
from bot.store.models import (
    Answer,
    ChecklistMark,
    ExamAnswer,
    ExamAttempt,
    Membership,
    QuizAnswer,
    ReviewAnswer,
    User,
)
from bot.store.records import GroupRecord
from bot.timeutil import as_utc, local_today

QUIET_DAYS = 7  # no answer for this many days: the member is listed first
RECENT_DAYS = 7  # "days answered in the last 7": today and the six days before


@dataclass(frozen=True)
class MemberStatus:
    """One active member, as their lead sees them. Dates are the member's own local dates
    (their timezone, else the group's)."""

    user_id: int
    external_id: str
    name: str
    pace: readiness.MemberPace  # `pace.label`: "on track", "3 days behind", ...
    last_answer: date | None  # their latest answer of any kind, ever
    days_answered: int  # of the last 7 days (today included), the days with an answer
    streak: int  # the leaderboard's streak of daily questions
    readiness: readiness.Readiness | None  # None without an answer in the last 90 days
    checklist_done: int  # every checkable item: phase, success checklist, project steps
    checklist_total: int
    quiet_days: int  # days since the last answer, or since joining if later or none

    @property
    def quiet(self) -> bool:
        return self.quiet_days >= QUIET_DAYS


@dataclass(frozen=True)
class DomainAccuracy:
    """The group's answers in one study domain over the last 90 days (every member's
    daily, quiz, review and mock-exam answers, as readiness counts them)."""

    domain: Domain
    right: int
    answered: int

    @property
    def accuracy(self) -> float | None:
        return None if self.answered == 0 else self.right / self.answered

    @property
    def quiz_command(self) -> str:
        """The command that practises this domain."""
        return f"{SLASH} quiz {self.domain.id}"


@dataclass(frozen=True)
class CohortSummary:
    """A group at a glance. `members` lists the quiet ones first (longest quiet first),
    then the rest most behind first; `flagged` are the group's questions with a flag
    (`question_stats` within the group, at `min_attempts`)."""

    group_id: int
    track: Track
    today: date  # the group's local date
    line: float  # the pass mark, else the practice line, 0..1
    members: tuple[MemberStatus, ...]
    domains: tuple[DomainAccuracy, ...]  # in the track's order
    weakest: DomainAccuracy | None  # None until the group has answered in some domain
    flagged: tuple[QuestionStats, ...]
    min_attempts: int

    @property
    def quiet(self) -> tuple[MemberStatus, ...]:
        return tuple(m for m in self.members if m.quiet)

    @property
    def behind(self) -> tuple[MemberStatus, ...]:
        return tuple(m for m in self.members if m.pace.days < -readiness.ON_TRACK_DAYS)


def cohort_summary(
    s: Session,
    content: Content,
    group: GroupRecord,
    now: datetime,
    *,
    min_attempts: int = MIN_ATTEMPTS,
) -> CohortSummary:
    """The group's summary at `now`, from its active members' answers and ticks."""
    track = content.track(group.track)
    cal = calendar(content.phases, group.start_date, group.exam_date)
    line = readiness.pass_line(track)
    members = s.execute(
        select(User.id, User.external_id, User.display_name, User.tz, Membership.joined_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, Membership.active.is_(True))
    ).all()
    ids = [m[0] for m in members]
    hists = readiness.histories(s, ids, now)
    answered = _answered_ids(s, ids)
    checked = _checked(s, ids)
    last = _last_answers(s, ids)
    board = standings(Ctx.for_group(s, content, now, group), group, "all")
    streaks = {r.user_id: r.streak for r in board}
    items = {i.upper() for i in content.checklist_items}

    rows: list[MemberStatus] = []
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # domain -> [right, answered]
    for uid, ext, name, tz, joined in members:
        zone = ZoneInfo(tz or group.tz)
        today = local_today(tz or group.tz, now)
        hist = hists[uid]
        for a in hist:
            q = content.by_id.get(a.question_id)
            if q is not None and q.track == track.id:
                tally[q.domain][0] += int(a.correct)
                tally[q.domain][1] += 1
        days = {as_utc(a.at).astimezone(zone).date() for a in hist if not a.blank}
        recent = sum(1 for d in days if 0 <= (today - d).days < RECENT_DAYS)
        last_day = as_utc(last[uid]).astimezone(zone).date() if uid in last else None
        since = max(d for d in (last_day, as_utc(joined).astimezone(zone).date()) if d)
        done = readiness.phase_done(
            content,
            track,
            cal,
            checked[uid],
            {a.question_id for a in hist if not a.blank} | answered[uid],
        )
        rows.append(
            MemberStatus(
                user_id=uid,
                external_id=ext,
                name=name,
                pace=readiness.member_pace(cal, today, done),
                last_answer=last_day,
                days_answered=recent,
                streak=streaks.get(uid, 0),
                readiness=readiness.readiness(content, track, hist, now, line) if hist else None,
                checklist_done=len(checked[uid] & items),
                checklist_total=len(items),
                quiet_days=max(0, (today - since).days),
            )
        )
    rows.sort(
        key=lambda m: (
            not m.quiet,
            -m.quiet_days if m.quiet else m.pace.days,
            m.name.lower(),
            m.external_id,
        )
    )
    domains = tuple(DomainAccuracy(d, *tally[d.id]) for d in track.domains)
    stats = question_stats(s, content, group_id=group.id, track=track.id, min_attempts=min_attempts)
    return CohortSummary(
        group_id=group.id,
        track=track,
        today=local_today(group.tz, now),
        line=line,
        members=tuple(rows),
        domains=domains,
        weakest=weakest(domains),
        flagged=tuple(q for q in stats if q.flags),
        min_attempts=min_attempts,
    )


def weakest(domains: tuple[DomainAccuracy, ...]) -> DomainAccuracy | None:
    """The lowest accuracy, a heavier exam weight breaking ties, an unanswered domain
    counting as 0% (as `progress` chooses what to study); None before any answer."""
    if not any(d.answered for d in domains):
        return None
    return min(domains, key=lambda d: (d.accuracy or 0.0, -d.domain.weight))


def _answered_ids(s: Session, ids: list[int]) -> dict[int, set[str]]:
    """The questions each member has answered, ever (daily and quiz), for their pace."""
    out: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return out
    rows = s.execute(
        union(
            select(Answer.user_id, Answer.question_id).where(Answer.user_id.in_(ids)),
            select(QuizAnswer.user_id, QuizAnswer.question_id).where(QuizAnswer.user_id.in_(ids)),
        )
    )
    for uid, qid in rows:
        out[uid].add(qid)
    return out


def _checked(s: Session, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return out
    q = select(ChecklistMark.user_id, ChecklistMark.item_id).where(ChecklistMark.user_id.in_(ids))
    for uid, item in s.execute(q):
        out[uid].add(item.upper())
    return out


def _last_answers(s: Session, ids: list[int]) -> dict[int, datetime]:
    """Each member's latest answer of any kind (a daily, quiz, review or mock-exam one)."""
    if not ids:
        return {}
    every = union_all(
        select(Answer.user_id.label("uid"), func.max(Answer.answered_at).label("at"))
        .where(Answer.user_id.in_(ids))
        .group_by(Answer.user_id),
        select(QuizAnswer.user_id, func.max(QuizAnswer.answered_at))
        .where(QuizAnswer.user_id.in_(ids))
        .group_by(QuizAnswer.user_id),
        select(ReviewAnswer.user_id, func.max(ReviewAnswer.answered_at))
        .where(ReviewAnswer.user_id.in_(ids))
        .group_by(ReviewAnswer.user_id),
        select(ExamAnswer.user_id, func.max(ExamAnswer.answered_at))
        .join(ExamAttempt, ExamAttempt.id == ExamAnswer.attempt_id)
        .where(ExamAnswer.user_id.in_(ids), ExamAnswer.answered_at.is_not(None))
        .group_by(ExamAnswer.user_id),
    ).subquery()
    rows = s.execute(select(every.c.uid, func.max(every.c.at)).group_by(every.c.uid))
    return {uid: at for uid, at in rows if at is not None}
