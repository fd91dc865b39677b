"""Hostile display names: shown as typed, never a ping, never over Block Kit limits."""

from __future__ import annotations

import json

from adapters.slack.app import SlackApp
from bot.content.models import Content
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack
from tests.slack.limits import assert_no_broadcast, assert_within_limits
from tests.slack.test_buttons import _qid

HOSTILE = {
    "UH1": "<!channel>",
    "UH2": "<@U123>",
    "UH3": "&lt;",
    "UH4": "<!here|here> & <!everyone>",
    "UH5": "<https://evil.example|free points>",
}


def _everything_sent(fake: FakeSlack, answers: list[dict]) -> str:  # type: ignore[type-arg]
    return "\n".join([*fake.posted_texts(), *(json.dumps(a, ensure_ascii=False) for a in answers)])


def test_hostile_names_in_leaderboard_and_progress(
    lee: SlackUser, slack: SlackApp, fake: FakeSlack, content: Content
) -> None:
    acks = []
    for uid, name in HOSTILE.items():
        fake.user(uid, name)
        u = SlackUser(slack, fake, uid, name)
        acks.append(u.command("join").ack)
        today = u.command("today")
        q = content.by_id[_qid(today.blocks)]
        acks.append(u.click(q.answer[0], today.blocks).message)
    board = lee.command("leaderboard")
    acks.append(board.ack)
    board_text = board.text()
    assert "&amp;lt;!channel&amp;gt;" not in board_text  # escaped once, not twice
    assert "&lt;!channel&gt;" in board_text
    assert "&lt;@U123&gt;" in board_text
    assert "&amp;lt;" in board_text  # the literal name "&lt;" stays readable as typed
    assert "&lt;https://evil.example|free points&gt;" in board_text
    for uid, name in HOSTILE.items():
        fake.clear()
        u = SlackUser(slack, fake, uid, name)
        u.command("progress")
        report = fake.wait_for("chat.postMessage")[-1].args
        header = report["blocks"][0]["text"]["text"]
        assert header == "Your progress · " + name.replace("&", "&amp;").replace(
            "<", "&lt;"
        ).replace(">", "&gt;")
        assert_within_limits(report)
        acks.append(report)
    everything = _everything_sent(fake, acks)
    assert_no_broadcast(everything)
    assert "<@U123>" not in everything
    assert "<https://evil" not in everything


def test_long_hostile_names_keep_the_paged_board_within_limits(
    lee: SlackUser, slack: SlackApp, fake: FakeSlack, content: Content
) -> None:
    for i in range(24):
        uid = f"UL{i:03d}"
        name = ("<!channel>" * 20 + str(i))[:200]
        fake.user(uid, name)
        u = SlackUser(slack, fake, uid, name)
        today = u.command("today")
        q = content.by_id[_qid(today.blocks)]
        u.click(q.answer[0], today.blocks)
    board = lee.command("leaderboard all")
    assert_within_limits(board.ack)
    sections = [b for b in board.blocks if b["type"] == "section"]
    assert len(sections) >= 2  # 10 long rows do not fit one section: split, not cut
    assert sum(s["text"]["text"].count(" pts · ") for s in sections) == 10
    pages = [board.ack]
    blocks = board.blocks
    for _ in range(2):
        nxt = lee.click("Next", blocks)
        pages.append(nxt.responses[-1])
        blocks = nxt.responses[-1]["blocks"]
        assert_within_limits(nxt.responses[-1])
    assert "Page 3 of 3" in json.dumps(pages[-1], ensure_ascii=False)
    assert_no_broadcast("\n".join(json.dumps(p) for p in pages))


def test_hostile_flag_reason(ali: SlackUser, content: Content, fake: FakeSlack) -> None:
    """Slack sends typed `<`, `>`, `&` as entities; they come back escaped, never live."""
    today = ali.command("today")
    ali.click(content.by_id[_qid(today.blocks)].answer[0], today.blocks)
    a = ali.command("flag key is wrong &lt;!channel&gt; &amp;lt; &lt;@U123&gt;")
    assert "key is wrong &lt;!channel&gt; &amp;lt; &lt;@U123&gt;" in a.text()
    assert_no_broadcast(a.text())
    assert "<@U123>" not in a.text()
