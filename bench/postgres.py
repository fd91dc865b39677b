"""What the benchmarks share about PostgreSQL: whether the one they were given answers."""

from __future__ import annotations

from sqlalchemy import text

from bot.store.db import make_engine


def pg_available(url: str) -> bool:
    """True when `url` accepts a connection: a benchmark leaves PostgreSQL out otherwise."""
    try:
        engine = make_engine(url)
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False
