"""The command table: the single source of the command list.

Help text, the text parser, the Slack manifest and the Discord command tree are all derived
from `COMMANDS`; a test checks that they agree.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field
from enum import StrEnum

from bot.errors import UserError

SLASH = "/study"


class Who(StrEnum):
    ANYONE = "anyone"
    MEMBER = "member"
    LEAD = "group lead"


class Kind(StrEnum):
    WORD = "word"
    TEXT = "text"  # the rest of the line
    INT = "int"
    DATE = "date"
    TIME = "time"
    TZ = "timezone"
    DAYS = "days"
    CHOICE = "choice"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    help: str
    required: bool = False
    positional: bool = True  # positional word, or key=value
    choices: tuple[str, ...] = ()
    form: str = ""  # how a value looks in usage text, when the kind does not say

    def usage(self) -> str:
        if self.positional:
            core = (
                "|".join(self.choices) if self.kind is Kind.CHOICE and self.choices else self.name
            )
            return f"<{core}>" if self.required else f"[{core}]"
        shown = "|".join(self.choices) or self.form or _FORMS.get(self.kind, self.name)
        return f"[{self.name}={shown}]"


_FORMS = {
    Kind.DATE: "YYYY-MM-DD",
    Kind.TIME: "HH:MM",
    Kind.TZ: "Area/City",
    Kind.DAYS: "mon,tue,...",
    Kind.INT: "N",
}


@dataclass(frozen=True)
class Command:
    name: str
    summary: str  # one line, at most 100 characters (Discord's description limit)
    who: Who
    params: tuple[Param, ...] = ()
    details: str = ""
    examples: tuple[str, ...] = field(default_factory=tuple)

    def usage(self) -> str:
        parts = [SLASH, self.name, *(p.usage() for p in self.params)]
        return " ".join(parts)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


TRACKS = ("associate", "professional")
PERIODS = ("week", "month", "all")

COMMANDS: tuple[Command, ...] = (
    Command(
        "help",
        "List the commands, or show one command's help",
        Who.ANYONE,
        (Param("command", Kind.WORD, "a command name, e.g. quiz"),),
        examples=("/study help", "/study help setup"),
    ),
    Command(
        "setup",
        "Make this channel a study group or change its settings (group lead)",
        Who.LEAD,
        (
            Param("track", Kind.CHOICE, "exam track", positional=False, choices=TRACKS),
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
        ),
        details=(
            "Without arguments, shows the current settings. Any value can be changed later; "
            "unchanged values stay. Defaults: track associate, start today, timezone UTC, "
            "09:00, Mon–Fri, no exam date."
        ),
        examples=(
            "/study setup track=associate start=2026-01-05 tz=Europe/Berlin time=08:30",
            "/study setup days=mon,wed,fri exam=2026-04-10",
            "/study setup skip=2026-12-24,2026-12-25",
        ),
    ),
    Command("join", "Join this channel's study group", Who.ANYONE),
    Command("leave", "Leave this channel's study group (your history is kept)", Who.MEMBER),
    Command(
        "tz",
        "Set your own timezone for your streak and today's question",
        Who.MEMBER,
        (Param("timezone", Kind.TZ, "IANA name, e.g. Europe/Berlin, or 'group'", required=True),),
        examples=("/study tz America/New_York", "/study tz group"),
    ),
    Command(
        "away",
        "Pause your streak for N days (holiday); 0 ends the pause",
        Who.MEMBER,
        (Param("days", Kind.INT, "number of days, 0 to 60", required=True),),
        examples=("/study away 5",),
    ),
    Command(
        "dm",
        "Turn your weekly progress DM on or off",
        Who.MEMBER,
        (Param("state", Kind.CHOICE, "on or off", required=True, choices=("on", "off")),),
    ),
    Command(
        "passed",
        "Record that you passed the exam (a recertification reminder follows in 2 years)",
        Who.MEMBER,
        (
            Param("date", Kind.DATE, "the day you passed, YYYY-MM-DD", required=True),
            Param(
                "track",
                Kind.CHOICE,
                "associate or professional (default: the group's)",
                choices=TRACKS,
            ),
        ),
        examples=("/study passed 2026-05-20",),
    ),
    Command("today", "Show today's question for the group", Who.MEMBER),
    Command(
        "quiz",
        "A private practice set (default 5, at most 20), unseen questions first",
        Who.MEMBER,
        (
            Param("domain", Kind.WORD, "an exam domain of the group's track, e.g. model-training"),
            Param("n", Kind.INT, "how many questions, 1 to 20"),
        ),
        examples=("/study quiz", "/study quiz model-training 10", "/study quiz 3"),
    ),
    Command(
        "review",
        "Your spaced-review cards that are due, most overdue first (default 10, at most 20)",
        Who.MEMBER,
        (Param("n", Kind.INT, "how many cards, 1 to 20"),),
        details=(
            "Every answer you give (daily question, quiz, review, mock exam) schedules that "
            "question for you with the FSRS algorithm: a miss comes back the next day, a "
            "right answer later and later. Only you see your review."
        ),
        examples=("/study review", "/study review 5"),
    ),
    Command(
        "exam",
        "A timed mock exam in your DMs; exam flag marks the question on screen",
        Who.MEMBER,
        (
            Param(
                "track",
                Kind.CHOICE,
                "associate or professional (default: the group's); or flag, or submit",
                choices=(*TRACKS, "flag", "submit"),
            ),
        ),
        details=(
            "The real exam's question count and time limit (48 questions in 90 minutes for "
            "the associate guide), drawn to the domain weights, avoiding questions you saw in "
            "the last 14 days. Answers can change until you submit; when time runs out the "
            "exam is submitted as it stands. One exam at a time; `/study exam` resumes it."
        ),
        examples=("/study exam", "/study exam professional", "/study exam flag"),
    ),
    Command("exams", "Your past mock exams with their scores", Who.MEMBER),
    Command("plan", "The four phases with the cohort's dates and where the group is", Who.MEMBER),
    Command("checklist", "The success checklist and the practice projects, ticked", Who.MEMBER),
    Command(
        "check",
        "Tick a checklist item, e.g. P1-2",
        Who.MEMBER,
        (Param("item", Kind.WORD, "item id as shown by /study checklist", required=True),),
        examples=("/study check S3", "/study check P1-2"),
    ),
    Command(
        "uncheck",
        "Untick a checklist item",
        Who.MEMBER,
        (Param("item", Kind.WORD, "item id as shown by /study checklist", required=True),),
    ),
    Command(
        "leaderboard",
        "Group ranks by points for the week, the month or all time",
        Who.MEMBER,
        (Param("period", Kind.CHOICE, "week, month or all", choices=PERIODS),),
        details=(
            "Points come from correct first answers to the daily question (10, 15 or 20 by "
            "difficulty); practice quizzes add 1 point per correct answer, at most 5 a day. "
            "Ties go to more correct answers, then the earlier last correct answer."
        ),
    ),
    Command("progress", "Your private progress report", Who.MEMBER),
    Command(
        "flag",
        "Report a wrong or unclear question (your last answered one, or give its id)",
        Who.MEMBER,
        (Param("reason", Kind.TEXT, "what is wrong; may start with a question id", required=True),),
        examples=("/study flag the answer should be C", "/study flag a-mt-012 two choices fit"),
    ),
    Command(
        "resources",
        "Study links, for all areas or one",
        Who.ANYONE,
        (Param("area", Kind.WORD, "a study area, e.g. mlflow"),),
    ),
)

BY_NAME = {c.name: c for c in COMMANDS}


def get(name: str) -> Command:
    cmd = BY_NAME.get(name)
    if cmd is None:
        raise UnknownCommand(name)
    return cmd


class UnknownCommand(UserError):
    def __init__(self, name: str) -> None:
        self.name = name
        self.suggestion = closest(name)
        hint = f" Did you mean `{SLASH} {self.suggestion}`?" if self.suggestion else ""
        super().__init__(f"Unknown command {name!r}.{hint} Try `{SLASH} help` for the list.")


def closest(name: str) -> str | None:
    matches = difflib.get_close_matches(name.lower(), list(BY_NAME), n=1, cutoff=0.3)
    return matches[0] if matches else None


# Where shlex and str.split() could disagree on an ASCII line: quoting, escapes, and
# whitespace that str.split() knows and shlex does not. Lines without any split plainly
# (most do: a shlex split costs as much as the rest of parsing a command).
_SHELL_SPECIAL = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


def split_words(line: str) -> list[str]:
    if line.isascii() and _SHELL_SPECIAL.isdisjoint(line):
        return line.split()
    try:
        return shlex.split(line)
    except ValueError:  # an unbalanced quote: fall back to plain words
        return line.split()


def parse(line: str) -> tuple[str, dict[str, str]]:
    """Parse `[/study] <command> [word ...] [key=value ...]` into a name and its arguments."""
    words = split_words(line.strip())
    if words and words[0].lower() == SLASH:
        words = words[1:]
    if not words:
        return "help", {}
    name = words[0].lower()
    cmd = get(name)
    args: dict[str, str] = {}
    positional = [p for p in cmd.params if p.positional]
    rest = words[1:]
    i = 0
    while i < len(rest):
        word = rest[i]
        key, eq, value = word.partition("=")
        kw = cmd.param(key.lower()) if eq else None
        if eq and kw is not None and not kw.positional:
            args[kw.name] = value
        elif eq and kw is None and not positional:
            accepted = ", ".join(p.name for p in cmd.params) or "none"
            raise UserError(
                f"Unknown option {key!r} for {name}. Accepted: {accepted}. Usage: `{cmd.usage()}`"
            )
        elif positional:
            p = positional.pop(0)
            if p.kind is Kind.TEXT:
                args[p.name] = " ".join(rest[i:])
                break
            args[p.name] = word
        else:
            raise UserError(f"Too many words for {name}: {word!r}. Usage: `{cmd.usage()}`")
        i += 1
    return name, args


def help_lines() -> list[tuple[str, str]]:
    return [(c.usage(), c.summary) for c in COMMANDS]
