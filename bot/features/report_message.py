""" "Report this question" on a message: which question a message shows, and the form
that reports it.

Slack's message shortcut and Discord's message context menu hand the core the text of
the message they were used on. Every message that shows a question carries its id in the
context line under it (`Domain · medium · a-mt-012`, `bot/features/questions.py`), and a
group's own questions have ids of their own (`g3-12`), so the id is read from the text
and checked against the questions the group may see. Submitting the form is `/study flag`
with the question fixed, so it files the same report.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.forms import FieldKind, Form, FormField
from bot.registry import SLASH
from bot.seam import Paragraph, Reply, code, text

if TYPE_CHECKING:
    from bot.context import Ctx

ACTION_NAME = "Report this question"  # what a platform calls it on a message (Slack's shortcut)
# An id as questions show it: the bank's (a-mt-012) or a group's own (g3-12).
_ID = r"(?:g\d+-\d+|[a-z][a-z-]*-\d{1,4})"
_ANY_ID = re.compile(rf"(?<![\w-])({_ID})(?![\w-])")
_FOOTER_ID = re.compile(rf"·\s+({_ID})(?=\s+·|\s*$)", re.MULTILINE)  # the context line's
NOT_A_QUESTION = (
    "That message does not show a question, so there is nothing to report on it. Use "
    "it on a daily question or a question's reply, or name one: "
    f"`{SLASH} flag <question id> <reason>`."
)
SEVERAL = (
    "That message shows several questions ({ids}). Report one of them with "
    f"`{SLASH} flag <question id> <reason>`."
)
MAX_TEXT = 20_000  # a message's text is read this far: a question's footer is well inside


def shown_question(ctx: Ctx, message_text: str) -> str:
    """The id of the one question a message shows, or a `UserError` saying why not."""
    body = message_text[:MAX_TEXT].lower()
    footers = _known(ctx, _FOOTER_ID.findall(body))
    if len(footers) == 1:
        return footers[0]
    found = footers or _known(ctx, _ANY_ID.findall(body))
    if not found:
        raise UserError(NOT_A_QUESTION)
    if len(found) > 1:
        raise UserError(SEVERAL.format(ids=", ".join(found[:5])))
    return found[0]


def _known(ctx: Ctx, ids: list[str]) -> list[str]:
    """The ids that name a question the group may see, each once, in order."""
    out: list[str] = []
    for qid in ids:
        if qid not in out and ctx.question(qid) is not None:
            out.append(qid)
    return out


def report_form(ctx: Ctx, message_text: str) -> Reply:
    """The form reporting the question a message shows; where there is no form, its
    blocks say how to report it in words."""
    ctx.require_group()
    qid = shown_question(ctx, message_text)
    form = Form(
        "flag",
        ACTION_NAME,
        "Report",
        (
            FormField(
                "reason",
                f"What is wrong with {qid}?",
                FieldKind.LONG_TEXT,
                hint="For example: the answer should be C, the explanation contradicts it.",
            ),
        ),
        fixed=(("question", qid),),
    )
    return Reply(
        (
            Paragraph(
                text(
                    "Report ",
                    code(qid),
                    ": say what is wrong with ",
                    code(f"{SLASH} flag {qid} <reason>"),
                    ".",
                )
            ),
        ),
        form=form,
    )
