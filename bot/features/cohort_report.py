"""`/study cohort`: the lead's private report on the group (bot/features/cohort_summary.py
reads it).

The first page has the group's figures: accuracy by exam domain beside the exam weights,
the weakest domain with the quiz that practises it, and the questions whose answers look
wrong; every page lists `PAGE` members, quiet ones first, so a group of any size stays
within a message (Slack's 50 blocks, Discord's 6000 characters of embeds). The command's
reply carries the readiness chart; turning pages does not send it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from bot.charts import MemberReadiness, readiness_chart
from bot.context import Ctx
from bot.errors import UserError
from bot.features.cohort_summary import QUIET_DAYS, CohortSummary, MemberStatus, cohort_summary
from bot.features.question_stats import QuestionStats
from bot.registry import SLASH, Audience, ButtonValue, button, command
from bot.seam import (
    Block,
    Buttons,
    Context,
    Field,
    Fields,
    Heading,
    Image,
    Paragraph,
    Reply,
    Span,
    Visibility,
    bold,
    code,
    text,
)
from bot.store.models import User

PAGE = 10
NAME_WIDTH = 40
FLAGGED_SHOWN = 8
FLAG_WORDS = {
    "likely_wrong_key": "likely wrong key",
    "too_easy": "too easy",
    "too_hard": "too hard",
    "not_discriminating": "not discriminating",
}
COLUMNS = (
    "Each member: pace against the plan · last answer · days answered of the last 7 · "
    "streak · estimated exam score (80% interval) · checklist items ticked."
)


@dataclass(frozen=True)
class CohortPage(ButtonValue):
    """A page of the cohort report: its number."""

    page: int
    actions = ("cohort",)

    def encode(self) -> str:
        return str(self.page)

    @classmethod
    def decode(cls, value: str) -> CohortPage:
        if not value.isdigit():
            raise UserError("That button is no longer valid. Try the command again.")
        return cls(int(value))


@command(
    "cohort",
    summary="The group's report for its leads: members' pace, accuracy by domain (group lead)",
    audience=Audience.LEAD,
    details=(
        "Private to the lead. Every member with their pace, last answer, days answered of "
        "the last 7, streak, readiness estimate and checklist; members quiet for "
        f"{QUIET_DAYS} days or more first. The group's accuracy by exam domain, its weakest "
        "domain, the questions whose answers look wrong, and a readiness chart."
    ),
)
def cohort(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    return cohort_page(ctx, 1, chart=True)


@button(CohortPage)
def turn_page(ctx: Ctx, v: CohortPage) -> Reply:
    reply = cohort_page(ctx, v.page, chart=False)
    return Reply(reply.blocks, reply.visibility, replace=True)


def cohort_page(ctx: Ctx, page: int, *, chart: bool) -> Reply:
    g = ctx.require_group()
    if not ctx.is_lead():
        raise UserError(_for_leads(ctx))
    summary = cohort_summary(ctx.s, ctx.content, g, ctx.now)
    members = summary.members
    pages = max(1, -(-len(members) // PAGE))
    page = min(max(1, page), pages)
    shown = members[(page - 1) * PAGE : page * PAGE]
    blocks: list[Block] = []
    if page == 1:
        blocks += _group_blocks(summary)
    else:
        blocks.append(Heading(f"Cohort report · {summary.track.name} · page {page}"))
    if members:
        first = (page - 1) * PAGE + 1
        head = f"Members {first}–{first + len(shown) - 1} of {len(members)}"
        lines: list[Span] = [bold(f"{head}, quiet for {QUIET_DAYS}+ days first")]
        for m in shown:
            lines += [Span("\n"), *_member_line(m)]
        blocks.append(Paragraph(tuple(lines)))
        blocks.append(Context(text(COLUMNS)))
    else:
        blocks.append(
            Paragraph(text("No members yet: they join with ", code(f"{SLASH} join"), "."))
        )
    picture = _chart(summary) if chart and page == 1 else None
    if picture is not None:
        blocks.append(picture)
    blocks.append(Context(text(f"Page {page} of {pages} · only you can see this report.")))
    nav = []
    if page > 1:
        nav.append(CohortPage(page - 1).button("◀ Previous"))
    if page < pages:
        nav.append(CohortPage(page + 1).button("Next ▶"))
    if nav:
        blocks.append(Buttons(tuple(nav)))
    return Reply(tuple(blocks), Visibility.EPHEMERAL)


def _for_leads(ctx: Ctx) -> str:
    """Who may see the report: the group's creator and named leads, by name."""
    g = ctx.require_group()
    leads = [x for x in dict.fromkeys([g.created_by, *(g.leads or [])]) if x]
    names = dict(
        ctx.s.execute(
            select(User.external_id, User.display_name).where(
                User.workspace_id == g.workspace_id, User.external_id.in_(leads)
            )
        ).all()
    )
    who = ", ".join(names.get(x, x) for x in leads)
    named = f": {who}, and the channel's admins" if who else ": the channel's admins"
    return (
        f"The cohort report is for the group's leads{named}. Ask one of them how the group "
        f"is doing; your own report is `{SLASH} progress`."
    )


def _group_blocks(summary: CohortSummary) -> list[Block]:
    n = len(summary.members)
    quiet, behind = len(summary.quiet), len(summary.behind)
    weak = summary.weakest
    fields = [
        Field("Members", text(f"{n} active")),
        Field(f"Quiet {QUIET_DAYS}+ days", text(str(quiet))),
        Field("Behind the plan", text(str(behind))),
        Field("Flagged questions", text(str(len(summary.flagged)))),
    ]
    blocks: list[Block] = [
        Heading(f"Cohort report · {summary.track.name}"),
        Fields(tuple(fields)),
    ]
    lines: list[Span] = [
        bold("Accuracy by exam domain (the group's answers · exam weight)"),
        Span("\nFrom the last 90 days: daily, quiz, review and mock-exam answers."),
    ]
    for d in summary.domains:
        acc = "no answers yet" if d.accuracy is None else f"{d.accuracy:.0%} of {d.answered}"
        lines.append(Span(f"\n• {d.domain.name}: {acc} · {d.domain.weight_label}"))
    blocks.append(Paragraph(tuple(lines)))
    if weak is not None:
        acc = "no answers yet" if weak.accuracy is None else f"{weak.accuracy:.0%} right"
        blocks.append(
            Paragraph(
                text(
                    bold("Weakest domain: "),
                    f"{weak.domain.name} ({acc}). Practise it with ",
                    code(weak.quiz_command),
                    ".",
                )
            )
        )
    blocks.append(flagged_block(summary))
    return blocks


def flagged_block(
    summary: CohortSummary,
    heading: str = "Questions whose answers look wrong",
    more: tuple[Span, ...] = (Span("; the maintainers see them all."),),
) -> Paragraph:
    """The group's flagged questions, the first few by id with their flags in words;
    `more` ends the line that counts the rest (the digest points to the report)."""
    head = bold(heading)
    rule = (
        f" (from members' first attempts in this group; a flag needs {summary.min_attempts} "
        "of them)"
    )
    if not summary.flagged:
        return Paragraph(text(head, rule, "\nNone flagged."))
    lines: list[Span] = [head, Span(rule)]
    for q in summary.flagged[:FLAGGED_SHOWN]:
        lines += [Span("\n• "), code(q.question_id), Span(f": {flag_summary(q)}")]
    hidden = len(summary.flagged) - FLAGGED_SHOWN
    if hidden > 0:
        lines += [Span(f"\n…and {hidden} more"), *more]
    return Paragraph(tuple(lines))


def flag_summary(q: QuestionStats) -> str:
    """`likely wrong key (the strongest third chose C, the key is B) · 23% right of 30`."""
    words = []
    for f in q.flags:
        word = FLAG_WORDS.get(f, f)
        if f == "likely_wrong_key":
            word += f" (the strongest third chose {q.strong_top}, the key is {q.key})"
        words.append(word)
    return f"{', '.join(words)} · {q.facility:.0%} right of {q.attempts}"


def _member_line(m: MemberStatus) -> list[Span]:
    name = m.name if len(m.name) <= NAME_WIDTH else m.name[: NAME_WIDTH - 1] + "…"
    quiet = f"quiet {m.quiet_days} days · " if m.quiet else ""
    last = "never answered" if m.last_answer is None else f"last {m.last_answer:%d %b}"
    r = m.readiness
    ready = "–" if r is None else f"{r.estimate:.0%} ({r.low:.0%}–{r.high:.0%})"
    return [
        bold("• "),
        Span(name),  # user data: each renderer escapes it
        Span(
            f" — {quiet}{m.pace.label} · {last} · {m.days_answered}/7 days · "
            f"streak {m.streak} · ready {ready} · checklist {m.checklist_done}/{m.checklist_total}"
        ),
    ]


def _chart(summary: CohortSummary) -> Image | None:
    """The members' readiness against the line; None while no member has an estimate."""
    drawn = [
        MemberReadiness(m.name, m.readiness.estimate, m.readiness.low, m.readiness.high)
        for m in summary.members
        if m.readiness is not None
    ]
    if not drawn:
        return None
    label = "pass mark" if summary.track.exam.passing is not None else "practice line"
    png = readiness_chart(drawn, summary.line, label)
    above = sum(1 for m in drawn if m.estimate >= summary.line)
    none = len(summary.members) - len(drawn)
    alt = (
        f"Chart: estimated exam score with its 80% interval for {len(drawn)} "
        f"member{'s' if len(drawn) != 1 else ''} against "
        f"the {summary.line:.0%} {label}; {above} at or above it"
        + (f"; {none} without answers in the last 90 days {_are(none)} not drawn." if none else ".")
    )
    return Image(png, alt, "cohort.png")


def _are(n: int) -> str:
    return "is" if n == 1 else "are"
