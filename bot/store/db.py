"""Engines, transactions and migrations for SQLite (embedded) and PostgreSQL (scaled out)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.store import prepared
from bot.store.models import Base

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "studybot_read_only"  # execution option: a transaction that only reads


def normalize_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` spellings; use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            **kwargs,
        )
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
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
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


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


class Store:
    """The engine, and `transaction()`: one transaction per user action, and the only way
    the core and the processes open one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = engine.execution_options(**{READ_ONLY: True})

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
        with (self._reader if read_only else self.engine).connect() as conn:
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


__all__ = ["Base", "Store", "insert_ignore", "is_postgres", "make_engine", "upgrade"]
