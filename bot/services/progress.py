"""The private progress report: a fixed number of queries whatever the history's size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select

from bot.commands import SLASH
from bot.content.models import Domain, Track
from bot.seam import (
    Block,
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    ProgressBar,
    Reply,
    Span,
    Visibility,
    bold,
    code,
    text,
)
from bot.services.board import standings
from bot.services.context import Ctx
from bot.services.plan import checked_items
from bot.store.models import Answer, QuizAnswer


def progress(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    ctx.ensure_member()
    track = ctx.track()
    cal = ctx.calendar()
    today = ctx.today()
    uid = ctx.user.id

    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # domain -> [right, answered]
    answers = ctx.s.execute(
        select(Answer.question_id, Answer.correct).where(
            Answer.user_id == uid, Answer.group_id == g.id
        )
    ).all()
    quiz = ctx.s.execute(
        select(QuizAnswer.question_id, QuizAnswer.correct).where(
            QuizAnswer.user_id == uid, QuizAnswer.group_id == g.id
        )
    ).all()
    for qid, correct in [*answers, *quiz]:
        q = ctx.content.by_id.get(qid)
        if q is None or q.track != track.id:
            continue
        tally[q.domain][1] += 1
        tally[q.domain][0] += int(bool(correct))

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

    lines: list[Span] = [bold("Accuracy by exam domain (your answers · exam weight)")]
    for d in track.domains:
        right, n = tally[d.id]
        acc = "no answers yet" if n == 0 else f"{right / n:.0%} of {n}"
        lines += [Span(f"\n• {d.name}: {acc} · weight {d.weight_label}")]
    blocks.append(Paragraph(tuple(lines)))

    weak = _weakest(track, tally)
    if weak:
        nxt: list[Span] = [bold("Study next")]
        for d in weak:
            topics = "; ".join(d.topics[:3]) if d.topics else d.name
            nxt += [Span(f"\n• {d.name}: {topics} — "), code(f"{SLASH} quiz {d.id}")]
        blocks.append(Paragraph(tuple(nxt)))
    blocks.append(Context(text("Only you can see this report.")))
    return Reply(tuple(blocks), Visibility.DM)


def _weakest(track: Track, tally: Mapping[str, list[int]]) -> list[Domain]:
    """Lowest accuracy first, heavier exam weight breaking ties; unanswered counts as 0%."""

    def score(d: Domain) -> tuple[float, float]:
        right, n = tally[d.id]
        return (0.0 if n == 0 else right / n, -d.weight)

    return sorted(track.domains, key=score)[:2]
