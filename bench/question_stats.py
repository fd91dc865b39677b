"""Question statistics and the cohort report at 100k answers.

Seeds 10 groups × 40 members × 250 days of daily answers (100,000 first attempts) and
times `question_stats` across all groups and within one group, the lead's
`cohort_summary` of one group, and the whole `/study cohort` command (its chart included).

    python -m bench.question_stats [--no-postgres] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from sqlalchemy import text

from bench.dataset import seed
from bench.store import PG_DEFAULT, fresh_store, median_ms, pg_available
from bot.content import Content, load_content
from bot.core import StudyBot
from bot.features.cohort_summary import cohort_summary
from bot.features.question_stats import question_stats
from bot.seam import Invocation
from bot.settings import REPO_CONTENT
from bot.store.db import Store
from bot.store.records import GroupRecord
from bot.timeutil import utcnow

GROUPS, MEMBERS, DAYS = 10, 40, 250


def measure(store: Store, content: Content, runs: int) -> dict[str, float]:
    whos = seed(store, content, groups=GROUPS, members=MEMBERS, days=DAYS)
    with store.engine.begin() as c:
        c.execute(text("ANALYZE"))
    now = utcnow()
    with store.transaction(read_only=True) as s:
        group = GroupRecord.get(s, 1)
    assert group is not None

    def every_group() -> None:
        with store.transaction(read_only=True) as s:
            assert question_stats(s, content)

    def one_group() -> None:
        with store.transaction(read_only=True) as s:
            assert question_stats(s, content, group_id=1)

    def summary() -> None:
        with store.transaction(read_only=True) as s:
            assert len(cohort_summary(s, content, group, now).members) == MEMBERS

    bot = StudyBot(store, content)

    def command() -> None:
        reply = bot.handle(Invocation(whos[0], "cohort"))
        assert "Cohort report" in reply.plain_text(), reply.plain_text()

    return {
        "question_stats_all_ms": median_ms(every_group, runs),
        "question_stats_group_ms": median_ms(one_group, runs),
        "cohort_summary_ms": median_ms(summary, runs),
        "cohort_command_ms": median_ms(command, max(1, runs // 2)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    content = load_content(os.environ.get("STUDYBOT_CONTENT_DIR", REPO_CONTENT))
    pg_url = os.environ.get(
        "STUDYBOT_BENCH_POSTGRES_URL", os.environ.get("STUDYBOT_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    backends = ["sqlite"]
    if not args.no_postgres and pg_available(pg_url):
        backends.append("postgres")
    figures: dict[str, dict[str, float]] = {}
    for backend in backends:
        with fresh_store(backend, pg_url) as store:
            figures[backend] = measure(store, content, args.runs)
        print(f"{backend} done", file=sys.stderr)
    answers = GROUPS * MEMBERS * DAYS
    print(f"\n{answers:,} first attempts ({GROUPS} groups × {MEMBERS} members × {DAYS} days)")
    print(f"{'backend':9} {'operation':26} {'median':>10}")
    for backend, ops in figures.items():
        for op, ms in ops.items():
            print(f"{backend:9} {op.removesuffix('_ms'):26} {ms:8.1f}ms")
    print(json.dumps({"answers": answers, **figures}, sort_keys=True))


if __name__ == "__main__":
    main()
