"""`studybot db backup` and `db restore`: a consistent copy while the bot writes, and a
restore that refuses to overwrite data without --force and migrates what it restores."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.content.models import Content
from bot.core import StudyBot
from bot.store.db import MIGRATIONS, Store, make_engine
from tests.helpers import Chat, FakeClock, answer_today, start

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def studybot(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def revision(path: Path) -> str:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content) -> Iterator[Path]:
    """The bot's database (STUDYBOT_DATABASE_URL) with a group and one answer in it."""
    path = tmp_path / "live.db"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{path}")
    store = Store.from_url(f"sqlite:///{path}")
    bot = StudyBot(store, content, clock=FakeClock(start(2026, 3, 2)))
    Chat(bot, user="lead", name="Lee", admin=True).send("/study setup tz=UTC")
    alice = Chat(bot)
    alice.send("/study join")
    answer_today(alice, content)
    yield path
    store.dispose()


def test_a_backup_ignores_a_write_in_progress_and_is_one_file(live: Path, tmp_path: Path) -> None:
    writer = sqlite3.connect(live, isolation_level=None, timeout=30)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock while the backup runs
    writer.execute(
        "INSERT INTO workspaces (platform, external_id, created_at) "
        "VALUES ('slack', 'TUNCOMMITTED', '2026-03-02 12:00:00')"
    )
    copy = tmp_path / "copy.db"
    result = studybot("db", "backup", str(copy))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Backed up the database to {copy}\n"
    assert count(copy, "answers") == 1 and count(copy, "workspaces") == 1  # the committed state
    writer.execute("COMMIT")
    writer.close()
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not Path(f"{copy}-wal").exists() and not list(tmp_path.glob("*.partial"))
    again = studybot("db", "backup", str(copy))  # an existing backup is replaced
    assert again.exit_code == 0 and count(copy, "workspaces") == 2


def test_backups_taken_during_a_burst_of_writes_are_each_consistent(
    live: Path, tmp_path: Path
) -> None:
    stop, going = threading.Event(), threading.Event()
    written: list[int] = []

    def write() -> None:
        with closing(sqlite3.connect(live, isolation_level=None, timeout=30)) as conn:
            n = 0
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO workspaces (platform, external_id, created_at) "
                    "VALUES ('slack', ?, '2026-03-02 12:00:00')",
                    (f"T{n}",),
                )
                # a second row in the same transaction: a copy holds both or neither
                conn.execute(
                    "INSERT INTO workspaces (platform, external_id, created_at) "
                    "VALUES ('discord', ?, '2026-03-02 12:00:00')",
                    (f"G{n}",),
                )
                conn.execute("COMMIT")
                n += 1
                written.append(n)
                going.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert going.wait(30)
    try:
        copies = []
        for i in range(5):
            copy = tmp_path / f"burst{i}.db"
            result = studybot("db", "backup", str(copy))
            assert result.exit_code == 0, result.output
            copies.append(copy)
    finally:
        stop.set()
        thread.join()
    assert written, "the writer ran"
    seen = []
    for copy in copies:
        with closing(sqlite3.connect(copy)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            slack, discord = (
                conn.execute(
                    "SELECT count(*) FROM workspaces WHERE platform = ?", (platform,)
                ).fetchone()[0]
                for platform in ("slack", "discord")
            )
        assert slack == discord  # never half a transaction
        seen.append(slack)
    assert seen[0] > 0 and seen == sorted(seen) and seen[-1] <= len(written)


def test_a_directory_gets_a_dated_file(live: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    result = studybot("db", "backup", str(folder))
    assert result.exit_code == 0, result.output
    (made,) = folder.glob("studybot-*.db")
    assert result.stdout == f"Backed up the database to {made}\n"
    assert count(made, "answers") == 1


def test_backup_mistakes_are_one_line(live: Path, tmp_path: Path) -> None:
    assert "is the live database itself" in one_line(studybot("db", "backup", str(live)))
    missing = studybot("db", "backup", str(tmp_path / "no" / "such" / "dir" / "x.db"))
    assert missing.exit_code == 1 and "is not a directory" in one_line(missing)


def test_restore_refuses_to_replace_data_without_force(live: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    assert studybot("db", "backup", str(copy)).exit_code == 0
    with closing(sqlite3.connect(live)) as conn, conn:
        conn.execute("DELETE FROM answers")
    refused = studybot("db", "restore", str(copy))
    assert refused.exit_code == 1
    line = one_line(refused)
    assert f"{live} already holds data (daily_questions: 1, groups: 1" in line
    assert f"`studybot db restore {copy} --force` replaces it" in line
    assert count(live, "answers") == 0, "nothing was replaced"

    done = studybot("db", "restore", str(copy), "--force")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"Restored {copy} (schema {revision(copy)}) into sqlite:///")
    assert count(live, "answers") == 1 and revision(live) == HEAD


def test_restore_into_a_new_database_needs_no_force(
    live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content
) -> None:
    copy = tmp_path / "copy.db"
    assert studybot("db", "backup", str(copy)).exit_code == 0
    fresh = tmp_path / "new" / "studybot.db"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{fresh}")
    result = studybot("db", "restore", str(copy))
    assert result.exit_code == 0, result.output
    store = Store.from_url(f"sqlite:///{fresh}")
    try:
        bot = StudyBot(store, content, clock=FakeClock(start(2026, 3, 9)))
        board = Chat(bot).send("/study leaderboard all").plain_text()
        assert "Alice" in board  # the restored database is the bot's again
    finally:
        store.dispose()


def test_an_older_backup_is_migrated_on_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        cfg = alembic_config(f"sqlite:///{old}")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")  # before the delivery_pace table existed
    engine.dispose()
    target = tmp_path / "target.db"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{target}")
    result = studybot("db", "restore", str(old))
    assert result.exit_code == 0, result.output
    assert "(schema 0003)" in result.stdout
    assert revision(target) == HEAD and count(target, "delivery_pace") == 0


def test_restore_checks_the_file_is_a_studybot_database(
    live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    assert one_line(studybot("db", "restore", str(text))) == (
        f"studybot: {text} is not a SQLite database, so not a studybot backup"
    )
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert "is a SQLite database but not a studybot one" in one_line(
        studybot("db", "restore", str(other))
    )
    missing = studybot("db", "restore", str(tmp_path / "gone.db"))
    assert missing.exit_code == 1 and "no backup file at" in one_line(missing)
    newer = tmp_path / "newer.db"
    assert studybot("db", "backup", str(newer)).exit_code == 0
    with closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert "made by a newer studybot (schema revision 9999)" in one_line(
        studybot("db", "restore", str(newer), "--force")
    )
    assert count(live, "answers") == 1, "no refused restore touched the database"


@pytest.mark.parametrize("verb", ["backup", "restore"])
def test_postgresql_points_to_its_own_tools(verb: str, tmp_path: Path) -> None:
    """Through the real entry point: one line on stderr, no traceback, no password."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STUDYBOT_DATABASE_URL": "postgresql://study:s3cret@db.example:5432/studybot",
    }
    run = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "db", verb, "x.dump"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 1 and run.stdout == ""
    (line,) = run.stderr.strip().splitlines()
    tool = "pg_dump" if verb == "backup" else "pg_restore"
    assert tool in line and "'postgresql://study@db.example:5432/studybot'" in line
    assert "s3cret" not in run.stderr and "Traceback" not in run.stderr
