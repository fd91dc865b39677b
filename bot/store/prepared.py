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
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.engine.default import DefaultDialect
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

    def raw(self, s: Session, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """The driver's rows as they come, for a caller that reads thousands and converts
        only the values it has not met before (`convert`)."""
        conn = connection(s)
        p = self._on(conn)
        return list(driver(conn).execute(p.sql, p.args(params)).fetchall())

    def convert(self, s: Session, raw: Sequence[Any]) -> tuple[Any, ...]:
        """One raw row with SQLAlchemy's type conversions."""
        return self._on(connection(s)).row(raw)


class InsertMany:
    """An INSERT of many rows, a multi-row VALUES statement per chunk on the driver, with
    what its RETURNING gives for the rows it inserted.

    The clock writes ten thousand outbox rows at a morning's peak; SQLAlchemy's own
    executemany took four times the driver's time for them (`bench.clock`). So the
    single-row statement is compiled by SQLAlchemy once per dialect, with positional
    parameters, and its VALUES group repeated for each row of a chunk. Values still go
    through the columns' type conversions, each distinct value once per call: most repeat
    from row to row (the instant, the date, the payload)."""

    def __init__(self, stmt: Any, columns: Sequence[str], chunk: int = 500) -> None:
        self.stmt, self.columns, self.chunk = stmt, tuple(columns), chunk
        self._plans: dict[str, tuple[str, str, str, list[Processor], _Plan]] = {}

    def _on(self, conn: Connection) -> tuple[str, str, str, list[Processor], _Plan]:
        found = self._plans.get(conn.dialect.name)
        if found is None:
            dialect = conn.dialect
            if not dialect.positional:  # e.g. psycopg's %(name)s: compile with %s instead
                dialect = cast(type[DefaultDialect], type(dialect))(paramstyle="format")
            compiled = self.stmt.compile(dialect=dialect, column_keys=list(self.columns))
            if list(compiled.positiontup) != list(self.columns):
                raise ValueError(f"InsertMany: give the columns as {compiled.positiontup}")
            sql = compiled.string
            start = sql.index(" VALUES (") + len(" VALUES ")
            end = _closing(sql, start)
            binds = [compiled.binds[name].type.dialect_impl(conn.dialect) for name in self.columns]
            procs = [t.bind_processor(conn.dialect) for t in binds]
            found = (
                sql[:start],
                sql[start:end],
                sql[end:],
                procs,
                plan(self.stmt, conn.dialect, list(self.columns)),
            )
            self._plans[conn.dialect.name] = found
        return found

    def run(self, s: Session, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Insert `rows` (values in `columns` order); the returned rows, converted."""
        conn = connection(s)
        head, group, tail, procs, single = self._on(conn)
        memo: list[dict[Any, Any]] = [{} for _ in procs]
        converting = [(i, p, memo[i]) for i, p in enumerate(procs) if p is not None]
        cur = driver(conn)
        out: list[tuple[Any, ...]] = []
        for i in range(0, len(rows), self.chunk):
            part = rows[i : i + self.chunk]
            args: list[Any] = []
            for row in part:
                values = list(row)
                for j, proc, seen in converting:
                    v = values[j]
                    key = id(v) if isinstance(v, dict | list) else v
                    if key not in seen:
                        seen[key] = proc(v)
                    values[j] = seen[key]
                args += values
            sql = head + ", ".join([group] * len(part)) + tail
            out += [single.row(raw) for raw in cur.execute(sql, args).fetchall()]
        return out


def _closing(sql: str, start: int) -> int:
    """The index after the parenthesis that closes the one at `start`."""
    depth = 0
    for i in range(start, len(sql)):
        depth += (sql[i] == "(") - (sql[i] == ")")
        if depth == 0:
            return i + 1
    raise ValueError(f"unbalanced parentheses in {sql!r}")
