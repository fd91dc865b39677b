"""The member's home: one of their groups at a glance, with today's question to answer in
place (or its result), their streak, points, rank, due reviews and pace, the next three
things to do, a mock exam to resume and, for the group's leads, the cohort in short.

Slack shows it as the App Home (adapters/slack/home.py); Discord has no home, and
`/study progress` is its equivalent there. `screen` only reads (`StudyBot.home` runs it in
a read-only transaction). The group it shows is the one the platform asks for, if the
member belongs to it, else the one they used last: the latest of their daily answers,
quizzes, reviews and mock exams by group, else the group they joined last (a lead who
never joined: the group's creation). Its buttons are pressed as in that group's channel;
the presses that change what the home shows answer with the new screen (`HomeScreen`),
which the platform puts in place of the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Self
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.cohort import is_post_day, next_post_day
from bot.content.models import Content
from bot.context import AfterWrites, Ctx
from bot.errors import UserError
from bot.features import daily
from bot.features import questions as qv
from bot.features.cohort_report import cohort_page
from bot.features.cohort_summary import cohort_summary
from bot.features.exam.attempt import OPEN, expired, mine, remaining_label
from bot.features.exam.command import exam
from bot.features.exam.report import report
from bot.features.home_parts import (
    Listed,
    find_user,
    groups_of,
    lead_blocks,
    no_group_blocks,
    result_blocks,
    standing,
    standing_blocks,
    todays,
)
from bot.registry import SLASH, ButtonValue, button
from bot.seam import (
    Block,
    Buttons,
    ButtonStyle,
    Context,
    Divider,
    Heading,
    Paragraph,
    Reply,
    Who,
    bold,
    channel,
    code,
    text,
)
from bot.store.models import ExamAttempt
from bot.store.records import GroupRecord
from bot.timeutil import as_utc, days_label, fmt_date

STALE = "That button is no longer valid. Open the Home tab again."
GROUPS_SHOWN = 6  # the groups the switch lists (the rest are named by their count)


@dataclass(frozen=True)
class HomeScreen(Reply):
    """A home screen and the channel of the group it shows ("" for none): the platform
    keeps the channel with the screen, so a press on it is taken in that group's channel."""

    channel_id: str = ""
    chosen_at: datetime | None = None  # when the member chose this group (the switch)


class HomePick(qv.Pick):
    """A choice on today's question on the home, `h:<daily id>:<selection>`: the answer
    is the daily question's, and the reply is the home showing its result."""

    kind = "h"
    actions = ("home.answer", "home.toggle")


@dataclass(frozen=True)
class HomeGroup(ButtonValue):
    """Show another of the member's groups on the home: its channel."""

    channel: str
    actions = ("home.group",)

    def encode(self) -> str:
        return self.channel

    @classmethod
    def decode(cls, value: str) -> Self:
        if not value or len(value) > 64:
            raise UserError(STALE)
        return cls(value)


@dataclass(frozen=True)
class HomeToday(ButtonValue):
    """Show today's question before the group's post: it is chosen as `/study today`
    chooses it, and every member then sees the same one."""

    actions = ("home.today",)

    def encode(self) -> str:
        return "today"

    @classmethod
    def decode(cls, value: str) -> Self:
        return cls()


@dataclass(frozen=True)
class HomeExam(ButtonValue):
    """Resume the member's open mock exam (in their DMs, where the exam runs)."""

    attempt: int
    actions = ("home.exam",)

    def encode(self) -> str:
        return str(self.attempt)

    @classmethod
    def decode(cls, value: str) -> Self:
        if not value.isdigit():
            raise UserError(STALE)
        return cls(int(value))


@dataclass(frozen=True)
class HomeReport(ButtonValue):
    """A lead's full cohort report, from the home's cohort section."""

    actions = ("home.report",)

    def encode(self) -> str:
        return "cohort"

    @classmethod
    def decode(cls, value: str) -> Self:
        return cls()


# --------------------------------------------------------------------------- the screen


def screen(
    s: Session,
    content: Content,
    now: datetime,
    who: Who,
    channel_id: str | None = None,
    flag_threshold: int = 3,
    *,
    chosen_at: datetime | None = None,
    selection: str = "",
) -> HomeScreen:
    """The caller's home showing the group of `channel_id` if they belong to it, else the
    group they used last. With `chosen_at` (when they chose `channel_id` on the home), a
    group they have studied in since comes first again; `selection` is a multi-answer
    choice in progress."""
    who = replace(who, channel_id="", name_known=False)  # it only reads: never a rename
    user = find_user(s, who.platform, who.workspace_id, who.user_id)
    listed = groups_of(s, user[0], user[1], who.user_id) if user is not None else []
    if not listed:
        return HomeScreen(tuple(no_group_blocks()))
    shown = next((g for g in listed if g.channel_id == channel_id), None)
    if shown is None or (chosen_at is not None and listed[0].last_used > as_utc(chosen_at)):
        shown, chosen_at = listed[0], None
    ctx = Ctx(
        s,
        content=content,
        now=now,
        who=replace(who, channel_id=shown.channel_id),
        flag_threshold=flag_threshold,
    )
    blocks = tuple(_blocks(ctx, shown, listed, selection))
    return HomeScreen(blocks, channel_id=shown.channel_id, chosen_at=chosen_at)


def _blocks(ctx: Ctx, shown: Listed, listed: list[Listed], selection: str) -> list[Block]:
    g = ctx.require_group()
    track, cal, today = ctx.track(), ctx.calendar(), ctx.today()
    span = cal.at(today)
    where = (
        f"phase {span.phase.number} ({span.phase.name}), week {cal.week_in_phase(today)}"
        if span is not None
        else (f"starts on {fmt_date(cal.start)}" if today < cal.start else "plan done")
    )
    exam_day = f" · exam {fmt_date(g.exam_date)}" if g.exam_date else ""
    blocks: list[Block] = [
        Heading(f"Your study home · {track.name}"),
        Context(text("Study group in ", channel(g.channel_id), f" · {where}{exam_day}")),
    ]
    if not shown.member:
        blocks.append(
            Paragraph(
                text(
                    "You lead this group without being a member: ",
                    code(f"{SLASH} join"),
                    " in ",
                    channel(g.channel_id),
                    " to study along.",
                )
            )
        )
    question, waiting = _question(ctx, g, today, selection)
    st = standing(ctx, g, waiting)
    blocks += [*question, Divider(), *standing_blocks(st)]
    if st.exam is not None:
        blocks += _exam(ctx, st.exam)
    if ctx.is_lead():
        blocks += [Divider(), *_lead(ctx, g)]
    if len(listed) > 1:
        blocks += [Divider(), *_switch(ctx, listed, shown)]
    local = as_utc(ctx.now).astimezone(ZoneInfo(ctx.member_tz()))
    blocks.append(
        Context(
            text(
                f"Updated {local:%H:%M} ({ctx.member_tz()}) · your full report: ",
                code(f"{SLASH} progress"),
                " · every command: ",
                code(f"{SLASH} help"),
            )
        )
    )
    return blocks


def _question(ctx: Ctx, g: GroupRecord, today: date, selection: str) -> tuple[list[Block], bool]:
    """Today's question with its buttons, or its result; True while it waits for an answer."""
    title = daily.title_of(today)
    skips = g.skip_dates or []
    if not is_post_day(today, g.post_days, skips):
        nxt = next_post_day(today, g.post_days, skips)
        off = (
            f"No question today: this group posts on {days_label(g.post_days)}. The next one "
            f"is on {fmt_date(nxt)}. Practise with "
        )
        return [
            Heading("Question of the day"),
            Paragraph(text(off, code(f"{SLASH} quiz"), ".")),
        ], False
    row = todays(ctx.s, g.id, ctx.user.id, today)
    if row is None:
        posted = f"It is posted at {g.post_time:%H:%M} ({g.tz}) in "
        if (
            ctx.group_today() == today
            and as_utc(ctx.now).astimezone(ZoneInfo(g.tz)).time() >= g.post_time
        ):
            posted = "It is not out yet in "
        return [
            Heading(title),
            Paragraph(text(posted, channel(g.channel_id), "; see it here now:")),
            Buttons((HomeToday().button("Show today's question", style=ButtonStyle.PRIMARY),)),
        ], True
    try:
        q = daily.question_of(ctx, row.question_id)
    except UserError as e:
        return [Heading(title), Paragraph(text(str(e)))], False
    if row.choice is None:
        return qv.question_blocks(
            ctx.content, q, title, HomePick(str(row.daily_id), selection)
        ), True
    return result_blocks(q, row, title, g.channel_id), False


def _exam(ctx: Ctx, attempt: ExamAttempt) -> list[Block]:
    if expired(attempt, ctx.now):
        line, label = "Its time ran out: open it for your result.", "See the result"
    else:
        n = len(attempt.question_ids)
        left = remaining_label(attempt.deadline, ctx.now)
        line, label = f"Question {attempt.position + 1} of {n} · {left}.", "Resume the exam"
    return [
        Paragraph(
            text(
                bold("Your mock exam is open. "),
                f"{line} It runs in your DMs with the app (or ",
                code(f"{SLASH} exam"),
                ").",
            )
        ),
        Buttons((HomeExam(attempt.id).button(label, style=ButtonStyle.PRIMARY),)),
    ]


def _lead(ctx: Ctx, g: GroupRecord) -> list[Block]:
    """The cohort in short (the report's own summary) and the button for the report."""
    summary = cohort_summary(ctx.s, ctx.content, g, ctx.now)
    report_button = HomeReport().button("Open the cohort report")
    return [*lead_blocks(summary), Buttons((report_button,))]


def _switch(ctx: Ctx, listed: list[Listed], shown: Listed) -> list[Block]:
    """Each of the member's groups by its channel, the one shown marked, a button by the
    others (the one used last first)."""
    head = f"Your groups ({len(listed)})"
    blocks: list[Block] = [Paragraph(text(bold(head), " · the home shows one at a time."))]
    for item in listed[:GROUPS_SHOWN]:
        track = next((t for t in ctx.content.tracks if t.id == item.track), None)
        name = f" · {track.name}" if track else ""
        if item.group_id == shown.group_id:
            blocks.append(Paragraph(text(channel(item.channel_id), f"{name} · shown here")))
            continue
        blocks.append(Paragraph(text(channel(item.channel_id), name)))
        blocks.append(Buttons((HomeGroup(item.channel_id).button("Switch"),)))
    more = len(listed) - GROUPS_SHOWN
    if more > 0:
        blocks.append(
            Context(text(f"…and {more} more: the group you study in next comes first here."))
        )
    return blocks


def _again(ctx: Ctx, *, chosen: str | None = None, selection: str = "") -> HomeScreen:
    """The caller's home after a press on it, in the press's transaction: the group it
    was pressed in, or the one `chosen` on it."""
    return screen(
        ctx.s,
        ctx.content,
        ctx.now,
        ctx.who,
        chosen or ctx.who.channel_id,
        ctx.flag_threshold,
        chosen_at=ctx.now if chosen else None,
        selection=selection,
    )


# --------------------------------------------------------------------------- presses


@button(HomePick, "home.toggle")
def toggle(ctx: Ctx, pick: HomePick) -> Reply:
    """A letter of a multi-answer question toggled: the home with the selection so far."""
    return _again(ctx, selection=pick.selection)


@button(HomePick, "home.answer")
def answer(ctx: Ctx, pick: HomePick) -> Reply | AfterWrites:
    """Today's question answered on the home, as on the channel's post (the first answer
    counts); the home that follows shows its result, read after the answer's writes."""
    done = daily.answer(ctx, daily.DailyPick(pick.ref, pick.selection))
    if isinstance(done, Reply):  # answered before: the home shows that first answer
        return _again(ctx)
    who, where = ctx.who, ctx.require_group().channel_id

    def after(c: Ctx | None) -> Reply:
        if c is None:  # the answer stands; what it changed could not be read just now
            note = "Your answer is recorded. Open the Home tab again to see how you did."
            return HomeScreen((Paragraph(text(note)),), channel_id=where)
        return screen(c.s, c.content, c.now, who, where, c.flag_threshold)

    return AfterWrites(after)


@button(HomeGroup)
def switch(ctx: Ctx, v: HomeGroup) -> Reply:
    return _again(ctx, chosen=v.channel)


@button(HomeToday)
def show_today(ctx: Ctx, _v: HomeToday) -> Reply:
    g = ctx.require_group()
    daily.daily_for(ctx, g, ctx.today())  # not on a day off: the home says so instead
    return _again(ctx)


@button(HomeExam)
def resume(ctx: Ctx, v: HomeExam) -> Reply:
    """The exam's question on screen, in the member's DMs; one whose time ran out is
    graded and its report sent instead, as `/study exam` does."""
    attempt = ctx.s.get(ExamAttempt, v.attempt)
    if attempt is None:
        raise UserError(f"That exam is gone. `{SLASH} exam` starts a new one.")
    attempt = mine(ctx, attempt.id)
    if attempt.status == OPEN:
        return exam(ctx, {})
    return report(ctx, attempt, 0, note="This exam is already submitted: here is its report.")


@button(HomeReport)
def full_report(ctx: Ctx, _v: HomeReport) -> Reply:
    """The cohort report's first page (its pages turn as in `/study cohort`), without the
    chart: a picture cannot travel with every platform's panels."""
    page = cohort_page(ctx, 1, chart=False)
    note = Context(text("The readiness chart comes with ", code(f"{SLASH} cohort"), "."))
    blocks = list(page.blocks)
    at = len(blocks) - 1 if blocks and isinstance(blocks[-1], Buttons) else len(blocks)
    blocks.insert(at, note)
    return Reply(tuple(blocks), page.visibility)
