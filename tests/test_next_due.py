"""The clock plans only groups whose next due instant has come: how that instant is kept."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.content.models import Content
from bot.core import StudyBot
from bot.features.groups import pause_gone_group
from bot.store.db import Store
from bot.store.models import Group, Outbox
from bot.timeutil import as_utc
from scheduler import clock as clock_module
from scheduler import plan_writes
from scheduler.clock import Clock
from scheduler.due import due_groups
from tests.helpers import Chat, FakeClock


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def when() -> FakeClock:
    return FakeClock(utc(2026, 3, 1, 12))  # Sunday; the groups start on Monday 2 March


@pytest.fixture
def study(sqlite_store: Store, content: Content, when: FakeClock) -> StudyBot:
    return StudyBot(sqlite_store, content, clock=when)


def make_group(bot: StudyBot, channel: str, settings: str) -> Chat:
    lead = Chat(bot, user=f"lead-{channel}", name="Lee", admin=True, channel=channel)
    reply = lead.send(f"/study setup start=2026-03-02 {settings}")
    assert "Study group created" in reply.plain_text(), reply.plain_text()
    return lead


def stored(store: Store, channel: str) -> datetime | None:
    with store.transaction() as s:
        value = s.scalar(select(Group.next_due_at).where(Group.channel_id == channel))
    return None if value is None else as_utc(value)


def keys(store: Store) -> list[str]:
    with store.transaction() as s:
        return sorted(s.scalars(select(Outbox.idem_key)))


def tick(store: Store, content: Content, when: FakeClock, at: datetime) -> list[str]:
    """One tick at `at` by a clock just started; the keys it wrote."""
    when.now = at
    result = Clock(store, content, clock=when).tick()
    return sorted(p.due.key for p in result.planned)


def test_settings_changes_move_the_next_due_instant(
    study: StudyBot, sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    lead = make_group(study, "C1", "tz=UTC time=09:00 days=mon,wed,fri")
    assert stored(sqlite_store, "C1") == utc(2026, 3, 2, 9)  # the first post, not before
    assert tick(sqlite_store, content, when, utc(2026, 3, 2, 8, 59)) == []
    assert tick(sqlite_store, content, when, utc(2026, 3, 2, 9)) == [
        "daily:1:2026-03-02",
        "milestone:1:1:start",
    ]
    assert stored(sqlite_store, "C1") == utc(2026, 3, 4, 9)  # Wednesday
    when.now = utc(2026, 3, 2, 10)
    lead.send("/study setup skip=2026-03-04")
    # A change re-opens the catch-up days: the next tick looks, plans nothing twice...
    assert stored(sqlite_store, "C1") == utc(2026, 3, 2, 9)
    assert tick(sqlite_store, content, when, utc(2026, 3, 2, 10)) == []
    # ...and moves on past the skipped Wednesday to Friday (daily, weekly board)
    assert stored(sqlite_store, "C1") == utc(2026, 3, 6, 9)
    lead.send("/study setup days=mon-fri time=07:30 tz=Europe/Berlin")
    assert tick(sqlite_store, content, when, utc(2026, 3, 2, 10)) == []
    assert stored(sqlite_store, "C1") == utc(2026, 3, 3, 6, 30)  # Tuesday 07:30 CET
    assert tick(sqlite_store, content, when, utc(2026, 3, 3, 6, 30)) == [
        "daily:1:2026-03-03",
        "reveal:1:2026-03-03",  # Monday's answer, in its thread
    ]


def test_a_paused_group_is_not_due_until_a_lead_resumes_it(
    study: StudyBot, sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    lead = make_group(study, "C1", "tz=UTC time=09:00 days=daily")
    tick(sqlite_store, content, when, utc(2026, 3, 2, 9))
    with sqlite_store.transaction() as s:
        pause_gone_group(s, 1, "channel_not_found")
    assert stored(sqlite_store, "C1") is None
    assert tick(sqlite_store, content, when, utc(2026, 3, 3, 9)) == []
    when.now = utc(2026, 3, 3, 10)
    assert "paused" not in lead.send("/study setup time=09:00").plain_text()
    # resumed within the grace window: today's question is caught up, as before a pause
    assert tick(sqlite_store, content, when, utc(2026, 3, 3, 10)) == [
        "daily:1:2026-03-03",
        "reveal:1:2026-03-03",
    ]
    assert stored(sqlite_store, "C1") == utc(2026, 3, 4, 9)


def test_a_member_in_an_earlier_timezone_brings_the_next_due_forward(
    study: StudyBot, sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    make_group(study, "C1", "tz=UTC time=09:00 days=daily summary=fri")
    tick(sqlite_store, content, when, utc(2026, 3, 5, 9))  # Thursday's post
    assert stored(sqlite_store, "C1") == utc(2026, 3, 6, 9)
    when.now = utc(2026, 3, 5, 10)
    kei = Chat(study, user="kei", name="Kei")
    kei.send("/study join")
    assert stored(sqlite_store, "C1") == utc(2026, 3, 6, 9)  # the group's time: no sooner
    kei.send("/study tz Pacific/Kiritimati")  # UTC+14: Friday 09:00 is Thursday 19:00 UTC
    assert stored(sqlite_store, "C1") == utc(2026, 3, 5, 19)
    assert tick(sqlite_store, content, when, utc(2026, 3, 5, 18, 59)) == []
    assert tick(sqlite_store, content, when, utc(2026, 3, 5, 19)) == ["progress_dm:1:2:2026-03-06"]
    assert stored(sqlite_store, "C1") == utc(2026, 3, 6, 9)
    planned = tick(sqlite_store, content, when, utc(2026, 3, 6, 9))
    assert planned == [
        "daily:1:2026-03-06",
        "digest:1:lead-C1:2026-W10",  # the lead's digest comes with the weekly board
        "progress_dm:1:1:2026-03-06",
        "reveal:1:2026-03-06",
        "weekly:1:2026-03-06",
    ]


@pytest.mark.parametrize(
    ("tz", "time_", "planned_at", "next_at"),
    [
        ("Europe/Berlin", "09:00", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # spring forward
        ("Europe/Berlin", "02:30", utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30)),  # the gap
        ("Europe/Berlin", "02:30", utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)),
        ("Europe/Berlin", "09:00", utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),  # fall back
        ("Europe/Berlin", "02:30", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),  # twice
        ("America/New_York", "09:00", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
        ("America/New_York", "09:00", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),
        ("Pacific/Auckland", "09:00", utc(2026, 4, 3, 20), utc(2026, 4, 4, 21)),  # NZDT ends
        ("Pacific/Kiritimati", "09:00", utc(2026, 3, 1, 19), utc(2026, 3, 2, 19)),  # UTC+14
        ("Pacific/Pago_Pago", "09:00", utc(2026, 3, 2, 20), utc(2026, 3, 3, 20)),  # UTC-11
    ],
)
def test_next_due_across_dst_changes_and_the_date_line(
    study: StudyBot,
    sqlite_store: Store,
    content: Content,
    when: FakeClock,
    tz: str,
    time_: str,
    planned_at: datetime,
    next_at: datetime,
) -> None:
    when.now = planned_at - timedelta(days=1)
    first, second = (t.astimezone(ZoneInfo(tz)).date() for t in (planned_at, next_at))
    lead = Chat(study, user="lead", name="Lee", admin=True, channel="C1")
    lead.send(f"/study setup start={first} tz={tz} time={time_} days=daily")
    assert stored(sqlite_store, "C1") == planned_at
    assert tick(sqlite_store, content, when, planned_at - _MINUTE) == []
    assert f"daily:1:{first}" in tick(sqlite_store, content, when, planned_at)
    assert stored(sqlite_store, "C1") == next_at
    for later in (_MINUTE, timedelta(hours=1), next_at - planned_at - _MINUTE):
        assert tick(sqlite_store, content, when, planned_at + later) == []  # the hour repeated
    assert tick(sqlite_store, content, when, next_at) == [
        f"daily:1:{second}",
        f"reveal:1:{second}",
    ]
    assert [k for k in keys(sqlite_store) if k.startswith("daily:")] == [
        f"daily:1:{first}",
        f"daily:1:{second}",
    ]


_MINUTE = timedelta(minutes=1)


def test_groups_not_due_are_never_read(
    study: StudyBot, sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    for i in range(30):
        make_group(study, f"C{i}", f"tz=UTC time={6 + i // 4:02d}:{i % 4 * 15:02d} days=daily")
    # every group but the one due at 06:00 gets a timezone no planning could work with
    with sqlite_store.transaction() as s:
        s.execute(update(Group).where(Group.channel_id != "C0").values(tz="Nowhere/Atall"))
    when.now = utc(2026, 3, 2, 6)
    with sqlite_store.transaction() as s:
        assert [g.channel_id for g in due_groups(s, when.now)] == ["C0"]
        plan_of = s.connection().exec_driver_sql
        for query in ("next_due_at <= '2026-03-02 06:00:00'", "next_due_at IS NULL"):
            steps = plan_of(f"EXPLAIN QUERY PLAN SELECT * FROM groups WHERE paused = 0 AND {query}")
            assert "USING INDEX ix_groups_next_due" in steps.fetchall()[0][-1]
    planned = tick(sqlite_store, content, when, when.now)
    assert planned == ["daily:1:2026-03-02", "milestone:1:1:start"]
    assert tick(sqlite_store, content, when, when.now) == []


def test_a_clock_restarted_mid_batch_plans_each_post_once(
    study: StudyBot,
    sqlite_store: Store,
    content: Content,
    when: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(5):
        make_group(study, f"C{i}", "tz=UTC time=09:00 days=daily")
    monkeypatch.setattr(clock_module, "BATCH", 2)
    moved = plan_writes._move_alike
    calls = []

    def dies_in_the_second_batch(*args: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the clock's process was killed")
        moved(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_writes, "_move_alike", dies_in_the_second_batch)
    when.now = utc(2026, 3, 2, 9)
    with pytest.raises(RuntimeError):
        Clock(sqlite_store, content, clock=when).tick()
    first = keys(sqlite_store)
    assert len(first) == 4  # the first batch committed (2 groups x 2 posts); the second not
    monkeypatch.setattr(plan_writes, "_move_alike", moved)
    again = tick(sqlite_store, content, when, when.now)  # the restarted clock
    assert len(again) == 6 and not set(again) & set(first)
    assert tick(sqlite_store, content, when, when.now) == []
    assert Counter(k.split(":")[0] for k in keys(sqlite_store)) == {"daily": 5, "milestone": 5}
    assert {stored(sqlite_store, f"C{i}") for i in range(5)} == {utc(2026, 3, 3, 9)}
