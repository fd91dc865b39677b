"""Buttons of the mock exam (on a DM) and of spaced review, through the real App."""

from __future__ import annotations

from adapters.slack.ack import WORKING
from adapters.slack.listeners import SENT_DM
from bot.content.models import Content
from tests.helpers import FakeClock
from tests.slack.conftest import SlackUser, buttons_of, unescape
from tests.slack.fakeslack import FakeSlack
from tests.slack.limits import assert_within_limits
from tests.slack.test_buttons import _multi_day, _qid

DM = "DUALICE"


def _labels(blocks: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [unescape(e["text"]["text"]) for e in buttons_of(blocks)]


def test_mock_exam_buttons_on_a_dm(ali: SlackUser, fake: FakeSlack) -> None:
    a = ali.command("exam")
    assert a.ack["text"] in (SENT_DM, WORKING)
    blocks = ali.last_dm()
    assert "Mock exam · Question 1 of" in str(blocks)
    assert_within_limits({"blocks": blocks})

    picked = ali.click("A", blocks, channel=DM)  # PICK: saves and moves on, in place
    sent = picked.responses[-1]
    assert sent["replace_original"] is True and "Saved A for question 1" in picked.text()
    nxt = ali.click("Next", picked.blocks, channel=DM)  # GO
    assert "Question 3 of" in nxt.text()
    back = ali.click("◀ Previous", nxt.blocks, channel=DM)  # GO back
    assert "Question 2 of" in back.text()
    flagged = ali.click("⚑ Flag", back.blocks, channel=DM)  # FLAG
    assert "⚑ Unflag" in _labels(flagged.blocks)
    review = ali.click("Review & submit", flagged.blocks, channel=DM)  # SUBMIT
    assert "review before you submit" in review.text()
    assert_within_limits(review.responses[-1])
    jump = ali.click("⚑ Q2", review.blocks, channel=DM)  # GO to a flagged question
    assert "Question 2 of" in jump.text()
    review = ali.click("Review & submit", jump.blocks, channel=DM)
    done = ali.click("Submit exam", review.blocks, channel=DM)  # CONFIRM
    assert "Mock exam report" in done.text()
    assert_within_limits(done.responses[-1])
    if "More missed ▶" in _labels(done.blocks):  # REPORT paging
        more = ali.click("More missed ▶", done.blocks, channel=DM)
        assert "◀ Earlier missed" in _labels(more.blocks)
    past = ali.command("exams")
    assert "Your mock exams" in past.text()
    report = ali.click("Report #", past.blocks)  # REPORT from the list
    assert "Mock exam report" in report.text()


def test_review_answer_and_toggle(ali: SlackUser, clock: FakeClock, content: Content) -> None:
    blocks, qid = _multi_day(ali, clock, content)
    q = content.by_id[qid]
    wrong = [x for x in q.letters() if x not in q.answer][: len(q.answer)]
    for letter in wrong:
        blocks = ali.click(letter, blocks).responses[-1]["blocks"]
    assert "Not quite" in ali.click("Submit", blocks).text()
    clock.advance(days=1)
    r = ali.command("review")
    assert qid in r.text(), r.text()[:400]
    blocks = r.blocks
    for letter in q.answer:  # REVIEW_TOGGLE redraws in place
        t = ali.click(letter, blocks)
        assert t.responses[-1]["replace_original"] is True
        blocks = t.blocks
    done = ali.click("Submit", blocks)  # REVIEW_ANSWER
    assert "Correct" in done.text()
    assert _qid(r.blocks) == qid
