"""Engines, transactions and migrations for SQLite (embedded) and PostgreSQL (scaled out).

The database can go away under a running process (PostgreSQL restarted, SQLite's write
lock held too long). `trouble` tells that weather from a failed statement, `Store`
says so once per outage in the log, and the pool checks each connection before use
(`pool_pre_ping`), so the first transaction after a restart gets a fresh one instead of
a dead one.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.store import prepared
from bot.store.models import Base

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "studybot_read_only"  # execution option: a transaction that only reads
# Seconds a SQLite writer queues for the write lock before "database is locked": long, so
# a burst of writers waits its turn; only a lock held this long gets the busy reply.
SQLITE_BUSY_TIMEOUT = 30.0
PG_CONNECT_TIMEOUT = 5  # seconds: an unreachable host is "busy" soon, not after TCP's minutes

Trouble = Literal["down", "busy", "conflict"]
_BUSY_STATES = ("53", "55P03", "57014")  # out of connections or memory; lock or statement timeout


def trouble(exc: BaseException) -> Trouble | None:
    """Why the database could not run a transaction, when the cause is its state and not
    the statement: "down" (unreachable, starting, shutting down, or it dropped the
    connection: a restart), "busy" (SQLite's write lock held past the busy timeout, or
    PostgreSQL out of connections or timing out), "conflict" (a serialization failure or
    deadlock: running it again can succeed). None for anything else, a bug or a broken
    constraint, which should surface as one."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return "busy" if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) else None
    if exc.connection_invalidated:
        return "down"
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    state = getattr(orig, "sqlstate", None)
    if state is None or (state[:2] in ("08", "57") and state != "57014"):
        return "down"  # no SQLSTATE: the client never reached a server to answer one
    if state in ("40001", "40P01"):
        return "conflict"
    if state.startswith(_BUSY_STATES):
        return "busy"
    return None


def reason(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's wrapping and links."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def normalize_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` spellings; use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT, **kwargs: Any) -> Engine:
    """An engine for either database; `busy_timeout` is SQLite's wait for the write lock."""
    url = normalize_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": busy_timeout, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _sqlite_pragmas(engine, busy_timeout)
        return engine
    kwargs["connect_args"] = {
        "connect_timeout": PG_CONNECT_TIMEOUT,
        **kwargs.get("connect_args", {}),
    }
    kwargs.setdefault("pool_pre_ping", True)  # a connection a restart closed is replaced
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(engine: Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: boards stay in memory as data grows
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front (no deadlock upgrading a read lock); read-only
        # transactions stay deferred so they never wait for a writer (WAL).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        # Straight to the driver: a whole SQLAlchemy execution of a constant statement
        # costs more than the BEGIN itself, on every action.
        driver = conn.connection.driver_connection
        assert driver is not None  # a pooled connection that began a transaction is live
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        try:
            driver.execute(begin)
        except sqlite3.OperationalError as e:  # "database is locked": wrapped as SQLAlchemy would
            raise OperationalError(begin, None, e) from e


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def upgrade(engine: Engine) -> None:
    """Apply Alembic migrations up to head (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser reads % as interpolation: a percent-encoded password or option needs %%
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Availability:
    """Whether the database is down or busy right now, as the process last met it: the
    first failure of an outage is one WARNING line and the first success after it one
    INFO line, however many actions, ticks and claims meet the outage in between."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None  # monotonic time of the outage's first failure

    @property
    def troubled(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> Trouble | None:
        """Note a failed statement; the kind of trouble it shows, if any."""
        kind = trouble(exc)
        if kind not in ("down", "busy"):
            return kind
        with self._lock:
            first, self._since = self._since is None, self._since or time.monotonic()
        if first:
            what = "unavailable" if kind == "down" else "busy"
            log.warning("database %s (%s); retrying until it answers", what, reason(exc))
        return kind

    def answered(self) -> None:
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.info("database answers again after %.1f s", time.monotonic() - since)


class Store:
    """The engine, and `transaction()`: one transaction per user action, and the only way
    the core and the processes open one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self.availability = Availability()
        # SQLite has one writer at a time, and a writer that finds the lock taken polls
        # for it, sleeping up to 100 ms between tries: a burst of clicks on 32 threads
        # spent more time asleep than writing. This process's writers queue here instead
        # and each takes the lock the moment the one before lets go (other processes,
        # the clock and the worker, still meet SQLite's own wait).
        self._writing: threading.RLock | None = (
            threading.RLock() if engine.dialect.name == "sqlite" else None
        )

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Store:
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A Session in a transaction, committed at the end or rolled back on an error;
        `read_only` for one that only reads (on SQLite it does not queue behind writers).

        The transaction is the connection's, begun here; the Session joins it (and never
        ends it), which spares every action the Session's own transaction bookkeeping.
        """
        queue = nullcontext() if read_only or self._writing is None else self._writing
        try:
            with queue, (self._reader if read_only else self.engine).connect() as conn:
                conn.begin()
                session = Session(
                    bind=conn, expire_on_commit=False, join_transaction_mode="rollback_only"
                )
                try:
                    yield session
                    session.flush()
                except BaseException:
                    session.close()
                    conn.rollback()
                    raise
                session.close()
                conn.commit()
        except DBAPIError as e:
            self.availability.failed(e)
            raise
        if self.availability.troubled:
            self.availability.answered()

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignore(
    session: Session, model: type[Base], values: Mapping[str, Any], keys: list[str]
) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; True when a row was inserted.

    Idempotency lives in the unique key, so two processes racing to insert the same row
    both succeed and exactly one row exists afterwards. RETURNING, not rowcount: drivers
    disagree on rowcount for DO NOTHING. The answer to every click is one, so it runs as a
    prepared statement on the driver (`bot/store/prepared.py`), pending ORM changes
    flushed first.
    """
    conn = prepared.connection(session)
    dialect = conn.dialect
    key = (model, tuple(keys), dialect.name, tuple(values))
    found = _INSERT_PLANS.get(key)
    if found is None:
        stmt = _insert_ignore(model, tuple(keys), dialect.name)
        found = _INSERT_PLANS[key] = prepared.plan(stmt, dialect, column_keys=list(values))
    return prepared.driver(conn).execute(found.sql, found.args(values)).fetchone() is not None


_INSERT_PLANS: dict[tuple[Any, ...], Any] = {}


@functools.cache
def _insert_ignore(model: type[Base], keys: tuple[str, ...], dialect: str) -> Any:
    table: Table = model.__table__  # type: ignore[assignment]
    pk = next(iter(table.primary_key.columns))
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys).returning(pk)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys).returning(pk)


__all__ = [
    "Base",
    "Store",
    "Trouble",
    "insert_ignore",
    "is_postgres",
    "make_engine",
    "reason",
    "trouble",
    "upgrade",
]
