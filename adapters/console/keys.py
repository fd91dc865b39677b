"""What a terminal user types to press a button: the same key on every screen of a kind.

A choice is pressed by its letter (`a` or `B`; `a c` picks several on a multi-answer
question). The other buttons keep one number wherever they appear (Submit is always 1,
Next ▶ always 3), so a number typed for one screen never means another button on the next
one. Reporting a question takes its own word, `report`: it is never one slip away from an
answer. Buttons this table does not know are numbered from 10 in the order shown.
"""

from __future__ import annotations

import re

from bot.seam import Button

REPORT = "report"
_CHOICE = re.compile(r"^(?:☑ )?([A-H])$")
_JUMP = re.compile(r"^(?:⚑ )?Q(\d+)$")  # the mock exam's question overview
# Stable numbers, by the start of the label.
_FIXED = (
    ("Submit exam", 6),
    ("Submit", 1),
    ("◀ Previous", 2),
    ("Next ▶", 3),
    ("⚑ Flag", 4),
    ("⚑ Unflag", 4),
    ("Review & submit", 5),
    ("◀ Back to Q", 7),
    ("◀ Earlier", 8),
    ("More ", 9),
    ("⚑ Report a problem", REPORT),
)
FIRST_FREE = 10


def keyed(buttons: list[Button]) -> list[tuple[str, Button]]:
    """Each button with the key that presses it, in the order shown."""
    out: list[tuple[str, Button]] = []
    used: set[str] = set()
    free = FIRST_FREE
    for b in buttons:
        key = _key_of(b.label)
        if key is None or key in used:
            while str(free) in used:
                free += 1
            key = str(free)
            free += 1
        used.add(key)
        out.append((key, b))
    return out


def _key_of(label: str) -> str | None:
    m = _CHOICE.match(label)
    if m:
        return m.group(1).lower()
    m = _JUMP.match(label)
    if m:
        return f"q{m.group(1)}"
    for prefix, key in _FIXED:
        if label.startswith(prefix):
            return str(key)
    return None


def parse(line: str) -> list[str] | None:
    """The keys a line presses (`press`/`answer` allowed in front); None if it is not one.

    Several letters (`a c`, `a,c`) press several choices in turn."""
    words = line.strip().lower().replace(",", " ").split()
    if words and words[0] in ("press", "answer"):
        words = words[1:]
    if not words:
        return None
    if len(words) == 1 and (
        words[0].isdigit() or words[0] == REPORT or _JUMP.match(words[0].upper())
    ):
        return words
    if all(len(w) == 1 and "a" <= w <= "h" for w in words):
        return words
    return None
