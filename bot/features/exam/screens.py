"""What a member sees during a mock exam: one question at a time, and the review page."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.context import Ctx
from bot.features.exam.attempt import (
    ExamChoice,
    ExamQuestion,
    ExamRef,
    bank_of,
    question,
    remaining_label,
    rows,
    tz_of,
)
from bot.seam import (
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    Reply,
    Span,
    Visibility,
    bold,
    text,
)
from bot.store.models import ExamAnswer, ExamAttempt
from bot.timeutil import as_utc

JUMP_BUTTONS = 5


def clock_line(ctx: Ctx, attempt: ExamAttempt, answers: Sequence[ExamAnswer]) -> str:
    tz = tz_of(ctx.s, attempt)
    ends = as_utc(attempt.deadline).astimezone(ZoneInfo(tz))
    answered = sum(1 for r in answers if r.choice)
    flagged = sum(1 for r in answers if r.flagged)
    return (
        f"⏱ {remaining_label(attempt.deadline, ctx.now)} (ends {ends:%H:%M} {tz}) · "
        f"answered {answered} of {attempt.total} · flagged {flagged}"
    )


def show(ctx: Ctx, attempt: ExamAttempt, position: int, note: str = "") -> Reply:
    """Question `position` on screen (it counts as seen from now on)."""
    answers = rows(ctx.s, attempt)
    row = answers[position]
    q = question(bank_of(ctx, attempt), row.question_id)
    attempt.position = position
    if row.shown_at is None:
        row.shown_at = as_utc(ctx.now)
    sel = row.choice
    lines: list[Span] = []
    for i, (letter, choice) in enumerate(zip(q.letters(), q.choices, strict=True)):
        if i:
            lines.append(Span("\n"))
        mark = "☑ " if letter in sel else ""
        lines.extend([bold(f"{mark}{letter}."), Span(f" {choice}")])
    flag = " ⚑" if row.flagged else ""
    blocks: list[Block] = []
    if note:
        blocks.append(Context(text(note)))
    blocks += [
        Heading(f"Mock exam · Question {position + 1} of {attempt.total}{flag}"),
        Context(text(clock_line(ctx, attempt, answers))),
        Paragraph(text(q.prompt.strip())),
        Paragraph(tuple(lines)),
    ]
    choices: list[Button] = []
    for letter in q.letters():
        if q.multi:
            new = "".join(sorted(set(sel) ^ {letter}))
            label = f"☑ {letter}" if letter in sel else letter
        else:
            new, label = letter, (f"☑ {letter}" if letter == sel else letter)
        style = ButtonStyle.PRIMARY if letter in sel else ButtonStyle.DEFAULT
        choices.append(ExamChoice(attempt.id, position, new).button(label, style=style))
    blocks.append(Buttons(tuple(choices)))
    here = ExamQuestion(attempt.id, position)
    nav: list[Button] = []
    if position > 0:
        nav.append(ExamQuestion(attempt.id, position - 1).button("◀ Previous", "exam.go"))
    if position + 1 < attempt.total:
        nav.append(ExamQuestion(attempt.id, position + 1).button("Next ▶", "exam.go"))
    nav.append(here.button("⚑ Unflag" if row.flagged else "⚑ Flag", "exam.flag"))
    nav.append(ExamRef(attempt.id).button("Review & submit", "exam.submit", ButtonStyle.PRIMARY))
    blocks.append(Buttons(tuple(nav)))
    how = f"pick {len(q.answer)} letters" if q.multi else "pick a letter"
    blocks.append(Context(text(f"Question id {q.id} · {how}; you can change it until you submit.")))
    return Reply(tuple(blocks), Visibility.DM)


def review_page(ctx: Ctx, attempt: ExamAttempt) -> Reply:
    answers = rows(ctx.s, attempt)
    unanswered = [r.position for r in answers if not r.choice]
    flagged = [r.position for r in answers if r.flagged]
    blocks: list[Block] = [
        Heading("Mock exam · review before you submit"),
        Context(text(clock_line(ctx, attempt, answers))),
    ]
    summary = [Field("Answered", text(f"{attempt.total - len(unanswered)} of {attempt.total}"))]
    summary.append(Field("Flagged", text(_numbers(flagged) or "none")))
    summary.append(Field("Unanswered", text(_numbers(unanswered) or "none")))
    blocks.append(Fields(tuple(summary)))
    blocks.append(
        Paragraph(
            text(
                "Unanswered questions count as wrong. Submitting ends the exam; "
                "when the time runs out it is submitted as it stands."
            )
        )
    )
    jumps: list[Button] = []
    for pos in [*flagged, *unanswered]:
        if len(jumps) == JUMP_BUTTONS * 2:
            break
        label = f"{'⚑ ' if pos in flagged else ''}Q{pos + 1}"
        b = ExamQuestion(attempt.id, pos).button(label, "exam.go")
        if all(x.value != b.value for x in jumps):
            jumps.append(b)
    if jumps:
        blocks.append(Buttons(tuple(jumps)))
    back = ExamQuestion(attempt.id, attempt.position)
    blocks.append(
        Buttons(
            (
                back.button(f"◀ Back to Q{attempt.position + 1}", "exam.go"),
                ExamRef(attempt.id).button("Submit exam", "exam.confirm", ButtonStyle.DANGER),
            )
        )
    )
    return Reply(tuple(blocks), Visibility.DM)


def _numbers(positions: Sequence[int]) -> str:
    shown = ", ".join(str(p + 1) for p in positions[:20])
    return shown + (f" and {len(positions) - 20} more" if len(positions) > 20 else "")
