"""`setup`'s settings: the key=value words parsed and checked, and the form that stands in
for them where a platform has modals (Slack's and Discord's `/study setup` alone).

A problem with one key is a `FieldError` on that key, so a form shows it beside its field
and the text form words it as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from bot.context import Ctx
from bot.errors import FieldError, UserError
from bot.features import own_bank
from bot.forms import FieldKind, Form, FormField, Option
from bot.store.records import GroupRecord
from bot.timeutil import WEEKDAYS, local_today, parse_date, parse_days, parse_time, parse_tz
from bot.tracks import default_track, parse_track

DEFAULTS = {"tz": "UTC", "time": time(9, 0), "days": "mon,tue,wed,thu,fri"}  # track: content's
MAX_LEADS = 20
MAX_SKIPS = 100
KEYS = (
    "track",
    "start",
    "tz",
    "time",
    "days",
    "exam",
    "leads",
    "skip",
    "summary",
    "own",
    "own_exam",
    "digest",
)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NONE_WORDS = ("none", "off", "")


def parse_settings(ctx: Ctx, args: Mapping[str, str]) -> dict[str, Any]:
    """Each given setting as its column's value; a bad one is a `FieldError` on its key."""
    v: dict[str, Any] = {}
    for key, raw in args.items():
        if key not in KEYS:
            raise UserError(f"Unknown setting {key!r}. Accepted: {', '.join(KEYS)}.")
        try:
            v[key] = _parse_one(ctx, key, raw.strip())
        except FieldError:
            raise
        except UserError as e:
            raise FieldError(key, str(e)) from None
    return v


def _parse_one(ctx: Ctx, key: str, raw: str) -> Any:
    if key == "track":
        return parse_track(ctx.content, raw)
    if key == "start":
        return parse_date(raw, "start date")
    if key == "tz":
        return parse_tz(raw)
    if key == "time":
        return parse_time(raw)
    if key == "days":
        return parse_days(raw)
    if key == "exam":
        return None if raw.lower() in NONE_WORDS else parse_date(raw, "exam date")
    if key == "leads":
        if raw.lower() in NONE_WORDS:
            return []
        leads = [x.strip().lstrip("@") for x in raw.split(",") if x.strip()]
        if len(leads) > MAX_LEADS:
            raise UserError(f"At most {MAX_LEADS} leads; got {len(leads)}.")
        return sorted(set(leads))
    if key == "skip":
        if raw.lower() in NONE_WORDS:
            return []
        dates = sorted(
            {parse_date(x, "skip date").isoformat() for x in raw.split(",") if x.strip()}
        )
        if len(dates) > MAX_SKIPS:
            raise UserError(f"At most {MAX_SKIPS} skip dates; got {len(dates)}.")
        return dates
    if key == "summary":
        day = parse_days(raw)
        if "," in day:
            raise UserError(f"Give one weekday for summary, e.g. summary=fri; got {raw!r}.")
        return day
    if key == "own":
        if raw.lower() not in own_bank.MODES:
            raise UserError(f"Use own=mix, own=only or own=off; got {raw!r}.")
        return raw.lower()
    if raw.lower() not in ("on", "off"):  # own_exam, digest
        raise UserError(f"Use {key}=on or {key}=off; got {raw!r}.")
    return raw.lower() == "on"


def check_dates(start: date, exam: date | None) -> None:
    if exam is not None and exam <= start:
        raise FieldError(
            "exam",
            f"The exam date {exam} must come after the start date {start}. Nothing was changed.",
        )


def settings_form(ctx: Ctx, g: GroupRecord | None) -> Form:
    """The settings as a form, filled in with the group's values (the defaults for a
    channel with no group yet: submitting it creates the group)."""
    tz = g.tz if g else DEFAULTS["tz"]
    start = g.start_date if g else local_today(str(tz), ctx.now)
    post_time = g.post_time if g else DEFAULTS["time"]
    assert isinstance(post_time, time)
    days = g.post_days if g else str(DEFAULTS["days"])
    track = g.track if g else default_track(ctx.content).id
    weekdays = tuple(Option(name, day) for name, day in zip(DAY_NAMES, WEEKDAYS, strict=True))
    on_off = (Option("On", "on"), Option("Off", "off"))
    fields = (
        FormField(
            "track",
            "Exam track",
            FieldKind.SELECT,
            track,
            tuple(Option(t.name, t.id) for t in ctx.content.tracks),
        ),
        FormField("start", "Cohort start", FieldKind.DATE, start.isoformat(), essential=True),
        FormField(
            "exam",
            "Exam date",
            FieldKind.DATE,
            g.exam_date.isoformat() if g and g.exam_date else "",
            optional=True,
            hint="Leave empty for no exam date.",
            essential=True,
        ),
        FormField(
            "tz",
            "Timezone",
            FieldKind.TIMEZONE,
            str(tz),
            hint="An IANA name such as Europe/Berlin.",
            essential=True,
        ),
        FormField(
            "time",
            "Daily question at",
            FieldKind.TIME,
            f"{post_time:%H:%M}",
            hint="Local time in the group's timezone, HH:MM.",
            essential=True,
        ),
        FormField(
            "days",
            "Post days",
            FieldKind.CHECKBOXES,
            days,
            weekdays,
            hint="mon,tue,... or mon-fri",
            essential=True,
        ),
        FormField(
            "leads",
            "Extra group leads",
            FieldKind.USERS,
            ",".join(g.leads or []) if g else "",
            optional=True,
            hint="Channel admins and the group's creator lead it anyway.",
        ),
        FormField(
            "summary",
            "Weekly leaderboard day",
            FieldKind.SELECT,
            (g.summary_day if g else None) or "fri",
            weekdays,
        ),
        FormField(
            "digest",
            "Weekly lead digest by DM",
            FieldKind.SELECT,
            "on" if (g.digest if g else True) else "off",
            on_off,
        ),
    )
    return Form("setup", "Study group settings", "Save", fields)
