"""The learning engine as a member sees it: spaced review, timed mock exams, progress."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import time_machine
from PIL import Image as PILImage
from sqlalchemy import select

from bot.content.models import Content, Question
from bot.context import Ctx
from bot.core import StudyBot
from bot.features.daily import daily_for
from bot.features.exam.grading import close_expired_exams
from bot.seam import Image, Reply, Visibility
from bot.store.db import Store
from bot.store.models import ExamAttempt, ReviewCard
from tests.helpers import Chat, FakeClock, question_in, wrong_letter


def pin_today(bot: StudyBot, chat: Chat, content: Content, q: Question, day: date) -> None:
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=chat.who)
        daily_for(ctx, ctx.require_group(), day).question_id = q.id


def single(content: Content, difficulty: int | None = None, skip: int = 0) -> Question:
    qs = [
        q
        for q in content.by_track["associate"]
        if not q.multi and (difficulty is None or q.difficulty == difficulty)
    ]
    return qs[skip]


def answer_exam_question(chat: Chat, content: Content, reply: Reply, right: bool) -> Reply:
    q = question_in(content, reply)
    if q.multi:
        letters = list(q.answer) if right else [wrong_letter(q), *q.answer[1:]]
        for letter in letters:
            reply = chat.press(letter, reply)
        if "Next ▶" in [b.label for b in reply.buttons()]:
            reply = chat.press("Next ▶", reply)
        return reply
    return chat.press(q.answer[0] if right else wrong_letter(q), reply)


# ------------------------------------------------------------------ spaced review


def test_a_missed_daily_question_comes_back_for_review_the_next_day(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    q = single(content, difficulty=2)
    pin_today(bot, alice, content, q, date(2026, 3, 2))
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
    pin_today(bot, alice, content, first, date(2026, 3, 2))
    alice.press(wrong_letter(first), alice.send("/study today"))
    clock.set(2026, 3, 3, 12)
    pin_today(bot, alice, content, second, date(2026, 3, 3))
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


# ------------------------------------------------------------------ mock exams


def test_exam_runs_in_dms_with_the_real_shape(alice: Chat, content: Content) -> None:
    reply = alice.send("/study exam")
    text = reply.plain_text()
    assert reply.visibility is Visibility.DM
    assert "Mock exam started: 48 questions in 90 minutes" in text
    assert "Mock exam · Question 1 of 48" in text
    assert "⏱ 1 h 30 min left (ends 13:30 UTC) · answered 0 of 48 · flagged 0" in text
    labels = [b.label for b in reply.buttons()]
    assert "Next ▶" in labels and "⚑ Flag" in labels and "Review & submit" in labels
    assert "◀ Previous" not in labels


def test_exam_answers_change_flags_and_report(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    first = question_in(content, reply)
    reply = answer_exam_question(alice, content, reply, right=False)
    if not first.multi:
        assert "Saved" in reply.plain_text() and "Question 2 of 48" in reply.plain_text()
    reply = alice.press("⚑ Flag", reply)
    assert "Flagged question 2 for review" in reply.plain_text()
    assert "Question 2 of 48 ⚑" in reply.plain_text()
    back = alice.press("◀ Previous", reply)
    assert "Question 1 of 48" in back.plain_text()
    assert back.replace is True
    # change the first answer to the right one
    fixed = answer_exam_question(alice, content, back, right=True)
    assert "Question 2 of 48" in fixed.plain_text() or "Saved" in fixed.plain_text()
    clock.advance(minutes=20)
    flag_cmd = alice.send("/study exam flag")
    assert "Unflagged question 2" in flag_cmd.plain_text()
    assert "1 h 10 min left" in flag_cmd.plain_text()
    review_page = alice.press("Review & submit", flag_cmd)
    page = review_page.plain_text()
    assert "review before you submit" in page
    assert "Answered: 1 of 48" in page
    assert "Unanswered: 2, 3, 4" in page
    report = alice.press("Submit", review_page)
    text = report.plain_text()
    assert report.visibility is Visibility.DM
    assert "Mock exam report" in text
    assert "Score: 1 of 48 (2%)" in text
    assert "Below the 70% practice line" in text
    assert "No official pass mark" in text and "practice target" in text
    assert "submitted after 20 of 90 min" in text
    for d in content.track("associate").domains:
        assert f"{d.name}: " in text and f"weight {d.weight_label}" in text
    assert "Missed questions 1–3 of 47" in text
    more = alice.press("More missed ▶", report)
    assert "Missed questions 4–6 of 47" in more.plain_text()
    listing = alice.send("/study exams").plain_text()
    assert "1/48 (2%) · Below the 70% practice line · submitted" in listing
    # answers are closed after submit
    assert "already submitted" in alice.press("A", fixed).plain_text()


def test_exam_report_explains_missed_questions(alice: Chat, content: Content) -> None:
    reply = alice.send("/study exam")
    q = question_in(content, reply)
    reply = alice.send("/study exam submit")
    report = alice.press("Submit exam", reply)
    text = report.plain_text()
    assert f"Q1 · {q.id}" in text
    assert "You: no answer · Right: " in text
    assert q.explanation.strip()[:60] in text


def test_exam_times_out_when_the_member_acts(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    reply = answer_exam_question(alice, content, reply, right=True)
    clock.advance(minutes=91)
    late = alice.press("Next ▶", reply)
    text = late.plain_text()
    assert "Time is up: your exam was submitted automatically." in text
    assert "Score: 1 of 48" in text
    assert "time ran out after 90 min; submitted automatically" in text
    assert "timed out" in alice.send("/study exams").plain_text()
    assert "Mock exam started" in alice.send("/study exam").plain_text()


def test_clock_closes_expired_exams(bot: StudyBot, alice: Chat, clock: FakeClock) -> None:
    alice.send("/study exam")
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 0
    clock.advance(minutes=90)
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 1
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 0
        attempt = s.scalar(select(ExamAttempt))
        assert attempt is not None and attempt.status == "expired" and attempt.correct == 0
    assert "0/48 (0%)" in alice.send("/study exams").plain_text()


def test_one_exam_at_a_time_and_resume_after_restart(
    sqlite_store: Store, bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    reply = answer_exam_question(alice, content, reply, right=True)
    reply = alice.press("⚑ Flag", reply)
    again = alice.send("/study exam").plain_text()
    assert "Resuming your exam in progress." in again and "Question 2 of 48 ⚑" in again
    other = alice.send("/study exam professional").plain_text()
    assert "You have a associate exam in progress" in other
    # a new process on the same database file picks the exam up where it was
    clock.advance(minutes=5)
    restarted = StudyBot(Store.from_url(str(sqlite_store.engine.url)), content, clock=clock)
    chat = Chat(restarted, user="alice", name="Alice")
    text = chat.send("/study exam").plain_text()
    assert "Resuming your exam in progress." in text
    assert "Question 2 of 48 ⚑" in text
    assert "1 h 25 min left" in text and "answered 1 of 48 · flagged 1" in text
    assert "Report" not in chat.send("/study exams").plain_text().split("in progress")[0]
    restarted.store.dispose()


def test_exam_flag_without_an_exam(alice: Chat) -> None:
    assert "no exam in progress" in alice.send("/study exam flag").plain_text()
    assert "No mock exams yet" in alice.send("/study exams").plain_text()
    assert "Unknown exam option 'hard'" in alice.send("/study exam hard").plain_text()


def test_someone_elses_exam_buttons_are_refused(alice: Chat, lead: Chat) -> None:
    reply = alice.send("/study exam")
    assert "belongs to someone else" in lead.press("Next ▶", reply).plain_text()


def test_professional_exam_shape(alice: Chat) -> None:
    text = alice.send("/study exam professional").plain_text()
    assert "59 questions in 120 minutes" in text
    assert "2 h 00 min left" in text


# ------------------------------------------------------------------ progress


def test_progress_shows_readiness_reviews_pace_and_a_chart(
    alice: Chat, content: Content, bot: StudyBot
) -> None:
    q = single(content, 2)
    pin_today(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    reply = alice.send("/study progress")
    text = reply.plain_text()
    assert reply.visibility is Visibility.DM
    assert "Estimated exam score: " in text and "80% interval" in text
    assert "from 1 answers" in text
    assert "Due for review: 0 cards" in text
    assert "Pace: on track (the calendar has you in phase 1" in text
    assert "Next three things to do" in text
    assert "No official pass mark is published; 70% is a practice line." in text
    images = [b for b in reply.blocks if isinstance(b, Image)]
    assert len(images) == 1
    png = images[0].png
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 200_000
    assert "accuracy by domain against the 70% line" in images[0].alt
    with PILImage.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size[0] >= 600


def test_due_count_and_pace_behind(
    alice: Chat, content: Content, bot: StudyBot, clock: FakeClock
) -> None:
    q = single(content, 2)
    pin_today(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    clock.set(2026, 3, 16, 12)
    text = alice.send("/study progress").plain_text()
    assert "Due for review: 1 card" in text
    assert "days behind" in text
    assert "Review your 1 due card — /study review" in text
    assert "Catch up: " in text or "/study check F" in text


def test_timestamps_in_review_are_aware(bot: StudyBot, alice: Chat, content: Content) -> None:
    q = single(content, 2)
    pin_today(bot, alice, content, q, date(2026, 3, 2))
    alice.press(q.answer[0], alice.send("/study today"))
    with bot.store.transaction() as s:
        card = s.scalar(select(ReviewCard))
        assert card is not None
        from bot.timeutil import as_utc

        assert as_utc(card.due) - as_utc(card.last_review or card.due) >= timedelta(days=1)


def test_exam_buttons_work_from_a_dm_workspace(
    alice: Chat, content: Content, bot: StudyBot
) -> None:
    """Discord DMs have no guild: the press arrives under another workspace id."""
    reply = alice.send("/study exam")
    in_dm = Chat(bot, user="alice", name="Alice", channel="D1", workspace="dm-alice")
    moved = in_dm.press("Next ▶", reply)
    assert "Question 2 of 48" in moved.plain_text()
    stranger = Chat(bot, user="mallory", name="Mallory", channel="D2", workspace="dm-mallory")
    assert "belongs to someone else" in stranger.press("Next ▶", reply).plain_text()
    other_platform = Chat(bot, user="alice", name="Alice", platform="slack", workspace="T1")
    assert "belongs to someone else" in other_platform.press("Next ▶", reply).plain_text()


def test_a_second_open_exam_is_refused_by_the_store(
    bot: StudyBot, alice: Chat, content: Content
) -> None:
    import pytest

    from bot.errors import UserError
    from bot.features.exam import command as exam
    from bot.features.exam.attempt import open_attempt

    alice.send("/study exam")
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=alice.who)
        with pytest.raises(UserError, match="already have an exam in progress"):
            exam._start(ctx, ctx.require_group(), "associate")  # skips the friendly check
        assert open_attempt(s, ctx.user.id) is not None  # the session is still usable
    with bot.store.transaction() as s:
        assert len(s.scalars(select(ExamAttempt)).all()) == 1


def test_progress_counts_an_exam_that_timed_out(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    for _ in range(3):
        reply = answer_exam_question(alice, content, reply, right=True)
    clock.advance(hours=2)
    text = alice.send("/study progress").plain_text()
    assert "from 3 answers" in text
    assert "timed out" in alice.send("/study exams").plain_text()


def test_a_new_exam_avoids_questions_seen_in_the_last_two_weeks(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    seen = {question_in(content, reply).id}
    for _ in range(3):
        reply = alice.press("Next ▶", reply)
        seen.add(question_in(content, reply).id)
    alice.press("Submit exam", alice.send("/study exam submit"))
    clock.advance(days=1)
    text = alice.send("/study exam").plain_text()
    assert "48 of them not seen in the last 14 days" in text
    with bot.store.transaction() as s:
        latest = s.scalars(select(ExamAttempt).order_by(ExamAttempt.id.desc())).first()
        assert latest is not None and not seen & set(latest.question_ids)
