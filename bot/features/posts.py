"""What the clock posts, as platform-neutral replies.

The scheduler decides *when* (and writes outbox rows); `compose` decides *what*, at
delivery time, from the store's current state, so an "N answered" update is never stale.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.charts import leaderboard_chart
from bot.cohort import PhaseSpan, calendar
from bot.content.models import Content
from bot.context import Ctx
from bot.features import own_bank
from bot.features import questions as qv
from bot.features.board import standings
from bot.features.daily import SharedPick, ensure_daily, title_of
from bot.features.digest import digest_post
from bot.features.progress import progress
from bot.features.remind import Links, reminder_post
from bot.registry import SLASH
from bot.seam import (
    Block,
    Context,
    Heading,
    Image,
    Paragraph,
    Reply,
    Span,
    Visibility,
    Who,
    bold,
    code,
    text,
)
from bot.store.models import Answer, DailyQuestion, Outbox, User
from bot.store.records import GroupRecord, UserRecord, WorkspaceRecord
from bot.timeutil import fmt_date

log = logging.getLogger(__name__)
TOP_ANSWERERS = 3
SUMMARY_ROWS = 5


def answered_count(s: Session, daily_id: int) -> int:
    return int(s.scalar(select(func.count()).where(Answer.daily_id == daily_id)) or 0)


def daily_post(s: Session, content: Content, daily: DailyQuestion) -> Reply:
    """The daily question for the channel: the root of its day's thread, where the next
    post day's reveal goes (`reveal_post`)."""
    content = own_bank.view(s, content, daily.group_id)  # the group's own questions too
    q = content.by_id.get(daily.question_id)
    blocks: list[Block] = []
    if q is None:
        return Reply.message(
            "Today's question was retired from the bank; practise with ",
            code(f"{SLASH} quiz"),
            ".",
            visibility=Visibility.CHANNEL,
        )
    blocks += qv.question_blocks(content, q, title_of(daily.local_date), SharedPick(str(daily.id)))
    n = answered_count(s, daily.id)
    blocks.append(
        Context(
            text(
                f"{n} answered so far · answers are private; see yours with ",
                code(f"{SLASH} today"),
            )
        )
    )
    return Reply(tuple(blocks), Visibility.CHANNEL, thread_name=title_of(daily.local_date))


def previous_daily(s: Session, group_id: int, day: date) -> DailyQuestion | None:
    """The group's question before `day`: the one `day`'s reveal answers."""
    return s.scalar(
        select(DailyQuestion)
        .where(DailyQuestion.group_id == group_id, DailyQuestion.local_date < day)
        .order_by(DailyQuestion.local_date.desc())
        .limit(1)
    )


def reveal_post(s: Session, content: Content, daily: DailyQuestion) -> Reply | None:
    """The answer to a day's question, posted the next post day in that question's thread
    (the channel where there is none); None when the question left the bank."""
    blocks = reveal_blocks(s, own_bank.view(s, content, daily.group_id), daily)
    if not blocks:
        return None
    return Reply(tuple(blocks), Visibility.CHANNEL, thread_name=title_of(daily.local_date))


def reveal_blocks(s: Session, content: Content, daily: DailyQuestion) -> list[Block]:
    q = content.by_id.get(daily.question_id)
    if q is None:
        return []
    rows = s.execute(
        select(Answer.correct, User.display_name)
        .join(User, User.id == Answer.user_id)
        .where(Answer.daily_id == daily.id)
        .order_by(Answer.answered_at, Answer.id)
    ).all()
    right = [name for correct, name in rows if correct]
    lines: list[Span] = [bold(f"Answer to {fmt_date(daily.local_date)}: {q.answer_text()}")]
    for letter in q.answer:
        lines.append(Span(f"\n{letter}. {q.choices[q.letters().index(letter)]}"))
    share = f"{len(right)} of {len(rows)} got it right" if rows else "nobody answered"
    lines.append(Span(f"\n{share}."))
    if right:
        lines.append(Span(" First right: "))
        for i, name in enumerate(right[:TOP_ANSWERERS]):
            if i:
                lines.append(Span(", "))
            lines.append(Span(name))  # user text: renderers escape it
        lines.append(Span("."))
    return [Paragraph(tuple(lines)), Context(text(q.explanation.strip()))]


def milestone_post(content: Content, group: GroupRecord, phase_number: int, edge: str) -> Reply:
    cal = calendar(content.phases, group.start_date, group.exam_date)
    span: PhaseSpan = next(sp for sp in cal.spans if sp.phase.number == phase_number)
    ph = span.phase
    last = span.end - timedelta(days=1)
    if edge == "start":
        lines: list[Span] = [bold("Goals")]
        for goal in ph.goals:
            lines.append(Span(f"\n• {goal}"))
        checklist: list[Span] = [bold("Checklist")]
        for it in ph.checklist:
            checklist += [Span("\n☐ "), code(it.id), Span(f" {it.text}")]
        return Reply.of(
            Heading(f"Phase {ph.number} starts today: {ph.name}"),
            Paragraph(
                text(
                    f"{fmt_date(span.start)} – {fmt_date(last)} "
                    f"({ph.weeks_min}–{ph.weeks_max} weeks)."
                )
            ),
            Paragraph(tuple(lines)),
            Paragraph(text("Topics: " + "; ".join(ph.topics))),
            Paragraph(tuple(checklist)),
            Context(
                text(
                    "Tick items with ",
                    code(f"{SLASH} check {ph.checklist[0].id}")
                    if ph.checklist
                    else code(f"{SLASH} plan"),
                    ".",
                )
            ),
            visibility=Visibility.CHANNEL,
        )
    nxt = next((sp for sp in cal.spans if sp.phase.number == phase_number + 1), None)
    after = (
        f"Phase {nxt.phase.number} ({nxt.phase.name}) starts tomorrow."
        if nxt
        else "Next: timed mock exams and review until the exam."
    )
    return Reply.of(
        Heading(f"Phase {ph.number} wraps up today: {ph.name}"),
        Paragraph(
            text(
                "Before moving on, make sure you can tick its checklist: ",
                code(f"{SLASH} plan"),
                ". ",
                after,
            )
        ),
        visibility=Visibility.CHANNEL,
    )


def countdown_post(group: GroupRecord, days: int) -> Reply:
    assert group.exam_date is not None
    when = "tomorrow" if days == 1 else f"in {days} days"
    tips = {
        14: "Two weeks: sit a timed practice set each day and re-read the explanations you missed.",
        7: "One week: focus on your weakest domains (see /study progress) and rest well.",
        1: "Tomorrow: check your ID and test setup, skim your notes, and get some sleep.",
    }
    return Reply.of(
        Heading(f"⏳ The exam is {when} ({fmt_date(group.exam_date)})"),
        Paragraph(text(tips.get(days, "Keep going."))),
        visibility=Visibility.CHANNEL,
    )


def summary_post(
    s: Session, content: Content, now: datetime, group: GroupRecord, period: str, label: str
) -> Reply:
    """The week's or month's board with its winners, posted before the period resets."""
    ctx = Ctx.for_group(s, content, now, group)
    rows = [r for r in standings(ctx, group, period) if r.answered or r.points]
    title = "This week's" if period == "week" else "This month's"
    blocks: list[Block] = [Heading(f"🏆 {title} leaderboard · {label}")]
    if not rows:
        blocks.append(
            Paragraph(
                text(
                    "No answers this period yet. ",
                    code(f"{SLASH} today"),
                    " is a good place to start.",
                )
            )
        )
        return Reply(tuple(blocks), Visibility.CHANNEL)
    top = rows[0].points
    winners = [r for r in rows if r.points == top]
    win: list[Span] = [bold("Winner" + ("s" if len(winners) > 1 else "") + ": ")]
    for i, r in enumerate(winners[:SUMMARY_ROWS]):
        if i:
            win.append(Span(", "))
        win.append(Span(r.name))
    win.append(Span(f" with {top} points."))
    lines: list[Span] = []
    for i, r in enumerate(rows[:SUMMARY_ROWS]):
        if i:
            lines.append(Span("\n"))
        acc = "–" if r.accuracy is None else f"{r.accuracy:.0%}"
        lines += [
            bold(f"{r.rank}."),
            Span(" "),
            Span(r.name),
            Span(f" — {r.points} pts · streak {r.streak} · accuracy {acc}"),
        ]
    chart = leaderboard_chart([(r.name, r.points) for r in rows[:10]])
    alt = "Bar chart of points: " + ", ".join(f"{r.name} {r.points}" for r in rows[:10])
    blocks += [
        Paragraph(tuple(win)),
        Paragraph(tuple(lines)),
        Image(chart, alt[:300], "leaderboard.png"),
        Context(text("Full board: ", code(f"{SLASH} leaderboard {period}"))),
    ]
    return Reply(tuple(blocks), Visibility.CHANNEL)


def recert_post(content: Content, track: str, passed_on: date) -> Reply:
    t = content.track(track)
    return Reply.of(
        Heading("🔁 Time to recertify"),
        Paragraph(
            text(
                f"You passed the {t.name} on {fmt_date(passed_on)}. Certifications last "
                f"{t.exam.recert_years} years: check the current exam guide and "
                "schedule your recertification."
            )
        ),
        Context(text("Start a refresher with ", code(f"{SLASH} quiz"), ".")),
        visibility=Visibility.DM,
    )


def compose(
    s: Session,
    content: Content,
    now: datetime,
    post: Outbox,
    flag_threshold: int = 3,
    links: Links | None = None,
) -> Reply | None:
    """The reply an outbox row posts, made now; None when there is nothing to post any
    more (the group, the member or the exam date is gone, or the member turned DMs off).

    A daily post's question is chosen here unless a member's `/study today` chose it
    first (`flag_threshold`: reports that pull a question), so it writes: the worker
    composes it in a writing transaction (a reminder may choose it too). `links` makes a
    link to a posted message where the platform can (a DM pointing at the day's post)."""
    p = post.payload
    if post.kind == "reminder":
        return reminder_post(s, content, now, post, flag_threshold, links)
    if post.kind == "digest":
        return digest_post(s, content, now, post, links)
    if post.kind == "daily" and "daily_id" not in p:
        owner = GroupRecord.get(s, post.group_id or -1)
        if owner is None:
            return None
        fresh = ensure_daily(s, content, owner, post.local_date, now, flag_threshold)
        return daily_post(s, content, fresh)
    if post.kind == "reveal":
        before = previous_daily(s, post.group_id or -1, post.local_date)
        return None if before is None else reveal_post(s, content, before)
    if post.kind in ("daily", "update"):
        daily = s.get(DailyQuestion, int(p["daily_id"]))
        return None if daily is None else daily_post(s, content, daily)
    if post.kind == "recert":
        return recert_post(content, str(p["track"]), date.fromisoformat(str(p["passed_on"])))
    group = GroupRecord.get(s, post.group_id or int(p.get("group_id") or 0) or -1)
    if group is None:
        return None
    if post.kind == "milestone":
        return milestone_post(content, group, int(p["phase"]), str(p["edge"]))
    if post.kind == "countdown":
        return countdown_post(group, int(p["days"])) if group.exam_date else None
    if post.kind in ("weekly", "monthly"):
        as_of, day = now, post.local_date
        if post.kind == "weekly" and day.weekday() == 0:
            # A Monday summary is of the week that just ended, not of Monday alone.
            as_of, day = now - timedelta(days=1), day - timedelta(days=1)
        label = f"week to {fmt_date(day)}" if post.kind == "weekly" else f"{day:%B %Y}"
        return summary_post(s, content, as_of, group, str(p["period"]), label)
    if post.kind == "progress_dm":
        user = UserRecord.get(s, int(p["user_id"]))
        ws = WorkspaceRecord.get(s, post.workspace_id)
        if user is None or ws is None or not user.dm_enabled:
            return None
        who = Who(
            ws.platform,
            ws.external_id,
            group.channel_id,
            user.external_id,
            user.display_name,
            False,
        )
        return progress(Ctx(s, content=content, now=now, who=who), {})
    log.error("unknown outbox kind %s", post.kind)
    return None
