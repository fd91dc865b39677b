"""One scenario per button, and the promise that a click counts once."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from adapters.slack.app import SlackApp
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import ChannelTarget, Who
from bot.store.models import Answer, QuizAnswer
from tests.helpers import FakeClock
from tests.slack.conftest import SlackUser, action_body, find_button, signed_headers
from tests.slack.fakeslack import TEAM, FakeSlack
from tests.slack.limits import assert_within_limits


def _qid(blocks: list[dict]) -> str:  # type: ignore[type-arg]
    """The id of the (last) question a message shows, from its context line."""
    context = " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
    return re.findall(r"· (\S+) · (?:Answer|Pick)", context)[-1]


def _answers(bot: StudyBot, model: type = Answer) -> int:  # type: ignore[type-arg]
    with bot.store.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_answer_button_records_and_gives_feedback(
    ali: SlackUser, bot: StudyBot, content: Content
) -> None:
    today = ali.command("today")
    q = content.by_id[_qid(today.blocks)]
    a = ali.click(q.answer[0], today.blocks)
    assert a.status == 200 and a.ack == {}
    sent = a.responses[-1]
    assert sent["response_type"] == "ephemeral" and sent["replace_original"] is False
    assert "Correct" in a.text()
    assert_within_limits(sent)
    assert _answers(bot) == 1


def test_double_click_and_retry_record_one_answer(
    ali: SlackUser, bot: StudyBot, content: Content
) -> None:
    today = ali.command("today")
    q = content.by_id[_qid(today.blocks)]
    wrong = next(x for x in q.letters() if x not in q.answer)
    ali.click(wrong, today.blocks)
    second = ali.click(q.answer[0], today.blocks)
    assert "already answered" in second.text()
    # Slack retrying the very same signed request:
    body = action_body(ali.fake, ali.user, ali.name, find_button(today.blocks, wrong))
    headers = signed_headers(body)
    for _ in range(2):
        assert ali.dispatch(body, headers).status == 200
    ali.slack.frontend.drain()
    assert _answers(bot) == 1


def test_concurrent_clicks_record_one_answer(
    slack,
    fake: FakeSlack,
    lee: SlackUser,  # type: ignore[no-untyped-def]
    bot: StudyBot,
) -> None:
    bob = SlackUser(slack, fake, "UBOB", "Bob")
    today = bob.command("today")
    bodies = [
        action_body(fake, "UBOB", "Bob", find_button(today.blocks, letter))
        for letter in ("A", "B", "A", "C", "D", "A")
    ]
    threads = [threading.Thread(target=bob.dispatch, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slack.frontend.drain()
    assert _answers(bot) == 1
    replies = [c.args for c in fake.of("response")][-6:]
    assert sum("already answered" in str(r) for r in replies) == 5


def _multi_day(ali: SlackUser, clock: FakeClock, content: Content) -> tuple[list, str]:  # type: ignore[type-arg]
    """Move day by day until the group's daily question is a multi-answer one."""
    for _ in range(60):
        today = ali.command("today")
        if "Question of the day" in today.text():
            q = content.by_id[_qid(today.blocks)]
            if q.multi:
                return today.blocks, q.id
        clock.advance(days=1)
    raise AssertionError("no multi-answer daily question in 60 days")


def test_toggle_then_submit_multi_answer(
    ali: SlackUser, clock: FakeClock, content: Content, bot: StudyBot
) -> None:
    blocks, qid = _multi_day(ali, clock, content)
    q = content.by_id[qid]
    for letter in q.answer:
        a = ali.click(letter, blocks)
        sent = a.responses[-1]
        assert sent["replace_original"] is True  # the question is redrawn in place
        blocks = sent["blocks"]
        assert_within_limits(sent)
    assert find_button(blocks, f"☑ {q.answer[0]}")
    done = ali.click("Submit", blocks)
    assert "Correct" in done.text()
    assert _answers(bot) == 1


def test_quiz_answer_moves_to_the_next_question(
    ali: SlackUser, content: Content, bot: StudyBot
) -> None:
    first = ali.command("quiz 2")
    q1 = content.by_id[_qid(first.blocks)]
    if q1.multi:
        blocks = first.blocks
        for letter in q1.answer:
            blocks = ali.click(letter, blocks).responses[-1]["blocks"]
        a = ali.click("Submit", blocks)
    else:
        a = ali.click(q1.answer[0], first.blocks)
    assert "Correct" in a.text() and "Practice 2 of 2" in a.text()
    q2 = content.by_id[_qid(a.blocks)]
    wrong = next(x for x in q2.letters() if x not in q2.answer)
    if q2.multi:
        blocks = a.blocks
        for letter in (wrong, *q2.answer[1:]):
            blocks = ali.click(letter, blocks).responses[-1]["blocks"]
        end = ali.click("Submit", blocks)
    else:
        end = ali.click(wrong, a.blocks)
    assert "Practice set done: 1 of 2 right" in end.text()
    assert _answers(bot, QuizAnswer) == 2


def test_leaderboard_pages_with_next_and_previous(
    lee: SlackUser,
    slack,
    fake: FakeSlack,  # type: ignore[no-untyped-def]
    content: Content,
) -> None:
    members = []
    for i in range(23):
        u = SlackUser(slack, fake, f"UM{i:03d}", f"Member {i:02d}")
        today = u.command("today")
        q = content.by_id[_qid(today.blocks)]
        u.click(
            q.answer[0] if i % 2 else next(x for x in q.letters() if x not in q.answer),
            today.blocks,
        )
        members.append(u)
    board = lee.command("leaderboard")
    assert "Page 1 of 3" in board.text()
    assert_within_limits(board.ack)
    nxt = lee.click("Next", board.blocks)
    page2 = nxt.responses[-1]
    assert page2["replace_original"] is True and "Page 2 of 3" in nxt.text()
    assert_within_limits(page2)
    back = lee.click("Previous", page2["blocks"])
    assert "Page 1 of 3" in back.text()


def test_stale_button_is_explained(ali: SlackUser) -> None:
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "sb:answer:0",
                    "value": "d:999999:A",
                    "text": {"type": "plain_text", "text": "A"},
                }
            ],
        }
    ]
    a = ali.click("A", blocks)
    assert "another study group" in a.text() or "no longer" in a.text()


def test_report_button_flags_the_question(ali: SlackUser, content: Content) -> None:
    today = ali.command("today")
    qid = _qid(today.blocks)
    fed = ali.click(content.by_id[qid].answer[0], today.blocks)
    a = ali.click("⚑ Report", fed.blocks)
    assert qid in a.text() and "reported" in a.text()


def test_answer_on_the_clocks_channel_post(
    lee: SlackUser, slack: SlackApp, fake: FakeSlack, bot: StudyBot, content: Content
) -> None:
    """The daily flow: the clock posts the question with the Messenger, members click it."""
    who = Who("slack", TEAM, "C1", "ULEAD", "Lee", True)
    reply = bot.handle_text(who, "/study today")
    slack.messenger.post(ChannelTarget(TEAM, "C1"), reply)
    posted = fake.of("chat.postMessage")[-1].args["blocks"]
    q = content.by_id[_qid(posted)]
    bob = SlackUser(slack, fake, "UBOB", "Bob")
    a = bob.click(q.answer[0], posted)
    sent = a.responses[-1]
    assert sent["response_type"] == "ephemeral" and sent["replace_original"] is False
    assert "Correct" in a.text() and "You joined this study group" in a.text()
    assert _answers(bot) == 1


def test_a_refused_click_leaves_the_screen_it_was_pressed_on(
    ali: SlackUser, lee: SlackUser
) -> None:
    """Pressing someone else's practice button is refused in a new ephemeral message; the
    message with the buttons is not replaced, and its owner's press still works."""
    ali.command("quiz 1")
    shown = ali.last
    assert shown is not None
    refused = lee.click("A", blocks=shown.blocks)
    assert "belongs to someone else" in refused.text()
    assert refused.message["replace_original"] is False
    assert refused.message["response_type"] == "ephemeral"
    mine = ali.click("A", blocks=shown.blocks)
    assert "Correct" in mine.text() or "Not quite" in mine.text()
