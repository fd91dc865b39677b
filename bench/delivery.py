"""Delivery benchmark: 5,000 groups due at the same minute, through the outbox to Slack.

A fake Slack Web API on 127.0.0.1 enforces one message per second per channel and a
workspace-wide rate, answering 429 with Retry-After beyond them. The clock plans in one
process and workers deliver in others (as the Procfile runs them) through the real
`SlackMessenger` and `slack_sdk` client. Reported: total time divided by the minimum the
limits allow, duplicate posts and lost posts; on SQLite with one worker and on PostgreSQL
with three. The groups have run for a month, so each gets its day's question and, in the
thread of yesterday's, the reveal of that one: two messages a channel.

    python -m bench.delivery [--groups 5000] [--workspaces 10] [--rate 10] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing as mp
import os
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import func, insert, select, text

from bot.content import load_content
from bot.settings import REPO_CONTENT
from bot.store.db import Store, make_engine, upgrade
from bot.store.models import DailyQuestion, Group, Outbox, Workspace

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
YESTERDAY_TS = "1700000000.000100"  # the ts of every group's posted question of yesterday


class Limits:
    """Per-channel spacing and a per-workspace token bucket, like Slack's chat.postMessage."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.lock = threading.Lock()
        self.channel_last: dict[str, float] = {}
        self.tokens: dict[str, float] = defaultdict(lambda: rate)
        self.refilled: dict[str, float] = {}
        self.posts: Counter[str] = Counter()
        self.reveals: Counter[str] = Counter()  # thread replies to yesterday's question
        self.per_workspace: Counter[str] = Counter()
        self.rejected = 0
        self.first: float | None = None
        self.last: float = 0.0

    def take(self, workspace: str, channel: str) -> float:
        """0 when the post is allowed (and recorded), else seconds to wait."""
        now = time.monotonic()
        with self.lock:
            last = self.channel_last.get(channel)
            if last is not None and now - last < 1.0:
                self.rejected += 1
                return 1.0 - (now - last)
            before = self.refilled.get(workspace, now)
            self.tokens[workspace] = min(
                self.rate, self.tokens[workspace] + (now - before) * self.rate
            )
            self.refilled[workspace] = now
            if self.tokens[workspace] < 1:
                self.rejected += 1
                return (1 - self.tokens[workspace]) / self.rate
            self.tokens[workspace] -= 1
            self.channel_last[channel] = now
            self.posts[channel] += 1
            self.per_workspace[workspace] += 1
            self.first = self.first or now
            self.last = now
            return 0.0


def fake_slack(limits: Limits) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                form = json.loads(body or "{}")
            else:
                form = {k: v[0] for k, v in parse_qs(body).items()}
            workspace = self.headers.get("Authorization", "").removeprefix("Bearer xoxb-")
            method = self.path.rsplit("/", 1)[-1]
            if method == "chat.postMessage":
                channel = str(form.get("channel"))
                wait = limits.take(workspace, channel)
                if wait > 0:
                    return self._send(
                        429,
                        {"ok": False, "error": "ratelimited"},
                        {"Retry-After": str(max(1, math.ceil(wait)))},
                    )
                if form.get("thread_ts") == YESTERDAY_TS:  # the reveal, in yesterday's thread
                    limits.reveals[channel] += 1
                return self._send(
                    200, {"ok": True, "channel": form.get("channel"), "ts": f"{time.time():.6f}"}
                )
            if method == "conversations.history":
                return self._send(200, {"ok": True, "messages": []})
            return self._send(200, {"ok": True})

        def _send(
            self, code: int, data: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def seed(url: str, groups: int, workspaces: int, due: datetime) -> None:
    engine = make_engine(url, **_engine_kw(url))
    upgrade(engine)
    store = Store(engine)
    yesterday = due - timedelta(minutes=1)  # created just before: nothing earlier to catch up
    with store.transaction() as s:
        s.execute(
            insert(Workspace),
            [
                {
                    "id": w + 1,
                    "platform": "slack",
                    "external_id": f"T{w:03d}",
                    "created_at": yesterday,
                }
                for w in range(workspaces)
            ],
        )
        s.execute(
            insert(Group),
            [
                {
                    "id": i + 1,
                    "workspace_id": i % workspaces + 1,
                    "channel_id": f"C{i:05d}",
                    "track": "associate",
                    "start_date": (due - timedelta(days=30)).date(),
                    "tz": "UTC",
                    "post_time": due.time().replace(second=0, microsecond=0),
                    "post_days": "mon,tue,wed,thu,fri,sat,sun",
                    "exam_date": None,
                    "leads": [],
                    "skip_dates": [],
                    "paused": False,
                    "summary_day": "sun" if due.weekday() != 6 else "sat",
                    "created_by": "ULEAD",
                    "created_at": yesterday,
                    "updated_at": yesterday,
                }
                for i in range(groups)
            ],
        )
        # yesterday's question, posted: today's reveal answers it in its thread
        before = due.date() - timedelta(days=1)
        content = load_content(REPO_CONTENT)
        qid = next(q.id for q in content.questions if q.track == "associate")
        s.execute(
            insert(DailyQuestion),
            [
                {
                    "workspace_id": i % workspaces + 1,
                    "group_id": i + 1,
                    "local_date": before,
                    "question_id": qid,
                    "created_at": due - timedelta(days=1),
                }
                for i in range(groups)
            ],
        )
        s.execute(
            insert(Outbox),
            [
                {
                    "workspace_id": i % workspaces + 1,
                    "group_id": i + 1,
                    "platform": "slack",
                    "target_kind": "channel",
                    "target_id": f"C{i:05d}",
                    "kind": "daily",
                    "local_date": before,
                    "idem_key": f"daily:{i + 1}:{before.isoformat()}",
                    "payload": {},
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": due - timedelta(days=1),
                    "created_at": due - timedelta(days=1),
                    "message_id": YESTERDAY_TS,
                }
                for i in range(groups)
            ],
        )
    store.dispose()


def _clock_proc(url: str) -> None:
    from scheduler.clock import Clock

    store = Store(make_engine(url, **_engine_kw(url)))
    Clock(store, load_content(REPO_CONTENT)).tick()
    store.dispose()


def _worker_proc(url: str, api: str, name: str, done: Any) -> None:
    from slack_sdk import WebClient

    from adapters.slack.messenger import SlackMessenger
    from scheduler.worker import DeliveryConfig, Worker

    store = Store(make_engine(url, **_engine_kw(url)))
    clients: dict[str, WebClient] = {}

    def client_for(ws: str) -> WebClient:
        if ws not in clients:
            clients[ws] = WebClient(token=f"xoxb-{ws}", base_url=api)
        return clients[ws]

    worker = Worker(
        store,
        load_content(REPO_CONTENT),
        {"slack": SlackMessenger(client_for)},
        name=name,
        config=DeliveryConfig(batch=50),
    )
    worker.run_forever(done, idle=0.05)  # as `studybot deliver` runs it
    store.dispose()


def _engine_kw(url: str) -> dict[str, Any]:
    if "schema=" in url:
        return {}
    schema = os.environ.get("BENCH_SCHEMA")
    return {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}


def run(url: str, groups: int, workspaces: int, rate: float, workers: int) -> dict[str, float]:
    limits = Limits(rate)
    server = fake_slack(limits)
    api = f"http://127.0.0.1:{server.server_address[1]}/api/"
    due = datetime.now(UTC).replace(second=0, microsecond=0)
    seed(url, groups, workspaces, due)
    ctx = mp.get_context("fork")
    done = ctx.Event()
    start = time.monotonic()
    procs = [ctx.Process(target=_clock_proc, args=(url,))]
    procs += [
        ctx.Process(target=_worker_proc, args=(url, api, f"w{i}", done)) for i in range(workers)
    ]
    for p in procs:
        p.start()
    store = Store(make_engine(url, **_engine_kw(url)))
    deadline = start + 900
    planned_at = 0.0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if procs[0].exitcode is None:
            continue
        planned_at = planned_at or time.monotonic() - start
        with store.transaction() as s:
            open_rows = s.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(Outbox.status.in_(("pending", "sending")))
            )
        if not open_rows:
            break
    total = time.monotonic() - start
    done.set()
    for p in procs:
        p.join(30)
    with store.transaction() as s:
        statuses = Counter(
            s.scalars(
                select(Outbox.status).where(
                    Outbox.kind.in_(("daily", "reveal")), Outbox.local_date == due.date()
                )
            )
        )
    store.dispose()
    server.shutdown()
    per_ws = 2 * groups / workspaces  # the question and the reveal
    minimum = max(per_ws / rate, 1.0)
    channels = [f"C{i:05d}" for i in range(groups)]
    duplicates = sum(max(0, limits.posts[c] - 2) for c in channels)
    lost = sum(max(0, 2 - limits.posts[c]) for c in channels)
    return {
        "total_s": round(total, 2),
        "planned_s": round(planned_at, 1),
        "minimum_s": round(minimum, 2),
        "ratio": round(total / minimum, 3),
        "duplicates": duplicates,
        "lost": lost,
        "rate_limited_429": limits.rejected,
        "sent_rows": statuses.get("sent", 0),
        "reveals_in_thread": sum(limits.reveals.values()),
    }


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument(
        "--rate", type=float, default=10.0, help="workspace-wide chat.postMessage limit per second"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        results["sqlite_1_worker"] = run(
            f"sqlite:///{Path(d) / 'bench.db'}", args.groups, args.workspaces, args.rate, workers=1
        )
    pg = os.environ.get(
        "STUDYBOT_BENCH_POSTGRES_URL", os.environ.get("STUDYBOT_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    if not args.no_postgres:
        try:
            admin = make_engine(pg)
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            os.environ["BENCH_SCHEMA"] = schema
            upgrade(make_engine(pg, connect_args={"options": f"-csearch_path={schema}"}))
            try:
                results["postgres_3_workers"] = run(
                    pg, args.groups, args.workspaces, args.rate, workers=3
                )
            finally:
                with admin.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        except Exception as e:  # no PostgreSQL here: report SQLite only
            print(f"PostgreSQL run skipped: {e}")
    print(
        f"\n{args.groups} groups due at one minute, {args.workspaces} workspaces, "
        f"{args.rate:g} posts/s per workspace, 1 post/s per channel"
    )
    print(
        f"{'setup':20} {'total':>8} {'minimum':>8} {'ratio':>6} {'dups':>5} {'lost':>5} {'429s':>6}"
    )
    for name, r in results.items():
        print(
            f"{name:20} {r['total_s']:7.1f}s {r['minimum_s']:7.1f}s {r['ratio']:6.2f} "
            f"{r['duplicates']:5d} {r['lost']:5d} {r['rate_limited_429']:6d}"
        )
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
