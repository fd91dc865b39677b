"""The one registry of commands and buttons, filled by the features that declare them.

A feature declares each command beside its handler with `@command("name", ...)` and each
kind of button beside the handler that takes its press with `@button(ValueClass)`. Help,
the text parser, the Slack manifest, the Discord command tree and press routing all read
this registry, so a command's name leads to its code in one step.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from bot.errors import UserError
from bot.seam import Button, ButtonStyle

if TYPE_CHECKING:
    from bot.context import AfterWrites, Ctx
    from bot.seam import Reply

SLASH = "/study"
PERIODS = ("week", "month", "all")


class Audience(StrEnum):
    """Who a command is for (the seam's `Who` is who is calling)."""

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
    TRACK = "track"  # a track the content declares (its `choices` are extra words)
    FILE = "file"  # an attached file (Discord's attachment option, the terminal's path)


_FORMS = {
    Kind.DATE: "YYYY-MM-DD",
    Kind.TIME: "HH:MM",
    Kind.TZ: "Area/City",
    Kind.DAYS: "mon,tue,...",
    Kind.INT: "N",
    Kind.TRACK: "TRACK",
    Kind.FILE: "FILE",
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    help: str
    required: bool = False
    positional: bool = True  # positional word, or key=value
    choices: tuple[str, ...] = ()
    form: str = ""  # how a value looks in usage text, when the kind does not say

    def usage(self, tracks: tuple[str, ...] = ()) -> str:
        """How the param is written; a track's values are the content's `tracks` (the
        code knows none), `TRACK` where the content is not at hand."""
        if self.positional:
            if self.kind is Kind.CHOICE and self.choices:
                core = "|".join(self.choices)
            elif self.kind is Kind.TRACK:
                core = "|".join((*(tracks or (self.name,)), *self.choices))
            else:
                core = self.name
            return f"<{core}>" if self.required else f"[{core}]"
        if self.kind is Kind.TRACK:
            return f"[{self.name}={'|'.join(tracks) or 'TRACK'}]"
        shown = "|".join(self.choices) or self.form or _FORMS.get(self.kind, self.name)
        return f"[{self.name}={shown}]"


Handler = Callable[["Ctx", Mapping[str, str]], "Reply"]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str  # one line, at most 100 characters (Discord's description limit)
    audience: Audience
    handler: Handler
    params: tuple[Param, ...] = ()
    details: str = ""
    # `{track}` and `{domain}` stand for ids the content declares (`examples_for`)
    examples: tuple[str, ...] = field(default_factory=tuple)
    # Commands that belong together (a group's own questions: `questions`, `add`,
    # `import`). Where a platform caps how many commands one has (Discord: 25
    # subcommands), its tree nests a family under the family's name.
    family: str = ""

    @property
    def line(self) -> int:
        """Where the handler is declared in its module (orders a feature's commands)."""
        return self.handler.__code__.co_firstlineno

    def usage(self, tracks: tuple[str, ...] = ()) -> str:
        return " ".join([SLASH, self.name, *(p.usage(tracks) for p in self.params)])

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def examples_for(self, ids: Mapping[str, str]) -> tuple[str, ...]:
        """The examples with the content's ids in place of `{track}`, `{domain}`, ...:
        the code names no track or domain of its own."""
        return tuple(e.format_map(ids) for e in self.examples)


COMMANDS: dict[str, Command] = {}  # in the order help lists them (see `arrange`)


def command(
    name: str,
    *,
    summary: str,
    audience: Audience,
    params: tuple[Param, ...] = (),
    details: str = "",
    examples: tuple[str, ...] = (),
    family: str = "",
) -> Callable[[Handler], Handler]:
    """Declare the command `name` with the function below as its handler."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name!r} is declared twice")
        COMMANDS[name] = Command(
            name, summary, audience, handler, params, details, examples, family
        )
        return handler

    return register


def arrange(modules: list[str]) -> None:
    """List the commands by feature, in the order of `modules`, and within a feature in
    the order it declares them (modules import each other, so import order is not it)."""
    rank = {m: i for i, m in enumerate(modules)}
    ordered = sorted(
        enumerate(COMMANDS.values()),
        key=lambda ic: (rank.get(ic[1].handler.__module__, len(rank)), ic[1].line, ic[0]),
    )
    COMMANDS.clear()
    COMMANDS.update((c.name, c) for _, c in ordered)


def get(name: str) -> Command:
    cmd = COMMANDS.get(name)
    if cmd is None:
        raise UnknownCommand(name)
    return cmd


class UnknownCommand(UserError):
    def __init__(self, name: str) -> None:
        import difflib

        matches = difflib.get_close_matches(name.lower(), list(COMMANDS), n=1, cutoff=0.3)
        self.suggestion = matches[0] if matches else None
        hint = f" Did you mean `{SLASH} {self.suggestion}`?" if self.suggestion else ""
        super().__init__(f"Unknown command {name!r}.{hint} Try `{SLASH} help` for the list.")


# --------------------------------------------------------------------------- buttons


class ButtonValue:
    """What a kind of button carries: built (`encode`) and parsed (`decode`) in the one
    class, as discord.py's `DynamicItem` does it.

    `actions` are the action ids its buttons use (a choice button toggles or answers);
    `prefixes` let kinds share an action id (the daily question's and a quiz's answer
    buttons are both `answer`, told apart by their value's first letters): a press goes
    to the kind whose prefix its value starts with, the longest first.
    """

    actions: ClassVar[tuple[str, ...]]
    prefixes: ClassVar[tuple[str, ...]] = ("",)

    def encode(self) -> str:
        raise NotImplementedError

    @classmethod
    def decode(cls, value: str) -> Self:
        raise NotImplementedError

    def button(
        self, label: str, action: str | None = None, style: ButtonStyle = ButtonStyle.DEFAULT
    ) -> Button:
        return Button(label, action or self.actions[0], self.encode(), style)


V = TypeVar("V", bound=ButtonValue)
PressHandler = Callable[["Ctx", Any], "Reply | AfterWrites"]


@dataclass(frozen=True)
class Route:
    kind: type[ButtonValue]
    prefix: str
    handler: PressHandler


ROUTES: dict[str, list[Route]] = {}  # action id -> its routes, longest prefix first


def button(
    kind: type[V], action: str | None = None
) -> Callable[[Callable[[Ctx, V], Reply | AfterWrites]], Any]:
    """Route presses of `kind`'s buttons (with `action`, default its first) to the function
    below, which gets the parsed value."""
    action_id = action or kind.actions[0]
    if action_id not in kind.actions:
        raise RuntimeError(f"{kind.__name__} buttons do not use the action {action_id!r}")

    def register(handler: Callable[[Ctx, V], Reply | AfterWrites]) -> Any:
        routes = ROUTES.setdefault(action_id, [])
        for prefix in kind.prefixes:
            if any(r.prefix == prefix for r in routes):
                raise RuntimeError(f"button {action_id}:{prefix} is routed twice")
            routes.append(Route(kind, prefix, handler))
        routes.sort(key=lambda r: -len(r.prefix))
        return handler

    return register


def route(action_id: str, value: str) -> tuple[PressHandler, ButtonValue]:
    """The handler of a press and its parsed value; a button no route knows is explained."""
    for r in ROUTES.get(action_id, ()):
        if value.startswith(r.prefix):
            return r.handler, r.kind.decode(value)
    raise UserError("That button is no longer supported. Try the command again.")


# --------------------------------------------------------------------------- the text parser

# Where shlex and str.split() could disagree on an ASCII line: quoting, escapes, and
# whitespace that str.split() knows and shlex does not. Lines without any split plainly.
_SHELL_SPECIAL = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


def split_words(line: str) -> list[str]:
    if line.isascii() and _SHELL_SPECIAL.isdisjoint(line):
        return line.split()
    try:
        return shlex.split(line)
    except ValueError:  # an unbalanced quote: fall back to plain words
        return line.split()


def parse(line: str) -> tuple[Command, dict[str, str]]:
    """`[/study] <command> [word ...] [key=value ...]`: the command and its arguments."""
    words = split_words(line.strip())
    if words and words[0].lower() == SLASH:
        words = words[1:]
    if not words:
        return get("help"), {}
    cmd = get(words[0].lower())
    args: dict[str, str] = {}
    positional = [p for p in cmd.params if p.positional]
    rest = words[1:]
    for i, word in enumerate(rest):
        key, eq, value = word.partition("=")
        kw = cmd.param(key.lower()) if eq else None
        if eq and kw is not None and not kw.positional:
            args[kw.name] = value
        elif eq and kw is None and not positional:
            accepted = ", ".join(p.name for p in cmd.params) or "none"
            raise UserError(
                f"Unknown option {key!r} for {cmd.name}. Accepted: {accepted}. "
                f"Usage: `{cmd.usage()}`"
            )
        elif positional:
            p = positional.pop(0)
            if p.kind is Kind.TEXT:
                args[p.name] = " ".join(rest[i:])
                break
            args[p.name] = word
        else:
            raise UserError(f"Too many words for {cmd.name}: {word!r}. Usage: `{cmd.usage()}`")
    return cmd, args
