"""The cohort's plan and the checklists: `plan`, `checklist`, `check`, `uncheck`; the
plan's "Add to my calendar" button, which sends it as an iCalendar file (bot/plan_ics.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cohort import Calendar
from bot.context import Ctx
from bot.errors import UserError
from bot.plan_ics import MIME, filename, plan_calendar
from bot.registry import SLASH, Audience, ButtonValue, Kind, Param, button, command
from bot.seam import (
    Attachment,
    Block,
    Buttons,
    Context,
    Divider,
    Heading,
    Paragraph,
    ProgressBar,
    Reply,
    Span,
    bold,
    code,
    text,
)
from bot.store.db import insert_ignore
from bot.store.models import ChecklistMark, Membership
from bot.timeutil import days_label, fmt_date


def checked_items(s: Session, user_id: int) -> set[str]:
    return set(s.scalars(select(ChecklistMark.item_id).where(ChecklistMark.user_id == user_id)))


def group_pace(ctx: Ctx, cal: Calendar) -> str | None:
    """The group's pace: its members' ticked phase items against the calendar, in days
    ahead or behind (a member's own pace is `readiness.member_pace`)."""
    g = ctx.require_group()
    items = [it.id.upper() for ph in ctx.content.phases for it in ph.checklist]
    if not items:
        return None
    members = (
        ctx.s.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.group_id == g.id, Membership.active.is_(True))
        )
        or 0
    )
    if members == 0:
        return None
    marks = (
        ctx.s.scalar(
            select(func.count())
            .select_from(ChecklistMark)
            .join(Membership, Membership.user_id == ChecklistMark.user_id)
            .where(
                Membership.group_id == g.id,
                Membership.active.is_(True),
                ChecklistMark.item_id.in_(items),
            )
        )
        or 0
    )
    done = marks / (members * len(items))
    today = ctx.group_today()
    if today < cal.start:
        return f"The cohort starts on {fmt_date(cal.start)}."
    expected = cal.elapsed_fraction(today)
    total_days = (cal.end - cal.start).days
    diff = round((done - expected) * total_days)
    share = "Group pace, from every member's checklists: the group has ticked "
    share += f"{done:.0%} of the phase checklists; the calendar expects {expected:.0%}"
    mine = f" Your own pace is in `{SLASH} progress`."
    if abs(diff) <= 2:
        return share + ": on pace." + mine
    word = "ahead" if diff > 0 else "behind"
    return share + f": about {abs(diff)} days {word}." + mine


@command(
    "plan",
    summary="The four phases with the cohort's dates and where the group is",
    audience=Audience.MEMBER,
)
def plan(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    cal = ctx.calendar()
    today = ctx.today()
    current = cal.at(today)
    checked = checked_items(ctx.s, ctx.user.id)
    track = ctx.track()
    blocks: list[Block] = [Heading(f"Study plan · {track.name}")]
    intro = (
        f"Cohort start {fmt_date(cal.start)}; plan ends {fmt_date(cal.end - timedelta(days=1))}."
    )
    if g.exam_date:
        days_left = (g.exam_date - today).days
        intro += f" Exam {fmt_date(g.exam_date)} ({days_left} days away)."
    blocks.append(Paragraph(text(intro)))
    for span in cal.spans:
        ph = span.phase
        now = current is not None and current.phase.number == ph.number
        marker = "▶ " if now else ""
        when = f"{fmt_date(span.start)} – {fmt_date(span.end - timedelta(days=1))}"
        weeks = f"{ph.weeks_min}–{ph.weeks_max} weeks"
        label = f"{marker}Phase {ph.number}: {ph.name}"
        if now:
            label += f" · week {cal.week_in_phase(today)} (current)"
        blocks.append(Divider())
        blocks.append(Paragraph(text(bold(label), f"\n{when} · {weeks}")))
        blocks.append(Paragraph(text("Topics: " + "; ".join(ph.topics))))
        if now and ph.checklist:
            lines: list[Span] = []
            for i, it in enumerate(ph.checklist):
                if i:
                    lines.append(Span("\n"))
                box = "☑" if it.id.upper() in checked else "☐"
                lines += [Span(f"{box} "), code(it.id), Span(f" {it.text}")]
            blocks.append(Paragraph(tuple(lines)))
    if today < cal.start:
        blocks.append(Context(text(f"The cohort starts on {fmt_date(cal.start)}.")))
    elif current is None:
        blocks.append(Context(text("The plan's phases are over: time for mock exams and review.")))
    if g.exam_date:
        if cal.compressed:
            blocks.append(
                Context(
                    text(
                        f"The exam date leaves {(g.exam_date - g.start_date).days} days; the "
                        f"plan needs at least {cal.min_days}. Each phase runs at its shortest: "
                        "expect a fast pace."
                    )
                )
            )
        note = group_pace(ctx, cal)
        if note:
            blocks.append(Context(text(note)))
    blocks.append(Context(text("Tick items with ", code(f"{SLASH} check F1-1"), ".")))
    blocks.append(Buttons((PlanCalendar().button("📅 Add to my calendar"),)))
    return Reply.of(*blocks)


@dataclass(frozen=True)
class PlanCalendar(ButtonValue):
    """ "Add to my calendar" under `/study plan`: the group of the channel it is pressed in
    (the value names nothing, so an old button still gives the current dates)."""

    actions = ("plan_calendar",)

    def encode(self) -> str:
        return "ics"

    @classmethod
    def decode(cls, value: str) -> PlanCalendar:
        return cls()


@button(PlanCalendar)
def calendar_file(ctx: Ctx, _v: PlanCalendar) -> Reply:
    """The cohort's calendar file, for the member who pressed (only they see it)."""
    g = ctx.require_group()
    track, cal = ctx.track(), ctx.calendar()
    where = re.sub(
        r"[^A-Za-z0-9-]+", "-", f"{ctx.who.platform}-{ctx.who.workspace_id}-{g.channel_id}"
    )
    data = plan_calendar(g, track, cal, where.lower(), ctx.now)
    exam = f", the exam on {fmt_date(g.exam_date)}" if g.exam_date else ""
    what = (
        f"The attached file holds the group's plan from {fmt_date(cal.start)}: its "
        f"{len(cal.spans)} phases with their checkpoint days{exam}, and the question of the "
        f"day at {g.post_time:%H:%M} ({g.tz}) on {days_label(g.post_days)}, skip dates left out."
    )
    how = (
        "Open it, or import it: Google Calendar › Settings › Import, Outlook › Add calendar › "
        "Upload from file, Apple Calendar › File › Import. If the leads change the dates, "
        "import the new file: the events are updated, not doubled."
    )
    return Reply.of(
        Heading("📅 Your study calendar"),
        Paragraph(text(what)),
        Attachment(data, filename(track), MIME, f"Study plan · {track.name}"),
        Context(text(how)),
    )


@command(
    "checklist",
    summary="The success checklist and the practice projects, ticked",
    audience=Audience.MEMBER,
    family="checklist",  # Discord: /study checklist list|check|uncheck (25 subcommands)
)
def checklist(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    checked = checked_items(ctx.s, ctx.user.id)
    c = ctx.content
    blocks: list[Block] = [Heading("Your checklists")]
    groups = [("Success checklist", list(c.success))]
    groups += [(f"Project {p.id}: {p.name}", list(p.steps)) for p in c.projects]
    for title, items in groups:
        done = sum(1 for it in items if it.id.upper() in checked)
        blocks.append(ProgressBar(title, done, len(items)))
        lines: list[Span] = []
        for i, it in enumerate(items):
            if i:
                lines.append(Span("\n"))
            box = "☑" if it.id.upper() in checked else "☐"
            lines += [Span(f"{box} "), code(it.id), Span(f" {it.text}")]
        blocks.append(Paragraph(tuple(lines)))
    blocks.append(
        Context(
            text(
                "Tick one with ",
                code(f"{SLASH} check P1-2"),
                "; the phase items are in ",
                code(f"{SLASH} plan"),
                ".",
            )
        )
    )
    return Reply.of(*blocks)


def _item(ctx: Ctx, args: Mapping[str, str]) -> tuple[str, str, str]:
    raw = (args.get("item") or "").strip().upper()
    found = ctx.content.checklist_items.get(raw)
    if found is None:
        raise UserError(
            f"No checklist item {raw or '(none)'!r}. Use an id shown by `{SLASH} checklist` or "
            f"`{SLASH} plan`, such as S1, P1-2 or F1-3."
        )
    where, it = found
    return it.id.upper(), where, it.text


ITEM = Param("item", Kind.WORD, "item id as shown by /study checklist", required=True)


@command(
    "check",
    summary="Tick a checklist item, e.g. P1-2",
    audience=Audience.MEMBER,
    params=(ITEM,),
    examples=("/study check S3", "/study check P1-2"),
    family="checklist",
)
def check(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    item_id, where, label = _item(ctx, args)
    new = insert_ignore(
        ctx.s,
        ChecklistMark,
        {
            "workspace_id": ctx.workspace.id,
            "user_id": ctx.user.id,
            "item_id": item_id,
            "checked_at": ctx.now,
        },
        ["user_id", "item_id"],
    )
    state = "Ticked" if new else "Already ticked"
    return Reply.message(f"☑ {state}: ", code(item_id), f" {label} ({where}).")


@command(
    "uncheck",
    summary="Untick a checklist item",
    audience=Audience.MEMBER,
    params=(ITEM,),
    family="checklist",
)
def uncheck(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    item_id, where, label = _item(ctx, args)
    mark = ctx.s.scalar(
        select(ChecklistMark).where(
            ChecklistMark.user_id == ctx.user.id, ChecklistMark.item_id == item_id
        )
    )
    if mark is None:
        return Reply.message("☐ Not ticked: ", code(item_id), f" {label}.")
    ctx.s.delete(mark)
    return Reply.message("☐ Unticked: ", code(item_id), f" {label} ({where}).")
