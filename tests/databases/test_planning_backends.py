"""The clock's planning on both backends: cohort rows, members' DMs, answer counts and
reminders each written once, however many clocks tick at the same instant."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from bot.content.models import Content
from bot.core import StudyBot
from bot.store.db import Store
from bot.store.models import Group, Outbox
from bot.timeutil import as_utc
from scheduler.clock import Clock
from scheduler.worker import DeliveryConfig, Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock, question_in


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_planning_writes_each_post_once_on_both_backends(
    any_store: Store, content: Content
) -> None:
    when = FakeClock(utc(2026, 3, 1, 12))
    bot = StudyBot(any_store, content, clock=when)
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup start=2026-03-02 tz=UTC time=09:00 days=daily summary=fri")
    kei = Chat(bot, user="kei", name="Kei")
    kei.send("/study join")
    kei.send("/study tz Asia/Tokyo")
    ana = Chat(bot, user="ana", name="Ana")
    ana.send("/study passed 2026-03-01")
    fake = FakeMessenger()
    worker = Worker(
        any_store, content, {"console": fake}, clock=when, config=DeliveryConfig(channel_gap=0)
    )
    clocks = [Clock(any_store, content, clock=when) for _ in range(2)]
    planned: list[str] = []

    def at(t: datetime) -> None:
        when.now = t
        for c in clocks:  # two clocks at the very same instant: the second finds it all done
            planned.extend(p.due.key for p in c.tick().planned)
        for _ in range(3):  # posts to one channel are a second apart
            while worker.run_once():
                pass
            when.advance(seconds=1.2)

    at(utc(2026, 3, 5, 9))  # Thursday: the daily question
    reply = kei.send("/study today")
    q = question_in(content, reply)
    for letter in q.answer:
        reply = kei.press(letter, reply)
    if q.multi:
        kei.press("Submit", reply)
    at(utc(2026, 3, 5, 9, 1))  # "1 answered so far"
    at(utc(2026, 3, 6, 0))  # Friday 09:00 in Tokyo: Kei's weekly DM
    at(utc(2026, 3, 6, 9))  # Friday here: the question, the board, the lead's DM
    assert planned == [
        "daily:1:2026-03-04",  # Wednesday's, found on Thursday: recorded as missed
        "reveal:1:2026-03-04",
        "daily:1:2026-03-05",
        "reveal:1:2026-03-05",  # no question was asked before Thursday's: nothing to reveal
        "update:3:1",  # Kei answered: the delivered post's count (row 3)
        "progress_dm:1:2:2026-03-06",  # Kei's DM, Friday 09:00 in Tokyo
        "daily:1:2026-03-06",
        "digest:1:lead:2026-W10",  # the lead's weekly digest, with the board
        "progress_dm:1:1:2026-03-06",
        "progress_dm:1:3:2026-03-06",
        "reveal:1:2026-03-06",  # Thursday's answer
        "weekly:1:2026-03-06",
    ]
    with any_store.transaction() as s:
        rows = {r.idem_key: r.status for r in s.scalars(select(Outbox))}
        nxt = s.scalar(select(Group.next_due_at))
    assert rows.pop("daily:1:2026-03-04") == rows.pop("reveal:1:2026-03-04") == "skipped"
    assert rows.pop("reveal:1:2026-03-05") == "skipped"
    assert set(rows.values()) == {"sent"} and len(rows) == len(planned) - 3
    assert nxt is not None and as_utc(nxt) == utc(2026, 3, 7, 9)
    assert sorted(p.target for p in fake.posts if p.kind == "dm") == ["ana", "kei", "lead", "lead"]
    assert [
        p.reply.plain_text().count("1 answered so far") for p in fake.posts if p.kind == "update"
    ] == [1]
    planned.clear()
    at(utc(2028, 3, 1, 9))  # two years after Ana's pass
    assert Counter(k.split(":")[0] for k in planned)["recert"] == 1
    assert [p.target for p in fake.posts if p.reply.plain_text().startswith("🔁")] == ["ana"]
