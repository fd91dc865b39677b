"""`/study add`: a group lead writes a question of the group's own.

The question is checked by the bank's own rules (`bot/content/drafts.py`), so a lead hears
the problems `studybot content check` would name, and stored for that group alone
(`bot/features/own_bank.py`). In the terminal a lead types `key=value` words; Slack and
Discord open a form.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.content.drafts import CHOICE_KEYS, DEFAULT_DIFFICULTY, check, from_fields
from bot.content.models import Question
from bot.context import Ctx
from bot.errors import FieldError, UserError
from bot.features import own_bank
from bot.features import questions as qv
from bot.forms import FieldKind, Form, FormField, Option
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import Block, Context, Paragraph, Reply, code, text
from bot.tracks import example_ids

LEADS_ONLY = (
    "Only a group lead can add the group's own questions (channel admins and the leads "
    "the group names). Nothing was added."
)
WORDS = (
    'prompt="…" a="…" b="…" c="…" d="…" answer=B explanation="…" domain={domain} '
    "difficulty=2 ref=https://…"
)


class QuestionRefused(FieldError):
    """A lead's question the bank's rules refuse; `problems` lists every one of them, and
    `errors` each beside the field of the form it is about ("" for the question as a
    whole), so a form shows them where they are fixed."""

    def __init__(
        self, problems: list[str], hint: str = "", data: Mapping[str, object] | None = None
    ) -> None:
        self.problems = problems
        lines = "\n".join(f"• {p}" for p in problems)
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(field_of(p, data or {}), []).append(p)
        errors = tuple((k, "; ".join(v)) for k, v in by_field.items())
        message = f"That question was not saved. The bank's checks found:\n{lines}{hint}"
        super().__init__(errors[0][0] if errors else "", message, errors)


def field_of(problem: str, data: Mapping[str, object]) -> str:
    """The form field a problem of `drafts.check` is about, "" when none is (a problem
    with the content's defaults)."""
    choices = data.get("choices")
    given = [str(c) for c in choices] if isinstance(choices, list | tuple) else []
    letters = dict(zip(range(len(given)), CHOICE_KEYS, strict=False))
    if problem.startswith("empty choice"):
        return next((letters[i] for i, c in enumerate(given) if not c.strip()), "a")
    if problem.startswith("needs at least two choices"):
        return "b" if given and given[0].strip() else "a"
    if problem.startswith("duplicate choice"):
        seen: set[str] = set()
        for i, c in enumerate(given):
            norm = " ".join(c.lower().split())
            if norm in seen:
                return letters[i]
            seen.add(norm)
        return "a"
    if problem.startswith('"all of the above"'):
        return next((letters[i] for i, c in enumerate(given) if "of the above" in c.lower()), "a")
    for prefix, field in _PREFIXES:
        if problem.startswith(prefix):
            return field
    return ""


_PREFIXES = (  # a problem's first words, and the field it is about
    ("empty prompt", "prompt"),
    ("empty explanation", "explanation"),
    ("unknown domain", "domain"),
    ("difficulty", "difficulty"),
    ("ref", "ref"),  # ref is not an https URL; refs must list at least one
    ("answer", "answer"),
    ("single-answer question has several answers", "answer"),
    ("prompt says", "answer"),
)


def require_lead(ctx: Ctx, refusal: str = LEADS_ONLY) -> None:
    ctx.require_group()
    if not ctx.is_lead():
        raise UserError(refusal)


def checked(ctx: Ctx, data: Mapping[str, object], hint: str = "") -> Question:
    """The lead's draft as a question of the group's track, or every problem with it."""
    g = ctx.require_group()
    q, problems = check(data, ctx.content, g.track)
    if q is None:
        raise QuestionRefused(problems, hint, data)
    return q


def _param(name: str, help_: str, form: str) -> Param:
    return Param(name, Kind.WORD, help_, positional=False, form=form)


@command(
    "add",
    summary="Add a question of the group's own (group lead): a form, or key=value words",
    audience=Audience.LEAD,
    params=(
        _param("prompt", "the question", '"…"'),
        _param("a", "choice A", '"…"'),
        _param("b", "choice B", '"…"'),
        _param("c", "choice C", '"…"'),
        _param("d", "choice D", '"…"'),
        _param("answer", "the right letter, or letters for a multi-answer question", "B|A,C"),
        _param("explanation", "why the answer is right and the others are not", '"…"'),
        _param("domain", "a domain of the group's track", "DOMAIN"),
        _param("difficulty", "1 recall, 2 applied (the default), 3 tricky", "1..3"),
        _param("ref", "an https link to the documentation (several: space-separated)", "URL"),
    ),
    details=(
        "The question is checked as the bank's questions are, gets an id of its own and "
        "belongs to this group alone: its daily questions and quizzes (`setup own=`), "
        "reviews, and mock exams if `setup own_exam=on`. A multi-answer prompt ends with "
        '"(Choose two.)". On Slack and Discord `/study add` alone opens a form.'
    ),
    examples=(
        '/study add prompt="What does X do?" a="…" b="…" c="…" d="…" answer=B '
        'explanation="B is right because …" domain={domain} ref=https://…',
        "/study add",
    ),
    family="questions",
)
def add(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    require_lead(ctx)
    if not args:
        return _how_to_add(ctx)
    g = ctx.require_group()
    words = WORDS.format_map(example_ids(ctx.content, g.track))
    q = checked(ctx, from_fields(args), f"\nFix them and send it again: {SLASH} add {words}")
    saved = own_bank.add(ctx.s, g, [q], ctx.who.user_id, ctx.now)[0]
    return Reply.of(*added_blocks(ctx, saved, "Added"))


def added_blocks(ctx: Ctx, q: Question, verb: str) -> list[Block]:
    """What a lead sees of a question saved: all of it, and where it goes next."""
    g = ctx.require_group()
    where = {
        own_bank.MIX: "It joins the group's daily questions and quizzes (own=mix).",
        own_bank.ONLY: "The group's daily questions and quizzes come from its own (own=only).",
        own_bank.OFF: "Daily questions and quizzes leave the group's own out (own=off); "
        f"`{SLASH} setup own=mix` brings them in.",
    }[g.own_questions]
    return [
        *qv.preview_blocks(ctx.content, q, f"{verb} {q.id} to this group's own questions"),
        Context(text(where, " ", code(f"{SLASH} questions"), " lists them.")),
    ]


def _how_to_add(ctx: Ctx) -> Reply:
    g = ctx.require_group()
    words = WORDS.format_map(example_ids(ctx.content, g.track))
    return Reply(
        (
            Paragraph(
                text(
                    "Write the question as key=value words (quote values with spaces): ",
                    code(f"{SLASH} add {words}"),
                    ". A multi-answer question has answer=A,C and a prompt that ends with "
                    '"(Choose two.)".',
                )
            ),
        ),
        form=add_form(ctx),
    )


DIFFICULTIES = (("1", "1: recall"), ("2", "2: applied"), ("3", "3: tricky"))


def add_form(ctx: Ctx) -> Form:
    """`/study add` as a form: the same keys as the words, the domain chosen from the
    group's track."""
    domains = tuple(Option(d.name, d.id) for d in ctx.track().domains)
    choice = "Choice {}"
    return Form(
        "add",
        "Add a question",
        "Add",
        (
            FormField("prompt", "Question", FieldKind.LONG_TEXT, hint=_MULTI_HINT),
            FormField("a", choice.format("A")),
            FormField("b", choice.format("B")),
            FormField("c", choice.format("C"), optional=True),
            FormField("d", choice.format("D"), optional=True),
            FormField(
                "answer", "Right answer", hint="A letter, or letters for a multi-answer: A,C"
            ),
            FormField(
                "explanation",
                "Explanation",
                FieldKind.LONG_TEXT,
                hint="Why the answer is right and the others are not.",
            ),
            FormField(
                "domain", "Domain", FieldKind.SELECT, domains[0].value if domains else "", domains
            ),
            FormField(
                "difficulty",
                "Difficulty",
                FieldKind.SELECT,
                str(DEFAULT_DIFFICULTY),
                tuple(Option(label, value) for value, label in DIFFICULTIES),
            ),
            FormField(
                "ref",
                "Documentation link",
                hint="An https link; several: space-separated.",
            ),
        ),
    )


_MULTI_HINT = 'A multi-answer question ends with "(Choose two.)".'
