"""`/study questions`: a lead looks after the group's own questions.

The list (paged) shows each question's id, the start of its prompt, its domain, whether it
is in rotation, its statistics from members' first attempts in this group
(`question_stats`), and members' open reports on it: reports on a group's own question go
to that group's leads, never to the maintainers (`bot/features/flags.py`). A lead edits a
question with the words `/study add` takes (checked by the same rules, the question keeping
its id and its history), retires it (it leaves daily questions, quizzes, reviews and mock
exams; its answers stay) and restores it. An edit or a restore is the lead's review of the
members' reports: they are marked reviewed, and a question the reports pulled is back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from bot.content.drafts import FIELDS
from bot.context import Ctx
from bot.errors import UserError
from bot.features import own_bank, own_edit
from bot.features.flags import mark_reviewed, pulled
from bot.features.own_questions import require_lead
from bot.features.question_stats import QuestionStats, question_stats
from bot.registry import SLASH, Audience, ButtonValue, Kind, Param, button, command
from bot.seam import (
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Heading,
    Paragraph,
    Reply,
    Span,
    bold,
    code,
    text,
)
from bot.store.models import Flag, GroupQuestion

ACTIONS = ("list", "edit", "retire", "restore")
PAGE = 5  # a question takes three lines and a button: five fit Discord's row of buttons
PROMPT_START = 90
REASONS_SHOWN = 2
LEADS_ONLY = (
    "Only a group lead can see and change the group's own questions (channel admins and "
    "the leads the group names)."
)


def _param(name: str, help_: str, form: str) -> Param:
    return Param(name, Kind.WORD, help_, positional=False, form=form)


@dataclass(frozen=True)
class QuestionsPage(ButtonValue):
    """A page of the lead's list: `<page>`."""

    page: int
    actions = ("own.page",)

    def encode(self) -> str:
        return str(self.page)

    @classmethod
    def decode(cls, value: str) -> QuestionsPage:
        if not value.isdigit():
            raise UserError("That button is no longer valid. Try the command again.")
        return cls(int(value))


@dataclass(frozen=True)
class Withdraw(ButtonValue):
    """Retire or restore a question from the list: `<retire|restore>:<id>:<page>`."""

    verb: str
    question_id: str
    page: int
    actions = ("own.retire",)

    def encode(self) -> str:
        return f"{self.verb}:{self.question_id}:{self.page}"

    @classmethod
    def decode(cls, value: str) -> Withdraw:
        verb, _, rest = value.partition(":")
        qid, _, page = rest.partition(":")
        if verb not in ("retire", "restore") or not qid or not page.isdigit():
            raise UserError("That button is no longer valid. Try the command again.")
        return cls(verb, qid, int(page))


@command(
    "questions",
    summary="The group's own questions with their statistics; edit, retire, restore (lead)",
    audience=Audience.LEAD,
    params=(
        Param(
            "action", Kind.CHOICE, "list (the default), edit, retire or restore", choices=ACTIONS
        ),
        Param("id", Kind.WORD, "the question's id, as the list shows it (e.g. g1-3)"),
        _param("prompt", "the new question", '"…"'),
        _param("a", "choice A", '"…"'),
        _param("b", "choice B", '"…"'),
        _param("c", "choice C", '"…"'),
        _param("d", "choice D", '"…"'),
        _param("answer", "the right letter, or letters", "B|A,C"),
        _param("explanation", "why the answer is right", '"…"'),
        _param("domain", "a domain of the group's track", "DOMAIN"),
        _param("difficulty", "1 recall, 2 applied, 3 tricky", "1..3"),
        _param("ref", "https links to the documentation, space-separated", "URL"),
    ),
    details=(
        "The list shows each question's first attempts, share right and statistical flags "
        "in this group, and members' reports on it (they come to the leads, not to the "
        "maintainers). `edit ID` changes the fields you give (the words `add` takes), "
        "checked as `add` checks them; the question keeps its id, answers and review cards. "
        "`retire ID` takes it out of daily questions, quizzes, reviews and mock exams, "
        "keeping its history; `restore ID` brings it back. An edit or a restore marks the "
        "members' reports on it reviewed."
    ),
    examples=(
        "/study questions",
        "/study questions edit g1-3 answer=C",
        "/study questions retire g1-3",
        "/study questions restore g1-3",
    ),
    family="questions",
)
def questions(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    require_lead(ctx, LEADS_ONLY)
    action = (args.get("action") or "list").strip().lower()
    if action not in ACTIONS:
        raise UserError(
            f"Unknown action {action!r}. Use `{SLASH} questions` (the list), "
            f"`{SLASH} questions edit ID key=value…`, `{SLASH} questions retire ID` or "
            f"`{SLASH} questions restore ID`."
        )
    if action == "list":
        return listing(ctx, 1)
    qid = (args.get("id") or "").strip().lower()
    if not qid:
        usage = "edit ID key=value…" if action == "edit" else f"{action} ID"
        raise UserError(
            f"Say which question: `{SLASH} questions {usage}` (`{SLASH} questions` lists "
            "their ids)."
        )
    row = _row(ctx, qid)
    if action == "edit":
        return own_edit.edit(ctx, row, {k: v for k, v in args.items() if k in FIELDS})
    notice = withdraw(ctx, row, retire=action == "retire")
    return Reply.of(Paragraph(notice))


@button(QuestionsPage)
def turn_page(ctx: Ctx, v: QuestionsPage) -> Reply:
    require_lead(ctx, LEADS_ONLY)
    page = listing(ctx, v.page)
    return Reply(page.blocks, page.visibility, replace=True)


@button(Withdraw)
def withdraw_button(ctx: Ctx, v: Withdraw) -> Reply:
    require_lead(ctx, LEADS_ONLY)
    notice = withdraw(ctx, _row(ctx, v.question_id), retire=v.verb == "retire")
    page = listing(ctx, v.page, notice)
    return Reply(page.blocks, page.visibility, replace=True)


def _row(ctx: Ctx, qid: str) -> GroupQuestion:
    g = ctx.require_group()
    row = own_bank.find(ctx.s, g.id, qid)
    if row is None:
        raise UserError(
            f"There is no question {qid} among this group's own. `{SLASH} questions` lists "
            "them with their ids."
        )
    return row


# --------------------------------------------------------------------------- changes


def withdraw(ctx: Ctx, row: GroupQuestion, *, retire: bool) -> tuple[Span, ...]:
    """Retire or restore one question; what the lead is told."""
    qid = row.question_id
    if retire:
        if row.retired:
            return text(
                f"{qid} is retired already; ",
                code(f"{SLASH} questions restore {qid}"),
                " brings it back.",
            )
        row.retired, row.updated_at = True, ctx.now
        return text(
            f"Retired {qid}: it leaves the group's daily questions, quizzes, reviews and mock "
            "exams; its answers stay. ",
            code(f"{SLASH} questions restore {qid}"),
            " brings it back.",
        )
    was_retired = row.retired
    row.retired, row.updated_at = False, ctx.now
    cleared = mark_reviewed(ctx.s, qid, ctx.now)
    if not was_retired and not cleared:
        return text(f"{qid} is in rotation already.")
    reports = f" Members' reports on it ({cleared}) are marked reviewed." if cleared else ""
    return text(f"Restored {qid}: it is back in the group's rotation.{reports}")


# --------------------------------------------------------------------------- the list


def listing(ctx: Ctx, page: int, notice: tuple[Span, ...] = ()) -> Reply:
    """One page of the group's own questions, with what members' answers and reports say."""
    g = ctx.require_group()
    rows = own_bank.rows(ctx.s, g.id)
    head: list[Block] = [Paragraph(notice)] if notice else []
    if not rows:
        return Reply.of(
            *head,
            Paragraph(
                text(
                    "This group has no questions of its own yet. ",
                    code(f"{SLASH} add"),
                    " writes one; ",
                    code(f"{SLASH} import"),
                    " brings a CSV or YAML file of them.",
                )
            ),
        )
    ids = [r.question_id for r in rows]
    mine = set(ids)
    stats = {
        st.question_id: st
        for st in question_stats(ctx.s, ctx.bank, group_id=g.id)
        if st.question_id in mine
    }
    reports = _reports(ctx, g.id)
    out_by_reports = pulled(ctx.s, ctx.flag_threshold) & mine
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE : page * PAGE]
    live = sum(1 for r in rows if not r.retired)
    reported = [qid for qid in ids if qid in reports]
    summary = (
        f"{len(rows)} question(s), {live} in rotation (own={g.own_questions}, "
        f"mock exams: {'on' if g.own_in_exams else 'off'})"
    )
    if reported:
        summary += f" · members reported {', '.join(reported)}"
    blocks: list[Block] = [
        *head,
        Heading(f"The group's own questions · page {page} of {pages}"),
        Context(text(summary)),
    ]
    buttons: list[Button] = []
    for r in shown:
        blocks += _entry(
            ctx,
            r,
            stats.get(r.question_id),
            reports.get(r.question_id, []),
            r.question_id in out_by_reports,
        )
        verb = "restore" if r.retired else "retire"
        style = ButtonStyle.DEFAULT if r.retired else ButtonStyle.DANGER
        buttons.append(
            Withdraw(verb, r.question_id, page).button(
                f"{verb.title()} {r.question_id}", style=style
            )
        )
    blocks.append(Buttons(tuple(buttons)))
    nav = []
    if page > 1:
        nav.append(QuestionsPage(page - 1).button("◀ Previous"))
    if page < pages:
        nav.append(QuestionsPage(page + 1).button("Next ▶"))
    if nav:
        blocks.append(Buttons(tuple(nav)))
    blocks.append(
        Context(
            text(
                code(f"{SLASH} questions edit ID"),
                " shows one to change; ",
                code(f"{SLASH} add"),
                " and ",
                code(f"{SLASH} import"),
                " bring more.",
            )
        )
    )
    return Reply.of(*blocks)


def _entry(
    ctx: Ctx,
    row: GroupQuestion,
    st: QuestionStats | None,
    reasons: list[str],
    out_by_reports: bool,
) -> list[Block]:
    q = own_bank.question_of(row)
    domain = ctx.content.track(q.track).domain(q.domain)
    status = "retired" if row.retired else "pulled by reports" if out_by_reports else "in rotation"
    prompt = q.prompt if len(q.prompt) <= PROMPT_START else q.prompt[: PROMPT_START - 1] + "…"
    line = text(bold(q.id), f" · {domain.name if domain else q.domain} · {status}\n{prompt}")
    if st is None or not st.attempts:
        numbers = "no first attempts yet"
    else:
        numbers = f"{st.attempts} first attempt(s) · {st.facility:.0%} right"
        if st.flags:
            numbers += " · " + ", ".join(f.replace("_", " ") for f in st.flags)
    parts: list[Span | str] = [numbers]
    if reasons:
        quoted = "; ".join(f"“{r}”" for r in reasons[:REASONS_SHOWN])
        more = f" and {len(reasons) - REASONS_SHOWN} more" if len(reasons) > REASONS_SHOWN else ""
        parts.append(f" · ⚑ {len(reasons)} member report(s): {quoted}{more}")
    return [Paragraph(line), Context(text(*parts))]


def _reports(ctx: Ctx, group_id: int) -> dict[str, list[str]]:
    """Members' open reports on the group's own questions (ids `g<group id>-N`): their
    reasons, newest first."""
    found: dict[str, list[str]] = {}
    rows = ctx.s.execute(
        select(Flag.question_id, Flag.reason)
        .where(Flag.question_id.like(f"g{group_id}-%"), Flag.reviewed_at.is_(None))
        .order_by(Flag.created_at.desc(), Flag.id.desc())
    )
    for qid, reason in rows:
        found.setdefault(qid, []).append(reason[:120])
    return found
