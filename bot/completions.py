"""What an option can be completed with while it is typed (Discord's autocomplete).

The values come from the content and the store, never from the code: the content's tracks
(and a param's extra words), the exam domains of the channel's group's track (every
track's where the channel has no group), the study areas, the command names, and the
caller's checklist items: the ones they have not ticked for `check`, the ticked ones for
`uncheck`. Each value is a (name shown, value sent) pair; `matching` keeps those that
match what was typed, prefix matches first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.content.models import Content
from bot.context import Ctx
from bot.registry import COMMANDS, Kind, Param
from bot.seam import Who
from bot.store.db import Store, trouble
from bot.store.models import ChecklistMark, User, Workspace
from bot.timeutil import utcnow

LIMIT = 25  # Discord shows at most 25 choices
NAME_MAX = 100  # a choice's name and value: at most 100 characters each
BY_NAME = frozenset({"domain", "area", "command", "item"})
TICK, UNTICK = "check", "uncheck"  # the commands whose items depend on the member's marks

Pairs = list[tuple[str, str]]
T = TypeVar("T")


def completes(p: Param) -> bool:
    """Whether the param's values are offered as the member types."""
    return p.kind is Kind.TRACK or p.name in BY_NAME


def matching(values: Pairs, typed: str, limit: int = LIMIT) -> Pairs:
    """The pairs whose name or value holds what was typed (case-insensitive), those that
    begin with it first; at most `limit`, names and values cut to Discord's 100."""
    cur = typed.strip().lower()
    first: Pairs = []
    rest: Pairs = []
    for name, value in values:
        n, v = name.lower(), value.lower()
        if n.startswith(cur) or v.startswith(cur):
            first.append((name, value))
        elif cur in n or cur in v:
            rest.append((name, value))
    return [(n[:NAME_MAX], v[:NAME_MAX]) for n, v in (first + rest)[:limit]]


class Completions:
    """The values a command's option can take, for one caller in one channel. Without a
    store (the command sync, a benchmark's core) the content's values alone."""

    def __init__(
        self,
        content: Content,
        store: Store | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.content, self.store, self.clock = content, store, clock

    def matching(self, who: Who, command: str, param: str, typed: str) -> Pairs:
        return matching(self.values(who, command, param), typed)

    def values(self, who: Who, command: str, param: str) -> Pairs:
        cmd = COMMANDS.get(command)
        p = cmd.param(param) if cmd else None
        if p is None or not completes(p):
            return []
        if p.kind is Kind.TRACK:
            return [(t.name, t.id) for t in self.content.tracks] + [(c, c) for c in p.choices]
        if p.name == "area":
            return [(a.name, a.id) for a in self.content.areas]
        if p.name == "command":
            return [(c.name, c.name) for c in COMMANDS.values()]
        if p.name == "domain":
            return self._domains(who)
        return self._items(who, command)

    def _domains(self, who: Who) -> Pairs:
        track = self._read(who, lambda ctx: ctx.group.track if ctx.group else None)
        seen: dict[str, str] = {}
        for t in self.content.tracks:
            if track is None or t.id == track:
                for d in t.domains:
                    seen.setdefault(d.id, d.name)
        return [(name, did) for did, name in seen.items()]

    def _items(self, who: Who, command: str) -> Pairs:
        ticked: set[str] | None = None
        if command in (TICK, UNTICK):
            ticked = self._read(who, _ticked)
        out: Pairs = []
        for key, (_where, it) in self.content.checklist_items.items():
            if ticked is not None and (key in ticked) != (command == UNTICK):
                continue
            out.append((f"{it.id} · {it.text}", it.id))
        return out

    def _read(self, who: Who, read: Callable[[Ctx], T | None]) -> T | None:
        """`read` in a read-only transaction; None without a store or while the database
        is unavailable (the content's values are offered then)."""
        if self.store is None:
            return None
        try:
            with self.store.transaction(read_only=True) as s:
                return read(Ctx(s, content=self.content, now=self.clock(), who=who))
        except DBAPIError as e:
            if trouble(e) is None:
                raise
            return None


def _ticked(ctx: Ctx) -> set[str]:
    """The caller's ticked items (upper-case ids), read without creating their user row."""
    who = ctx.who
    return set(
        ctx.s.scalars(
            select(ChecklistMark.item_id)
            .join(User, User.id == ChecklistMark.user_id)
            .join(Workspace, Workspace.id == User.workspace_id)
            .where(
                Workspace.platform == who.platform,
                Workspace.external_id == who.workspace_id,
                User.external_id == who.user_id,
            )
        )
    )
