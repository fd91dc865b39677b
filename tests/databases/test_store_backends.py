"""A member's week on both databases: the store must read and write the same values through
sqlite3 and psycopg (dates, times, JSON, booleans), one transaction per action."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.models import Content
from bot.core import StudyBot
from bot.errors import UserError
from bot.store.db import Store, insert_ignore
from bot.store.models import Group, Membership, User, Workspace
from tests.helpers import Chat, FakeClock, question_in

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_members_commands_on_each_database(
    any_store: Store, content: Content, clock: FakeClock
) -> None:
    bot = StudyBot(any_store, content, clock=clock)
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02 tz=Europe/Berlin time=08:30")
    alice = Chat(bot, user="alice", name="Alice")

    today = alice.send("/study today")
    assert "You joined this study group" in today.plain_text()
    q = question_in(content, today)
    if q.multi:
        for letter in q.answer:
            alice.press(letter)
        feedback = alice.press("Submit")
    else:
        feedback = alice.press(q.answer[0])
    assert "Correct" in feedback.plain_text() and "Streak: 1 day." in feedback.plain_text()
    again = alice.send("/study today").plain_text()
    assert "You answered on" in again

    assert "Asia/Kolkata" in alice.send("/study tz Asia/Kolkata").plain_text()
    assert "off" in alice.send("/study dm off").plain_text()
    lead.send("/study setup leads=alice skip=2026-03-04 exam=2026-06-01")
    alice = Chat(bot, user="alice", name="Alice Renamed")
    assert "left" in alice.send("/study leave").plain_text()
    assert "Welcome" in alice.send("/study join").plain_text()

    with any_store.transaction(read_only=True) as s:
        g = s.scalar(select(Group))
        assert g is not None
        assert (g.tz, g.post_time, g.leads, g.skip_dates) == (
            "Europe/Berlin",
            time(8, 30),
            ["alice"],
            ["2026-03-04"],
        )
        assert g.exam_date == date(2026, 6, 1)
        user = s.scalar(select(User).where(User.external_id == "alice"))
        assert user is not None
        assert (user.display_name, user.tz, user.dm_enabled) == (
            "Alice Renamed",
            "Asia/Kolkata",
            False,
        )
        m = s.scalar(select(Membership).where(Membership.user_id == user.id))
        assert m is not None and m.active


def test_core_reads_take_bind_parameters_and_convert_values(any_store: Store) -> None:
    """A Core statement on the action's Session (what the hot reads use) binds its
    parameters and hands values back converted (a date, a datetime, JSON)."""
    from sqlalchemy import bindparam

    from bot.timeutil import as_utc

    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with any_store.transaction() as s:
        for i, paused in ((1, False), (2, True)):
            s.execute(
                Workspace.__table__.insert(),
                {"id": i, "platform": "slack", "external_id": f"T{i}", "created_at": now},
            )
            s.execute(
                Group.__table__.insert(),
                {
                    "workspace_id": i,
                    "channel_id": "C1",
                    "track": "associate",
                    "start_date": date(2026, 3, 2),
                    "tz": "UTC",
                    "post_time": time(9, 0),
                    "post_days": "mon",
                    "leads": ["U1", "U2"],
                    "skip_dates": [],
                    "paused": paused,
                    "summary_day": "fri",
                    "created_by": "U1",
                    "created_at": now,
                    "updated_at": now,
                },
            )
        stmt = select(Group.workspace_id, Group.start_date, Group.leads, Group.created_at).where(
            Group.channel_id == "C1", Group.paused == bindparam("paused")
        )
        rows = s.execute(stmt, {"paused": True}).all()
    assert len(rows) == 1
    ws, start, leads, created = rows[0]
    assert (ws, start, leads) == (2, date(2026, 3, 2), ["U1", "U2"])
    assert as_utc(created) == now


def _insert_workspace(s: Session, external_id: str) -> bool:
    """A Core write (an idempotent insert, as answers are recorded)."""
    return insert_ignore(
        s,
        Workspace,
        {"platform": "slack", "external_id": external_id, "created_at": NOW},
        ["platform", "external_id"],
    )


def _add_workspace(s: Session, external_id: str) -> None:
    """A write through the ORM, pending until the next statement or the commit."""
    s.add(Workspace(platform="slack", external_id=external_id, created_at=NOW))


def _workspaces(store: Store) -> list[str]:
    with store.transaction(read_only=True) as s:
        return sorted(s.scalars(select(Workspace.external_id)))


def test_an_action_that_fails_writes_nothing(any_store: Store) -> None:
    """Core writes and ORM writes in one action are one transaction: an error undoes both."""
    with pytest.raises(UserError), any_store.transaction() as s:
        assert _insert_workspace(s, "T1")
        _add_workspace(s, "T2")
        raise UserError("refused")
    with any_store.transaction() as s:
        assert _insert_workspace(s, "T3")
    assert _workspaces(any_store) == ["T3"]


def test_core_and_orm_writes_commit_together_in_order(any_store: Store) -> None:
    """A pending ORM write is flushed before the next Core write (an insert that ignores
    a conflict must see it), and the commit keeps both kinds."""
    with any_store.transaction() as s:
        assert _insert_workspace(s, "T1")
        _add_workspace(s, "T2")
        assert not _insert_workspace(s, "T2")  # the ORM's row is there already
        assert _insert_workspace(s, "T3")
    assert _workspaces(any_store) == ["T1", "T2", "T3"]


def test_a_read_only_action_does_not_queue_behind_a_writer(sqlite_store: Store) -> None:
    """On SQLite a writer's action takes the write lock when it begins (BEGIN IMMEDIATE);
    a read-only action (the reply after an answer is recorded) begins deferred and reads
    the last commit while the writer holds the lock."""
    import sqlite3
    import time as clock

    path = sqlite_store.engine.url.database
    assert path
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = clock.monotonic()
        with sqlite_store.transaction(read_only=True) as s:
            rows = s.execute(select(Workspace.id)).all()
        assert rows == [] and clock.monotonic() - started < 1
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # what a writing action's BEGIN meets now
        other.close()
    finally:
        writer.rollback()
        writer.close()
