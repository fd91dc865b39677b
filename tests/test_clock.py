"""The clock and delivery: due in local time, exactly once, through restarts and failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.content.models import Content
from bot.core import StudyBot
from bot.features.posts import compose
from bot.seam import RateLimited, TargetGone, Transient
from bot.store.db import Store
from bot.store.models import Group, Outbox
from scheduler.clock import Clock
from scheduler.worker import DeliveryConfig, Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat, question_in


@pytest.fixture
def travel() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), tick=False) as t:
        _TRAVELLER.append(t)
        yield t
        _TRAVELLER.pop()


@pytest.fixture
def rt_bot(sqlite_store: Store, content: Content, travel: time_machine.Coordinates) -> StudyBot:
    return StudyBot(sqlite_store, content)  # real clock: time-machine moves it


@pytest.fixture
def fake() -> FakeMessenger:
    return FakeMessenger()


def at(
    travel: time_machine.Coordinates, y: int, mo: int, d: int, h: int, mi: int = 0, tz: str = "UTC"
) -> None:
    travel.move_to(datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz)))


def group(
    bot: StudyBot,
    channel: str,
    tz: str,
    time_: str,
    days: str = "daily",
    start: str = "2026-03-01",
    workspace: str = "console",
    **extra: str,
) -> Chat:
    lead = Chat(
        bot,
        user=f"lead-{channel}",
        name="Lee",
        admin=True,
        channel=channel,
        platform="console",
        workspace=workspace,
    )
    args = " ".join(f"{k}={v}" for k, v in extra.items())
    text = lead.send(f"/study setup start={start} tz={tz} time={time_} days={days} {args}")
    assert "Study group created" in text.plain_text(), text.plain_text()
    return lead


def pump(clock: Clock, worker: Worker) -> int:
    """One tick, then deliver; posts to one channel are spaced ~1 s apart, so step time
    through a few seconds (time-machine's clock is frozen otherwise)."""
    clock.tick()
    n = 0
    for _ in range(5):
        while k := worker.run_once():
            n += k
        _shift(seconds=1.2)
    return n


_TRAVELLER: list[time_machine.Coordinates] = []


def _shift(**kw: float) -> None:
    if _TRAVELLER:
        _TRAVELLER[-1].shift(timedelta(**kw))


def make(store: Store, content: Content, fake: FakeMessenger, **kw: object) -> tuple[Clock, Worker]:
    clock = Clock(store, content)
    worker = Worker(store, content, {"console": fake}, sleep=lambda _s: None, **kw)  # type: ignore[arg-type]
    return clock, worker


def dailies(fake: FakeMessenger, channel: str) -> list[str]:
    return [
        p.reply.plain_text()
        for p in fake.channel_posts(channel)
        if p.reply.plain_text().startswith("Question of the day")
    ]


# ------------------------------------------------------------------ local time


def test_posts_at_local_time_once(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "Europe/Berlin", "09:00", start="2026-03-02")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 2, 8, 59, "Europe/Berlin")
    assert pump(clock, worker) == 0
    at(travel, 2026, 3, 2, 9, 0, "Europe/Berlin")
    assert pump(clock, worker) == 2  # the daily question and "Phase 1 starts today"
    texts = [p.reply.plain_text() for p in fake.channel_posts("C1")]
    assert any(t.startswith("Question of the day · Mon 02 Mar 2026") for t in texts)
    assert any(t.startswith("Phase 1 starts today: ML fundamentals") for t in texts)
    at(travel, 2026, 3, 2, 15, 0, "Europe/Berlin")
    assert pump(clock, worker) == 0
    at(travel, 2026, 3, 3, 9, 1, "Europe/Berlin")
    pump(clock, worker)
    assert len(dailies(fake, "C1")) == 2


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        ("Europe/Berlin", (2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # gap: 03:30
        ("Europe/Berlin", (2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # twice
        ("America/New_York", (2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        ("America/New_York", (2026, 11, 1), datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_dst_change_days_post_once(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
    tz: str,
    day: tuple[int, int, int],
    expected_utc: datetime,
) -> None:
    group(rt_bot, "C1", tz, "02:30", start=f"{day[0]}-{day[1]:02d}-01")
    clock, worker = make(sqlite_store, content, fake)
    travel.move_to(expected_utc - timedelta(minutes=1))
    before = len(dailies(fake, "C1"))
    pump(clock, worker)
    assert len(dailies(fake, "C1")) == before  # not yet
    travel.move_to(expected_utc)
    pump(clock, worker)
    assert len(dailies(fake, "C1")) == before + 1
    for hours in (1, 2, 3, 6):  # through the repeated hour and beyond: nothing more
        travel.move_to(expected_utc + timedelta(hours=hours))
        pump(clock, worker)
    assert len(dailies(fake, "C1")) == before + 1


def test_date_line_and_half_hour_zones(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "NZ", "Pacific/Auckland", "09:00", start="2026-03-02")
    group(rt_bot, "IN", "Asia/Kolkata", "09:00", start="2026-03-02")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 1, 19, 59)  # 08:59 Monday in Auckland (NZDT, UTC+13)
    pump(clock, worker)
    assert dailies(fake, "NZ") == []
    at(travel, 2026, 3, 1, 20, 0)
    pump(clock, worker)
    assert dailies(fake, "NZ")[0].startswith("Question of the day · Mon 02 Mar 2026")
    at(travel, 2026, 3, 2, 3, 29)  # 08:59 IST
    pump(clock, worker)
    assert dailies(fake, "IN") == []
    at(travel, 2026, 3, 2, 3, 30)
    pump(clock, worker)
    assert dailies(fake, "IN")[0].startswith("Question of the day · Mon 02 Mar 2026")


def test_post_time_edit_and_weekdays(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    lead = group(rt_bot, "C1", "UTC", "09:00", days="mon,wed", start="2026-03-02")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 3, 12)  # Tuesday: not a post day
    pump(clock, worker)
    assert dailies(fake, "C1") == []
    lead.send("/study setup time=13:00")  # changed by "another process": next tick sees it
    at(travel, 2026, 3, 4, 12)
    pump(clock, worker)
    assert dailies(fake, "C1") == []
    at(travel, 2026, 3, 4, 13)
    pump(clock, worker)
    assert len(dailies(fake, "C1")) == 1


def test_downtime_inside_and_outside_grace(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 2, 14, 59)  # down since before 09:00: 5h59 late, inside 6h
    pump(clock, worker)
    assert len(dailies(fake, "C1")) == 1
    at(travel, 2026, 3, 3, 15, 1)  # 6h01 late: skipped and logged, never posted
    with caplog.at_level("WARNING"):
        pump(clock, worker)
    assert len(dailies(fake, "C1")) == 1
    assert "skipped daily:1:2026-03-03" in caplog.text
    with sqlite_store.transaction() as s:
        row = s.scalar(select(Outbox).where(Outbox.idem_key == "daily:1:2026-03-03"))
        assert row is not None and row.status == "skipped"


# ------------------------------------------------------------------ what the clock posts


def test_the_next_post_day_reveals_the_answer_in_the_questions_thread(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 2, 9)
    pump(clock, worker)
    members = [
        Chat(rt_bot, user=f"u{i}", name=n, channel="C1", workspace="console")
        for i, n in enumerate(["Ana", "<!channel> Bob"])
    ]
    for m in members:
        reply = m.send("/study today")
        q = question_in(content, reply)
        if not q.multi:
            m.press(q.answer[0], reply)
        else:
            m.press(q.answer[0], reply)
            m.press(q.answer[1])
            m.press("Submit")
    at(travel, 2026, 3, 2, 9, 1)
    pump(clock, worker)
    updates = fake.texts("update")
    assert updates and "2 answered so far" in updates[-1]
    at(travel, 2026, 3, 3, 9)
    pump(clock, worker)
    assert "Answer to" not in dailies(fake, "C1")[-1]  # the reveal is a post of its own...
    monday = next(i for i, p in enumerate(fake.posts) if p.key == "daily:1:2026-03-02")
    [reveal] = [p for p in fake.channel_posts("C1") if p.key == "reveal:1:2026-03-03"]
    assert reveal.thread == f"m{monday + 1}"  # ...in the thread of Monday's question
    assert reveal.reply.thread_name == "Question of the day · Mon 02 Mar 2026"
    text = reveal.reply.plain_text()
    assert text.startswith("Answer to Mon 02 Mar 2026")
    assert "2 of 2 got it right. First right: Ana, <!channel> Bob." in text


def test_milestones_countdowns_and_summaries(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02", exam="2026-06-05")
    clock, worker = make(sqlite_store, content, fake)
    seen: list[str] = []
    day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    while day.date() <= datetime(2026, 6, 5).date():
        travel.move_to(day)
        pump(clock, worker)
        day += timedelta(days=1)
    seen = [p.reply.plain_text().splitlines()[0] for p in fake.channel_posts("C1")]
    starts = [t for t in seen if "starts today" in t]
    ends = [t for t in seen if "wraps up today" in t]
    assert [t.split(":")[0] for t in starts] == [f"Phase {n} starts today" for n in (1, 2, 3, 4)]
    assert len(ends) == 4
    countdowns = [t for t in seen if t.startswith("⏳")]
    assert countdowns == [
        "⏳ The exam is in 14 days (Fri 05 Jun 2026)",
        "⏳ The exam is in 7 days (Fri 05 Jun 2026)",
        "⏳ The exam is tomorrow (Fri 05 Jun 2026)",
    ]
    weekly = [t for t in seen if t.startswith("🏆 This week's")]
    assert len(weekly) == 14  # every Friday from 6 March to 5 June
    monthly = [t for t in seen if t.startswith("🏆 This month's")]
    assert monthly == [
        "🏆 This month's leaderboard · March 2026",
        "🏆 This month's leaderboard · April 2026",
        "🏆 This month's leaderboard · May 2026",
    ]


def test_weekly_progress_dm_in_member_timezone(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02")
    tokyo = Chat(rt_bot, user="kei", name="Kei", channel="C1", workspace="console")
    tokyo.send("/study join")
    tokyo.send("/study tz Asia/Tokyo")
    quiet = Chat(rt_bot, user="q", name="Quiet", channel="C1", workspace="console")
    quiet.send("/study join")
    quiet.send("/study dm off")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 6, 0, 0)  # Friday 09:00 in Tokyo, 00:00 UTC
    pump(clock, worker)
    dms = [p for p in fake.posts if p.kind == "dm"]
    assert [p.target for p in dms] == ["kei"]
    assert dms[0].reply.plain_text().startswith("Your progress · Kei")
    at(travel, 2026, 3, 6, 9, 0)  # the lead's DMs at 09:00 UTC; Quiet gets none
    pump(clock, worker)
    progress = [
        p.target for p in fake.posts if p.kind == "dm" and "Your progress" in p.reply.plain_text()
    ]
    assert sorted(progress) == ["kei", "lead-C1"]


def test_recertification_reminder(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02")
    ana = Chat(rt_bot, user="ana", name="Ana", channel="C1", workspace="console")
    at(travel, 2026, 3, 10, 12)
    ana.send("/study passed 2026-03-10")
    clock, worker = make(sqlite_store, content, fake)
    at(travel, 2028, 3, 9, 12)
    pump(clock, worker)
    assert not [p for p in fake.posts if p.reply.plain_text().startswith("🔁")]
    at(travel, 2028, 3, 10, 9, 0)
    pump(clock, worker)
    at(travel, 2028, 3, 10, 10, 0)
    pump(clock, worker)
    recert = [p for p in fake.posts if p.reply.plain_text().startswith("🔁")]
    assert [(p.kind, p.target) for p in recert] == [("dm", "ana")]


# ------------------------------------------------------------------ failures


def test_rate_limit_transient_and_gone(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    # three workspaces: a 429 holds its whole workspace, so each failure stands alone
    group(rt_bot, "RL", "UTC", "09:00", start="2026-03-03", workspace="W-RL")
    group(rt_bot, "TR", "UTC", "09:00", start="2026-03-03", workspace="W-TR")
    group(rt_bot, "GONE", "UTC", "09:00", start="2026-03-03", workspace="W-GONE")
    fake.fail["RL"] = [RateLimited(30)]
    fake.fail["TR"] = [Transient("HTTP 503"), Transient("timeout")]
    fake.fail["GONE"] = [TargetGone("channel_not_found")]
    clock, worker = make(
        sqlite_store, content, fake, config=DeliveryConfig(base_backoff=10, max_attempts=5)
    )
    at(travel, 2026, 3, 3, 9)
    pump(clock, worker)
    assert dailies(fake, "RL") == [] and dailies(fake, "TR") == []
    with sqlite_store.transaction() as s:
        rl = s.scalar(select(Outbox).where(Outbox.idem_key.like("daily:1:%")))
        assert rl is not None and rl.status == "pending"
        assert rl.next_attempt_at.replace(tzinfo=UTC) == datetime(2026, 3, 3, 9, 0, 30, tzinfo=UTC)
        gone = s.get(Group, 3)
        assert (
            gone is not None and gone.paused and "channel_not_found" in (gone.paused_reason or "")
        )
    notice = [p for p in fake.posts if p.kind == "dm" and p.target == "lead-GONE"]
    assert notice and "paused" in notice[0].reply.plain_text()
    travel.move_to(datetime(2026, 3, 3, 9, 0, 20, tzinfo=UTC))  # pump steps 6 s more
    pump(clock, worker)
    assert dailies(fake, "RL") == []  # Retry-After honoured
    at(travel, 2026, 3, 3, 9, 2)
    pump(clock, worker)
    assert len(dailies(fake, "RL")) == 1
    at(travel, 2026, 3, 3, 10)
    pump(clock, worker)
    assert len(dailies(fake, "TR")) == 1  # after two backoffs
    at(travel, 2026, 3, 4, 9)
    pump(clock, worker)
    assert len(dailies(fake, "GONE")) == 0  # paused: no more posts
    assert len(dailies(fake, "RL")) == 2


def test_gives_up_after_max_attempts(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "C1", "UTC", "09:00", start="2026-03-03")
    fake.fail["C1"] = [Transient("HTTP 500")] * 10
    clock, worker = make(
        sqlite_store,
        content,
        fake,
        config=DeliveryConfig(base_backoff=1, max_backoff=1, max_attempts=3),
    )
    at(travel, 2026, 3, 3, 9)
    for minute in range(6):
        at(travel, 2026, 3, 3, 9, minute)
        pump(clock, worker)
    with sqlite_store.transaction() as s:
        statuses = {r.kind: r.status for r in s.scalars(select(Outbox))}
    assert statuses["daily"] == "dead"


@pytest.mark.parametrize("posted_before_crash", [True, False])
def test_worker_killed_between_claim_and_record(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
    posted_before_crash: bool,
) -> None:
    for i in range(3):
        group(rt_bot, f"G{i}", "UTC", "09:00", start="2026-03-03")
    clock, dying = make(sqlite_store, content, fake)
    at(travel, 2026, 3, 3, 9)
    clock.tick()
    claimed = dying.claim()
    assert len(claimed) == 3
    if posted_before_crash:  # the platform call went out; the worker died before recording
        for c in claimed:
            with sqlite_store.transaction() as s:
                row = s.get(Outbox, c.id)
                assert row is not None
                reply = compose(s, content, dying.clock(), row)
            assert reply is not None
            dying._send(fake, c, reply)
    # the process is gone; a new worker starts after the lease has expired
    at(travel, 2026, 3, 3, 9, 3)
    fresh = Worker(sqlite_store, content, {"console": fake}, sleep=lambda _s: None)
    while fresh.run_once():
        pass
    for i in range(3):
        assert len(dailies(fake, f"G{i}")) == 1
    with sqlite_store.transaction() as s:
        assert {r.status for r in s.scalars(select(Outbox))} == {"sent"}


def test_weekly_summary_on_the_chosen_weekday(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    lead = group(rt_bot, "C1", "UTC", "09:00", start="2026-03-02", summary="mon")
    assert "Weekly leaderboard: Mon at 09:00" in lead.send("/study setup").plain_text()
    assert "Give one weekday" in lead.send("/study setup summary=mon,tue").plain_text()
    clock, worker = make(sqlite_store, content, fake)
    ana = Chat(rt_bot, user="ana", name="Ana", channel="C1", workspace="console")
    for day in range(2, 10):
        at(travel, 2026, 3, day, 9)
        pump(clock, worker)
        if day == 3:  # Tuesday: Ana answers right, so the week to Sunday has a winner
            reply = ana.send("/study today")
            q = question_in(content, reply)
            for letter in q.answer:
                reply = ana.press(letter, reply)
            if q.multi:
                ana.press("Submit", reply)
    weekly = [
        p.reply
        for p in fake.channel_posts("C1")
        if p.reply.plain_text().startswith("🏆 This week's")
    ]
    # a Monday post sums up the week that just ended
    assert [r.plain_text().split("\n")[0] for r in weekly] == [
        "🏆 This week's leaderboard · week to Sun 01 Mar 2026",
        "🏆 This week's leaderboard · week to Sun 08 Mar 2026",
    ]
    assert "No answers this period yet" in weekly[0].plain_text()
    assert "Winner: Ana with" in weekly[1].plain_text()


def test_a_429_holds_the_whole_workspace(
    rt_bot: StudyBot,
    sqlite_store: Store,
    content: Content,
    fake: FakeMessenger,
    travel: time_machine.Coordinates,
) -> None:
    group(rt_bot, "A", "UTC", "09:00", start="2026-03-03")
    group(rt_bot, "B", "UTC", "09:00", start="2026-03-03")
    fake.fail["A"] = [RateLimited(30)]
    clock, worker = make(sqlite_store, content, fake, config=DeliveryConfig(concurrency=1))
    at(travel, 2026, 3, 3, 9)
    pump(clock, worker)
    assert dailies(fake, "A") == [] and dailies(fake, "B") == []  # B waits with A
    assert fake.fail["A"] == []  # A was tried and got its 429
    travel.move_to(datetime(2026, 3, 3, 9, 0, 31, tzinfo=UTC))
    pump(clock, worker)
    assert len(dailies(fake, "A")) == 1 and len(dailies(fake, "B")) == 1
