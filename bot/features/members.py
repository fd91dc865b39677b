"""A member's own settings: timezone, away days, weekly DMs and a recorded exam pass."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.context import Ctx
from bot.errors import UserError
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import Reply, bold, code
from bot.store.models import Away, Pass, User
from bot.timeutil import fmt_date, parse_date, parse_positive_int, parse_tz
from bot.tracks import parse_track


@command(
    "tz",
    summary="Set your own timezone for your streak and today's question",
    audience=Audience.MEMBER,
    params=(
        Param("timezone", Kind.TZ, "IANA name, e.g. Europe/Berlin, or 'group'", required=True),
    ),
    examples=("/study tz America/New_York", "/study tz group"),
)
def set_tz(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    ctx.ensure_member()
    raw = args.get("timezone", "").strip()
    if not raw:
        raise UserError(
            f"Give a timezone: `{SLASH} tz Area/City`, e.g. Europe/Berlin, or "
            f"`{SLASH} tz group` to follow the group's ({g.tz})."
        )
    if raw.lower() == "group":
        ctx.update_user(tz=None)
        return Reply.message(
            "Your streak and today's question follow the group's timezone, ", bold(g.tz), "."
        )
    tz = parse_tz(raw)
    ctx.update_user(tz=tz)
    return Reply.message(
        "Your timezone is now ", bold(tz), ": your streak and today's question follow it."
    )


@command(
    "away",
    summary="Pause your streak for N days (holiday); 0 ends the pause",
    audience=Audience.MEMBER,
    params=(Param("days", Kind.INT, "number of days, 0 to 60", required=True),),
    examples=("/study away 5",),
)
def away(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    n = parse_positive_int(args.get("days", ""), "number of days", 0, 60)
    today = ctx.today()
    user = ctx.user
    # End any pause that is still running today or later; past pauses stay for old streaks.
    current = ctx.s.scalars(
        select(Away).where(Away.user_id == user.id, Away.end_date >= today)
    ).all()
    for a in current:
        if a.start_date >= today:
            ctx.s.delete(a)
        else:
            a.end_date = today - timedelta(days=1)
    if n == 0:
        return Reply.message("Welcome back: your pause has ended.")
    end = today + timedelta(days=n - 1)
    ctx.s.add(Away(workspace_id=ctx.workspace.id, user_id=user.id, start_date=today, end_date=end))
    return Reply.message(
        "Enjoy the break. Your streak is paused through ",
        bold(fmt_date(end)),
        f" ({n} day{'s' if n != 1 else ''}); ",
        code(f"{SLASH} away 0"),
        " ends it early.",
    )


@command(
    "dm",
    summary="Turn your weekly progress DM on or off",
    audience=Audience.MEMBER,
    params=(Param("state", Kind.CHOICE, "on or off", required=True, choices=("on", "off")),),
)
def dm(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    choice = (args.get("state") or "").lower()
    if choice not in ("on", "off"):
        state = "on" if ctx.user.dm_enabled else "off"
        raise UserError(
            f"Your weekly progress DM is {state}. Use `{SLASH} dm on` or `{SLASH} dm off`."
        )
    ctx.update_user(dm_enabled=choice == "on")
    if ctx.user.dm_enabled:
        return Reply.message("Weekly progress DMs are ", bold("on"), ".")
    return Reply.message(
        "Weekly progress DMs are ",
        bold("off"),
        "; ",
        code(f"{SLASH} dm on"),
        " turns them back on.",
    )


@command(
    "passed",
    summary="Record that you passed the exam (a recertification reminder follows in 2 years)",
    audience=Audience.MEMBER,
    params=(
        Param("date", Kind.DATE, "the day you passed, YYYY-MM-DD", required=True),
        Param("track", Kind.TRACK, "the exam's track (default: the group's)"),
    ),
    examples=("/study passed 2026-05-20",),
)
def passed(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    ctx.ensure_member()
    raw = (args.get("date") or "").strip()
    if not raw:
        raise UserError(f"Give the date you passed: `{SLASH} passed YYYY-MM-DD`.")
    when = parse_date(raw, "pass date")
    if when > ctx.today():
        raise UserError(f"{fmt_date(when)} is in the future; record a pass on or after the day.")
    track = parse_track(ctx.content, args.get("track") or g.track, how="")
    row = ctx.s.scalar(select(Pass).where(Pass.user_id == ctx.user.id, Pass.track == track))
    if row is None:
        ctx.s.add(
            Pass(
                workspace_id=ctx.workspace.id,
                user_id=ctx.user.id,
                group_id=g.id,
                track=track,
                passed_on=when,
                created_at=ctx.now,
            )
        )
    else:
        row.passed_on, row.group_id = when, g.id
    years = ctx.content.track(track).exam.recert_years
    due = (
        when.replace(year=when.year + years)
        if not (when.month == 2 and when.day == 29)
        else when.replace(year=when.year + years, day=28)
    )
    return Reply.message(
        "🎉 Congratulations on passing the ",
        bold(ctx.content.track(track).name),
        " on ",
        f"{fmt_date(when)}! Certifications last {years} years: recertify by {fmt_date(due)}.",
    )


def dms_closed(s: Session, workspace_id: int, external_id: str) -> None:
    """A member's DMs are closed: stop their weekly progress DM until they turn it back on
    (`/study dm on`), instead of failing every week."""
    s.execute(
        update(User)
        .where(User.workspace_id == workspace_id, User.external_id == external_id)
        .values(dm_enabled=False)
    )
