"""A member's own settings: weekly DMs and a recorded exam pass."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from bot.commands import SLASH, TRACKS
from bot.errors import UserError
from bot.seam import Reply, bold, code
from bot.services.context import Ctx
from bot.store.models import Pass
from bot.timeutil import fmt_date, parse_date


def dm(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    ctx.ensure_member()
    choice = (args.get("state") or "").lower()
    if choice not in ("on", "off"):
        state = "on" if ctx.user.dm_enabled else "off"
        raise UserError(
            f"Your weekly progress DM is {state}. Use `{SLASH} dm on` or `{SLASH} dm off`."
        )
    ctx.edit_user().dm_enabled = choice == "on"
    if ctx.user.dm_enabled:
        return Reply.message("Weekly progress DMs are ", bold("on"), ".")
    return Reply.message(
        "Weekly progress DMs are ",
        bold("off"),
        "; ",
        code(f"{SLASH} dm on"),
        " turns them back on.",
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
    track = (args.get("track") or g.track).lower()
    if track not in TRACKS:
        raise UserError(f"Unknown track {track!r}. Use associate or professional.")
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
