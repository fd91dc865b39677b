"""One scenario per button: answer, toggle, submit, leaderboard paging, report; restarts."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.discord.messenger import DiscordMessenger
from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.seam import ChannelTarget, Invocation, Who
from tests.discord.fake import FakeDiscord
from tests.discord.harness import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    LEAD,
    Harness,
    Member,
    button,
    buttons_of,
    embed_text,
    private_view_store_size,
)
from tests.helpers import FakeClock

pytestmark = pytest.mark.anyio
EPHEMERAL = 64


def question_of(content: Content, message: dict[str, Any]) -> Question:
    text = embed_text(message)
    found = [q for qid, q in content.by_id.items() if f" {qid} ·" in text]
    assert len(found) == 1, text
    return found[0]


def wrong(q: Question) -> str:
    return next(x for x in q.letters() if x not in q.answer)


async def setup_group(h: Harness) -> None:
    out = await h.command("setup", LEAD, track="associate", start="2026-03-02", tz="UTC")
    assert "Study group created" in out.text()


async def test_answer_button_on_own_question(h: Harness, content: Content) -> None:
    await setup_group(h)
    msg = (await h.command("today")).last
    q = question_of(content, msg)
    if q.multi:
        pytest.skip("covered by the multi-answer test")
    out = await h.press(msg, q.answer)
    assert out.callback.kind == 4 and out.callback.data["flags"] & EPHEMERAL
    assert "✅ Correct" in out.text()
    again = await h.press(msg, wrong(q))
    assert "only your first answer counts" in again.text()


async def test_answer_buttons_on_a_channel_post(
    h: Harness, fake: FakeDiscord, content: Content
) -> None:
    """The clock's post is shared: presses answer privately and never rewrite it."""
    await setup_group(h)
    reply = h.client.study.core.handle(
        Invocation(Who("discord", GUILD, CHANNEL, LEAD.id, "Lee", True), "today")
    )
    ref = await DiscordMessenger(h.client).apost(ChannelTarget(GUILD, CHANNEL), reply)
    post = fake.messages[ref.message_id]
    assert not post["flags"] & EPHEMERAL
    q = question_of(content, post)
    first = q.answer if not q.multi else None
    for member in (ALICE, BOB):
        if first is None:
            out = await h.press(post, q.answer[0], member)  # a toggle
        else:
            out = await h.press(post, first, member)
        assert out.callback.kind == 4 and out.callback.data["flags"] & EPHEMERAL
    assert not [c for c in fake.calls if c.method == "PATCH" and ref.message_id in c.path]
    assert fake.messages[ref.message_id] == post


def _multi_channel(bot: StudyBot, content: Content) -> str:
    """A channel whose group gets a multi-answer question today (the pick is a hash)."""
    for n in range(60):
        channel = str(700000000000000100 + n)
        lead = Who("discord", GUILD, channel, LEAD.id, "Lee", True)
        bot.handle(Invocation(lead, "setup", {"track": "associate", "tz": "UTC"}))
        reply = bot.handle(Invocation(lead, "today"))
        if any(b.action_id == "toggle" for b in reply.buttons()):
            return channel
    pytest.skip("no multi-answer question came up")


async def test_toggle_and_submit(h: Harness, bot: StudyBot, content: Content) -> None:
    channel = _multi_channel(bot, content)
    from tests.discord.harness import command_payload, press_payload

    msg = (await h.run(command_payload("today", member=ALICE, channel=channel))).last
    q = question_of(content, msg)
    assert q.multi and button(msg, "Submit")
    picks = list(q.answer)
    for letter in picks:
        cid = button(msg, letter)["custom_id"]
        out = await h.run(press_payload(msg, cid, member=ALICE, channel=channel), bind=msg["id"])
        assert out.callback.kind == 7  # the member's own message is edited in place
        msg = out.last
        assert f"☑ {letter}" in [b["label"] for b in buttons_of(msg)]
    submit = button(msg, "Submit")
    assert submit["label"] == f"Submit {''.join(sorted(picks))}"
    out = await h.run(
        press_payload(msg, submit["custom_id"], member=ALICE, channel=channel), bind=msg["id"]
    )
    assert out.callback.kind == 4 and "✅ Correct" in out.text()


async def test_leaderboard_next_and_previous(h: Harness, content: Content) -> None:
    await setup_group(h)
    members = [Member(str(610000000000000000 + i), f"Member {i:02d}") for i in range(12)]
    for m in members:
        await h.command("join", m)
    msg = (await h.command("today", members[0])).last
    q = question_of(content, msg)
    await h.press(msg, q.answer if not q.multi else q.answer[0], members[0])
    board = (await h.command("leaderboard", members[0], period="week")).last
    assert "Page 1 of 2" in embed_text(board)
    nxt = await h.press(board, "Next", members[0])
    assert nxt.callback.kind == 7 and "Page 2 of 2" in nxt.text()
    prev = await h.press(nxt.last, "◀ Previous", members[0])
    assert prev.callback.kind == 7 and "Page 1 of 2" in prev.text()


async def test_report_button(h: Harness, content: Content) -> None:
    await setup_group(h)
    msg = (await h.command("today")).last
    q = question_of(content, msg)
    if q.multi:
        pytest.skip("single-answer path only")
    answered = (await h.press(msg, wrong(q))).last
    labels = [b["label"] for b in buttons_of(answered)]
    report = [x for x in labels if "Report" in x]
    if not report:
        pytest.skip("this core version has no report button")
    out = await h.press(answered, report[0])
    assert out.callback.kind in (4, 7) and out.text().strip()


async def test_unknown_action_is_answered(h: Harness) -> None:
    await setup_group(h)
    msg = {
        "id": "1",
        "channel_id": CHANNEL,
        "author": {"id": "1", "username": "x", "discriminator": "0", "avatar": None},
        "content": "",
        "timestamp": "2026-03-02T12:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Old", "custom_id": "sb:retired:v1"}
                ],
            }
        ],
    }
    out = await h.press(msg, "Old")
    assert "no longer supported" in out.text()


async def test_buttons_survive_a_restart(
    fake: FakeDiscord, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    first = await Harness.start(fake, bot, content)
    try:
        await setup_group(first)
        msg = (await first.command("today")).last
        assert private_view_store_size(first.client) == 0  # nothing kept in memory
    finally:
        await first.close()
    # A new process: a new core on the same database, a new client, the old message.
    again = StudyBot(bot.store, content, clock=clock)
    second = await Harness.start(fake, again, content)
    try:
        q = question_of(content, msg)
        out = await second.press(msg, q.answer if not q.multi else q.answer[0])
        assert out.callback.kind in (4, 7)
        assert "✅ Correct" in out.text() or "☑" in out.text()
    finally:
        await second.close()
