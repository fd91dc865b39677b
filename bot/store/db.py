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
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import bot.store.learning  # noqa: F401
from bot.store.models import Base
from bot.store.prepared import InsertIgnore

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


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
    def _on_begin(conn: Any) -> None:
        driver = conn.connection.driver_connection
        if driver.in_transaction:  # begun by Store.action, on the driver
            return
        # Writers take the lock up front (no deadlock upgrading a read lock); read-only
        # transactions (Store.read) stay deferred so they never wait for a writer (WAL).
        read_only = conn.get_execution_options().get("studybot_read_only", False)
        # Straight to the driver: a full SQLAlchemy execution of a constant statement
        # costs more than the BEGIN itself.
        driver.execute(begin_sql(read_only))


def begin_sql(read_only: bool) -> str:
    return "BEGIN" if read_only else "BEGIN IMMEDIATE"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def upgrade(engine: Engine) -> None:
    """Apply Alembic migrations up to head (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Tx:
    """A transaction on one connection, with an ORM Session on it made only when asked for.

    The commands members run most (`today`, an answer click) need no ORM object at all:
    their statements are prepared (`prepared.py`) and run on the connection, and the
    Session's own bookkeeping would cost more than their queries. For the same reason the
    transaction is begun and ended on the driver itself (`Store.action`); SQLAlchemy's own
    transaction, if a handler's Session or Core statement starts one, joins it.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.driver: Any = conn.connection.driver_connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            # control_fully: committing the session commits this transaction.
            self._session = Session(
                bind=self.conn, expire_on_commit=False, join_transaction_mode="control_fully"
            )
        return self._session

    @property
    def made_session(self) -> Session | None:
        """The session, if a handler has asked for one (without making one)."""
        return self._session

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        elif self.conn.in_transaction():
            self.conn.commit()
        self.driver.commit()  # what only the driver knows of (nothing to do if done above)

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self.conn.in_transaction():
            self.conn.rollback()
        self.driver.rollback()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def orm(on: Session | Tx) -> Session:
    """The ORM Session of a Session or a Tx."""
    return on if isinstance(on, Session) else on.session


class Store:
    """The engine and a session factory; `tx()` is one transaction per user action."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(
            engine.execution_options(studybot_read_only=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Store:
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def action(self, *, read_only: bool = False) -> Iterator[Tx]:
        """One user action's transaction, ORM Session only on demand (see `Tx`);
        `read_only` for one that only reads (on SQLite it does not queue behind writers)."""
        with self.engine.connect() as conn:
            tx = Tx(conn)
            if self._sqlite:  # PostgreSQL's driver begins at the first statement
                tx.driver.execute(begin_sql(read_only))
            try:
                yield tx
                tx.commit()
            except BaseException:
                tx.rollback()
                raise
            finally:
                tx.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not queue behind writers."""
        with self._readers() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignore(
    session: Session | Tx, model: type[Base], values: Mapping[str, Any], keys: list[str]
) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; True when a row was inserted.

    Idempotency lives in the unique key, so two processes racing to insert the same row
    both succeed and exactly one row exists afterwards. Prepared once per table and run on
    the driver (answers and review cards are inserted on every click); pending ORM changes
    are flushed first, as a query through the session would.
    """
    return _insert_ignore(model, tuple(keys))(session, values)


@functools.cache
def _insert_ignore(model: type[Base], keys: tuple[str, ...]) -> InsertIgnore:
    return InsertIgnore(model.__table__, keys)


__all__ = ["Base", "Store", "Tx", "insert_ignore", "is_postgres", "make_engine", "orm", "upgrade"]
