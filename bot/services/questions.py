"""How a question and its feedback look, for the daily question and for quizzes alike.

Answer buttons carry `<kind>:<ref>:<selection>` (at most ~30 characters, well inside
Discord's 100-character custom_id): `d:<daily id>:B` or `q:<session id>.<position>:AC`.
Multi-answer questions toggle letters into the selection and submit it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.content.models import Content, Question
from bot.errors import UserError
from bot.seam import (
    Block,
    Button,
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

ANSWER = "answer"
FLAG = "flag"
TOGGLE = "toggle"
DIFFICULTY = {1: "easy", 2: "medium", 3: "hard"}


@dataclass(frozen=True)
class AnswerRef:
    kind: str  # "d" daily, "q" quiz, "c" a daily question's channel post
    ref: str
    selection: str

    def encode(self) -> str:
        return f"{self.kind}:{self.ref}:{self.selection}"

    @staticmethod
    def decode(value: str) -> AnswerRef:
        parts = value.split(":")
        if len(parts) != 3 or parts[0] not in ("d", "q", "c") or not parts[1]:
            raise UserError("That button is no longer valid. Try the command again.")
        sel = "".join(sorted(set(parts[2].upper())))
        return AnswerRef(parts[0], parts[1], sel)


def question_blocks(
    content: Content,
    q: Question,
    title: str,
    kind: str,
    ref: str,
    selection: str = "",
    buttons: bool = True,
) -> list[Block]:
    blocks: list[Block] = [Heading(title), *_question_body(q, selection)]
    if buttons:
        blocks.append(answer_buttons(q, kind, ref, selection))
    domain = content.track(q.track).domain(q.domain)
    blocks.append(_question_footer(q, domain.name if domain else q.domain))
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
def _question_footer(q: Question, domain: str) -> Context:
    how = "Pick the letters, then Submit." if q.multi else "Answer with a button."
    return Context(
        text(
            f"{domain} · {DIFFICULTY.get(q.difficulty, '')} · ",
            f"{q.id} · {how}",
        )
    )


def answer_buttons(q: Question, kind: str, ref: str, selection: str = "") -> Buttons:
    if not q.multi:
        return Buttons(
            tuple(
                Button(letter, ANSWER, AnswerRef(kind, ref, letter).encode())
                for letter in q.letters()
            )
        )
    row = []
    for letter in q.letters():
        toggled = "".join(sorted(set(selection) ^ {letter}))
        style = ButtonStyle.PRIMARY if letter in selection else ButtonStyle.DEFAULT
        label = f"☑ {letter}" if letter in selection else letter
        row.append(Button(label, TOGGLE, AnswerRef(kind, ref, toggled).encode(), style))
    if kind == "c":  # a shared channel post: the first pick opens a private selection
        return Buttons(tuple(row))
    row.append(
        Button(
            f"Submit {selection or '…'}",
            ANSWER,
            AnswerRef(kind, ref, selection).encode(),
            ButtonStyle.PRIMARY,
        )
    )
    return Buttons(tuple(row))


def feedback_blocks(
    q: Question, selection: str, correct: bool, points: int, extra: str = "", where: str = "daily"
) -> list[Block]:
    if correct:
        head = f"✅ Correct: {selection}" + (f"  (+{points} points)" if points else "")
    else:
        head = f"❌ Not quite: you chose {selection}; the answer is {q.answer_text()}"
    blocks: list[Block] = [Heading(head), *_explanation(q)]
    if extra:
        blocks.append(Context(text(extra)))
    blocks.append(Buttons((Button("⚑ Report a problem", FLAG, f"{q.id}:{where}:{selection}"),)))
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
