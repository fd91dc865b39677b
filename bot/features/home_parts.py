"""The member's home, the parts without buttons of its own (bot/features/home.py puts
them together): what it reads, its groups last used first, today's question of the group
with the member's answer, their standing, and the blocks drawn from these alone.

Everything here only reads, in a fixed number of statements: the home is opened often,
and its transaction is read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import and_, func, select, union_all
from sqlalchemy.orm import Session

from bot.content.models import Question
from bot.context import Ctx
from bot.features import readiness, review_cards
from bot.features.board import standings
from bot.features.cohort_summary import QUIET_DAYS, CohortSummary
from bot.features.exam.attempt import open_attempt
from bot.features.flags import pulled
from bot.features.plan import checked_items, group_pace
from bot.registry import SLASH
from bot.seam import (
    Block,
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    Span,
    bold,
    channel,
    code,
    text,
)
from bot.store.models import (
    Answer,
    DailyQuestion,
    ExamAttempt,
    Group,
    Membership,
    QuizAnswer,
    QuizSession,
    ReviewSession,
    User,
    Workspace,
)
from bot.store.records import GroupRecord
from bot.timeutil import as_utc

NEVER = datetime.min.replace(tzinfo=UTC)
EXAM_SOON_DAYS = 21  # a mock exam is among the next things to do this close to the exam
EXPLANATION_CHARS = 400  # the home's line of an answered question's explanation
QUIET_NAMED = 5  # quiet members named in a lead's section (the rest counted)
NAME_WIDTH = 40
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


class Listed(NamedTuple):
    """One of the member's groups, as the home lists them."""

    group_id: int
    channel_id: str
    track: str
    member: bool  # False: a lead of the group who has not joined it
    last_used: datetime


def find_user(s: Session, platform: str, workspace: str, user: str) -> tuple[int, int] | None:
    """The (user id, workspace id) of a platform's user, without creating them."""
    row = s.execute(
        select(User.id, User.workspace_id)
        .join(Workspace, Workspace.id == User.workspace_id)
        .where(
            Workspace.platform == platform,
            Workspace.external_id == workspace,
            User.external_id == user,
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


def groups_of(s: Session, user_id: int, workspace_id: int, external_id: str) -> list[Listed]:
    """The member's active groups and the groups they lead, the one used last first: the
    latest of their answers, quizzes, reviews and mock exams there, else when they joined
    (a lead who never joined: when the group was set up)."""
    joined = s.execute(
        select(Group.id, Group.channel_id, Group.track, Membership.joined_at)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user_id, Membership.active.is_(True))
    ).all()
    found = {gid: (chan, track, True, as_utc(at)) for gid, chan, track, at in joined}
    led = select(
        Group.id, Group.channel_id, Group.track, Group.created_at, Group.created_by, Group.leads
    ).where(Group.workspace_id == workspace_id)
    for gid, chan, track, created, by, leads in s.execute(led):
        if gid not in found and (by == external_id or external_id in (leads or [])):
            found[gid] = (chan, track, False, as_utc(created))
    if not found:
        return []
    used = last_used(s, user_id)
    out = [
        Listed(gid, chan, track, member, max(at, used.get(gid, NEVER)))
        for gid, (chan, track, member, at) in found.items()
    ]
    out.sort(key=lambda g: (g.last_used, g.group_id), reverse=True)
    return out


def last_used(s: Session, user_id: int) -> dict[int, datetime]:
    """When the member last studied in each group (one statement on the member indexes)."""
    every = union_all(
        select(Answer.group_id.label("gid"), func.max(Answer.answered_at).label("at"))
        .where(Answer.user_id == user_id)
        .group_by(Answer.group_id),
        select(QuizSession.group_id, func.max(QuizSession.created_at))
        .where(QuizSession.user_id == user_id)
        .group_by(QuizSession.group_id),
        select(QuizAnswer.group_id, func.max(QuizAnswer.answered_at))
        .where(QuizAnswer.user_id == user_id)
        .group_by(QuizAnswer.group_id),
        select(ReviewSession.group_id, func.max(ReviewSession.created_at))
        .where(ReviewSession.user_id == user_id, ReviewSession.group_id.is_not(None))
        .group_by(ReviewSession.group_id),
        select(ExamAttempt.group_id, func.max(ExamAttempt.started_at))
        .where(ExamAttempt.user_id == user_id, ExamAttempt.group_id.is_not(None))
        .group_by(ExamAttempt.group_id),
    ).subquery()
    rows = s.execute(select(every.c.gid, func.max(every.c.at)).group_by(every.c.gid))
    return {int(gid): as_utc(at) for gid, at in rows if gid is not None and at is not None}


class Today(NamedTuple):
    """The group's question of the member's day and their answer (None: not answered)."""

    daily_id: int
    question_id: str
    choice: str | None
    correct: bool | None
    points: int | None


def todays(s: Session, group_id: int, user_id: int, day: date) -> Today | None:
    """Today's question if it has been chosen (by the post or a member's `today`)."""
    row = s.execute(
        select(
            DailyQuestion.id,
            DailyQuestion.question_id,
            Answer.choice,
            Answer.correct,
            Answer.points,
        )
        .outerjoin(Answer, and_(Answer.daily_id == DailyQuestion.id, Answer.user_id == user_id))
        .where(DailyQuestion.group_id == group_id, DailyQuestion.local_date == day)
    ).first()
    return None if row is None else Today(*row)


@dataclass(frozen=True)
class Standing:
    """The member in the group: the leaderboard's figures of all time, their due reviews,
    their pace, and what to do next (`readiness.next_steps`, as `progress` counts them)."""

    points: int
    rank: int | None  # None: not on the board (a lead who has not joined)
    ranked: int
    streak: int
    due: int
    pace: readiness.MemberPace
    group_pace: str | None
    steps: list[tuple[str, str]]  # (what, command)
    exam: ExamAttempt | None  # their open mock exam, of any group


def standing(ctx: Ctx, g: GroupRecord, today_open: bool) -> Standing:
    """`today_open`: today's question waits for their answer (the first thing to do)."""
    uid = ctx.user.id
    track, cal, today = ctx.track(), ctx.calendar(), ctx.today()
    board = standings(ctx, g, "all")
    me = next((r for r in board if r.user_id == uid), None)
    hist = readiness.history(ctx.s, uid, ctx.now)
    ready = readiness.readiness(ctx.content, track, hist, ctx.now, readiness.pass_line(track))
    due = review_cards.due_count(
        ctx.s, uid, ctx.now, ctx.content.retired | pulled(ctx.s, ctx.flag_threshold)
    )
    checked = checked_items(ctx.s, uid)
    answered = (
        {a.question_id for a in hist if not a.blank}
        | set(ctx.s.scalars(select(Answer.question_id).where(Answer.user_id == uid)))
        | set(ctx.s.scalars(select(QuizAnswer.question_id).where(QuizAnswer.user_id == uid)))
    )
    done = readiness.phase_done(ctx.content, track, cal, checked, answered)
    pace = readiness.member_pace(cal, today, done)
    weakest = min(ready.domains, key=lambda d: (d.mean, -d.part.weight), default=None)
    exam_soon = pace.expected_phase == cal.spans[-1].phase.number or (
        g.exam_date is not None and (g.exam_date - today).days <= EXAM_SOON_DAYS
    )
    attempt = open_attempt(ctx.s, uid)
    steps = readiness.next_steps(
        ctx.content.phases,
        checked,
        pace.expected_phase,
        due,
        weakest.part if weakest else None,
        exam_soon and attempt is None,
    )
    if attempt is not None:
        steps.insert(0, ("Finish your mock exam", "exam"))
    if today_open:
        steps.insert(0, ("Answer today's question, above", "today"))
    return Standing(
        points=me.points if me else 0,
        rank=me.rank if me else None,
        ranked=len(board),
        streak=me.streak if me else 0,
        due=due,
        pace=pace,
        group_pace=group_pace(ctx, cal),
        steps=steps[:3],
        exam=attempt,
    )


# --------------------------------------------------------------------------- drawn


def no_group_blocks() -> list[Block]:
    """The home of someone in no study group: how to join one, and how one starts."""
    blocks: list[Block] = [
        Heading("Your study home"),
        Paragraph(
            text(
                "You are not in a study group yet. Go to your group's channel and type ",
                code(f"{SLASH} join"),
                ": this home then shows today's question, your streak and points, your "
                "reviews and what to do next.",
            )
        ),
        Paragraph(
            text(
                bold("Starting a group? "),
                "A channel's admin sets one up with ",
                code(f"{SLASH} setup"),
                " in that channel.",
            )
        ),
        Context(text("Every command: ", code(f"{SLASH} help"), ".")),
    ]
    return blocks


def result_blocks(q: Question, row: Today, title: str, channel_id: str) -> list[Block]:
    """Today's question once answered: the verdict, the right choice, the explanation's
    first sentence, and where the rest is."""
    if row.correct:
        head = f"✅ Correct: {row.choice} (+{row.points or 0} points)"
    else:
        head = f"❌ Not quite: you chose {row.choice}; the answer is {q.answer_text()}"
    lines: list[Span] = [bold(head)]
    for letter in q.answer:
        lines += [Span("\n"), bold(f"{letter}."), Span(f" {q.choices[q.letters().index(letter)]}")]
    return [
        Heading(title),
        Paragraph(text(q.prompt.strip())),
        Paragraph(tuple(lines)),
        Paragraph(text(bold("Why: "), first_sentence(q.explanation))),
        Context(
            text(
                "The whole explanation and its sources: ",
                code(f"{SLASH} today"),
                " in ",
                channel(channel_id),
                ".",
            )
        ),
    ]


def first_sentence(s: str, limit: int = EXPLANATION_CHARS) -> str:
    """The explanation's first sentence (the home's line of it), at most `limit` long."""
    s = " ".join(s.split())
    head = _SENTENCE_END.split(s, maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def standing_blocks(st: Standing) -> list[Block]:
    rank = f"#{st.rank} of {st.ranked}" if st.rank is not None else "not on the board yet"
    fields = (
        Field("Streak", text(f"{st.streak} day{'s' if st.streak != 1 else ''}")),
        Field("Points", text(str(st.points))),
        Field("Rank", text(rank)),
        Field("Due for review", text(f"{st.due} card{'s' if st.due != 1 else ''}")),
        Field("Your pace", text(st.pace.label)),
    )
    blocks: list[Block] = [Fields(fields)]
    if st.group_pace:
        blocks.append(Context(text(st.group_pace)))
    if st.steps:
        lines: list[Span] = [
            bold("Next three things to do" if len(st.steps) == 3 else "Next to do")
        ]
        for what, cmd in st.steps:
            lines += [Span(f"\n• {what} — "), code(f"{SLASH} {cmd}")]
        blocks.append(Paragraph(tuple(lines)))
    return blocks


def lead_blocks(summary: CohortSummary) -> list[Block]:
    """The cohort in short, for a lead: members, quiet ones, behind, the weakest domain."""
    weak = summary.weakest
    if weak is None:
        weakest = "no answers yet"
    else:
        weakest = f"{weak.domain.name} ({weak.accuracy or 0:.0%} right)"
    fields = (
        Field("Members", text(f"{len(summary.members)} active")),
        Field(f"Quiet {QUIET_DAYS}+ days", text(str(len(summary.quiet)))),
        Field("Behind the plan", text(str(len(summary.behind)))),
        Field("Weakest domain", text(weakest)),
    )
    blocks: list[Block] = [Heading("Your group, for its leads"), Fields(fields)]
    quiet = summary.quiet
    if quiet:
        names = [_short(m.name) for m in quiet[:QUIET_NAMED]]
        more = f" and {len(quiet) - len(names)} more" if len(quiet) > len(names) else ""
        blocks.append(Context(text("Quiet: " + ", ".join(names) + more + ".")))  # user data
    if weak is not None:
        blocks.append(Context(text("Practise the weakest domain: ", code(weak.quiz_command))))
    return blocks


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
