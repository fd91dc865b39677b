"""How a question and its feedback look, wherever it is asked (daily, quiz, review).

A choice button carries `<kind>:<ref>:<selection>`, at most ~30 characters (well inside
Discord's 100-character custom_id): `d:<daily id>:B` or `q:<set id>.<position>:AC`. Each
feature has its own `Pick` kind, routed to its own handlers; multi-answer questions toggle
letters into the selection and submit it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Protocol, Self, TypeVar

from bot.content.models import Content, Question
from bot.errors import UserError
from bot.features.flags import Report
from bot.registry import ButtonValue
from bot.seam import (
    Block,
    Buttons,
    ButtonStyle,
    Context,
    Heading,
    Paragraph,
    Span,
    bold,
    link,
    text,
)

if TYPE_CHECKING:
    from bot.context import Ctx

ANSWER = "answer"
TOGGLE = "toggle"
DIFFICULTY = {1: "easy", 2: "medium", 3: "hard"}
STALE = "That button is no longer valid. Try the command again."


@dataclass(frozen=True)
class Pick(ButtonValue):
    """A choice button: which question (`ref`, the feature's) and the selection it makes."""

    ref: str
    selection: str = ""

    kind: ClassVar[str]
    actions = (ANSWER, TOGGLE)
    submit: ClassVar[bool] = True  # multi-answer: a Submit button (not on shared posts)

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls.prefixes = (f"{cls.kind}:",)

    def encode(self) -> str:
        return f"{self.kind}:{self.ref}:{self.selection}"

    @classmethod
    def decode(cls, value: str) -> Self:
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != cls.kind or not parts[1]:
            raise UserError(STALE)
        return cls(parts[1], "".join(sorted(set(parts[2].upper()))))

    def picking(self, selection: str) -> Self:
        return replace(self, selection=selection)

    @property
    def answer_action(self) -> str:
        return self.actions[0]

    @property
    def toggle_action(self) -> str:
        return self.actions[1]


def question_blocks(
    content: Content, q: Question, title: str, pick: Pick, buttons: bool = True
) -> list[Block]:
    blocks: list[Block] = [Heading(title), *_question_body(q, pick.selection)]
    if buttons:
        blocks.append(answer_buttons(q, pick))
    domain = content.track(q.track).domain(q.domain)
    blocks.append(_question_footer(q, domain.name if domain else q.domain, buttons))
    return blocks


# The parts of a question's message that depend on the question alone are rendered once:
# they are most of what `today` and every answer click render.
@functools.lru_cache(maxsize=2048)
def _question_body(q: Question, selection: str) -> tuple[Block, ...]:
    lines: list[Span] = []
    for i, (letter, choice) in enumerate(zip(q.letters(), q.choices, strict=True)):
        if i:
            lines.append(Span("\n"))
        mark = "☑ " if letter in selection else ""
        lines.extend([bold(f"{mark}{letter}."), Span(f" {choice}")])
    return (Paragraph(text(q.prompt.strip())), Paragraph(tuple(lines)))


@functools.lru_cache(maxsize=1024)
def _question_footer(q: Question, domain: str, buttons: bool = True) -> Context:
    head = f"{domain} · {DIFFICULTY.get(q.difficulty, '')} · "
    if not buttons:  # an answered question: nothing left to press
        return Context(text(head, q.id))
    how = "Pick the letters, then Submit." if q.multi else "Answer with a button."
    return Context(text(head, f"{q.id} · {how}"))


def preview_blocks(content: Content, q: Question, title: str) -> list[Block]:
    """A question with its answer, explanation and references, and no buttons: what a
    lead sees of a question they wrote."""
    domain = content.track(q.track).domain(q.domain)
    return [
        Heading(title),
        *_question_body(q, ""),
        *_explanation(q),
        _question_footer(q, domain.name if domain else q.domain, False),
    ]


def answer_buttons(q: Question, pick: Pick) -> Buttons:
    selection = pick.selection
    if not q.multi:
        return Buttons(tuple(pick.picking(x).button(x, pick.answer_action) for x in q.letters()))
    row = []
    for letter in q.letters():
        toggled = "".join(sorted(set(selection) ^ {letter}))
        style = ButtonStyle.PRIMARY if letter in selection else ButtonStyle.DEFAULT
        label = f"☑ {letter}" if letter in selection else letter
        row.append(pick.picking(toggled).button(label, pick.toggle_action, style))
    if pick.submit:
        label = f"Submit {selection or '…'}"
        row.append(pick.button(label, pick.answer_action, ButtonStyle.PRIMARY))
    return Buttons(tuple(row))


def feedback_blocks(
    q: Question, selection: str, correct: bool, points: int, extra: str = "", where: str = "daily"
) -> list[Block]:
    if correct:
        gained = f"  (+{points} point{'s' if points != 1 else ''})" if points else ""
        head = f"✅ Correct: {selection}{gained}"
    else:
        head = f"❌ Not quite: you chose {selection}; the answer is {q.answer_text()}"
    blocks: list[Block] = [Heading(head), *_explanation(q)]
    if extra:
        blocks.append(Context(text(extra)))
    blocks.append(Buttons((Report(q.id, where, selection).button("⚑ Report a problem"),)))
    return blocks


@functools.lru_cache(maxsize=1024)
def _explanation(q: Question) -> tuple[Block, ...]:
    """The right answer, the explanation and the references: the same for every member."""
    answer_lines: list[Span] = []
    for letter in q.answer:
        idx = q.letters().index(letter)
        if answer_lines:
            answer_lines.append(Span("\n"))
        answer_lines.extend([bold(f"{letter}."), Span(f" {q.choices[idx]}")])
    refs: list[Span] = [Span("Read more: ")]
    for i, url in enumerate(q.refs):
        if i:
            refs.append(Span(" · "))
        refs.append(link(_ref_label(url), url))
    return (
        Paragraph(tuple(answer_lines)),
        Paragraph(text(q.explanation.strip())),
        Context(tuple(refs)),
    )


def _ref_label(url: str) -> str:
    host = url.split("/")[2] if url.count("/") >= 2 else url
    tail = url.rstrip("/").rsplit("/", 1)[-1].replace(".html", "").replace("-", " ")
    return f"{host}: {tail}" if tail and tail != host else host


def check_selection(q: Question, selection: str) -> None:
    valid = q.letters()
    if not selection or any(ch not in valid for ch in selection):
        raise UserError(f"Choose from {', '.join(valid)}.")
    if q.multi and len(selection) != len(q.answer):
        raise UserError(
            f"This question needs {len(q.answer)} choices; you picked "
            f"{len(selection)}. Toggle the letters, then Submit."
        )


class Owned(Protocol):
    user_id: int
    question_ids: list[str]


S = TypeVar("S", bound=Owned)
RETIRED = "That question has been retired from the bank."


def owned_at(
    ctx: Ctx, model: type[S], ref: str, *, stale: str, others: str, missing: str
) -> tuple[S, int]:
    """The caller's practice set or review that a button's `<set id>.<position>` names,
    and the position: `stale` answers a malformed ref, `others` a member pressing someone
    else's button, `missing` a position the set does not have."""
    sid, _, pos = ref.partition(".")
    if not sid.isdigit() or not pos.isdigit():
        raise UserError(stale)
    row, position = ctx.s.get(model, int(sid)), int(pos)
    if row is None or not ctx.owns(row.user_id):
        raise UserError(others)
    if position >= len(row.question_ids):
        raise UserError(missing)
    return row, position


def question_at(ctx: Ctx, row: Owned, position: int) -> Question:
    """The group's question at a position of a set (one gone since is explained)."""
    q = ctx.question(row.question_ids[position])
    if q is None:
        raise UserError(RETIRED)
    return q
