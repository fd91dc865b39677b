"""Delivery pace and dispatch: a workspace's bucket, shared by workers; lanes per workspace."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import insert, select

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import RateLimited
from bot.store.db import Store, is_postgres
from bot.store.models import Outbox, Workspace
from scheduler.clock import Clock
from scheduler.rate import Bucket, LocalRates, RateConfig, SharedRates
from scheduler.worker import DeliveryConfig, Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat

CFG = RateConfig(rate=10.0, burst=1.0, probe=0.0, start_probe=0.0, backoff=0.5)


# ------------------------------------------------------------------ the bucket


def test_a_fresh_bucket_bursts_then_spaces_posts_at_its_rate() -> None:
    st = Bucket.fresh(CFG, now=100.0)
    waits = [st.take(100.0, CFG)[0] for _ in range(12)]
    assert waits[:10] == [0.0] * 10  # a second's worth at once, as the platform allows
    assert waits[10] == pytest.approx(0.1) and waits[11] == pytest.approx(0.2)


def test_time_lost_is_caught_up_but_only_a_bursts_worth() -> None:
    st = Bucket(rate=10.0, tokens=0.0, stamp=100.0)
    # five idle seconds refill the bucket to its cap (one second of posts), no more
    waits = [st.take(105.0, CFG)[0] for _ in range(11)]
    assert waits[:10] == [0.0] * 10 and waits[10] == pytest.approx(0.1)


def test_a_429_holds_and_slows_down_once_per_hold() -> None:
    st = Bucket(rate=10.0, tokens=5.0, stamp=100.0)
    st.limited(100.0, 2.0, CFG)
    st.limited(100.5, 1.0, CFG)  # another post that was on its way: same hold
    assert st.rate == pytest.approx(5.0) and st.learned
    assert st.held_until == pytest.approx(102.0)
    wait, held = st.take(101.0, CFG)
    assert held and wait == pytest.approx(1.0)
    # after the hold the bucket has refilled for the time held, from empty
    assert st.take(102.0, CFG) == (0.0, False)
    st.limited(103.0, 1.0, CFG)  # a new hold: slower again
    assert st.rate == pytest.approx(2.5)


def test_the_rate_rises_faster_until_the_first_429() -> None:
    cfg = RateConfig(rate=10.0, probe=0.001, start_probe=0.01)
    st = Bucket.fresh(cfg, now=100.0)
    st.take(100.0, cfg)
    assert st.rate == pytest.approx(10.01)  # a step per post: a fraction per second
    st.limited(100.0, 1.0, cfg)
    st.take(105.0, cfg)
    assert st.rate == pytest.approx(10.01 * cfg.backoff + 0.001)


def _simulate(cfg: RateConfig, limit: float, seconds: float) -> tuple[Bucket, int, int]:
    """Post back to back through a bucket against a platform bucket of `limit` posts/s
    (holding a second's worth) that answers 429 with Retry-After in whole seconds."""
    st = Bucket.fresh(cfg, now=100.0)
    t, server, refilled, accepted, refused = 100.0, limit, 100.0, 0, 0
    while t < 100.0 + seconds:
        wait, _held = st.take(t, cfg)
        t += wait
        server = min(limit, server + (t - refilled) * limit)
        refilled = t
        if server >= 1:
            server -= 1
            accepted += 1
        else:
            refused += 1
            st.limited(t, float(math.ceil((1 - server) / limit)), cfg)
            t = st.held_until
    return st, accepted, refused


def test_a_start_far_above_the_limit_drops_to_the_measured_rate() -> None:
    cfg = RateConfig(rate=10.0, probe=0.0, start_probe=0.0, backoff=0.9)
    st, _, refused = _simulate(cfg, limit=5.0, seconds=3.0)
    # the second 429 measures 5 posts/s (a backoff alone would be at 10 * 0.9 * 0.9 = 8.1);
    # riding exactly at the limit may already have cost one more backoff
    assert 5.0 * cfg.backoff - 0.01 <= st.rate <= 5.0 and refused <= 3


def test_a_trickle_of_posts_is_not_taken_for_the_platforms_limit() -> None:
    cfg = RateConfig(rate=10.0, probe=0.0, start_probe=0.0, backoff=0.9)
    st = Bucket.fresh(cfg, now=100.0)
    t = 100.0
    for _ in range(18):  # six posts a second for three seconds: we, not Slack, were slow
        st.take(t, cfg)
        t += 1 / 6
    st.limited(t, 1.0, cfg)
    st.take(t + 1.0, cfg)
    # 18 accepted in 3 s is 6 posts/s, but only a backoff applies
    assert st.rate == pytest.approx(10.0 * cfg.backoff)


def test_the_pace_settles_at_the_platforms_limit() -> None:
    for limit in (3.0, 10.0, 25.0):
        _, accepted, refused = _simulate(RateConfig(), limit, seconds=120.0)
        # within a few percent of everything the platform allows, with few 429s
        assert accepted >= 0.95 * limit * 120.0, (limit, accepted)
        assert refused <= 40, (limit, refused)


def test_local_pacer_lists_held_workspaces() -> None:
    rates = LocalRates(CFG)
    rates.take(1, 100.0)
    rates.limited(2, 100.0, 3.0)
    assert rates.held(101.0) == [2] and rates.is_held(2, 101.0)
    assert rates.held(103.5) == [] and not rates.is_held(1, 101.0)


def _workspace(store: Store, pk: int) -> None:
    with store.transaction() as s:
        s.execute(
            insert(Workspace),
            [
                {
                    "id": pk,
                    "platform": "slack",
                    "external_id": f"T{pk}",
                    "created_at": datetime.now(UTC),
                }
            ],
        )


def test_workers_share_one_bucket_and_one_hold(any_store: Store) -> None:
    _workspace(any_store, 1)
    _workspace(any_store, 2)
    a, b = SharedRates(any_store, CFG), SharedRates(any_store, CFG)
    waits = [p.take(1, 100.0)[0] for p in (a, b) * 6]
    # twelve posts from two workers: one bucket of ten, then the next slots in turn
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.1) and waits[11] == pytest.approx(0.2)
    a.limited(1, 100.0, 2.0)
    wait, held = b.take(1, 100.5)  # b never saw the 429, yet waits it out
    assert held and wait == pytest.approx(1.5) and b.is_held(1, 100.6)
    assert a.held(100.5) == [1]
    assert b.take(2, 100.5) == (0.0, False)  # another workspace carries on


def test_postgres_workers_share_their_pace(any_store: Store, content: Content) -> None:
    worker = Worker(any_store, content, {})
    expected = SharedRates if is_postgres(any_store.engine) else LocalRates
    assert isinstance(worker.rates, expected)


# ------------------------------------------------------------------ dispatching


@pytest.fixture
def travel() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False) as t:
        yield t


def _groups(store: Store, content: Content, per_workspace: dict[str, int]) -> StudyBot:
    bot = StudyBot(store, content)
    for ws, n in per_workspace.items():
        for i in range(n):
            lead = Chat(
                bot,
                user=f"lead-{ws}{i}",
                name="Lee",
                admin=True,
                channel=f"{ws}-C{i}",
                platform="console",
                workspace=ws,
            )
            text = lead.send("/study setup start=2026-03-03 tz=UTC time=09:00 days=daily")
            assert "Study group created" in text.plain_text()
    return bot


def _daily_rows(store: Store) -> list[Outbox]:
    with store.transaction() as s:
        return list(s.scalars(select(Outbox).where(Outbox.kind == "daily").order_by(Outbox.id)))


def test_a_held_workspace_does_not_hold_up_another(
    sqlite_store: Store, content: Content, travel: time_machine.Coordinates
) -> None:
    _groups(sqlite_store, content, {"WA": 3, "WB": 3})
    fake = FakeMessenger()
    fake.fail["WA-C0"] = [RateLimited(30)]
    # one post at a time, so WA's other rows are still waiting when its 429 comes back
    worker = Worker(
        sqlite_store,
        content,
        {"console": fake},
        sleep=lambda _s: None,
        config=DeliveryConfig(concurrency=1),
    )
    Clock(sqlite_store, content).tick()
    assert worker.run_once() > 0
    posted = {p.target for p in fake.posts if p.kind == "post"}
    assert {"WB-C0", "WB-C1", "WB-C2"} <= posted
    assert not posted & {"WA-C0", "WA-C1", "WA-C2"}
    held = [r for r in _daily_rows(sqlite_store) if r.target_id.startswith("WA-")]
    assert {r.status for r in held} == {"pending"}
    assert {r.attempts for r in held} == {0}  # a rate limit is not a failed attempt
    assert {r.next_attempt_at.replace(tzinfo=UTC) for r in held} == {
        datetime(2026, 3, 3, 9, 0, 30, tzinfo=UTC)
    }
    assert worker.run_once() == 0  # the held workspace is not claimed again before then


def test_run_forever_waits_out_a_short_hold_in_memory(
    sqlite_store: Store, content: Content, travel: time_machine.Coordinates
) -> None:
    _groups(sqlite_store, content, {"WA": 4})
    fake = FakeMessenger()
    fake.fail["WA-C0"] = [RateLimited(0.2)]
    worker = Worker(
        sqlite_store, content, {"console": fake}, config=DeliveryConfig(concurrency=2, batch=10)
    )
    Clock(sqlite_store, content).tick()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.01))
    thread.start()
    try:
        for _ in range(500):  # until every row is recorded (not a timing assertion)
            if {r.status for r in _daily_rows(sqlite_store)} == {"sent"}:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(30)
    rows = _daily_rows(sqlite_store)
    assert {r.status for r in rows} == {"sent"} and len(rows) == 4
    # the row that met the 429 was retried from its lane: no new claim, no attempt counted
    assert {r.attempts for r in rows} == {1}
    keys = [p.key for p in fake.posts if p.kind == "post" and (p.key or "").startswith("daily:")]
    assert len(keys) == len(set(keys)) == 4
    assert fake.fail["WA-C0"] == []


def test_a_row_held_in_a_lane_past_half_its_lease_goes_back(
    sqlite_store: Store, content: Content, travel: time_machine.Coordinates
) -> None:
    _groups(sqlite_store, content, {"WA": 2})
    fake = FakeMessenger()
    config = DeliveryConfig(lease=timedelta(seconds=0))  # every claim is already too old
    worker = Worker(sqlite_store, content, {"console": fake}, sleep=lambda _s: None, config=config)
    Clock(sqlite_store, content).tick()
    assert worker.run_once() > 0
    assert [p for p in fake.posts if p.kind == "post"] == []
    rows = _daily_rows(sqlite_store)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}


def test_posts_to_one_channel_claimed_together_keep_their_spacing(
    sqlite_store: Store, content: Content, travel: time_machine.Coordinates
) -> None:
    bot = StudyBot(sqlite_store, content)
    lead = Chat(bot, user="lead", name="Lee", admin=True, channel="C1", platform="console")
    # Tuesday 3 March: the daily question, phase 1's start and the weekly summary at once
    lead.send("/study setup start=2026-03-03 tz=UTC time=09:00 days=daily summary=tue")
    Clock(sqlite_store, content).tick()
    travel.shift(timedelta(seconds=10))  # a backlog: all three are due when claimed
    waits: list[float] = []
    worker = Worker(sqlite_store, content, {"console": FakeMessenger()}, sleep=waits.append)
    assert worker.run_once() >= 3
    with sqlite_store.transaction() as s:
        n = len(s.scalars(select(Outbox).where(Outbox.target_id == "C1")).all())
    assert n >= 3
    # posted side by side by the pool, yet each takes the channel's next one-second slot
    assert sorted(waits) == [pytest.approx(float(k), abs=0.3) for k in range(1, n)]
