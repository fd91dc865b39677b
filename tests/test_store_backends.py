"""A member's week on both databases: the prepared statements and the snapshot rows must
read and write the same values through sqlite3 and psycopg (dates, times, JSON, booleans)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from bot.content.models import Content
from bot.core import StudyBot
from bot.errors import UserError
from bot.store.db import Store, Tx, insert_ignore
from bot.store.models import Group, Membership, User, Workspace
from bot.store.prepared import Prepared
from bot.store.rows import SNAPSHOTS
from tests.helpers import Chat, FakeClock, question_in

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_snapshots_hold_table_columns_and_every_one_but_timestamps() -> None:
    for model, snapshot in SNAPSHOTS.items():
        names = [f.name for f in fields(snapshot)]
        table = [c.key for c in model.__table__.c]
        assert [n for n in table if n in names] == names  # real columns, in table order
        left_out = set(table) - set(names)
        assert all(n.endswith(("_at",)) for n in left_out), left_out


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

    with any_store.read() as s:
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


def test_prepared_statements_take_written_values_and_parameters(any_store: Store) -> None:
    """A value written into the statement and a bind parameter both reach the driver, and
    values come back converted (a date, a datetime, JSON) on either database."""
    from sqlalchemy import bindparam

    from bot.timeutil import as_utc

    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with any_store.action() as tx:
        for i, paused in ((1, False), (2, True)):
            tx.conn.execute(
                Workspace.__table__.insert(),
                {"id": i, "platform": "slack", "external_id": f"T{i}", "created_at": now},
            )
            tx.conn.execute(
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
        stmt = Prepared(
            select(Group.workspace_id, Group.start_date, Group.leads, Group.created_at).where(
                Group.channel_id == "C1", Group.paused == bindparam("paused")
            )
        )
        rows = stmt.all(tx, {"paused": True})
    assert len(rows) == 1
    ws, start, leads, created = rows[0]
    assert (ws, start, leads) == (2, date(2026, 3, 2), ["U1", "U2"])
    assert as_utc(created) == now


def _insert_workspace(tx: Tx, external_id: str) -> bool:
    """A write on the connection, as the hot path's prepared statements make."""
    return insert_ignore(
        tx,
        Workspace,
        {"platform": "slack", "external_id": external_id, "created_at": NOW},
        ["platform", "external_id"],
    )


def _add_workspace(tx: Tx, external_id: str) -> None:
    """A write through the ORM Session, made on demand halfway through the action."""
    tx.session.add(Workspace(platform="slack", external_id=external_id, created_at=NOW))
    tx.session.flush()


def _workspaces(store: Store) -> list[str]:
    with store.read() as s:
        return sorted(s.scalars(select(Workspace.external_id)))


def test_an_action_that_fails_writes_nothing(any_store: Store) -> None:
    """Writes on the connection (prepared) and through the ORM Session made later in the
    same action are one transaction: an error undoes both."""
    with pytest.raises(UserError), any_store.action() as tx:
        assert _insert_workspace(tx, "T1")
        _add_workspace(tx, "T2")
        raise UserError("refused")
    with any_store.action() as tx:
        assert _insert_workspace(tx, "T3")
    assert _workspaces(any_store) == ["T3"]


def test_writes_on_the_connection_and_through_the_session_commit_together(
    any_store: Store,
) -> None:
    """The action's transaction is begun on the driver; a Session made halfway joins it,
    and the commit at the end keeps both kinds of write."""
    with any_store.action() as tx:
        assert _insert_workspace(tx, "T1")
        _add_workspace(tx, "T2")
        assert _insert_workspace(tx, "T3")
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
        with sqlite_store.action(read_only=True) as tx:
            rows = Prepared(select(Workspace.id)).all(tx, {})
        assert rows == [] and clock.monotonic() - started < 1
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # what a writing action's BEGIN meets now
        other.close()
    finally:
        writer.rollback()
        writer.close()
