"""A core `Form` as a Discord modal, and what its submission answers.

Discord's modal holds five inputs, so a form that marks essential fields shows those (the
settings leads change most); one that marks none and has more than five (a question: its
prompt and four choices, then its answer, explanation, domain, difficulty and link) is
shown in pages of five, a "Continue" button between them keeping what was typed. Every
field is a text input in the text form's grammar (`mon,wed`, `09:00`), its hint (or the
words it takes) as the placeholder, its current value (`initial`) filled in. The last
page's submission is the same `Invocation` as typed words (`Form.args`), handled by the
core off the event loop like a command (`StudyHandler.on_form`).

Discord cannot show a problem beside a field, and a modal submission cannot be answered
with another modal. A refused submission is answered privately with each problem under its
field's label and a "Try again" button that opens the form again with what was typed and
the problem under each field it concerns (from the first page with a problem).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.render import render
from bot.forms import FieldKind, Form, FormField
from bot.seam import Context, Heading, Paragraph, Reply, Span, bold, text

if TYPE_CHECKING:
    from adapters.discord.client import StudyHandler

FIELDS_MAX = 5  # inputs in one modal
TITLE_MAX = 45  # a modal's title and an input's label
DESCRIPTION_MAX = 100  # a label's description and an input's placeholder
VALUE_MAX = 4000  # what a text input holds
TIMEOUT = 15 * 60.0  # an interaction's token lives 15 minutes: so does the form
TRY_AGAIN = "Try again"
CONTINUE = "Continue"
CLEARED = "none"
KEPT = "What you typed is kept: “Try again” opens the form with it."
_LONG = (FieldKind.LONG_TEXT,)
_SKIPPED = (FieldKind.FILE,)  # a modal's text input cannot carry a file


def pages(form: Form) -> list[tuple[FormField, ...]]:
    """The modals a form takes: its essential fields (at most five) in one, else all its
    fields five to a page; a file field is left to the command's attachment option."""
    usable = [f for f in form.fields if f.kind not in _SKIPPED]
    essential = [f for f in usable if f.essential]
    if essential:
        return [tuple(essential[:FIELDS_MAX])]
    return [tuple(usable[i : i + FIELDS_MAX]) for i in range(0, len(usable), FIELDS_MAX)] or [()]


def submitted_args(form: Form, values: Mapping[str, str]) -> dict[str, str]:
    """A submission's args: an optional field that was set when the form opened and is
    now empty sends `none`, the text form's word for clearing it (`setup exam=none`),
    since an empty value means "unchanged" (as on Slack)."""
    given = dict(values)
    for f in form.fields:
        if f.optional and f.initial and f.name in given and not given[f.name]:
            given[f.name] = CLEARED
    return form.args(given)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def placeholder(f: FormField) -> str | None:
    """The field's hint; for a closed set of words, the words it takes."""
    hint = f.hint
    if not hint and f.options:
        hint = ", ".join(o.value for o in f.options)
    return _cut(hint, DESCRIPTION_MAX) if hint else None


class FormModal(discord.ui.Modal):
    """One page of a core form as a modal: the last page's submission goes to the
    client's handler with every page's values, an earlier one asks to continue."""

    def __init__(
        self,
        handler: StudyHandler,
        form: Form,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        page: int = 0,
    ) -> None:
        shown = pages(form)
        title = form.title if len(shown) == 1 else f"{form.title} ({page + 1}/{len(shown)})"
        super().__init__(title=_cut(title, TITLE_MAX), timeout=TIMEOUT)
        self.handler, self.form, self.page, self.last = handler, form, page, page + 1 >= len(shown)
        self.kept, self.errors = dict(values or {}), dict(errors or {})
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for f in shown[page]:
            value = self.kept.get(f.name, f.initial)
            box: discord.ui.TextInput[Any] = discord.ui.TextInput(
                style=discord.TextStyle.paragraph if f.kind in _LONG else discord.TextStyle.short,
                custom_id=f"field:{f.name}",
                placeholder=placeholder(f),
                default=value[:VALUE_MAX] or None,
                required=not f.optional,
                max_length=VALUE_MAX,
            )
            problem = self.errors.get(f.name)
            self.add_item(
                discord.ui.Label(
                    text=_cut(f.label, TITLE_MAX),
                    component=box,
                    description=_cut(f"⚠ {problem}", DESCRIPTION_MAX) if problem else None,
                )
            )
            self.inputs[f.name] = box

    def values(self) -> dict[str, str]:
        """What was typed on every page so far, by field name, trimmed (an emptied field
        is '')."""
        typed = {name: (box.value or "").strip() for name, box in self.inputs.items()}
        return {**self.kept, **typed}

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        if self.last:
            await self.handler.on_form(interaction, self.form, self.values())
            return
        total = len(pages(self.form))
        view = Reopen(self.handler, self.form, self.values(), self.errors, self.page + 1, CONTINUE)
        note = Reply.message(
            f"Page {self.page + 1} of {total} of “{self.form.title}” is kept; nothing is "
            f"saved until the last page. “{CONTINUE}” opens page {self.page + 2}."
        )
        await interaction.response.send_message(
            ephemeral=True, view=view, **render(note).send_kwargs()
        )


def refused_reply(form: Form, reply: Reply) -> Reply:
    """A refused submission: each problem under the label of its field (the form's own
    words for a problem of the whole form), and that what was typed is kept."""
    labels = {f.name: f.label for f in form.fields}
    parts: list[Span] = []
    for name, problem in reply.field_errors:
        if parts:
            parts.append(Span("\n"))
        if name and name in labels:
            parts += [bold(labels[name]), Span(f": {problem}")]
        else:
            parts.append(Span(problem))
    return Reply.of(
        Heading(f"{form.title}: not saved"), Paragraph(tuple(parts)), Context(text(KEPT))
    )


def first_page_with(form: Form, names: set[str]) -> int:
    """The first page holding one of the fields named (the first page if none)."""
    for i, shown in enumerate(pages(form)):
        if any(f.name in names for f in shown):
            return i
    return 0


class Reopen(discord.ui.View):
    """A button that opens a page of the form with what was typed: "Continue" between
    pages, "Try again" under a refused submission (each problem under its field)."""

    def __init__(
        self,
        handler: StudyHandler,
        form: Form,
        values: Mapping[str, str],
        errors: Mapping[str, str],
        page: int,
        label: str,
    ) -> None:
        super().__init__(timeout=TIMEOUT)
        self.handler, self.form, self.page = handler, form, page
        self.values, self.errors = dict(values), dict(errors)
        button: discord.ui.Button[Reopen] = discord.ui.Button(
            label=label, style=discord.ButtonStyle.primary
        )
        button.callback = self._reopen  # type: ignore[method-assign]
        self.add_item(button)

    async def _reopen(self, interaction: discord.Interaction[Any]) -> None:
        modal = FormModal(self.handler, self.form, self.values, self.errors, self.page)
        await interaction.response.send_modal(modal)


def try_again(handler: StudyHandler, form: Form, values: Mapping[str, str], reply: Reply) -> Reopen:
    """ "Try again" under a refused submission: the form from its first page with a
    problem, as it was sent."""
    errors = {name: problem for name, problem in reply.field_errors if name}
    page = first_page_with(form, set(errors))
    return Reopen(handler, form, values, errors, page, TRY_AGAIN)
