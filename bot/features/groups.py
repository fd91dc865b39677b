"""A channel's study group: `setup`, `join` and `leave`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.context import Ctx
from bot.errors import FieldError, UserError
from bot.features import own_bank
from bot.features.group_settings import (
    DEFAULTS,
    check_dates,
    parse_settings,
    settings_form,
)
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import (
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    Reply,
    UserTarget,
    Visibility,
    bold,
    code,
    text,
)
from bot.store.models import Group, Outbox, User
from bot.store.records import GroupRecord, WorkspaceRecord
from bot.timeutil import days_label, fmt_date, local_today
from bot.tracks import default_track

COLUMN = {  # a setting's name in `setup`, and its column
    "track": "track",
    "start": "start_date",
    "tz": "tz",
    "time": "post_time",
    "days": "post_days",
    "exam": "exam_date",
    "leads": "leads",
    "skip": "skip_dates",
    "summary": "summary_day",
    "own": "own_questions",
    "own_exam": "own_in_exams",
    "digest": "digest",
}


@command(
    "setup",
    summary="Make this channel a study group or change its settings (group lead)",
    audience=Audience.LEAD,
    params=(
        Param("track", Kind.TRACK, "exam track", positional=False),
        Param("start", Kind.DATE, "cohort start date", positional=False),
        Param("tz", Kind.TZ, "the group's timezone", positional=False),
        Param("time", Kind.TIME, "local time of the daily question", positional=False),
        Param("days", Kind.DAYS, "days the question is posted", positional=False),
        Param("exam", Kind.DATE, "exam date, or none", positional=False),
        Param(
            "leads",
            Kind.WORD,
            "user ids of extra group leads, comma-separated, or none",
            positional=False,
            form="id,id,...",
        ),
        Param(
            "skip",
            Kind.WORD,
            "dates with no question, comma-separated, or none",
            positional=False,
            form="YYYY-MM-DD,...",
        ),
        Param(
            "summary",
            Kind.WORD,
            "weekday of the weekly leaderboard post (default fri)",
            positional=False,
            form="mon..sun",
        ),
        Param(
            "own",
            Kind.CHOICE,
            "the group's own questions in daily posts and quizzes: mix (default), only, off",
            positional=False,
            choices=own_bank.MODES,
        ),
        Param(
            "own_exam",
            Kind.CHOICE,
            "the group's own questions in mock exams too: on, or off (default)",
            positional=False,
            choices=("on", "off"),
        ),
        Param(
            "digest",
            Kind.CHOICE,
            "the weekly lead digest by DM to the leads: on (default) or off",
            positional=False,
            choices=("on", "off"),
        ),
    ),
    details=(
        "Without arguments, shows the current settings. Any value can be changed later; "
        "unchanged values stay. Defaults: the first track the content lists, start today, "
        "timezone UTC, 09:00, Mon–Fri, no exam date."
    ),
    examples=(
        "/study setup track={track} start=2026-01-05 tz=Europe/Berlin time=08:30",
        "/study setup days=mon,wed,fri exam=2026-04-10",
        "/study setup skip=2026-12-24,2026-12-25",
        "/study setup own=only own_exam=on",
        "/study setup digest=off",
    ),
)
def setup(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.group
    if not args:
        return _settings_alone(ctx, g)
    if not ctx.is_lead():
        raise UserError(
            "Only a group lead can change the study group's settings (channel admins and "
            "the leads the group names). Nothing was changed."
        )
    values = parse_settings(ctx, args)
    if "leads" in values:
        values["leads"] = _resolve_leads(ctx, values["leads"])
    created = g is None
    if g is None:
        tz = values.get("tz", DEFAULTS["tz"])
        g = ctx.create_group(
            workspace_id=ctx.workspace.id,
            channel_id=ctx.who.channel_id,
            track=values.get("track", default_track(ctx.content).id),
            start_date=values.get("start", local_today(tz, ctx.now)),
            tz=tz,
            post_time=values.get("time", DEFAULTS["time"]),
            post_days=values.get("days", DEFAULTS["days"]),
            exam_date=values.get("exam"),
            leads=values.get("leads", []),
            skip_dates=values.get("skip", []),
            summary_day=values.get("summary", "fri"),
            digest=values.get("digest", True),
            paused=False,
            paused_reason=None,
            created_by=ctx.who.user_id,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        ctx.ensure_member()
    else:
        changes = {COLUMN[key]: value for key, value in values.items()}
        # a lead's change resumes paused posts
        g = ctx.update_group(**changes, updated_at=ctx.now, paused=False, paused_reason=None)
    check_dates(g.start_date, g.exam_date)
    title = "Study group created" if created else "Study group updated"
    reply = settings_reply(ctx, g, title)
    return Reply(reply.blocks, Visibility.CHANNEL if created else Visibility.EPHEMERAL)


def _settings_alone(ctx: Ctx, g: GroupRecord | None) -> Reply:
    """`setup` alone: the settings, and for a lead the form that changes them (or, in a
    channel with no group yet, creates it)."""
    if g is None:
        start_one = (
            "This channel has no study group yet. Start one with "
            f"`{SLASH} setup track={default_track(ctx.content).id} start=YYYY-MM-DD "
            "tz=Area/City` (every value is optional)."
        )
        if not ctx.is_lead():
            raise UserError(start_one)
        return Reply((Paragraph(text(start_one)),), form=settings_form(ctx, None))
    reply = settings_reply(ctx, g, "Study group settings")
    return replace(reply, form=settings_form(ctx, g)) if ctx.is_lead() else reply


# What a member's id looks like where the platform says who is meant (a mention).
_PLATFORM_ID = {"slack": re.compile(r"^[UW][A-Z0-9]{4,}$"), "discord": re.compile(r"^\d{15,21}$")}
_HOW_TO_NAME = {
    "slack": "mention them (leads=@name)",
    "discord": "mention them (leads=@name)",
    "console": "use the name given to `studybot console --as NAME` (run it once first)",
}


def _resolve_leads(ctx: Ctx, names: list[str]) -> list[str]:
    """Each lead as a member id the platform knows: a mention's id, or a member the bot has
    met here, by id or by name (any case). Unknown names are refused, all of them named."""
    users = list(
        ctx.s.execute(
            select(User.external_id, User.display_name).where(User.workspace_id == ctx.workspace.id)
        )
    )
    pattern = _PLATFORM_ID.get(ctx.who.platform)
    out: list[str] = []
    unknown: list[str] = []
    for name in names:
        if any(uid == name for uid, _ in users) or (pattern and pattern.match(name)):
            out.append(name)
            continue
        found = {uid for uid, shown in users if name.lower() in (uid.lower(), shown.lower())}
        if len(found) == 1:
            out.append(found.pop())
        else:
            unknown.append(name)
    if unknown:
        how = _HOW_TO_NAME.get(ctx.who.platform, "give their member ids")
        raise FieldError(
            "leads",
            f"No member here is called {', '.join(unknown)}. To name a lead, {how}. "
            "Nothing was changed.",
        )
    return sorted(set(out))


def _lead_names(ctx: Ctx, leads: list[str]) -> str:
    shown = dict(
        ctx.s.execute(
            select(User.external_id, User.display_name).where(
                User.workspace_id == ctx.workspace.id, User.external_id.in_(leads)
            )
        ).all()
    )
    return ", ".join(shown.get(uid, uid) for uid in leads)


def settings_reply(ctx: Ctx, g: GroupRecord, title: str) -> Reply:
    track = ctx.content.track(g.track)
    cal = ctx.calendar()
    fields = [
        Field("Track", text(track.name)),
        Field("Cohort start", text(fmt_date(g.start_date))),
        Field("Timezone", text(g.tz)),
        Field("Daily question", text(f"{g.post_time:%H:%M} on {days_label(g.post_days)}")),
        Field("Exam date", text(fmt_date(g.exam_date) if g.exam_date else "not set")),
        Field(
            "Weekly leaderboard",
            text(f"{(g.summary_day or 'fri').capitalize()} at {g.post_time:%H:%M}"),
        ),
        Field("Plan ends", text(fmt_date(cal.end - timedelta(days=1)))),
        Field("Lead digest", text(_digest_label(g))),
    ]
    own = own_bank.in_rotation(ctx.bank, g)
    if own or g.own_questions != own_bank.MIX or g.own_in_exams:  # the defaults go unsaid
        fields.append(
            Field(
                "Own questions",
                text(
                    f"{own} in rotation · daily and quizzes: {g.own_questions} · "
                    f"mock exams: {'on' if g.own_in_exams else 'off'}"
                ),
            )
        )
    if g.leads:
        fields.append(Field("Leads", text(_lead_names(ctx, g.leads))))
    if g.skip_dates:
        fields.append(Field("Skip dates", text(", ".join(g.skip_dates))))
    if g.paused:
        fields.append(Field("Posts", text(f"paused: {g.paused_reason or 'by the bot'}")))
    hint = text(
        "Change any value with ",
        code(f"{SLASH} setup key=value"),
        ", e.g. ",
        code("time=08:30"),
        ". Members join with ",
        code(f"{SLASH} join"),
        ".",
    )
    return Reply.of(Heading(title), Fields(tuple(fields)), Context(hint))


def _digest_label(g: GroupRecord) -> str:
    if not g.digest:
        return "off"
    day = (g.summary_day or "fri").capitalize()
    return f"on (a DM to the leads, {day} at {g.post_time:%H:%M})"


@command("join", summary="Join this channel's study group", audience=Audience.ANYONE)
def join(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    if not ctx.ensure_member(rejoin=True):
        return Reply.message(
            "You are already in this study group. Try ", code(f"{SLASH} today"), "."
        )
    return Reply.message(
        "Welcome to the study group, ",
        bold(ctx.who.display_name),
        "! Start with ",
        code(f"{SLASH} today"),
        " and see the plan with ",
        code(f"{SLASH} plan"),
        ".",
    )


@command(
    "leave",
    summary="Leave this channel's study group (your history is kept)",
    audience=Audience.MEMBER,
)
def leave(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    ctx.require_group()
    m = ctx.membership()
    if m is None or not m.active:
        return Reply.message("You are not in this study group.")
    ctx.update_membership(active=False)
    return Reply.message(
        "You left the study group. Your answers and points are kept; ",
        code(f"{SLASH} join"),
        " brings you back.",
    )


# --------------------------------------------------------------------------- gone channels


def pause_gone_group(s: Session, group_id: int, error: str) -> tuple[UserTarget, Reply] | None:
    """A channel the bot can no longer post to: pause its group, drop its pending posts,
    and say who to tell (the lead who created it, else the first named lead) and what;
    None if the group is gone too or names no lead (its creator asked to be forgotten).
    Any settings change by a lead resumes it (`setup`)."""
    group = GroupRecord.get(s, group_id)
    if group is None:
        return None
    reason = f"posting failed: {error}"[:200]
    s.execute(  # paused: nothing due until a lead's change resumes it and sets when
        update(Group)
        .where(Group.id == group.id)
        .values(paused=True, paused_reason=reason, next_due_at=None)
    )
    s.execute(
        update(Outbox)
        .where(Outbox.group_id == group.id, Outbox.status == "pending")
        .values(status="dead", last_error="group paused: channel gone")
    )
    lead = group.created_by or next(iter(group.leads or []), "")
    if not lead:
        return None
    ws = WorkspaceRecord.get(s, group.workspace_id)
    assert ws is not None
    return UserTarget(ws.external_id, lead), _gone_notice(group.channel_id, error)


def _gone_notice(channel_id: str, error: str) -> Reply:
    return Reply.of(
        Heading("studybot paused a study group"),
        Paragraph(
            text(
                "Posts to channel ",
                code(channel_id),
                " failed (",
                error,
                "), so the "
                "group's daily posts are paused. Add the bot back to the channel, then "
                "change any setting there to resume, for example ",
                code(f"{SLASH} setup time=09:00"),
                ".",
            )
        ),
        visibility=Visibility.DM,
    )
