"""`studybot db backup` and `db restore`: a consistent copy of a SQLite database, taken
while the bot runs, and its way back.

Both go through SQLite's online backup API (`sqlite3.Connection.backup`), which copies
the pages of one read snapshot: writers carry on during a backup (the database is in WAL
mode) and the copy holds exactly what was committed when it began. A restore writes the
backup into the database the same way, under SQLite's own locks, and then runs the
migrations, so a backup made by an older studybot is brought up to date. PostgreSQL has
its own tools for both (pg_dump, pg_restore): these say so, naming the database without
its password.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from bot.store.db import MIGRATIONS, make_engine, normalize_url, upgrade
from bot.timeutil import utcnow

SQLITE_MAGIC = b"SQLite format 3\x00"
STUDYBOT_TABLES = ("alembic_version", "workspaces", "users")


class BackupError(Exception):
    """An operator's mistake with a backup or a restore: the message is the whole line."""


@dataclass(frozen=True)
class Restored:
    into: str  # the database URL, without a password
    revision: str  # the backup's schema revision, before the migrations ran


def _url(database_url: str) -> URL:
    return make_url(normalize_url(database_url))


def _shown(url: URL) -> str:
    """The database as pg_dump and psql take it: no driver suffix, no password."""
    bare = URL.create(
        url.get_backend_name(), url.username, None, url.host, url.port, url.database, url.query
    )
    return bare.render_as_string()


def _sqlite_path(url: URL, verb: str) -> Path:
    if url.get_backend_name() == "postgresql":
        if verb == "backup":
            raise BackupError(
                "studybot db backup copies SQLite databases; back up PostgreSQL with "
                f"pg_dump: pg_dump --format=custom --file=PATH '{_shown(url)}' "
                "(the password from PGPASSWORD or ~/.pgpass)"
            )
        raise BackupError(
            "studybot db restore restores SQLite databases; restore PostgreSQL with "
            f"pg_restore --clean --if-exists --dbname='{_shown(url)}' PATH (a pg_dump "
            f"--format=custom file) or psql '{_shown(url)}' -f PATH (a plain SQL dump)"
        )
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"studybot db {verb} knows SQLite and PostgreSQL, not {url.drivername}")
    if not url.database or url.database == ":memory:":
        raise BackupError(
            f"STUDYBOT_DATABASE_URL names an in-memory SQLite database: nothing on disk to {verb}"
        )
    return Path(url.database)


def _same(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and a.resolve() == b.resolve()


def backup(database_url: str, dest: Path, now: datetime | None = None) -> Path:
    """Copy the live database to `dest` (a file, or a directory to put a dated file in);
    an existing file is replaced only once the new copy is complete. The file written."""
    source = _sqlite_path(_url(database_url), "backup")
    if not source.is_file():
        raise BackupError(f"no database at {source} (STUDYBOT_DATABASE_URL): nothing to back up")
    if dest.is_dir():
        dest = dest / f"studybot-{(now or utcnow()):%Y%m%d-%H%M%S}.db"
    if _same(source, dest):
        raise BackupError(f"{dest} is the live database itself; give another path")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory: create it or give another path")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src:
            _check_studybot(src, source)
            with closing(sqlite3.connect(partial)) as out:
                src.backup(out)  # every page of one read snapshot, in one step
                # One self-contained file: a copy in WAL mode would need its -wal beside it.
                out.execute("PRAGMA journal_mode=DELETE")
                ok = out.execute("PRAGMA quick_check").fetchone()
                if ok is None or ok[0] != "ok":
                    raise BackupError(f"the copy of {source} failed its check: {ok}")
        partial.replace(dest)
    except sqlite3.Error as e:
        raise BackupError(f"could not back up {source} to {dest}: {e}") from e
    finally:
        partial.unlink(missing_ok=True)
    return dest


def _check_studybot(conn: sqlite3.Connection, path: Path) -> str:
    """The schema revision of a studybot database; a clear error for anything else."""
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not a SQLite database ({e})") from e
    if not set(STUDYBOT_TABLES) <= names:
        raise BackupError(
            f"{path} is a SQLite database but not a studybot one (no studybot tables)"
        )
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise BackupError(f"{path} is a studybot database without a schema revision")
    return str(row[0])


def _held(path: Path) -> list[str]:
    """What the database at `path` holds, table by table ("12 users"); empty when there is
    no database, an empty file, or only an empty schema."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            return ["data that is not a SQLite database"]
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        held = []
        for t in tables:
            n = conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            if n:
                held.append(f"{t}: {n}")
        return held


def restore(database_url: str, src: Path, *, force: bool = False) -> Restored:
    """Write the backup `src` into the database `database_url` names, then migrate it.

    A database that already holds data is replaced only with `force`."""
    url = _url(database_url)
    target = _sqlite_path(url, "restore")
    if not src.is_file():
        raise BackupError(f"no backup file at {src}")
    with src.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{src} is not a SQLite database, so not a studybot backup")
    if _same(src, target):
        raise BackupError(f"{src} is the database itself; give the backup's path")
    with closing(sqlite3.connect(src, timeout=30)) as backup_db:
        revision = _check_studybot(backup_db, src)
        _known_revision(revision, src)
        ok = backup_db.execute("PRAGMA quick_check").fetchone()
        if ok is None or ok[0] != "ok":
            raise BackupError(f"{src} is damaged (SQLite's check says: {ok and ok[0]})")
        held = _held(target)
        if held and not force:
            raise BackupError(
                f"{target} already holds data ({', '.join(held[:4])}); "
                f"`studybot db restore {src} --force` replaces it (keep a copy first: "
                "`studybot db backup PATH`)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if held == ["data that is not a SQLite database"]:
                target.unlink()  # --force on a file SQLite cannot open: start it afresh
            with closing(sqlite3.connect(target, timeout=30)) as live:
                backup_db.backup(live)
        except sqlite3.Error as e:
            raise BackupError(f"could not restore {src} into {target}: {e}") from e
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return Restored(url.render_as_string(hide_password=True), revision)


def _known_revision(revision: str, src: Path) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    if revision not in {s.revision for s in script.walk_revisions()}:
        raise BackupError(
            f"{src} was made by a newer studybot (schema revision {revision}); "
            "install that version or newer to restore it"
        )
