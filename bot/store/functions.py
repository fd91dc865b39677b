"""SQL functions the ORM does not spell the same way on every database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class joined_text(FunctionElement[str]):
    """A column's values as text joined by commas: one row and one string instead of a row
    per value. `func.aggregate_strings` does the same but binds its separator as a
    post-compile parameter, which prepared statements (prepared.py) cannot carry."""

    type = String()
    name = "joined_text"
    inherit_cache = True


@compiles(joined_text)
def _group_concat(element: joined_text, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(joined_text, "postgresql")
def _string_agg(element: joined_text, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"
