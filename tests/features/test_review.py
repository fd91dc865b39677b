"""Spaced review with FSRS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from fsrs import Card, Rating, State
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.content.models import Content, Question
from bot.context import Ctx
from bot.core import StudyBot
from bot.features.review_cards import SCHEDULER, first_review
from bot.seam import Visibility
from bot.store.models import ReviewCard
from tests.helpers import Chat, FakeClock, pin_daily, question_in, single, wrong_letter


def test_a_missed_daily_question_comes_back_for_review_the_next_day(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    q = single(content, difficulty=2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    assert "Nothing to review right now" in alice.send("/study review").plain_text()
    assert "The next card is due Tue 03 Mar 2026" in alice.text()
    clock.advance(days=1)
    reply = alice.send("/study review")
    text = reply.plain_text()
    assert reply.visibility is Visibility.EPHEMERAL
    assert "1 card due; here is 1, most overdue first." in text
    assert "Review 1 of 1" in text
    assert question_in(content, reply).id == q.id
    done = alice.press(q.answer[0], reply).plain_text()
    assert done.startswith("✅ Correct")
    assert "Review done: 1 of 1 right" in done
    assert "Next review in" in done


def test_due_cards_come_most_overdue_first(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    first, second = single(content, 2, 0), single(content, 2, 1)
    pin_daily(bot, alice, content, first, date(2026, 3, 2))
    alice.press(wrong_letter(first), alice.send("/study today"))
    clock.set(2026, 3, 3, 12)
    pin_daily(bot, alice, content, second, date(2026, 3, 3))
    alice.press(wrong_letter(second), alice.send("/study today"))
    clock.set(2026, 3, 6, 12)
    reply = alice.send("/study review")
    text = reply.plain_text()
    assert "2 cards due; here are 2" in text
    assert question_in(content, reply).id == first.id
    assert "overdue by 3 days" in text
    nxt = alice.press(wrong_letter(first), reply)
    assert "Review 2 of 2" in nxt.plain_text()
    assert "overdue by 2 days" in nxt.plain_text().split("Review 2 of 2")[1]
    assert f" {second.id} ·" in nxt.plain_text()
    assert "You already answered this card" in alice.press(first.answer[0], reply).plain_text()


def test_fsrs_ratings_again_good_easy(bot: StudyBot, alice: Chat, content: Content) -> None:
    """Wrong → Again (back tomorrow), right → Good, a fast right on an easy question → Easy."""
    reply = alice.send("/study quiz 3")
    seen: list[tuple[Question, bool]] = []
    for i in range(3):
        q = question_in(content, reply)
        right = i > 0
        if q.multi:
            for letter in q.answer if right else [wrong_letter(q), *q.answer[1:]]:
                reply = alice.press(letter, reply)
            reply = alice.press("Submit", reply)
        else:
            reply = alice.press(q.answer[0] if right else wrong_letter(q), reply)
        seen.append((q, right))
    with bot.store.transaction() as s:
        cards = {c.question_id: c for c in s.scalars(select(ReviewCard))}
    for q, right in seen:
        card = cards[q.id]
        assert card.reps == 1 and card.last_review is not None
        due_in = (card.due - card.last_review).days
        if not right:
            assert (card.last_rating, due_in) == (1, 1)
        elif q.difficulty == 1:  # answered at once (the fake clock stands still): Easy
            assert card.last_rating == 4 and due_in > 3
        else:
            assert card.last_rating == 3 and 1 <= due_in <= 4


def test_fsrs_state_moves_with_time(bot: StudyBot, alice: Chat, content: Content) -> None:
    """Stored times are timezone-aware; a later right answer stretches the interval."""
    from bot.features import review_cards as review

    q = single(content, 2)
    with (
        time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False),
        bot.store.transaction() as s,
    ):
        ctx = Ctx(s=s, content=content, now=datetime.now(UTC), who=alice.who)
        due = review.record(s, ctx.workspace.id, ctx.user.id, q, True, datetime.now(UTC))
        first_gap = due - datetime.now(UTC)
    later = datetime(2026, 3, 2, 9, tzinfo=UTC) + first_gap
    with time_machine.travel(later, tick=False), bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=datetime.now(UTC), who=alice.who)
        due = review.record(s, ctx.workspace.id, ctx.user.id, q, True, datetime.now(UTC))
        assert due - datetime.now(UTC) > first_gap * 2
    with bot.store.transaction() as s:
        stored = s.scalar(select(ReviewCard).where(ReviewCard.question_id == q.id))
        assert stored is not None and stored.reps == 2 and stored.state == 2


def test_timestamps_in_review_are_aware(bot: StudyBot, alice: Chat, content: Content) -> None:
    q = single(content, 2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(q.answer[0], alice.send("/study today"))
    with bot.store.transaction() as s:
        card = s.scalar(select(ReviewCard))
        assert card is not None
        from bot.timeutil import as_utc

        assert as_utc(card.due) - as_utc(card.last_review or card.due) >= timedelta(days=1)


@given(
    rating=st.sampled_from(list(Rating)),
    when=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_first_review_is_what_fsrs_itself_computes(rating: Rating, when: datetime) -> None:
    new = Card(card_id=0, state=State.Learning, step=0, due=when)
    expected, _log = SCHEDULER.review_card(new, rating, review_datetime=when)
    got = first_review(rating, when)
    assert (got.state, got.step, got.stability, got.difficulty) == (
        expected.state,
        expected.step,
        expected.stability,
        expected.difficulty,
    )
    assert (got.due, got.last_review) == (expected.due, expected.last_review)
    assert first_review(rating, when) is not got  # each caller gets its own card


def test_the_next_due_card_is_shown_in_the_members_timezone(
    bot: StudyBot, alice: Chat, content: Content
) -> None:
    """It used to say "… 12:00 UTC" to a member who had set Asia/Kolkata."""
    q = single(content, difficulty=2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    alice.send("/study tz Asia/Kolkata")
    text = alice.send("/study review").plain_text()
    assert "The next card is due Tue 03 Mar 2026 17:30 (Asia/Kolkata)." in text
    assert "UTC" not in text
