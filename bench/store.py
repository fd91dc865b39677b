"""Store benchmark: answer, leaderboard and progress at 10k and at 1.2M answers.

The same group shape (40 members × 60 days) is measured inside a small store (4 groups,
~10k answers) and a large one (500 groups, 1.2M answers); with indexes the per-group work
is the same, so each time at 1.2M should stay within 2× of its time at 10k. `progress`
must run the same number of SQL statements at both sizes. Also reports the resident memory
of an idle `studybot console` with the full content loaded.

    python -m bench.store [--quick] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, text

from bench.dataset import seed
from bench.postgres import pg_available
from bot.content import Content, load_content
from bot.core import StudyBot
from bot.seam import Action, Invocation, Who
from bot.settings import REPO_CONTENT
from bot.store.db import Store, make_engine, upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MEMBERS, DAYS, SAMPLE_GROUPS = 40, 60, 4
START = date(2026, 1, 5)


@contextmanager
def fresh_store(backend: str, pg_url: str | None) -> Iterator[Store]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            store = Store.from_url(f"sqlite:///{Path(d) / 'bench.db'}")
            yield store
            store.dispose()
        return
    assert pg_url
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    try:
        yield Store(engine)
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(store: Store, content: Content, groups: int, runs: int) -> dict[str, float]:
    t0 = time.perf_counter()
    whos = seed(store, content, groups=groups, members=MEMBERS, days=DAYS)
    seeded = time.perf_counter() - t0
    with store.engine.begin() as c:
        c.execute(text("ANALYZE"))
    now = datetime.combine(START + timedelta(days=DAYS), datetime.min.time(), UTC)
    bot = StudyBot(store, content, clock=lambda: now + timedelta(hours=12))
    sample = whos[:SAMPLE_GROUPS]

    def member(w: Who, m: int) -> Who:
        return Who(
            w.platform,
            w.workspace_id,
            w.channel_id,
            f"{w.user_id[:-3]}{m:03d}",
            f"Member {m}",
            False,
        )

    i = iter(range(10**9))

    def board(period: str) -> Callable[[], object]:
        return lambda: bot.handle(
            Invocation(sample[next(i) % len(sample)], "leaderboard", {"period": period})
        )

    def progress() -> object:
        n = next(i)
        return bot.handle(Invocation(member(sample[n % len(sample)], n % MEMBERS), "progress"))

    for fn in (board("all"), progress):  # warm caches and connections
        fn()
    out = {
        "seed_s": seeded,
        "leaderboard_week_ms": median_ms(board("week"), runs),
        "leaderboard_all_ms": median_ms(board("all"), runs),
        "progress_ms": median_ms(progress, runs),
    }

    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.engine, "before_cursor_execute", count)
    progress()
    event.remove(store.engine, "before_cursor_execute", count)
    out["progress_queries"] = statements

    # answers: today's question in each sample group, answered once by each other member
    values = []
    for w in sample:
        reply = bot.handle(Invocation(w, "today"))
        shown = reply.plain_text()
        q = next(q for qid, q in content.by_id.items() if f" {qid} ·" in shown)
        prefix = reply.buttons()[0].value.rsplit(":", 1)[0]
        values.append((w, f"{prefix}:{''.join(q.answer)}"))
    presses = iter([(member(w, m), v) for m in range(1, MEMBERS) for (w, v) in values])

    def answer() -> object:
        who, value = next(presses)
        return bot.press(Action(who, "answer", value))

    out["answer_ms"] = median_ms(answer, min(runs, (MEMBERS - 1) * len(values)))
    return out


def idle_console_rss_mb() -> float:
    """Start `studybot console` on a fresh SQLite file, wait until it is idle, read VmRSS."""
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "STUDYBOT_DATABASE_URL": f"sqlite:///{Path(d) / 'c.db'}"}
        proc = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            if "Plan ends" in line:
                break
        time.sleep(1.0)
        rss_kb = 0
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
        proc.stdin.close()
        proc.wait(30)
        return rss_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="50 groups instead of 500")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    content = load_content(os.environ.get("STUDYBOT_CONTENT_DIR", REPO_CONTENT))
    pg_url = os.environ.get(
        "STUDYBOT_BENCH_POSTGRES_URL", os.environ.get("STUDYBOT_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    backends = ["sqlite"]
    if not args.no_postgres and pg_available(pg_url):
        backends.append("postgres")
    large = 50 if args.quick else 500
    sizes = {"10k": SAMPLE_GROUPS, "1.2M" if not args.quick else "120k": large}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for backend in backends:
        results[backend] = {}
        for label, groups in sizes.items():
            with fresh_store(backend, pg_url) as store:
                results[backend][label] = measure(store, content, groups, args.runs)
            print(f"{backend} {label} ({groups * MEMBERS * DAYS:,} answers) done", file=sys.stderr)

    small, big = list(sizes)
    print(f"\n{'backend':9} {'operation':22} {small:>9} {big:>9} {'ratio':>7}")
    figures: dict[str, object] = {}
    for backend, res in results.items():
        for op in ("answer_ms", "leaderboard_week_ms", "leaderboard_all_ms", "progress_ms"):
            a, b = res[small][op], res[big][op]
            ratio = b / a if a else float("nan")
            print(f"{backend:9} {op:22} {a:8.2f}ms {b:8.2f}ms {ratio:6.2f}x")
            figures[f"{backend}_{op}_ratio"] = round(ratio, 2)
            figures[f"{backend}_{op}_{big}"] = round(b, 2)
        q_small, q_big = res[small]["progress_queries"], res[big]["progress_queries"]
        print(f"{backend:9} {'progress queries':22} {q_small:9.0f} {q_big:9.0f}")
        figures[f"{backend}_progress_queries"] = [q_small, q_big]
        figures[f"{backend}_seed_s_{big}"] = round(res[big]["seed_s"], 1)
    rss = idle_console_rss_mb()
    print(f"\nidle `studybot console` resident memory: {rss:.1f} MB (target < 150 MB)")
    figures["answers_large"] = sizes[big] * MEMBERS * DAYS
    figures["console_rss_mb"] = round(rss, 1)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
