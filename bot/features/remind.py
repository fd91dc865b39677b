"""Reminders at a member's own time: `/study remind HH:MM|off`, and the DM the clock sends.

On the group's post days the clock (`scheduler/due.py`) sends a member a DM at their time,
in their own timezone (theirs, else the group's), while the day's question is still
unanswered: once a day (one outbox row per member and local date), never before the group
posts that day's question (a reminder time before the post comes with the post), not on
their away days, not once they left, not while the group is paused. A day whose post comes
only after the member's day is over has no reminder, and none is sent late once the
member's day has ended.

A button pressed in a DM arrives from the DM, not from the group's channel, so it could
not say which group's question it answers: the reminder shows the question without
buttons and says where to answer it, `/study today` in the group's channel, with a link to
the day's post where the platform can make one (`LinkingMessenger`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.content.models import Content
from bot.context import Ctx
from bot.due_times import DueTimes, Schedule, reminders_may_be_due
from bot.errors import UserError
from bot.features import questions as qv
from bot.features.daily import DailyPick, ensure_daily, title_of
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import (
    Block,
    Context,
    MessageRef,
    Paragraph,
    Reply,
    Span,
    Visibility,
    Who,
    bold,
    code,
    link,
    text,
)
from bot.store.models import Answer, Away, Membership, Outbox, User
from bot.store.records import GroupRecord, UserRecord, WorkspaceRecord
from bot.timeutil import days_label, fmt_date, parse_time

Links = Callable[[MessageRef], str | None]


@command(
    "remind",
    summary="A DM at your own time on post days while today's question is unanswered",
    audience=Audience.MEMBER,
    params=(Param("time", Kind.WORD, "HH:MM in your timezone, or off", form="HH:MM|off"),),
    details=(
        "Without a time, shows your reminder. The time is in your own timezone "
        f"(`{SLASH} tz`), else the group's. A reminder never comes before the group posts "
        "the day's question: a time before the post comes with it. None on your away "
        "days, on days you have answered, or once you leave the group."
    ),
    examples=("/study remind 18:30", "/study remind off"),
)
def remind(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    ctx.ensure_member()
    m = ctx.membership()
    assert m is not None  # ensure_member made it
    raw = (args.get("time") or "").strip().lower()
    if not raw:
        return _shown(ctx, g, m.remind_at)
    if raw == "off":
        ctx.update_membership(remind_at=None)
        return Reply.message(
            "Reminders are ",
            bold("off"),
            ". ",
            code(f"{SLASH} remind HH:MM"),
            " turns them on again.",
        )
    try:
        at = parse_time(raw)
    except UserError:
        raise UserError(
            f"Give a time as HH:MM in your timezone, e.g. `{SLASH} remind 18:30`, or "
            f"`{SLASH} remind off`; got {raw!r}."
        ) from None
    ctx.update_membership(remind_at=at)
    reminders_may_be_due(ctx.s, ctx.content, ctx.user.id, ctx.now, g.id)
    return _shown(ctx, g, at, title="Reminder set:")


def _shown(ctx: Ctx, g: GroupRecord, at: time | None, title: str = "Your reminder:") -> Reply:
    zone = ctx.member_tz()
    if at is None:
        return Reply.message(
            "You have no reminder. ",
            code(f"{SLASH} remind 18:30"),
            f" sends you a DM at 18:30 your time ({zone}) on the group's post days "
            "while the day's question is unanswered.",
        )
    parts: list[str | Span] = [
        bold(title),
        f" {at:%H:%M} your time ({zone}) on the group's post days "
        f"({days_label(g.post_days)}) while the day's question is unanswered.",
    ]
    nxt = DueTimes(ctx.content).next_reminder_due(Schedule.of(g), zone, at, ctx.now)
    if nxt is not None:
        local = nxt.astimezone(ZoneInfo(zone))
        parts.append(f" Next: {fmt_date(local.date())} at {local:%H:%M}")
        if local.time() != at:
            parts.append(
                f", with the group's post (it posts at {g.post_time:%H:%M} {g.tz}, after your time)"
            )
        parts.append(".")
    else:
        parts.append(
            f" The group posts its question ({g.post_time:%H:%M} {g.tz}) only after your day "
            "is over, so no reminder can come."
        )
    parts += [" ", code(f"{SLASH} remind off"), " stops it."]
    return Reply.message(*parts)


# --------------------------------------------------------------------------- the clock's DM


def reminder_post(
    s: Session,
    content: Content,
    now: datetime,
    post: Outbox,
    flag_threshold: int,
    links: Links | None,
) -> Reply | None:
    """The reminder an outbox row sends, or None when it is no longer wanted: the group
    paused or gone, the member left or turned reminders off, is away that day, or
    answered meanwhile."""
    group = GroupRecord.get(s, post.group_id or -1)
    user = UserRecord.get(s, int(post.payload["user_id"]))
    ws = WorkspaceRecord.get(s, post.workspace_id)
    if group is None or group.paused or user is None or ws is None:
        return None
    day = post.local_date
    member = s.execute(
        select(Membership.active, Membership.remind_at).where(
            Membership.group_id == group.id, Membership.user_id == user.id
        )
    ).first()
    if member is None or not member.active or member.remind_at is None:
        return None
    if _answered(s, user.id, group.id, day) or _away(s, user.id, day):
        return None
    daily = ensure_daily(s, content, group, day, now, flag_threshold)
    who = Who(ws.platform, ws.external_id, group.channel_id, user.external_id, user.display_name)
    q = Ctx(s, content=content, now=now, who=who).question(daily.question_id)
    where: list[str | Span] = [
        "Answer it with ",
        code(f"{SLASH} today"),
        " in the study group's channel",
    ]
    url = daily_post_link(s, links, ws, group.id, day)
    if url is not None:
        where += [", or open ", link("today's post", url)]
    where.append(".")
    blocks: list[Block] = [Paragraph(text("⏰ Today's question is still waiting for your answer."))]
    if q is not None:
        blocks += qv.question_blocks(content, q, title_of(day), DailyPick(str(daily.id)), False)
    blocks.append(Paragraph(text(*where)))
    note = (
        f"You asked for this at {member.remind_at:%H:%M} on post days while the day's "
        "question is unanswered; "
    )
    blocks.append(Context(text(note, code(f"{SLASH} remind off"), " stops it.")))
    return Reply(tuple(blocks), Visibility.DM)


def daily_post_link(
    s: Session, links: Links | None, ws: WorkspaceRecord, group_id: int, day: date | None
) -> str | None:
    """A link to the group's daily post of `day` (None: its latest), if it was posted
    and the platform can link to it."""
    if links is None:
        return None
    q = select(Outbox.target_id, Outbox.message_id).where(
        Outbox.group_id == group_id,
        Outbox.kind == "daily",
        Outbox.status == "sent",
        Outbox.message_id.is_not(None),
    )
    q = q.where(Outbox.local_date == day) if day else q.order_by(Outbox.local_date.desc())
    row = s.execute(q.limit(1)).first()
    if row is None or row.message_id is None:
        return None
    return links(MessageRef(ws.external_id, row.target_id, row.message_id))


def _answered(s: Session, user_id: int, group_id: int, day: date) -> bool:
    found = s.scalar(
        select(Answer.id).where(
            Answer.user_id == user_id, Answer.group_id == group_id, Answer.local_date == day
        )
    )
    return found is not None


def _away(s: Session, user_id: int, day: date) -> bool:
    found = s.scalar(
        select(Away.id).where(Away.user_id == user_id, Away.start_date <= day, Away.end_date >= day)
    )
    return found is not None


def reminders_closed(s: Session, workspace_id: int, external_id: str) -> None:
    """A member's DMs are closed: their reminders stop (in every group) instead of failing
    every day; `/study remind HH:MM` sets one again."""
    users = select(User.id).where(
        User.workspace_id == workspace_id, User.external_id == external_id
    )
    s.execute(update(Membership).where(Membership.user_id.in_(users)).values(remind_at=None))
