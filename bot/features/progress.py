"""`/study progress`: the private progress report, in a fixed number of queries whatever
the history's size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import select

from bot.charts import DomainBar, progress_chart
from bot.cohort import Calendar
from bot.content.models import Domain, Track
from bot.context import Ctx
from bot.features import readiness, review_cards
from bot.features.board import standings
from bot.features.exam.attempt import expire_mine
from bot.features.flags import pulled
from bot.features.plan import checked_items
from bot.registry import SLASH, Audience, command
from bot.seam import (
    Block,
    Context,
    Field,
    Fields,
    Heading,
    Image,
    Paragraph,
    ProgressBar,
    Reply,
    Span,
    Visibility,
    bold,
    code,
    text,
)
from bot.store.models import Answer, QuizAnswer
from bot.timeutil import week_start

CHART_WEEKS = 8


@command("progress", summary="Your private progress report", audience=Audience.MEMBER)
def progress(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    expire_mine(ctx)  # a timed-out mock exam is graded first: the report counts it
    g = ctx.require_group()
    ctx.ensure_member()
    track = ctx.track()
    cal = ctx.calendar()
    today = ctx.today()
    uid = ctx.user.id

    # The answers readiness counts (the last 90 days of daily, quiz, review and mock-exam
    # answers), so the lines, the chart and the estimate agree.
    hist = readiness.history(ctx.s, uid, ctx.now)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # domain -> [right, answered]
    by_section: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in hist:
        q = ctx.bank.by_id.get(a.question_id)  # the group's own questions count too
        if q is None or q.track != track.id:
            continue
        for counts in (tally[q.domain], by_section[q.guide_section]):
            counts[1] += 1
            counts[0] += int(a.correct)

    board = standings(ctx, g, "all")
    me = next((r for r in board if r.user_id == uid), None)
    checked = checked_items(ctx.s, uid)

    blocks: list[Block] = [Heading(f"Your progress · {ctx.who.display_name}")]
    span = cal.at(today)
    if span is not None:
        where = (
            f"Phase {span.phase.number} ({span.phase.name}), week "
            f"{cal.week_in_phase(today)} of {span.phase.weeks_min}–{span.phase.weeks_max}"
        )
    elif today < cal.start:
        where = f"The cohort starts on {cal.start:%d %b %Y}"
    else:
        where = "All four phases done: mock exams and review"
    summary = [Field("Where", text(where))]
    if me is not None:
        acc = "–" if me.accuracy is None else f"{me.accuracy:.0%}"
        summary += [
            Field("Points", text(str(me.points))),
            Field("Rank", text(f"#{me.rank} of {len(board)}")),
            Field("Streak", text(f"{me.streak} day{'s' if me.streak != 1 else ''}")),
            Field("Daily accuracy", text(f"{acc} of {me.answered} answered")),
        ]
    if g.exam_date:
        summary.append(
            Field("Exam", text(f"{g.exam_date:%d %b %Y} ({(g.exam_date - today).days} days)"))
        )
    blocks.append(Fields(tuple(summary)))

    phase_items = [it for ph in ctx.content.phases for it in ph.checklist]
    success = list(ctx.content.success)
    steps = [it for p in ctx.content.projects for it in p.steps]
    for label, items in (
        ("Phase checklists", phase_items),
        ("Success checklist", success),
        ("Practice projects", steps),
    ):
        blocks.append(
            ProgressBar(label, sum(1 for it in items if it.id.upper() in checked), len(items))
        )

    lines: list[Span] = [
        bold("Accuracy by exam-guide section (your answers · guide weight)"),
        Span("\nFrom the last 90 days: daily, quiz, review and mock-exam answers."),
    ]
    for sec in track.guide_sections:
        lines += [Span(f"\n• {sec.name}: {_accuracy(by_section[sec.id])} · {sec.weight_label}")]
    lines += [Span("\n"), bold("\nBy study domain (what to practise · plan weight)")]
    for d in track.domains:
        lines += [Span(f"\n• {d.name}: {_accuracy(tally[d.id])} · {d.weight_label}")]
    blocks.append(Paragraph(tuple(lines)))

    blocks += _learning_blocks(ctx, track, cal, today, checked, hist)

    weak = _weakest(track, tally)
    if weak:
        nxt: list[Span] = [bold("Study next")]
        for d in weak:
            topics = "; ".join(d.topics[:3]) if d.topics else d.name
            nxt += [Span(f"\n• {d.name}: {topics} — "), code(f"{SLASH} quiz {d.id}")]
        blocks.append(Paragraph(tuple(nxt)))
    blocks.append(_chart(ctx, track, tally, today))
    blocks.append(Context(text("Only you can see this report.")))
    return Reply(tuple(blocks), Visibility.DM)


def _learning_blocks(
    ctx: Ctx,
    track: Track,
    cal: Calendar,
    today: date,
    checked: set[str],
    hist: list[readiness.Answered],
) -> list[Block]:
    """Readiness, due reviews, pacing and the next three things to do."""
    g = ctx.require_group()
    uid = ctx.user.id
    line_f = readiness.pass_line(track)
    ready = readiness.readiness(ctx.bank, track, hist, ctx.now, line_f)
    excluded = ctx.bank.retired | pulled(ctx.s, ctx.flag_threshold)
    due = review_cards.due_count(ctx.s, uid, ctx.now, excluded, g.id)
    answered_ids = (
        {a.question_id for a in hist if not a.blank}  # a question left blank is not studied
        | set(ctx.s.scalars(select(Answer.question_id).where(Answer.user_id == uid)))
        | set(ctx.s.scalars(select(QuizAnswer.question_id).where(QuizAnswer.user_id == uid)))
    )
    done = readiness.phase_done(ctx.content, track, cal, checked, answered_ids)
    pace = readiness.member_pace(cal, today, done)
    weakest = min(ready.domains, key=lambda d: (d.mean, -d.part.weight), default=None)
    exam_soon = pace.expected_phase == cal.spans[-1].phase.number or (
        g.exam_date is not None and (g.exam_date - today).days <= 21
    )
    steps = readiness.next_steps(
        ctx.content.phases,
        checked,
        pace.expected_phase,
        due,
        weakest.part if weakest else None,
        exam_soon,
    )

    line = f"{line_f:.0%}"
    if ready.answered == 0:
        est = "no answers in the last 90 days yet: answer a few questions first"
    else:
        est = (
            f"{ready.estimate:.0%} (80% interval {ready.low:.0%}–{ready.high:.0%}; "
            f"chance of {line} or more {ready.chance:.0%}; from {ready.answered} answers)"
        )
    fields = [
        Field("Estimated exam score", text(est)),
        Field("Due for review", text(f"{due} card{'s' if due != 1 else ''}")),
        Field(
            "Your pace",
            text(
                f"{pace.label} (the calendar has you in phase {pace.expected_phase}; "
                f"your work is in phase {pace.actual_phase})"
            ),
        ),
    ]
    out: list[Block] = [Fields(tuple(fields))]
    passing = track.exam.passing
    rule = (
        f"The exam's pass mark is {passing}%."
        if passing is not None
        else f"No official pass mark is published; {line} is a practice line."
    )
    out.append(
        Context(
            text(
                "Readiness weighs your recent answers by the exam's domain weights "
                f"(recent ones count more). {rule}"
            )
        )
    )
    if steps:
        nxt: list[Span] = [bold("Next three things to do")]
        for what, cmd in steps:
            nxt += [Span(f"\n• {what} — "), code(f"{SLASH} {cmd}")]
        out.append(Paragraph(tuple(nxt)))
    return out


def _chart(ctx: Ctx, track: Track, tally: Mapping[str, list[int]], today: date) -> Image:
    g = ctx.require_group()
    weeks = [week_start(today) - timedelta(weeks=i) for i in range(CHART_WEEKS - 1, -1, -1)]
    since = weeks[0]
    points: dict[date, int] = defaultdict(int)
    for model in (Answer, QuizAnswer):
        rows = ctx.s.execute(
            select(model.local_date, model.points).where(
                model.user_id == ctx.user.id,
                model.group_id == g.id,
                model.local_date >= since,
            )
        )
        for d, p in rows:
            points[week_start(d)] += int(p or 0)
    bars = [
        DomainBar(
            d.name,
            None if tally[d.id][1] == 0 else tally[d.id][0] / tally[d.id][1],
            tally[d.id][1],
        )
        for d in track.domains
    ]
    line_f = readiness.pass_line(track)
    png = progress_chart(
        bars,
        line_f,
        [(f"{w:%d %b}", points[w]) for w in weeks],
        "pass mark" if track.exam.passing is not None else "practice line",
    )
    parts = []
    for b in bars:
        acc = "no answers" if b.accuracy is None else f"{b.accuracy:.0%}"
        parts.append(f"{b.name} {acc}")
    alt = (
        f"Chart: accuracy by domain against the {line_f:.0%} line ({'; '.join(parts)}) "
        f"and points per week for the last {CHART_WEEKS} weeks "
        f"({', '.join(str(points[w]) for w in weeks)})."
    )
    return Image(png, alt, "progress.png")


def _accuracy(counts: list[int]) -> str:
    right, n = counts
    return "no answers yet" if n == 0 else f"{right / n:.0%} of {n}"


def _weakest(track: Track, tally: Mapping[str, list[int]]) -> list[Domain]:
    """Lowest accuracy first, heavier exam weight breaking ties; unanswered counts as 0%."""

    def score(d: Domain) -> tuple[float, float]:
        right, n = tally[d.id]
        return (0.0 if n == 0 else right / n, -d.weight)

    return sorted(track.domains, key=score)[:2]
