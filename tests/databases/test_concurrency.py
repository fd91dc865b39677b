"""Twenty simultaneous clicks from one member: one answer, points once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Action, Reply
from bot.store.db import Store
from bot.store.models import Answer, DailyQuestion, User, Workspace
from tests.helpers import Chat, FakeClock, find_button, question_in


def race(n: int, fn) -> list[Reply]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    out: list[Reply] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        r = fn()
        with lock:
            out.append(r)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_twenty_simultaneous_answers_record_one(
    any_store: Store, content: Content, clock: FakeClock
) -> None:
    bot = StudyBot(any_store, content, clock=clock)
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02")
    alice = Chat(bot, user="alice", name="Alice")
    reply = alice.send("/study today")
    q = question_in(content, reply)
    button = find_button(reply, q.answer[0]) if not q.multi else None
    value = (
        button.value
        if button
        else f"{reply.buttons()[0].value.rsplit(':', 1)[0]}:" + "".join(q.answer)
    )
    replies = race(20, lambda: bot.press(Action(alice.who, "answer", value)))
    texts = [r.plain_text() for r in replies]
    assert sum(t.startswith("✅ Correct") for t in texts) == 1, texts
    assert sum("You already answered" in t for t in texts) == 19
    with any_store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Answer)) == 1
        assert s.scalar(select(func.sum(Answer.points))) == {1: 10, 2: 15, 3: 20}[q.difficulty]


def test_first_contact_races_create_one_row_each(
    any_store: Store, content: Content, clock: FakeClock
) -> None:
    bot = StudyBot(any_store, content, clock=clock)
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02")
    chats = [Chat(bot, user=f"u{i % 2}", name=f"U{i % 2}") for i in range(10)]
    race(10, lambda: chats.pop().send("/study today"))
    with any_store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Workspace)) == 1
        assert s.scalar(select(func.count()).select_from(User)) == 3
        assert s.scalar(select(func.count()).select_from(DailyQuestion)) == 1
