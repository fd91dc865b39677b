"""The learning tables on both databases: SQLite here, PostgreSQL when CI provides one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.content.models import Content
from bot.context import Ctx
from bot.core import StudyBot
from bot.errors import UserError
from bot.features.exam import command as exam
from bot.features.exam.grading import close_expired_exams
from bot.store.db import Store
from bot.store.models import ExamAttempt, ReviewCard
from tests.helpers import Chat, FakeClock, question_in, start, wrong_letter


def test_exam_and_review_on_each_database(any_store: Store, content: Content) -> None:
    clock = FakeClock(start(2026, 3, 2))
    bot = StudyBot(any_store, content, clock=clock)
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02 tz=UTC")
    alice = Chat(bot)
    alice.send("/study join")

    reply = alice.send("/study exam")
    q = question_in(content, reply)
    reply = alice.press(wrong_letter(q), reply) if not q.multi else alice.press("Next ▶", reply)
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=alice.who)
        with pytest.raises(UserError, match="already have an exam in progress"):
            exam._start(ctx, ctx.require_group(), "associate")
    clock.advance(minutes=95)
    with bot.store.transaction() as s:
        assert close_expired_exams(s, content, clock.now) == 1
    with bot.store.transaction() as s:
        attempt = s.scalar(select(ExamAttempt))
        assert attempt is not None and attempt.status == "expired"
        assert attempt.finished_at is not None and attempt.finished_at == attempt.deadline
        card = s.scalar(select(ReviewCard).where(ReviewCard.question_id == q.id))
        assert card is not None and card.last_rating == 1  # missed (or left blank): Again
    assert "timed out" in alice.send("/study exams").plain_text()
    clock.advance(days=1)
    review = alice.send("/study review")
    assert question_in(content, review).id == q.id
    assert "Mock exam started" in alice.send("/study exam").plain_text()
