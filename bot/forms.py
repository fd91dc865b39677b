"""Forms: what a platform shows in place of key=value words (part of the seam).

A form names a command and its fields by the command's own keys, so a submission is an
`Invocation` like a typed command and one handler with one set of rules serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    SELECT = "select"  # one of `options`
    CHECKBOXES = "checkboxes"  # any of `options`, the value comma-joined
    DATE = "date"  # YYYY-MM-DD
    TIME = "time"  # HH:MM
    USERS = "users"  # platform user ids, comma-joined
    TIMEZONE = "timezone"  # an IANA name, chosen by searching
    FILE = "file"  # one file: it arrives as the invocation's `files`


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass(frozen=True)
class FormField:
    """One input. `name` is the command's key and `initial` a value in the text form's
    grammar (`mon,wed`, `09:00`), so a submission is the same words a member could type."""

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    initial: str = ""
    options: tuple[Option, ...] = ()
    optional: bool = False
    hint: str = ""
    essential: bool = False  # among the five a Discord modal can hold


@dataclass(frozen=True)
class Form:
    """A form in place of key=value words: Slack opens it as a modal, Discord as a modal
    of its essential fields; the terminal, which has none, shows the reply's blocks.

    Submitting invokes `command` with the fields' values and `fixed` (what the form is
    about, such as the reported question's id) as its args."""

    command: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    fixed: tuple[tuple[str, str], ...] = ()

    def args(self, values: Mapping[str, str]) -> dict[str, str]:
        """A submission's args: the non-empty values, then what the form is about."""
        return {**{k: v for k, v in values.items() if v}, **dict(self.fixed)}
