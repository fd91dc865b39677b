from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.content import Content, load_content
from bot.core import StudyBot
from bot.store.db import Store, make_engine, upgrade
from tests.helpers import Chat, FakeClock, start

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("STUDYBOT_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _home_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write only into temporary directories: the user data folder (the console's
    database and pictures) of every test, and of the processes it starts, is a temporary
    HOME, never the real one."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "content")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'study.db'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """A fresh schema per test on the CI PostgreSQL; skipped when none is configured."""
    if not PG_URL:
        pytest.skip("STUDYBOT_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    yield Store(engine)
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest) -> Store:
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start(2026, 3, 2))  # a Monday


@pytest.fixture
def bot(sqlite_store: Store, content: Content, clock: FakeClock) -> StudyBot:
    return StudyBot(sqlite_store, content, clock=clock)


@pytest.fixture
def lead(bot: StudyBot) -> Chat:
    """A channel admin who has set the group up (associate, UTC, Mon–Fri, started today)."""
    chat = Chat(bot, user="lead", name="Lee", admin=True)
    chat.send("/study setup track=associate start=2026-03-02 tz=UTC time=09:00")
    return chat


@pytest.fixture
def alice(bot: StudyBot, lead: Chat) -> Chat:
    chat = Chat(bot, user="alice", name="Alice")
    chat.send("/study join")
    return chat
