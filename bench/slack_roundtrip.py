"""Slack round trip: `/study today` and an answer click through the real App.

Each sample is a signed request in and the response out: for `/study today` the ack body
that carries the question, for a click the ack, sent once the answer is recorded and its
reply made. The click's feedback goes to the fake's `response_url` after the ack; the
time until it arrives there is reported as well ("feedback"), against the same no-op
click. The baseline is a no-op Bolt handler built the same way (same Bolt configuration,
same signing, same requests, same server) measured in the same run, so the ratio is what
the adapter, users.info and the core add on top of Bolt itself. A second no-op acks
`/study today` with a question rendered once ("today*"): what sending a question back
costs by itself.

The figures that count are over HTTP (uvicorn + the ASGI adapter, as `studybot serve
slack` runs): Slack's side, the client sending the signed requests and the fake Web API
receiving `response_url` posts, runs in processes of its own, the client on a CPU of its
own, as Slack's servers are on machines of their own. In-process `App.dispatch` figures
are printed as well, as a diagnostic: there Bolt alone costs a tenth of a millisecond.

Every timed request starts from a quiet app (what the previous one left behind, such as
a feedback post or name lookups, is drained first), and the real App and the no-op take
turns going first. The store holds the bench dataset (`bench.dataset.seed`): by default
50 groups × 40 members × 60 days of answers; every sample is a different member
answering a fresh day's question, so each click really inserts an answer. Each group's
question of the day is rendered for many members, so most samples take its blocks from
the renderer's cache, as members of a real group do; the cost of the first render of a
group's day is printed at the end. "core ms" is the core called directly between samples
(for a click, `StudyBot.press`: what its ack waits for); "adapter ms" is what is left.

    python -m bench.slack_roundtrip [--quick] [--local] [--phases]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from slack_bolt import Ack, App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.slack.app import SlackApp, create_app, safe_render
from adapters.slack.render import block_cache, render
from adapters.slack.server import SlackAsgi, bound_socket, http_server
from bench.dataset import seed
from bot.content import load_content
from bot.core import StudyBot
from bot.seam import Action, Reply, Who
from bot.settings import REPO_CONTENT, Settings
from bot.store.db import Store
from tests.slack.conftest import (
    SECRET,
    action_body,
    command_body,
    find_button,
    signed_headers,
)
from tests.slack.fakeslack import FakeSlack

TARGET = 1.75  # today and click each at most 1.75 times the no-op handler over HTTP
DAY_AFTER_SEED = datetime(2026, 3, 6, 12, tzinfo=UTC)  # seed covers 2026-01-05 + 60 days


class Sent(NamedTuple):
    status: int
    text: str
    t0: float  # time.perf_counter() when the request was sent, in the sender's process
    t1: float  # when its response had arrived


class RemoteSlack:
    """Slack's side in processes of their own, as Slack's servers are: the test suite's
    fake Web API (with the `response_url`s) in one, the client that sends the signed
    requests in another (a click's feedback arriving at the fake must not hold up the
    client reading the ack, as it would under one GIL). Their CPU and threads do not
    compete with the app's for the app process's GIL, and the app's time is measured
    where Slack would see it. Only what the bench needs crosses the pipes (requests to
    send, users to register, counts, arrival times)."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._fake, fake_end = ctx.Pipe()
        self._client, client_end = ctx.Pipe()
        self._procs = [
            ctx.Process(target=_serve_fake, args=(fake_end,), daemon=True),
            ctx.Process(target=_serve_client, args=(client_end,), daemon=True),
        ]
        for proc in self._procs:
            proc.start()
        self.url, self.api_url = self._fake.recv()
        self._client.recv()
        self._responses = itertools.count(1)

    def _call(self, name: str, *args: Any) -> Any:
        self._fake.send((name, args))
        return self._fake.recv()

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._responses)}"

    def user(self, user_id: str, name: str) -> None:
        self._call("user", user_id, name)

    def count(self, method: str) -> int:
        return int(self._call("count", method))

    def received_at(self, method: str) -> float:
        return float(self._call("received_at", method))

    def post(self, url: str, body: str, headers: dict[str, str]) -> Sent:
        self._client.send((url, body, headers))
        return Sent(*self._client.recv())

    def stop(self) -> None:
        self._call("stop")
        self._client.send(None)
        for proc in self._procs:
            proc.join(10)


def split_cpus(side: str) -> None:
    """Give the client that times each exchange a CPU of its own when there are two or
    more: on a small machine the scheduler otherwise runs it on the CPU where the app is
    already posting a click's feedback, or next to the fake API receiving that post, and
    the client's reading of the ack waits for work it would never share a machine with.
    The fake API shares the app's CPU and yields to it."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2:
        return
    half = len(cpus) // 2
    os.sched_setaffinity(0, cpus[half:] if side == "slack client" else cpus[:half])
    if side == "slack api":
        os.nice(19)


def _serve_fake(conn: Any) -> None:
    split_cpus("slack api")
    fake = FakeSlack().start()
    conn.send((fake.url, fake.api_url))
    while True:
        name, args = conn.recv()
        conn.send(count(fake, *args) if name == "count" else getattr(fake, name)(*args))
        if name == "stop":
            return


def _serve_client(conn: Any) -> None:
    """Times each POST here, in the sender's process (time.perf_counter() is the system's
    monotonic clock, so it compares with the fake's arrival times)."""
    split_cpus("slack client")
    with httpx.Client() as client:
        conn.send("ready")
        while (request := conn.recv()) is not None:
            url, body, headers = request
            t0 = time.perf_counter()
            r = client.post(url, content=body, headers=headers)
            conn.send((r.status_code, r.text, t0, time.perf_counter()))


def count(fake: Any, method: str) -> int:
    """How many calls of `method` the fake has seen (a number, not the calls: a remote fake
    would otherwise pickle its whole growing call list while the next sample is timed)."""
    return fake.count(method) if isinstance(fake, RemoteSlack) else len(fake.of(method))


def noop_app(fake: Any, canned: dict[str, Any] | None = None) -> App:
    """The baseline: Bolt with our App's configuration and listeners that only ack. With
    `canned`, the command's ack carries that reply (a second, informative baseline: what
    sending a question back costs by itself)."""
    app = App(
        client=WebClient(token="xoxb-test", base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=True,
        name="noop",
    )

    def ack_only(ack: Ack) -> None:
        ack()

    def ack_canned(ack: Ack) -> None:
        ack(**(canned or {}))

    app.command("/study")(ack_canned if canned else ack_only)
    app.action(re.compile(".*"))(ack_only)
    return app


class Transport:
    """Sends a signed body to an app: in-process dispatch, or an HTTP POST to uvicorn from
    this process or from Slack's."""

    def __init__(self, name: str, send: Callable[[str], Sent]) -> None:
        self.name, self.send = name, send


def in_process(app: App) -> Transport:
    def send(body: str) -> Sent:
        t0 = time.perf_counter()
        r = app.dispatch(BoltRequest(body=body, headers=signed_headers(body)))
        return Sent(r.status, r.body, t0, time.perf_counter())

    return Transport("dispatch", send)


def over_http(client: httpx.Client, url: str) -> Transport:
    def send(body: str) -> Sent:
        t0 = time.perf_counter()
        r = client.post(url, content=body, headers=signed_headers(body))
        return Sent(r.status_code, r.text, t0, time.perf_counter())

    return Transport("http", send)


def from_slack(slack: RemoteSlack, url: str) -> Transport:
    def send(body: str) -> Sent:
        return slack.post(url, body, signed_headers(body))

    return Transport("http", send)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def run_round(
    real: Transport,
    noop: Transport,
    canned: Transport,
    fake: Any,
    bot: StudyBot,
    slack: SlackApp,
    pairs: list[tuple[Who, Who]],
) -> dict[str, list[float]]:
    """Interleave the real App, the no-op handler and the bare core so drift hits all three.

    Each pair is two seeded members who have not answered today: the first goes through
    Slack, the second calls the core directly (a member answers only once a day). Every
    timed request starts from a quiet app (the work the previous one left behind, such as
    a feedback post or name lookups, is drained first), and the real App and the no-op
    take turns going first, so neither inherits the other's wake-ups.
    """
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "today",
            "click",
            "feedback",
            "noop_today",
            "noop_click",
            "canned_today",
            "core_today",
            "core_click",
        )
    }

    def send(transport: Transport, body: str) -> Sent:
        slack.frontend.drain()
        sent = transport.send(body)
        assert sent.status == 200, (sent.status, sent.text[:300])
        return sent

    button: dict[str, Any] | None = None
    for i, (who, other) in enumerate(pairs):
        args = (who.channel_id, who.workspace_id)

        def real_round(who: Who = who, args: tuple[str, str] = args) -> dict[str, Any]:
            sent = send(real, command_body(fake, who.user_id, who.display_name, "today", *args))
            assert "Question of the day" in sent.text, sent.text[:300]
            times["today"].append((sent.t1 - sent.t0) * 1000)
            button = find_button(json.loads(sent.text)["blocks"], "A")
            before = count(fake, "response")
            sent = send(real, action_body(fake, who.user_id, who.display_name, button, *args))
            times["click"].append((sent.t1 - sent.t0) * 1000)
            slack.frontend.drain()
            assert count(fake, "response") == before + 1, "the feedback was not delivered"
            times["feedback"].append((fake.received_at("response") - sent.t0) * 1000)
            return button

        def noop_round(
            button: dict[str, Any], who: Who = who, args: tuple[str, str] = args
        ) -> None:
            sent = send(noop, command_body(fake, who.user_id, who.display_name, "today", *args))
            times["noop_today"].append((sent.t1 - sent.t0) * 1000)
            sent = send(canned, command_body(fake, who.user_id, who.display_name, "today", *args))
            times["canned_today"].append((sent.t1 - sent.t0) * 1000)
            sent = send(noop, action_body(fake, who.user_id, who.display_name, button, *args))
            times["noop_click"].append((sent.t1 - sent.t0) * 1000)

        if button is None or i % 2 == 0:
            button = real_round()
            noop_round(button)
        else:
            noop_round(button)  # the previous member's button: the no-op reads nothing
            button = real_round()

        ms, reply = timed(lambda w=other: bot.handle_text(w, "/study today"))  # type: ignore[misc]
        times["core_today"].append(ms)
        answer = next(b for b in reply.buttons() if b.label == "A")
        action = Action(other, answer.action_id, answer.value)
        # what the click's ack waits for: the answer recorded and its reply made
        ms, _ = timed(lambda a=action: bot.press(a))  # type: ignore[misc]
        times["core_click"].append(ms)
    return times


def time_phases(slack: SlackApp) -> dict[str, list[float]]:
    """Diagnostics only (--phases): wrap the adapter's steps with timers.

    Adds a few microseconds per step to the real App's figures; the default run does not.
    users.info runs only for members no process has met: the bench's members are seeded,
    so it should not run at all (the count says so).
    """
    import adapters.slack.listeners as slack_listeners

    out: dict[str, list[float]] = {"users.info (lookup)": [], "render": [], "response_url": []}

    def timer(fn: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
        def timed_fn(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                into.append((time.perf_counter() - t0) * 1000)

        return timed_fn

    directory = slack.frontend.directory
    fetch = directory._fetch
    directory._fetch = timer(fetch, out["users.info (lookup)"])  # type: ignore[method-assign]
    slack_listeners.safe_render = timer(slack_listeners.safe_render, out["render"])  # type: ignore[assignment]
    respond = slack.frontend._respond
    slack.frontend._respond = timer(respond, out["response_url"])  # type: ignore[method-assign]
    return out


def render_costs(reply: Reply, n: int = 300) -> tuple[float, float]:
    """Median ms to render `reply` with an empty block cache, and from the cache."""
    first, cached = [], []
    for _ in range(n):
        block_cache.cache_clear()
        first.append(timed(lambda: render(reply))[0])
        cached.append(timed(lambda: render(reply))[0])
    return statistics.median(first), statistics.median(cached)


def members(store: Store, whos: list[Who], per_group: int, n: int) -> list[Who]:
    """`n` distinct seeded members (not the groups' admins), round-robin over groups."""
    out: list[Who] = []
    m = 1
    while len(out) < n:
        for w in whos:
            if len(out) == n:
                break
            g = w.channel_id[1:]
            out.append(
                Who("slack", w.workspace_id, w.channel_id, f"U{g}{m:03d}", f"Member {int(g)}-{m}")
            )
        m += 1
        if m >= per_group:
            raise ValueError("not enough seeded members for the samples")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small run for smoke tests")
    ap.add_argument(
        "--phases",
        action="store_true",
        help="also time the adapter's own steps (users.info, render, response_url post)",
    )
    ap.add_argument(
        "--local",
        action="store_true",
        help="run Slack's side (the fake Web API and the HTTP client) in this process, "
        "where its CPU competes with the app's for the GIL",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    groups, per_group, days, samples = (10, 20, 20, 30) if args.quick else (50, 40, 60, 300)

    content = load_content(REPO_CONTENT)
    fake: Any = FakeSlack().start() if args.local else RemoteSlack()
    if not args.local:
        split_cpus("app")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        admins = seed(
            store,
            content,
            groups=groups,
            members=per_group,
            days=days,
            platform="slack",
            workspace_prefix="T",
        )
        seeded = time.perf_counter() - t0
        bot = StudyBot(store, content, clock=lambda: DAY_AFTER_SEED)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
        )
        slack = create_app(bot, settings)
        phases = time_phases(slack) if args.phases else None
        noop = noop_app(fake)
        question_reply = bot.handle_text(admins[0], "/study today")
        question = safe_render(question_reply)
        canned = noop_app(
            fake, {"response_type": "ephemeral", "blocks": question.blocks, "text": question.text}
        )
        who_all = members(store, admins, per_group, 4 * samples + 40)
        for w in who_all:  # Slack knows each member by the name the store already holds
            fake.user(w.user_id, w.display_name)
        pairs = list(zip(who_all[0::2], who_all[1::2], strict=True))
        warm, first, second = pairs[:20], pairs[20 : 20 + samples], pairs[20 + samples :]

        results: dict[str, dict[str, list[float]]] = {}
        local = [in_process(slack.app), in_process(noop), in_process(canned)]
        run_round(*local, fake, bot, slack, warm[:10])
        results["dispatch"] = run_round(*local, fake, bot, slack, first)

        servers, urls = [], []
        for asgi in (
            SlackAsgi(slack, lambda: True),
            SlackAsgi(SlackApp(noop, slack.frontend, slack.messenger), lambda: True),
            SlackAsgi(SlackApp(canned, slack.frontend, slack.messenger), lambda: True),
        ):
            sock = bound_socket()
            server = http_server(asgi, sock.getsockname()[1], host="127.0.0.1", log_level="error")
            threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
            while not server.started:
                time.sleep(0.01)
            servers.append(server)
            urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events")
        with httpx.Client() as client:
            if args.local:
                remote = [over_http(client, url) for url in urls]
            else:
                remote = [from_slack(fake, url) for url in urls]
            run_round(*remote, fake, bot, slack, warm[10:])
            results["http"] = run_round(*remote, fake, bot, slack, second)
        for server in servers:
            server.should_exit = True
        slack.close()
        store.dispose()
    looked_up = count(fake, "users.info")
    fake.stop()

    figures: dict[str, Any] = {
        "bench": "slack_roundtrip",
        "samples": samples,
        "dataset": {
            "groups": groups,
            "members": per_group,
            "days": days,
            "answers": groups * per_group * days,
        },
        "target_ratio": TARGET,
    }
    print(
        f"dataset: {groups} groups × {per_group} members × {days} days "
        f"({groups * per_group * days} answers), seeded in {seeded:.1f}s; {samples} samples"
    )
    print(
        f"{'transport':<10}{'operation':<10}{'real ms':>10}{'no-op ms':>10}{'ratio':>8}"
        f"{'real p90':>10}{'core ms':>10}{'adapter ms':>11}"
    )
    for transport, t in results.items():
        med = {k: statistics.median(v) for k, v in t.items()}
        p90 = {k: statistics.quantiles(v, n=10)[-1] for k, v in t.items()}

        def line(
            label: str, real: float, base: float, tail: str = "", transport: str = transport
        ) -> float:
            ratio = real / base
            print(f"{transport:<10}{label:<10}{real:>10.2f}{base:>10.2f}{ratio:>8.2f}{tail}")
            return ratio

        for op in ("today", "click"):
            own = med[op] - med[f"noop_{op}"] - med[f"core_{op}"]
            tail = f"{p90[op]:>10.2f}{med[f'core_{op}']:>10.2f}{own:>11.2f}"
            ratio = line(op, med[op], med[f"noop_{op}"], tail)
            figures[f"{transport}_{op}_adapter_ms"] = round(own, 3)
            figures[f"{transport}_core_{op}_ms"] = round(med[f"core_{op}"], 3)
            figures[f"{transport}_{op}_ms"] = round(med[op], 3)
            figures[f"{transport}_noop_{op}_ms"] = round(med[f"noop_{op}"], 3)
            figures[f"{transport}_{op}_ratio"] = round(ratio, 2)
        ratio = line("feedback", med["feedback"], med["noop_click"], f"{p90['feedback']:>10.2f}")
        figures[f"{transport}_feedback_ms"] = round(med["feedback"], 3)
        figures[f"{transport}_feedback_ratio"] = round(ratio, 2)
        note = "   (* against a no-op that acks with the same question)"
        ratio = line("today*", med["today"], med["canned_today"], note)
        figures[f"{transport}_canned_today_ms"] = round(med["canned_today"], 3)
        figures[f"{transport}_today_vs_canned_ratio"] = round(ratio, 2)
        both = line("both", med["today"] + med["click"], med["noop_today"] + med["noop_click"])
        figures[f"{transport}_ratio"] = round(both, 2)
    figures["meets_target"] = all(
        figures[f"http_{op}_ratio"] <= TARGET for op in ("today", "click")
    )
    if phases is not None:
        print(f"adapter steps, median ms over both transports ({looked_up} users.info calls)")
        for name, ms in phases.items():
            if ms:
                print(f"  {name:<22}{statistics.median(ms):>8.3f}  ×{len(ms)}")
    first, cached = render_costs(question_reply)
    print(
        f"rendering a question: {cached:.3f} ms from the block cache, {first:.3f} ms for the "
        "first member of a group's day (the samples above are mostly cached, as in a group)"
    )
    figures["render_cached_ms"], figures["render_first_ms"] = round(cached, 3), round(first, 3)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
