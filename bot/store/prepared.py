"""The statements of a member's everyday path, compiled once and run on the driver.

`python -m bench.slack_roundtrip` and `bench.discord_roundtrip` showed SQLAlchemy's
per-execution work (execution context, result metadata, event dispatch) costing several
times what SQLite takes to answer the keyed lookups that `today` and an answer click are
made of: with Core on the connection the click stayed above its target (1.8–1.9 times a
no-op handler, against 1.75). So these few statements are still written and compiled by
SQLAlchemy, once per dialect, and their values still go through SQLAlchemy's type
conversions; only the execution skips the layers between, on the action's own
connection and transaction. Everything else runs through the Session as usual.

Rows come back as tuples (or `row_type`), never ORM objects: use it for reads and for
inserts that no ORM object in the same session stands for. Pending ORM changes are
flushed first, as the Session's autoflush would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None
R = TypeVar("R")
_GIVEN = object()  # a parameter the caller passes (not a value written in the statement)


@dataclass(frozen=True)
class _Plan:
    sql: str
    binds: tuple[tuple[str, Processor, Any], ...]  # name, conversion, value if fixed
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]  # result columns to convert
    positional: bool

    def args(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a list for positional SQL (SQLite), else a dict."""
        values = ((n, p, params[n] if fixed is _GIVEN else fixed) for n, p, fixed in self.binds)
        if self.positional:
            return [p(v) if p else v for _, p, v in values]
        return {n: p(v) if p else v for n, p, v in values}

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self.converted:
            return tuple(raw)
        out = list(raw)
        for i, p in self.converted:
            out[i] = p(out[i])
        return tuple(out)


def plan(stmt: Any, dialect: Dialect, column_keys: Sequence[str] | None = None) -> _Plan:
    """Compile `stmt` for `dialect`, with the type conversions of its binds and columns."""
    compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    binds = []
    for name in names:
        bind = compiled.binds[name]
        fixed = _GIVEN if bind.required else bind.effective_value
        binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), fixed))
    results = [  # a SELECT's columns, or what an INSERT returns
        col.type.dialect_impl(dialect).result_processor(dialect, None)
        for col in stmt.exported_columns
    ]
    converted = tuple((i, p) for i, p in enumerate(results) if p is not None)
    return _Plan(compiled.string, tuple(binds), converted, bool(compiled.positional))


def connection(s: Session) -> Connection:
    """The Session's connection in its transaction, pending ORM changes flushed first.

    `Store.transaction` binds each Session to a connection it has begun, so that is the
    connection (without the Session's own transaction bookkeeping, a fifth of a keyed
    read's cost)."""
    if s.new or s.dirty or s.deleted:
        s.flush()
    bind = s.get_bind()
    return bind if isinstance(bind, Connection) else s.connection()


def driver(conn: Connection) -> Any:
    """The DB-API connection under `conn` (sqlite3's and psycopg's `execute` both make,
    run and return a cursor)."""
    return conn.connection.driver_connection


def _values(*values: Any) -> tuple[Any, ...]:
    return values


@dataclass
class Prepared(Generic[R]):
    """A Core statement with named bind parameters, run on the Session's driver
    connection; rows as `row_type(*values)`."""

    stmt: Any
    row_type: Callable[..., R] = _values  # type: ignore[assignment]
    _plans: dict[str, _Plan] = field(default_factory=dict, repr=False)

    def _on(self, conn: Connection) -> _Plan:
        found = self._plans.get(conn.dialect.name)
        if found is None:
            found = self._plans[conn.dialect.name] = plan(self.stmt, conn.dialect)
        return found

    def first(self, s: Session, params: Mapping[str, Any]) -> R | None:
        conn = connection(s)
        p = self._on(conn)
        raw = driver(conn).execute(p.sql, p.args(params)).fetchone()
        return None if raw is None else self.row_type(*p.row(raw))

    def all(self, s: Session, params: Mapping[str, Any]) -> list[R]:
        conn = connection(s)
        p = self._on(conn)
        rows = driver(conn).execute(p.sql, p.args(params)).fetchall()
        return [self.row_type(*p.row(raw)) for raw in rows]
