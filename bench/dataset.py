"""The bench dataset: groups × members × days of daily answers, bulk-inserted.

Rows go in with executemany, not through the core, so a million answers seed in seconds;
the shape is what the core would have written (same keys, same scoping).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert

from bot.content.models import Content
from bot.seam import Who
from bot.store.db import Store
from bot.store.models import Answer, DailyQuestion, Group, Membership, User, Workspace

GROUPS_PER_WORKSPACE = 10
BATCH = 20_000


def seed(
    store: Store,
    content: Content,
    *,
    groups: int,
    members: int,
    days: int,
    platform: str = "slack",
    workspace_prefix: str = "T",
    start: date = date(2026, 1, 5),
    track: str = "associate",
) -> list[Who]:
    """Seed and return one `Who` per group: an admin member of it, for driving the core."""
    rng = random.Random(7)
    bank = content.by_track[track]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    n_ws = -(-groups // GROUPS_PER_WORKSPACE)
    whos: list[Who] = []
    with store.transaction() as s:
        s.execute(
            insert(Workspace),
            [
                {
                    "id": w + 1,
                    "platform": platform,
                    "external_id": f"{workspace_prefix}{w:05d}",
                    "created_at": now,
                }
                for w in range(n_ws)
            ],
        )
        group_rows, user_rows, member_rows = [], [], []
        for g in range(groups):
            ws = g // GROUPS_PER_WORKSPACE + 1
            group_rows.append(
                {
                    "id": g + 1,
                    "workspace_id": ws,
                    "channel_id": f"C{g:05d}",
                    "track": track,
                    "start_date": start,
                    "tz": "UTC",
                    "post_time": time(9, 0),
                    "post_days": "mon,tue,wed,thu,fri,sat,sun",
                    "exam_date": None,
                    "leads": [],
                    "skip_dates": [],
                    "paused": False,
                    "created_by": f"U{g:05d}000",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for m in range(members):
                uid = g * members + m + 1
                user_rows.append(
                    {
                        "id": uid,
                        "workspace_id": ws,
                        "external_id": f"U{g:05d}{m:03d}",
                        "display_name": f"Member {g}-{m}",
                        "tz": None,
                        "dm_enabled": True,
                        "created_at": now,
                    }
                )
                member_rows.append(
                    {
                        "id": uid,
                        "workspace_id": ws,
                        "group_id": g + 1,
                        "user_id": uid,
                        "active": True,
                        "joined_at": now,
                    }
                )
            whos.append(
                Who(
                    platform,
                    f"{workspace_prefix}{ws - 1:05d}",
                    f"C{g:05d}",
                    f"U{g:05d}000",
                    f"Member {g}-0",
                    True,
                )
            )
        s.execute(insert(Group), group_rows)
        s.execute(insert(User), user_rows)
        s.execute(insert(Membership), member_rows)

    daily_rows = []
    for g in range(groups):
        ws = g // GROUPS_PER_WORKSPACE + 1
        for d in range(days):
            daily_rows.append(
                {
                    "id": g * days + d + 1,
                    "workspace_id": ws,
                    "group_id": g + 1,
                    "local_date": start + timedelta(days=d),
                    "question_id": bank[(g + d) % len(bank)].id,
                    "created_at": now,
                }
            )
    with store.transaction() as s:
        s.execute(insert(DailyQuestion), daily_rows)

    batch: list[dict[str, object]] = []
    for g in range(groups):
        ws = g // GROUPS_PER_WORKSPACE + 1
        for d in range(days):
            q = bank[(g + d) % len(bank)]
            day = start + timedelta(days=d)
            for m in range(members):
                correct = rng.random() < 0.7
                batch.append(
                    {
                        "workspace_id": ws,
                        "group_id": g + 1,
                        "daily_id": g * days + d + 1,
                        "user_id": g * members + m + 1,
                        "question_id": q.id,
                        "choice": q.answer[0] if correct else "Z",
                        "correct": correct,
                        "points": 15 if correct else 0,
                        "local_date": day,
                        "answered_at": datetime.combine(day, time(10), tzinfo=UTC),
                    }
                )
                if len(batch) >= BATCH:
                    _flush(store, batch)
    _flush(store, batch)
    _fix_sequences(store)
    return whos


def _flush(store: Store, batch: list[dict[str, object]]) -> None:
    if batch:
        with store.transaction() as s:
            s.execute(insert(Answer), batch)
        batch.clear()


def _fix_sequences(store: Store) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the seeded rows."""
    if store.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with store.transaction() as s:
        for table in ("workspaces", "groups", "users", "memberships", "daily_questions", "answers"):
            s.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
