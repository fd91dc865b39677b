"""The daily question: showing it, answering it, and when it opens and closes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import OperationalError

from bot.content.models import Content
from bot.core import StudyBot
from bot.features import daily
from bot.seam import Action, Visibility
from tests.helpers import Chat, FakeClock, answer_today, find_button, question_in, wrong_letter


def _right_answer_today(chat: Chat, content: Content) -> tuple[Action, str]:
    reply = chat.send("/study today")
    q = question_in(content, reply)
    assert not q.multi  # the fixture group's first question takes one click
    button = find_button(reply, q.answer[0])
    return Action(chat.who, button.action_id, button.value), q.id


def test_today_shows_a_question_with_buttons(alice: Chat, content: Content) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    assert q.track == "associate"
    assert reply.visibility is Visibility.EPHEMERAL
    assert "Question of the day · Mon 02 Mar 2026" in reply.plain_text()
    labels = [b.label for b in reply.buttons()]
    assert labels[:4] == (["A", "B", "C", "D"] if not q.multi else labels[:4])


def test_same_question_for_everyone_on_a_date(
    bot: StudyBot, lead: Chat, alice: Chat, content: Content
) -> None:
    q1 = question_in(content, alice.send("/study today"))
    q2 = question_in(content, lead.send("/study today"))
    assert q1.id == q2.id


def test_right_answer_gives_feedback_and_points(alice: Chat, content: Content) -> None:
    reply, qid = answer_today(alice, content, right=True)
    q = content.by_id[qid]
    text = reply.plain_text()
    assert text.startswith("✅ Correct")
    points = {1: 10, 2: 15, 3: 20}[q.difficulty]
    assert f"+{points} points" in text
    assert q.explanation.strip()[:40] in text
    assert "Streak: 1 day." in text
    assert "Read more" in text


def test_an_answer_is_committed_with_its_reply(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content
) -> None:
    """When `press` returns (the Slack adapter acks then) the answer is committed and
    its reply made: the streak it shows counts the answer just recorded."""
    action, qid = _right_answer_today(alice, content)
    points = {1: 10, 2: 15, 3: 20}[content.by_id[qid].difficulty]
    text = bot.press(action).plain_text()
    board = lead.send("/study leaderboard").plain_text()  # another member sees it
    assert f"Alice — {points} pts" in board
    assert text.startswith("✅ Correct") and "Streak: 1 day." in text


def test_a_bug_in_the_streak_does_not_undo_the_answer(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    action, qid = _right_answer_today(alice, content)

    def broken(*_args: object) -> int:
        raise KeyError("streak")

    monkeypatch.setattr(daily, "member_streak", broken)
    text = bot.press(action).plain_text()
    assert text.startswith("✅ Correct")
    assert content.by_id[qid].explanation.strip()[:40] in text
    assert "Streak" not in text
    points = {1: 10, 2: 15, 3: 20}[content.by_id[qid].difficulty]
    assert f"Alice — {points} pts" in lead.send("/study leaderboard").plain_text()


def test_a_database_error_making_the_reply_leaves_the_answer_unwritten(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply's reads share the answer's transaction: if the database fails them,
    the whole click is refused (try again), never an answer without its reply."""
    action, _qid = _right_answer_today(alice, content)

    def unreadable(*_args: object) -> int:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(daily, "member_streak", unreadable)
    text = bot.press(action).plain_text()
    assert "busy" in text.lower() and "Correct" not in text
    assert "Alice" not in lead.send("/study leaderboard").plain_text()
    monkeypatch.undo()
    assert bot.press(action).plain_text().startswith("✅ Correct")


def test_wrong_answer_shows_the_right_one(alice: Chat, content: Content) -> None:
    reply, qid = answer_today(alice, content, right=False)
    q = content.by_id[qid]
    text = reply.plain_text()
    assert text.startswith("❌ Not quite")
    assert f"the answer is {q.answer_text()}" in text


def test_second_click_says_what_you_answered_first(alice: Chat, content: Content) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    if q.multi:
        return  # covered by the multi-answer test
    first = wrong_letter(q)
    alice.press(first, reply)
    again = alice.press(q.answer[0], reply).plain_text()
    assert f"You already answered {first} (not right)" in again
    board = alice.send("/study leaderboard").plain_text()
    assert "Alice — 0 pts" in board


def test_multi_answer_toggles_then_submits(bot: StudyBot, alice: Chat, content: Content) -> None:
    from bot.context import Ctx
    from bot.features.daily import daily_for

    multi = next(q for q in content.by_track["associate"] if q.multi)
    # pin today's question to a multi-answer one
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=alice.who)
        row = daily_for(ctx, ctx.require_group(), date(2026, 3, 2))
        row.question_id = multi.id
    reply = alice.send("/study today")
    assert "Pick the letters, then Submit" in reply.plain_text()
    a, b = multi.answer
    step = alice.press(a, reply)
    assert step.replace is True
    assert find_button(step, f"☑ {a}")
    too_few = alice.press("Submit", step).plain_text()
    assert "needs 2 choices; you picked 1" in too_few
    step = alice.press(b, step)
    done = alice.press("Submit", step).plain_text()
    assert done.startswith(f"✅ Correct: {''.join(sorted(multi.answer))}")


def test_no_question_on_days_off(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    clock.set(2026, 3, 7, 12)  # Saturday
    text = alice.send("/study today").plain_text()
    assert "No question today (Sat 07 Mar 2026)" in text
    assert "The next one is on Mon 09 Mar 2026" in text
    lead.send("/study setup skip=2026-03-09")
    assert "The next one is on Tue 10 Mar 2026" in alice.send("/study today").plain_text()


def test_questions_do_not_repeat_until_the_bank_is_used(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    from datetime import timedelta

    from bot.context import Ctx
    from bot.features.daily import daily_for

    bank = content.by_track["associate"]
    seen: list[str] = []
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=lead.who)
        g = ctx.require_group()
        for i in range(len(bank) + 3):
            seen.append(daily_for(ctx, g, date(2026, 3, 2) + timedelta(days=i)).question_id)
    assert len(set(seen[: len(bank)])) == len(bank)
    assert set(seen[len(bank) :]) <= set(seen)


def test_old_questions_close(alice: Chat, content: Content, clock: FakeClock) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    clock.set(2026, 3, 5, 12)
    letter = q.answer[0]
    assert "is closed" in alice.press(letter, reply).plain_text()


def test_an_answered_question_no_longer_says_to_answer_with_a_button(
    alice: Chat, content: Content
) -> None:
    answer_today(alice, content)
    text = alice.send("/study today").plain_text()
    assert "You answered on" in text
    assert "Answer with a button" not in text and "then Submit" not in text
