"""SQLite's write lock held past the busy timeout: "busy, please try again", never a
traceback, and nothing half-written; the same actions work once the lock is free."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from adapters.slack.app import create_app
from bot.content.models import Content
from bot.core import BUSY, StudyBot
from bot.store.db import SQLITE_BUSY_TIMEOUT, Store, make_engine, upgrade
from bot.store.models import Workspace
from bot.timeutil import utcnow
from tests.helpers import Chat, FakeClock, start
from tests.slack.conftest import (
    SECRET,
    action_body,
    command_body,
    find_button,
    signed_headers,
    slack_settings,
)
from tests.slack.fakeslack import FakeSlack
from tests.slack.server import running_server

BUSY_TIMEOUT = 1.0  # seconds; the production default is SQLITE_BUSY_TIMEOUT


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "study.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    s = Store(make_engine(f"sqlite:///{db}", busy_timeout=BUSY_TIMEOUT))
    upgrade(s.engine)
    yield s
    s.dispose()


@pytest.fixture
def bot(store: Store, content: Content) -> StudyBot:
    return StudyBot(store, content, clock=FakeClock(start(2026, 3, 2)))


def _rows(db: Path) -> dict[str, int]:
    """Every table's row count: what an action would have written."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


class WriteLock:
    """Another connection holding SQLite's write lock (`BEGIN IMMEDIATE`) until released."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_the_busy_timeout_is_long_enough_for_a_burst_to_queue() -> None:
    assert SQLITE_BUSY_TIMEOUT >= 10


def test_a_held_write_lock_gets_the_busy_reply_and_writes_nothing(
    bot: StudyBot, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02 tz=UTC time=09:00")
    alice = Chat(bot, user="alice", name="Alice")
    alice.send("/study join")
    quiz = alice.send("/study quiz 2")
    bob = Chat(bot, user="bob", name="Bob")
    before = _rows(db)
    caplog.set_level(logging.INFO)

    lock = WriteLock(db)
    try:
        started = time.monotonic()
        assert bob.send("/study join").plain_text() == BUSY
        waited = time.monotonic() - started
        assert BUSY_TIMEOUT * 0.9 <= waited < BUSY_TIMEOUT * 2  # one wait, not a retry
        assert alice.press("A", quiz).plain_text() == BUSY
        # a burst: every one of them is answered, none raises
        replies: list[str] = []
        burst = [
            threading.Thread(target=lambda c=c: replies.append(c.send("/study join").plain_text()))
            for c in (Chat(bot, user=f"u{i}", name=f"U{i}") for i in range(8))
        ]
        for t in burst:
            t.start()
        for t in burst:
            t.join(30)
        assert replies == [BUSY] * 8
    finally:
        lock.release()
    assert _rows(db) == before  # nothing half-written

    assert "Welcome" in bob.send("/study join").plain_text()
    assert "Practice 2 of 2" in alice.press("A", quiz).plain_text()
    assert _rows(db)["memberships"] == before["memberships"] + 1
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    busy = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(busy) == 1 and "database busy (database is locked)" in busy[0], busy
    assert any("database answers again" in r.getMessage() for r in caplog.records)


def test_slack_gets_the_busy_reply_in_time_over_http(
    bot: StudyBot, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeSlack().start()
    fake.user("ULEAD", "Lee", admin=True)
    slack = create_app(bot, slack_settings(fake))
    try:
        with running_server(slack, bot) as base:
            body = command_body(fake, "ULEAD", "Lee", "setup track=associate start=2026-03-02")
            r = httpx.post(base + "/slack/events", content=body, headers=signed_headers(body))
            assert r.status_code == 200 and r.json()["response_type"] == "in_channel"
            quiz = httpx.post(
                base + "/slack/events",
                content=(b := command_body(fake, "ULEAD", "Lee", "quiz 2")),
                headers=signed_headers(b),
            ).json()
            before = _rows(db)
            lock = WriteLock(db)
            try:
                started = time.monotonic()
                body = command_body(fake, "ULEAD", "Lee", "leaderboard")
                r = httpx.post(base + "/slack/events", content=body, headers=signed_headers(body))
                assert r.status_code == 200 and time.monotonic() - started < 3
                assert BUSY in json.dumps(r.json())
                click = action_body(fake, "ULEAD", "Lee", find_button(quiz["blocks"], "A"))
                r = httpx.post(base + "/slack/events", content=click, headers=signed_headers(click))
                assert r.status_code == 200
                replies = fake.wait_for("response", 1)
                assert BUSY in json.dumps(replies[-1].args)
            finally:
                lock.release()
            assert _rows(db) == before
    finally:
        slack.close()
        fake.stop()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert SECRET not in caplog.text


def test_a_burst_of_writers_in_one_process_takes_turns_without_busy_replies(
    tmp_path: Path,
) -> None:
    """A process's writers queue for SQLite's lock in the store, not in SQLite's busy
    handler: sixteen writers holding the lock 20 ms each all commit, though together they
    hold it far longer than a 50 ms busy timeout would let one of them wait."""
    store = Store(make_engine(f"sqlite:///{tmp_path / 'w.db'}", busy_timeout=0.05))
    upgrade(store.engine)
    failures: list[BaseException] = []
    go = threading.Barrier(16)

    def write(n: int) -> None:
        go.wait()
        try:
            with store.transaction() as s:
                s.add(Workspace(platform="slack", external_id=f"T{n}", created_at=utcnow()))
                s.flush()
                time.sleep(0.02)
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.transaction(read_only=True) as s:
        stored = s.scalar(select(func.count()).select_from(Workspace))
    store.dispose()
    assert failures == []
    assert stored == 16
