"""The weekly lead digest: a DM to each of a group's leads on its summary day.

The clock plans it with the weekly board (`scheduler/due.py`: the summary day at the
group's post time, one outbox row per lead and ISO week) for each named lead, else the
group's creator, while `setup digest=` is on (the default). It is composed here when it
is sent, from `cohort_summary`: the week's participation against the week before, who is
behind the plan or quiet, the weakest domain with the quiz that practises it, and the
group's questions whose statistics look wrong. A lead whose DMs are off (`/study dm off`,
or closed: the delivery worker turns them off) gets none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from bot.content.models import Content
from bot.features.cohort_report import flagged_block
from bot.features.cohort_summary import QUIET_DAYS, CohortSummary, MemberStatus, cohort_summary
from bot.features.remind import Links, daily_post_link
from bot.registry import SLASH
from bot.seam import (
    Block,
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    Reply,
    Span,
    Visibility,
    bold,
    code,
    link,
    text,
)
from bot.store.models import Answer, Outbox, QuizAnswer, User
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import fmt_date

NAMES_SHOWN = 10
WEEK = 7


def digest_post(
    s: Session, content: Content, now: datetime, post: Outbox, links: Links | None
) -> Reply | None:
    """The digest an outbox row sends, or None when it is no longer wanted: the group
    paused, gone or with the digest off, the lead no longer a lead, or their DMs off."""
    group = GroupRecord.get(s, post.group_id or -1)
    ws = WorkspaceRecord.get(s, post.workspace_id)
    if group is None or ws is None or group.paused or not group.digest:
        return None
    lead = post.target_id
    if lead not in leads_of(group):
        return None
    dms = s.scalar(
        select(User.dm_enabled).where(User.workspace_id == ws.id, User.external_id == lead)
    )
    if dms is False:
        return None
    summary = cohort_summary(s, content, group, now)
    last = post.local_date - timedelta(days=1)  # the week's whole days, to yesterday
    this_week = participation(s, group.id, last - timedelta(days=WEEK - 1), last)
    before = participation(
        s, group.id, last - timedelta(days=2 * WEEK - 1), last - timedelta(days=WEEK)
    )
    span = f"{fmt_date(last - timedelta(days=WEEK - 1))} – {fmt_date(last)}"
    intro: list[str | Span] = [f"The study group's week, {span}."]
    url = daily_post_link(s, links, ws, group.id, None)
    if url is not None:
        intro += [" ", link("Open the group's channel", url), "."]
    blocks: list[Block] = [
        Heading(f"📋 Lead digest · {summary.track.name}"),
        Paragraph(text(*intro)),
        _participation(summary, this_week, before),
        _behind_or_quiet(summary),
        _weakest(summary),
        flagged_block(
            summary,
            "Questions whose statistics look wrong",
            (Span(" in "), code(f"{SLASH} cohort"), Span(".")),
        ),
        Context(
            text(
                "The full report: ",
                code(f"{SLASH} cohort"),
                " in the group's channel. ",
                code(f"{SLASH} setup digest=off"),
                " stops this digest for the group.",
            )
        ),
    ]
    return Reply(tuple(blocks), Visibility.DM)


def leads_of(group: GroupRecord) -> list[str]:
    """Who gets the digest: the named leads, else the group's creator."""
    return [x for x in (group.leads or [group.created_by]) if x]


def participation(s: Session, group_id: int, first: date, last: date) -> tuple[int, int]:
    """Members who answered and answers (daily questions and quizzes) in the group on
    these local dates."""
    every = union_all(
        select(Answer.user_id).where(
            Answer.group_id == group_id, Answer.local_date >= first, Answer.local_date <= last
        ),
        select(QuizAnswer.user_id).where(
            QuizAnswer.group_id == group_id,
            QuizAnswer.local_date >= first,
            QuizAnswer.local_date <= last,
        ),
    ).subquery()
    row = s.execute(
        select(func.count(func.distinct(every.c.user_id)), func.count()).select_from(every)
    ).one()
    return int(row[0]), int(row[1])


def _against(now: int, before: int) -> str:
    diff = now - before
    return f"the week before: {before} ({'same' if diff == 0 else f'{diff:+d}'})"


def _participation(summary: CohortSummary, now: tuple[int, int], before: tuple[int, int]) -> Fields:
    (members, answers), (members_before, answers_before) = now, before
    active = len(summary.members)
    return Fields(
        (
            Field(
                "Members who answered",
                text(f"{members} of {active} · {_against(members, members_before)}"),
            ),
            Field(
                "Answers (daily and quiz)",
                text(f"{answers} · {_against(answers, answers_before)}"),
            ),
        )
    )


def _behind_or_quiet(summary: CohortSummary) -> Paragraph:
    listed = [m for m in summary.members if m.quiet or m in summary.behind]
    head = bold(f"Behind the plan or quiet for {QUIET_DAYS}+ days")
    if not listed:
        return Paragraph(text(head, "\nNobody: every member is on track and answering."))
    lines: list[Span] = [head]
    for m in listed[:NAMES_SHOWN]:
        lines += [Span("\n• "), Span(m.name), Span(f" — {_why(m)}")]  # names: user text
    more = len(listed) - NAMES_SHOWN
    if more > 0:
        lines.append(Span(f"\n…and {more} more."))
    return Paragraph(tuple(lines))


def _why(m: MemberStatus) -> str:
    quiet = f"quiet {m.quiet_days} days" if m.quiet else ""
    return " · ".join(x for x in (quiet, m.pace.label) if x)


def _weakest(summary: CohortSummary) -> Paragraph:
    weak = summary.weakest
    if weak is None:
        return Paragraph(text(bold("Weakest domain: "), "none yet (no answers in any domain)."))
    acc = "no answers yet" if weak.accuracy is None else f"{weak.accuracy:.0%} right"
    return Paragraph(
        text(
            bold("Weakest domain: "),
            f"{weak.domain.name} ({acc}). Practise it with ",
            code(weak.quiz_command),
            ".",
        )
    )
