"""`/study questions edit ID`: a lead rewrites one of the group's own questions.

The words are `/study add`'s, checked by the same rules; the question keeps its id, its
answers and review cards, and the edit is the lead's review of members' reports on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.content.drafts import FIELDS
from bot.context import Ctx
from bot.features import own_bank
from bot.features import questions as qv
from bot.features.flags import mark_reviewed
from bot.features.own_questions import add_form, checked
from bot.forms import Form
from bot.registry import SLASH
from bot.seam import Block, Context, Paragraph, Reply, Span, code, text
from bot.store.models import GroupQuestion


def edit(ctx: Ctx, row: GroupQuestion, fields: Mapping[str, str]) -> Reply:
    qid = row.question_id
    if not fields:
        return _edit_screen(ctx, row)
    hint = f"\nFix them and send it again: {SLASH} questions edit {qid} key=value…"
    q = checked(ctx, own_bank.merged(row.body, fields), hint)
    before = own_bank.current_fields(row)
    saved = own_bank.rewrite(row, q, ctx.now)
    cleared = mark_reviewed(ctx.s, qid, ctx.now)
    after = own_bank.current_fields(row)
    changed = [k for k in FIELDS if before.get(k, "") != after.get(k, "")]
    notes: list[Span | str] = [
        f"Changed: {', '.join(changed) or 'nothing'}. Its answers and review cards stay with it."
    ]
    if cleared:
        notes.append(f" Members' reports on it ({cleared}) are marked reviewed.")
    if row.retired:
        notes += [
            " It is still retired: ",
            code(f"{SLASH} questions restore {qid}"),
            " brings it back.",
        ]
    return Reply.of(
        *qv.preview_blocks(ctx.content, saved, f"Updated {qid}"),
        Context(text(*notes)),
    )


def _edit_screen(ctx: Ctx, row: GroupQuestion) -> Reply:
    """`edit ID` alone: a form filled with the question (Slack, Discord), or the question
    and the words that change it (the terminal)."""
    qid = row.question_id
    values = own_bank.current_fields(row)
    words = " ".join(f"{k}={_quoted(values[k])}" for k in FIELDS if values.get(k))
    blocks: list[Block] = [
        *qv.preview_blocks(ctx.content, own_bank.question_of(row), f"Edit {qid}"),
        Paragraph(
            text(
                "Change any field with the words ",
                code(f"{SLASH} add"),
                " takes, e.g. ",
                code(f"{SLASH} questions edit {qid} answer=C"),
                ". All of it: ",
                code(f"{SLASH} questions edit {qid} {words}"),
            )
        ),
    ]
    return Reply(tuple(blocks), form=edit_form(ctx, row, values))


def _quoted(value: str) -> str:
    """A value as the text parser reads it back (double quotes, `\\` and `"` escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def edit_form(ctx: Ctx, row: GroupQuestion, values: Mapping[str, str]) -> Form:
    """`add`'s form filled with the question; its submission is `questions edit ID`."""
    base = add_form(ctx)
    return Form(
        command="questions",
        title=f"Edit {row.question_id}"[:24],
        submit="Save",
        fields=tuple(replace(f, initial=values.get(f.name, f.initial)) for f in base.fields),
        fixed=(("action", "edit"), ("id", row.question_id)),
    )
