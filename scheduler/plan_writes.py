"""Writing a batch's plan: the outbox rows, each key once, and the groups' next due instants.

A cohort's channel posts are made by the database: per post, one `INSERT ... SELECT` from
the groups table, `ON CONFLICT (idem_key) DO NOTHING`, returning the groups that got a new
row, so no value per row travels from Python and planning ten thousand posts costs about
what inserting them does (`python -m bench.clock`). Posts made one by one (members' DMs,
answer counts, reminders) go in multi-row VALUES (`bot.store.prepared.InsertMany`).
Everything is in the caller's transaction: a batch is written whole or not at all.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, any_, bindparam, cast, false, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.store.models import Group, Outbox, Workspace
from bot.store.models.base import TS
from bot.store.prepared import InsertMany
from scheduler.plans import ChannelDue, DueGroup, Plan, Planned, PlanResult, _Due, among

log = logging.getLogger(__name__)

CHANNEL_SPACING = timedelta(seconds=1.1)  # Slack allows about one post per second per channel
_IN = 1000  # group ids per statement

_COLUMNS = (  # in the table's order, as InsertMany wants them
    "workspace_id",
    "group_id",
    "platform",
    "target_kind",
    "target_id",
    "kind",
    "local_date",
    "idem_key",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
)


def _insert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Outbox).on_conflict_do_nothing(index_elements=["idem_key"])


@cache
def _from_groups(dialect: str) -> Any:
    """One channel post for each of the given groups: `kind:<group id>:suffix` (their ids
    one array on PostgreSQL, as `plans.among` says why)."""
    if dialect == "postgresql":
        ids = Group.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        ids = Group.id.in_(bindparam("ids", expanding=True))
    rows = (
        select(
            Group.workspace_id,
            Group.id,
            Workspace.platform,
            bindparam("target_kind", type_=String),
            Group.channel_id,
            bindparam("kind", type_=String),
            bindparam("local_date", type_=Date),
            bindparam("prefix", type_=String)
            + cast(Group.id, String)
            + bindparam("suffix", type_=String),
            bindparam("payload", type_=JSON),
            bindparam("status", type_=String),
            bindparam("attempts", type_=Integer),
            bindparam("next_attempt_at", type_=TS),
            bindparam("last_error", type_=String),
            bindparam("now", type_=TS),
        )
        .join(Workspace, Workspace.id == Group.workspace_id)
        .where(ids, Group.paused == false())
    )
    return _insert(dialect).from_select(list(_COLUMNS), rows).returning(Outbox.group_id)


_ONE_BY_ONE = {
    name: InsertMany(_insert(name).returning(Outbox.idem_key), _COLUMNS)
    for name in ("postgresql", "sqlite")
}


def write(s: Session, plan: Plan, now: datetime) -> PlanResult:
    """Record the decided posts and the groups' next due instants in this transaction."""
    written = _cohorts(s, plan, now)
    written += _one_by_one(s, plan, now)
    moving = [(g.id, c.seen, c.next_due_at) for c in plan.cohorts if c.moves for g in c.groups]
    _move(s, moving + plan.moves)
    written.sort(key=lambda p: (p.due.due_at, p.due.key))
    result = PlanResult(planned=written)
    for p in written:
        if p.status == "pending":
            result.enqueued += 1
            continue
        result.skipped += 1
        d = p.due
        log.warning(
            "skipped %s: due %s, %s ago, beyond the grace window",
            d.key,
            d.due_at.isoformat(),
            p.late,
        )
    return result


def _cohorts(s: Session, plan: Plan, now: datetime) -> list[Planned]:
    """The cohorts' channel posts, a statement per post that is the same for many
    groups (today's question in one local date, its reveal, a phase's start) whatever
    their cohorts: groups' schedules differ in ways that change nothing today (start and
    exam dates, summary days), so cohorts are often of one group, and a statement per
    cohort took 3.6 times the direct insert of the rows on PostgreSQL (`bench.clock`)."""
    alike: dict[tuple[Any, ...], tuple[ChannelDue, dict[int, DueGroup]]] = {}
    for cohort in plan.cohorts:
        for due in cohort.dues:
            post = due.post
            key = (
                post.kind,
                post.suffix,
                tuple(sorted(post.payload.items())),
                due.local_date,
                due.status,
                due.due_at,
                due.slot,
            )
            found = alike.get(key)
            if found is None:
                found = alike[key] = (due, {})
            found[1].update((g.id, g) for g in cohort.groups)
    conn = s.connection()
    stmt = _from_groups(conn.dialect.name)
    out: list[Planned] = []
    for due, by_id in alike.values():
        post = due.post
        ids = list(by_id)
        for i in range(0, len(ids), _IN):
            params = {
                "ids": ids[i : i + _IN],
                "target_kind": "channel",
                "kind": post.kind,
                "local_date": due.local_date,
                "prefix": f"{post.kind}:",
                "suffix": f":{post.suffix}",
                "payload": post.payload,
                "status": due.status,
                "attempts": 0,
                "next_attempt_at": now + due.slot * CHANNEL_SPACING,
                "last_error": None if due.status == "pending" else f"missed by {due.late}",
                "now": now,
            }
            for gid in conn.execute(stmt, params).scalars().all():
                g = by_id[gid]
                d = _Due(
                    g,
                    plan.workspaces[g.workspace_id],
                    post.kind,
                    due.local_date,
                    post.key(gid),
                    "channel",
                    g.channel_id,
                    due.due_at,
                    post.payload,
                )
                out.append(Planned(d, due.status, due.late))
    return out


def _one_by_one(s: Session, plan: Plan, now: datetime) -> list[Planned]:
    if not plan.posts:
        return []
    spacing: dict[str, int] = defaultdict(int)
    rows = []
    for p in plan.posts:
        d = p.due
        slot = spacing[d.target_id]
        spacing[d.target_id] = slot + 1
        rows.append(
            (
                d.workspace.id,
                d.group.id if d.group else None,
                d.workspace.platform,
                d.target_kind,
                d.target_id,
                d.kind,
                d.local_date,
                d.key,
                d.payload,
                p.status,
                0,
                now + slot * CHANNEL_SPACING,
                None if p.status == "pending" else f"missed by {p.late}",
                now,
            )
        )
    inserted = {key for (key,) in _ONE_BY_ONE[s.get_bind().dialect.name].run(s, rows)}
    return [p for p in plan.posts if p.due.key in inserted]  # the others were planned before


def _move(s: Session, moves: list[tuple[int, datetime | None, datetime | None]]) -> None:
    alike: dict[tuple[datetime | None, datetime | None], list[int]] = defaultdict(list)
    for gid, seen, nxt in moves:
        alike[(seen, nxt)].append(gid)
    for (seen, nxt), ids in alike.items():
        for i in range(0, len(ids), _IN):
            _move_alike(s, ids[i : i + _IN], seen, nxt)


def _move_alike(s: Session, ids: list[int], seen: datetime | None, nxt: datetime | None) -> None:
    """These groups' next due instant, where it is still the one planning read."""
    same = Group.next_due_at.is_(None) if seen is None else Group.next_due_at == seen
    s.connection().execute(
        update(Group).where(among(s, Group.id, ids), same).values(next_due_at=nxt)
    )
