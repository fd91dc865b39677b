"""Parsing and local-time helpers; every error names the accepted form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store only ever writes UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_tz(value: str) -> str:
    value = value.strip()
    if value.upper() == "UTC":
        return "UTC"
    try:
        if "/" not in value or value not in available_timezones():
            raise ZoneInfoNotFoundError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"Unknown timezone {value!r}. Use an IANA name in the form Area/City, "
            "for example Europe/Berlin, America/New_York or Asia/Kolkata."
        ) from None
    return value


def parse_date(value: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"Invalid {what} {value!r}. Use YYYY-MM-DD, for example 2026-01-15."
        ) from None


def parse_time(value: str) -> time:
    v = value.strip()
    try:
        hh, mm = v.split(":")
        if len(mm) != 2 or not hh.isdigit() or not mm.isdigit():
            raise ValueError
        return time(int(hh), int(mm))
    except ValueError:
        raise UserError(
            f"Invalid time {value!r}. Use 24-hour HH:MM, for example 09:00 or 17:30."
        ) from None


def parse_days(value: str) -> str:
    """`mon,wed,fri`, `mon-fri`, `weekdays`, `daily` -> canonical `mon,wed,fri`."""
    v = value.strip().lower()
    if v in ("daily", "all", "every"):
        return ",".join(WEEKDAYS)
    if v in ("weekdays", "workdays"):
        return ",".join(WEEKDAYS[:5])
    chosen: set[str] = set()
    for part in v.split(","):
        part = part.strip()
        if "-" in part:
            a, _, b = part.partition("-")
            a, b = _day(a, value), _day(b, value)
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            if i > j:
                raise _days_error(value)
            chosen.update(WEEKDAYS[i : j + 1])
        elif part:
            chosen.add(_day(part, value))
    if not chosen:
        raise _days_error(value)
    return ",".join(d for d in WEEKDAYS if d in chosen)


def _day(token: str, whole: str) -> str:
    t = token.strip()
    t = _DAY_ALIASES.get(t, t)
    if t not in WEEKDAYS:
        raise _days_error(whole)
    return t


def _days_error(value: str) -> UserError:
    return UserError(
        f"Invalid days {value!r}. Use weekday names separated by commas "
        "(mon,tue,wed,thu,fri,sat,sun), a range such as mon-fri, or daily."
    )


def parse_positive_int(value: str, what: str, lo: int, hi: int) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise UserError(
            f"Invalid {what} {value!r}. Use a whole number from {lo} to {hi}."
        ) from None
    if not lo <= n <= hi:
        raise UserError(f"{what.capitalize()} must be from {lo} to {hi}; got {n}.")
    return n


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(tz)).date()


def weekday_name(d: date) -> str:
    return WEEKDAYS[d.weekday()]


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def month_start(d: date) -> date:
    return d.replace(day=1)


def fmt_date(d: date) -> str:
    return f"{d:%a %d %b %Y}"


def days_label(days: str) -> str:
    parts = days.split(",")
    if parts == list(WEEKDAYS):
        return "every day"
    if parts == list(WEEKDAYS[:5]):
        return "Mon–Fri"
    return ", ".join(p.capitalize() for p in parts)
