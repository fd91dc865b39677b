"""A member's data export and erasure on both databases: SQLite here, PostgreSQL when CI
provides one (its JSON leads list and its strict foreign keys)."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Attachment
from bot.store.db import Store
from bot.store.models import Group
from tests.helpers import Chat, FakeClock, answer_exam_question, answer_today, start


def test_export_and_forget_on_each_database(any_store: Store, content: Content) -> None:
    bot = StudyBot(any_store, content, clock=FakeClock(start(2026, 3, 2)))
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02 tz=UTC")
    alice, bob = Chat(bot), Chat(bot, user="bob", name="Bob")
    for chat in (alice, bob):
        chat.send("/study join")
        answer_today(chat, content)
    answer_exam_question(alice, content, alice.send("/study exam"), right=True)
    alice.send("/study check S1")
    lead.send("/study setup leads=alice,bob")

    reply = alice.send("/study mydata")
    (file,) = [b for b in reply.blocks if isinstance(b, Attachment)]
    data = json.loads(file.data)
    assert len(data["daily_answers"]) == 1 and data["mock_exams"][0]["status"] == "open"
    assert data["lead_of"] == [{"channel": "C1", "named_lead": True, "created": False}]

    done = alice.press("Forget me", alice.send("/study forget")).plain_text()
    assert done.startswith("Done: studybot erased everything it stored about you here")
    assert "stores nothing about you" in alice.send("/study mydata").plain_text()
    board = lead.send("/study leaderboard all").plain_text()
    assert "Bob" in board and "Alice" not in board
    with any_store.transaction(read_only=True) as s:
        g = s.scalar(select(Group))
        assert g is not None and g.leads == ["bob"]
