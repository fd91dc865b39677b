"""The report of a closed mock exam, and `/study exams`: the member's past attempts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.models import Content, Track
from bot.context import Ctx
from bot.features.exam.attempt import (
    EXPIRED,
    OPEN,
    ReportPage,
    bank_of,
    expire_mine,
    remaining_label,
    rows,
    tz_of,
)
from bot.features.readiness import PRACTICE_LINE
from bot.registry import SLASH, Audience, command
from bot.seam import (
    Block,
    Button,
    Buttons,
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
    text,
)
from bot.store.models import ExamAnswer, ExamAttempt
from bot.timeutil import as_utc, fmt_date

MISSED_PER_PAGE = 3
JUMP_BUTTONS = 5


@dataclass(frozen=True)
class PartScore:
    """The score on a guide section or a study domain."""

    name: str
    weight_label: str
    right: int
    total: int

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100 * self.right / self.total

    def line(self) -> Span:
        score = (
            "no questions"
            if self.percent is None
            else f"{self.right} of {self.total} ({self.percent:.0f}%)"
        )
        return Span(f"\n• {self.name}: {score} · {self.weight_label}")


def section_of(content: Content, track: Track, row: ExamAnswer) -> str | None:
    """A drawn question's guide section (for one since retired, its domain's section)."""
    q = content.by_id.get(row.question_id)
    if q is not None:
        return q.guide_section
    d = track.domain(row.domain)
    return d.guide_section if d is not None else None


def section_scores(
    content: Content, attempt: ExamAttempt, rows: Sequence[ExamAnswer]
) -> list[PartScore]:
    track = content.track(attempt.track)
    sections = {id(r): section_of(content, track, r) for r in rows}
    out = []
    for sec in track.guide_sections:
        mine = [r for r in rows if sections[id(r)] == sec.id]
        right = sum(1 for r in mine if r.correct)
        out.append(PartScore(sec.name, sec.weight_label, right, len(mine)))
    return out


def domain_scores(
    content: Content, attempt: ExamAttempt, rows: Sequence[ExamAnswer]
) -> list[PartScore]:
    track = content.track(attempt.track)
    out = []
    for d in track.domains:
        mine = [r for r in rows if r.domain == d.id]
        right = sum(1 for r in mine if r.correct)
        out.append(PartScore(d.name, d.weight_label, right, len(mine)))
    return out


def verdict(content: Content, attempt: ExamAttempt) -> tuple[str, str]:
    """(result line, the rule it was judged by)."""
    pct = 100 * (attempt.correct or 0) / max(1, attempt.total)
    track = content.track(attempt.track)
    if attempt.passing is not None:
        ok = pct >= attempt.passing
        return (
            f"{'Pass' if ok else 'Fail'} (pass mark {attempt.passing}%)",
            f"The {attempt.guide} exam guide publishes a pass mark of {attempt.passing}%.",
        )
    ok = pct >= PRACTICE_LINE
    side = "Above" if ok else "Below"
    note = track.exam.passing_note.strip() or "The exam guide publishes no passing score."
    return (
        f"{side} the {PRACTICE_LINE}% practice line",
        f"No official pass mark: {note} The {PRACTICE_LINE}% line is a practice target, "
        "not the exam's rule.",
    )


def report(ctx: Ctx, attempt: ExamAttempt, page: int, note: str = "") -> Reply:
    bank = bank_of(ctx, attempt)
    return report_reply(ctx.s, bank, attempt, page, tz_of(ctx.s, attempt), note)


def report_reply(
    s: Session, content: Content, attempt: ExamAttempt, page: int, tz: str, note: str = ""
) -> Reply:
    """The report of a closed attempt (also what the clock can DM after a time-out)."""
    answers = rows(s, attempt)
    track = content.track(attempt.track)
    right = attempt.correct or 0
    pct = 100 * right / max(1, attempt.total)
    result, rule = verdict(content, attempt)
    started = as_utc(attempt.started_at)
    finished = as_utc(attempt.finished_at or attempt.deadline)
    used = max(0, int((finished - started).total_seconds() // 60))
    how = (
        f"time ran out after {attempt.minutes} min; submitted automatically"
        if attempt.status == EXPIRED
        else f"submitted after {used} of {attempt.minutes} min"
    )
    blocks: list[Block] = []
    if note:
        blocks.append(Context(text(note)))
    blocks += [
        Heading(f"Mock exam report · {track.name}"),
        Fields(
            (
                Field("Score", text(f"{right} of {attempt.total} ({pct:.0f}%)")),
                Field("Result", text(result)),
                Field("Taken", text(f"{fmt_date(started.astimezone(ZoneInfo(tz)).date())}; {how}")),
            )
        ),
        Context(text(rule)),
    ]
    lines: list[Span] = [bold("By exam-guide section (your score · guide weight)")]
    lines += [p.line() for p in section_scores(content, attempt, answers)]
    lines += [Span("\n"), bold("\nBy study domain (what to practise · plan weight)")]
    lines += [p.line() for p in domain_scores(content, attempt, answers) if p.total]
    blocks.append(Paragraph(tuple(lines)))
    missed = [r for r in answers if not r.correct]
    pages = max(1, -(-len(missed) // MISSED_PER_PAGE))
    page = min(max(0, page), pages - 1)
    if not missed:
        blocks.append(Paragraph(text("No missed questions. Well done.")))
    else:
        shown = missed[page * MISSED_PER_PAGE : (page + 1) * MISSED_PER_PAGE]
        first = page * MISSED_PER_PAGE + 1
        blocks.append(
            Heading(f"Missed questions {first}–{first + len(shown) - 1} of {len(missed)}")
        )
        for r in shown:
            blocks.append(Paragraph(_missed(content, r)))
        nav: list[Button] = []
        if page > 0:
            nav.append(ReportPage(attempt.id, page - 1).button("◀ Earlier missed"))
        if page + 1 < pages:
            nav.append(ReportPage(attempt.id, page + 1).button("More missed ▶"))
        if nav:
            blocks.append(Buttons(tuple(nav)))
    blocks.append(
        Context(
            text(
                "The questions you saw come back in your review queue when due: ",
                code(f"{SLASH} review"),
                ". Past attempts: ",
                code(f"{SLASH} exams"),
                ".",
            )
        )
    )
    return Reply(tuple(blocks), Visibility.DM)


def _missed(content: Content, r: ExamAnswer) -> tuple[Span, ...]:
    q = content.by_id.get(r.question_id)
    if q is None:
        return text(bold(f"Q{r.position + 1} · {r.question_id}"), " (retired from the bank)")
    prompt = q.prompt.strip()
    if len(prompt) > 300:
        prompt = prompt[:299] + "…"
    mine = r.choice or "no answer"
    right = "; ".join(f"{x}. {q.choices[q.letters().index(x)]}" for x in q.answer)
    return text(
        bold(f"Q{r.position + 1} · {q.id}"),
        f"\n{prompt}\nYou: {mine} · Right: {right}\n",
        q.explanation.strip(),
    )


@command("exams", summary="Your past mock exams with their scores", audience=Audience.MEMBER)
def exams(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    expire_mine(ctx)
    past = list(
        ctx.s.scalars(
            select(ExamAttempt)
            .where(ExamAttempt.user_id == ctx.user.id)
            .order_by(ExamAttempt.started_at.desc(), ExamAttempt.id.desc())
            .limit(20)
        )
    )
    if not past:
        return Reply.message(
            "No mock exams yet. Start one with ", code(f"{SLASH} exam"), " (it runs in your DMs)."
        )
    lines: list[Span] = []
    buttons: list[Button] = []
    for i, a in enumerate(past):
        if i:
            lines.append(Span("\n"))
        tz = tz_of(ctx.s, a)
        day = fmt_date(as_utc(a.started_at).astimezone(ZoneInfo(tz)).date())
        lines.append(bold(f"#{a.id}"))
        if a.status == OPEN:
            left = remaining_label(a.deadline, ctx.now)
            lines.append(Span(f" · {day} · {a.track} · in progress, {left} ({SLASH} exam)"))
            continue
        pct = 100 * (a.correct or 0) / max(1, a.total)
        result, _rule = verdict(ctx.content, a)
        how = "timed out" if a.status == EXPIRED else "submitted"
        lines.append(
            Span(
                f" · {day} · {a.track} · {a.correct or 0}/{a.total} ({pct:.0f}%) · {result} · {how}"
            )
        )
        if len(buttons) < JUMP_BUTTONS:
            buttons.append(ReportPage(a.id, 0).button(f"Report #{a.id}"))
    blocks: list[Block] = [Heading("Your mock exams"), Paragraph(tuple(lines))]
    if buttons:
        blocks.append(Buttons(tuple(buttons)))
    blocks.append(Context(text("Most recent first. Only you can see this.")))
    return Reply(tuple(blocks), Visibility.EPHEMERAL)
