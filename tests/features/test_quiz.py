"""Practice quizzes."""

from __future__ import annotations

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Reply
from tests.helpers import Chat, question_in


def test_quiz_runs_through_a_set_with_capped_points(alice: Chat, content: Content) -> None:
    reply = alice.send("/study quiz model-training 7")
    assert "Practice 1 of 7" in reply.plain_text()
    earned = 0
    for i in range(7):
        q = question_in(content, reply)
        assert q.domain == "model-training"
        if q.multi:
            for letter in q.answer:
                reply = alice.press(letter, reply)
            reply = alice.press("Submit", reply)
        else:
            reply = alice.press(q.answer[0], reply)
        text = reply.plain_text()
        assert "✅ Correct" in text
        earned += 1 if "(+1 point)" in text else 0
        assert "(+1 points)" not in text
        if i < 6:
            assert f"Practice {i + 2} of 7" in text
    assert "Practice set done: 7 of 7 right" in reply.plain_text()
    assert earned == 5  # the daily cap
    assert "Alice — 5 pts" in alice.send("/study leaderboard").plain_text()


def test_quiz_validates_arguments(alice: Chat) -> None:
    assert "from 1 to 20" in alice.send("/study quiz 50").plain_text()
    assert "Unknown domain 'cooking'" in alice.send("/study quiz cooking").plain_text()
    assert "Practice 1 of 3" in alice.send("/study quiz 3").plain_text()


def test_quiz_prefers_unseen_questions(alice: Chat, content: Content) -> None:
    first = alice.send("/study quiz automl-platform 20")
    seen = {question_in(content, first).id}
    reply = first
    for _ in range(19):
        q = question_in(content, reply)
        reply = (
            alice.press(q.answer[0] if not q.multi else "Submit", reply)
            if not q.multi
            else alice.press("Submit", alice.press(q.answer[1], alice.press(q.answer[0], reply)))
        )
        if "Practice" in reply.plain_text() and "done" not in reply.plain_text():
            seen.add(question_in(content, Reply(reply.blocks[5:])).id)
    second = alice.send("/study quiz automl-platform 10")
    assert question_in(content, second).id not in seen


def test_someone_elses_quiz_buttons_are_refused(bot: StudyBot, alice: Chat, lead: Chat) -> None:
    reply = alice.send("/study quiz 2")
    text = lead.press("A", reply).plain_text()
    assert "belongs to someone else" in text


def test_an_unfinished_set_is_offered_before_a_new_one(alice: Chat, content: Content) -> None:
    """A set left at question 9 (say, after a refused press) could not be found again."""
    reply = alice.send("/study quiz 3")
    q = question_in(content, reply)
    alice.press(q.answer[0] if not q.multi else "Submit", reply)
    offer = alice.send("/study quiz")
    assert "You have an unfinished practice set: 1 of 3 answered" in offer.plain_text()
    assert "Practice 2 of 3" in alice.press("Continue the set", offer).plain_text()
    fresh = alice.press("New set", alice.send("/study quiz"))
    assert "Practice 1 of 5" in fresh.plain_text()
    assert "Practice 1 of 2" in alice.send("/study quiz 2").plain_text()  # asked for: new at once
