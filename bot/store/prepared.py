"""Statements every click runs, compiled once and run straight on the driver.

SQLAlchemy's per-execution work (execution context, result machinery, ORM loading) costs
several times what SQLite takes to answer a keyed lookup, and the slash commands members
use most (`today`, an answer click) are nothing but keyed lookups. A `Prepared` statement
is still written and compiled by SQLAlchemy, for each dialect, and its values still pass
through SQLAlchemy's own type conversions; only the execution skips the layers between.
It runs on the action's connection (`db.Tx`, or a Session's), inside its transaction.

Rows come back as tuples, not ORM objects: use it for reads and single-row inserts that
no ORM object in the same session stands for. Pending ORM changes are flushed first, as
the session's autoflush would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from bot.store.db import Tx

Processor = Callable[[Any], Any] | None
On: TypeAlias = "Session | Tx"  # what a prepared statement runs on


def connection(on: On) -> Connection:
    """The connection of a Session or a Tx, pending ORM changes flushed first (what the
    session's autoflush would do before a query)."""
    session = on if isinstance(on, Session) else on.made_session
    if session is not None:
        session.flush()  # nothing to do (and cheap) when nothing is pending
    if isinstance(on, Session):
        return on.connection()  # begins the session's transaction if it has not begun
    conn: Connection = on.conn
    return conn


_GIVEN = object()  # a parameter the caller passes (not a value written in the statement)


@dataclass(frozen=True)
class _Plan:
    sql: str
    binds: tuple[tuple[str, Processor, Any], ...]  # name, conversion, value if fixed
    results: tuple[Processor, ...]
    positional: bool

    @functools.cached_property
    def converted(self) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """The result columns that need a conversion (most come from the driver as is)."""
        return tuple((i, p) for i, p in enumerate(self.results) if p is not None)

    def args(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a list for positional SQL (SQLite), else a dict."""
        values = ((n, p, params[n] if fixed is _GIVEN else fixed) for n, p, fixed in self.binds)
        if self.positional:
            return [p(v) if p else v for _, p, v in values]
        return {n: p(v) if p else v for n, p, v in values}


def _plan(stmt: Any, dialect: Dialect, column_keys: Sequence[str] | None = None) -> _Plan:
    compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    binds = []
    for name in names:
        bind = compiled.binds[name]
        fixed = _GIVEN if bind.required else bind.effective_value
        binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), fixed))
    results = tuple(  # a SELECT's columns, or what an INSERT returns
        col.type.dialect_impl(dialect).result_processor(dialect, None)
        for col in stmt.exported_columns
    )
    return _Plan(compiled.string, tuple(binds), results, bool(compiled.positional))


def _driver(conn: Connection) -> Any:
    """The DBAPI connection under `conn` (its `execute` makes, runs and returns a cursor)."""
    return conn.connection.driver_connection


class Prepared:
    """A statement with named bind parameters, run on the session's DBAPI connection."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._plans: dict[str, _Plan] = {}

    def _plan_on(self, conn: Connection) -> _Plan:
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            plan = self._plans[conn.dialect.name] = _plan(self.stmt, conn.dialect)
        return plan

    def first(self, s: On, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        conn = connection(s)
        plan = self._plan_on(conn)
        row = _driver(conn).execute(plan.sql, plan.args(params)).fetchone()
        return None if row is None else _convert(plan, row)

    def all(self, s: On, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        conn = connection(s)
        plan = self._plan_on(conn)
        rows = _driver(conn).execute(plan.sql, plan.args(params)).fetchall()
        return [_convert(plan, row) for row in rows]


def _convert(plan: _Plan, row: Sequence[Any]) -> tuple[Any, ...]:
    if not plan.converted:
        return tuple(row)
    out = list(row)
    for i, p in plan.converted:
        out[i] = p(out[i])
    return tuple(out)


class InsertIgnore:
    """INSERT ... ON CONFLICT (keys) DO NOTHING RETURNING id, prepared per set of columns.

    Idempotency lives in the unique key: two processes racing to insert the same row both
    succeed and exactly one row exists afterwards. Returns whether this call inserted it.
    """

    def __init__(self, table: Any, keys: Sequence[str]) -> None:
        self.table: Table = table
        self.keys = list(keys)
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def __call__(self, s: On, values: Mapping[str, Any]) -> bool:
        conn = connection(s)
        dialect = conn.dialect
        columns = tuple(values)
        plan = self._plans.get((dialect.name, columns))
        if plan is None:
            plan = self._plans[(dialect.name, columns)] = _plan(
                self._statement(dialect.name), dialect, column_keys=columns
            )
        return _driver(conn).execute(plan.sql, plan.args(values)).fetchone() is not None

    def _statement(self, dialect: str) -> Any:
        insert: Any
        if dialect == "postgresql":
            insert = postgresql.insert
        elif dialect == "sqlite":
            insert = sqlite.insert
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"unsupported database {dialect}")
        pk = next(iter(self.table.primary_key.columns))
        # RETURNING, not rowcount: drivers disagree on rowcount for DO NOTHING.
        return insert(self.table).on_conflict_do_nothing(index_elements=self.keys).returning(pk)
