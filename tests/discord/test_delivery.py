"""How replies leave: deferral when the core is slow, exactly one answer, hostile names."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import (
    Action,
    Button,
    Buttons,
    Heading,
    Image,
    Invocation,
    Paragraph,
    Reply,
    Visibility,
)
from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, LEAD, Harness, Member, embed_text

pytestmark = pytest.mark.anyio
EPHEMERAL = 64


class Slow:
    """The real core, made slower than the deferral threshold."""

    def __init__(self, bot: StudyBot, delay: float) -> None:
        self.bot, self.delay = bot, delay

    def handle(self, inv: Invocation) -> Reply:
        time.sleep(self.delay)
        return self.bot.handle(inv)

    def press(self, action: Action) -> Reply:
        time.sleep(self.delay)
        return self.bot.press(action)


class Broken:
    def handle(self, inv: Invocation) -> Reply:
        raise RuntimeError("boom")

    press = handle  # type: ignore[assignment]


@pytest.fixture
async def slow(fake: FakeDiscord, bot: StudyBot, content: Content) -> AsyncIterator[Harness]:
    harness = await Harness.start(fake, Slow(bot, 0.2), content, defer_after=0.02)
    yield harness
    await harness.close()


async def test_slow_command_is_deferred_then_edited(slow: Harness) -> None:
    out = await slow.command("help")
    assert out.callback.kind == 5 and out.callback.data["flags"] & EPHEMERAL
    [edit] = [c for c in out.calls if c.method == "PATCH"]
    assert edit.path.endswith("/messages/@original")
    assert "Study bot commands" in embed_text(edit.body)


async def test_slow_channel_reply_is_followed_up_publicly(slow: Harness) -> None:
    out = await slow.command("setup", LEAD, track="associate")
    assert out.callback.kind == 5
    [edit] = [c for c in out.calls if c.method == "PATCH"]
    assert "Posted in the channel" in embed_text(edit.body)
    [follow] = [c for c in out.calls if c.method == "POST" and c.path.startswith("/webhooks/")]
    assert not int(follow.body.get("flags") or 0) & EPHEMERAL
    assert "Study group created" in embed_text(follow.body)


async def test_slow_press_defers_as_update(slow: Harness, bot: StudyBot) -> None:
    await slow.command("setup", LEAD, track="associate")
    for i in range(11):
        await slow.command("join", Member(str(620000000000000000 + i), f"M{i}"))
    msg = (await slow.command("today")).last
    first = next(b for row in msg["components"] for b in row["components"])
    await slow.press(msg, first["label"])
    board = (await slow.command("leaderboard")).last
    out = await slow.press(board, "Next")
    assert out.callback.kind == 6  # deferred update: nothing shown yet
    [edit] = [c for c in out.calls if c.method == "PATCH"]
    assert edit.path.endswith("/messages/@original") and "Page 2 of 2" in embed_text(edit.body)


async def test_fast_replies_are_not_deferred(h: Harness) -> None:
    out = await h.command("help")
    assert out.callback.kind == 4
    assert [c for c in out.calls if c.method == "PATCH"] == []


async def test_core_failure_still_answers_once(fake: FakeDiscord, content: Content) -> None:
    harness = await Harness.start(fake, Broken(), content)
    try:
        out = await harness.command("today")
        assert out.callback.kind == 4 and out.callback.data["flags"] & EPHEMERAL
        assert "Something went wrong" in out.text()
    finally:
        await harness.close()


async def test_expired_interaction_is_not_retried(h: Harness, fake: FakeDiscord) -> None:
    fake.fail("POST", r"/callback$", 404, 10062)
    out = await h.command("help")
    assert len(fake.callbacks(out.interaction_id)) == 1
    assert [c for c in out.calls if c.path.startswith("/webhooks/")] == []


HOSTILE = [
    Member("630000000000000001", "@everyone"),
    Member("630000000000000002", "<@&123456789012345678>"),
    Member("630000000000000003", "**bold** [click](https://evil.example) `x` @here"),
    Member("630000000000000004", "x", nick="<@630000000000000001>"),
    Member("630000000000000005", "<@&123> <#1>"),
]


def _sent_payloads(fake: FakeDiscord) -> list[dict[str, Any]]:
    out = []
    for c in fake.calls:
        if c.method in ("POST", "PATCH") and isinstance(c.body, dict):
            data = c.data if c.path.endswith("/callback") else c.body
            if "embeds" in data or "content" in data:
                out.append(data)
    return out


async def test_hostile_display_names_ping_nobody(
    h: Harness, fake: FakeDiscord, content: Content
) -> None:
    await h.command("setup", LEAD, track="associate")
    for m in HOSTILE:
        out = await h.command("join", m)
        assert "Welcome to the study group" in out.text()
    for m in HOSTILE:
        msg = (await h.command("today", m)).last
        first = next(b for row in msg["components"] for b in row["components"])
        await h.press(msg, first["label"], m)
    await h.command("leaderboard", ALICE)
    payloads = _sent_payloads(fake)
    assert payloads
    for data in payloads:
        assert data.get("allowed_mentions") == {"parse": []}
        raw = json.dumps(data, ensure_ascii=False)
        for word in ("@everyone", "@here", "<@&123456789012345678>", "<@630000000000000001>"):
            assert word not in raw, (word, raw)
        text = embed_text(data)
        # Markdown from a name stays literal: escaped, so no masked link and no bold.
        assert not re.search(r"(?<!\\)\[click\]\(", text), text
        assert "**bold**" not in text
        # No mention syntax left live, except a user mention the core itself chose.
        assert not re.search(r"(?<!\\)<[@#](?!\d{15,21}>)", text), text
    board = embed_text(_sent_payloads(fake)[-1])
    assert "@\u200beveryone" in board and "<@\u200b&123456789012345678>" in board


async def test_slow_and_expired_is_dropped_quietly(slow: Harness, fake: FakeDiscord) -> None:
    fake.fail("POST", r"/callback$", 404, 10062)
    out = await slow.command("help")
    assert len(fake.callbacks(out.interaction_id)) == 1
    assert [c for c in out.calls if c.method == "PATCH" or c.path.startswith("/webhooks/")] == []


class Unrenderable:
    def handle(self, inv: Invocation) -> Reply:
        return Reply((Paragraph("not spans"),))  # type: ignore[arg-type]

    press = handle  # type: ignore[assignment]


async def test_unrenderable_reply_still_answers_once(fake: FakeDiscord, content: Content) -> None:
    harness = await Harness.start(fake, Unrenderable(), content)
    try:
        out = await harness.command("help")
        assert "Something went wrong" in out.text()
    finally:
        await harness.close()


class Canned:
    """Answers every command and press with one fixed reply: adapter paths the core's
    current commands do not reach (pictures, DMs from buttons, channel-wide replaces)."""

    def __init__(self, reply: Reply, pressed: Reply | None = None) -> None:
        self.reply, self.pressed = reply, pressed or reply

    def handle(self, inv: Invocation) -> Reply:
        return self.reply

    def press(self, action: Action) -> Reply:
        return self.pressed


def _with_button(visibility: Visibility = Visibility.EPHEMERAL) -> Reply:
    return Reply.of(
        Heading("Pick"), Buttons((Button("Go", "board", "week:1"),)), visibility=visibility
    )


async def test_picture_is_uploaded_and_replaced(fake: FakeDiscord, content: Content) -> None:
    chart = Reply.of(Heading("Chart"), Image(b"\x89PNG fake", "points per week", "week.png"))
    core = Canned(
        Reply.of(*chart.blocks, Buttons((Button("Next", "board", "week:2"),))),
        Reply(chart.blocks, Visibility.EPHEMERAL, replace=True),
    )
    harness = await Harness.start(fake, core, content)
    try:
        out = await harness.command("progress")
        assert out.callback.files == [("week.png", b"\x89PNG fake")]
        assert out.callback.data["embeds"][0]["image"]["url"] == "attachment://week.png"
        again = await harness.press(out.last, "Next")
        assert again.callback.kind == 7 and again.callback.files[0][0] == "week.png"
    finally:
        await harness.close()


async def test_button_reply_by_dm(fake: FakeDiscord, content: Content) -> None:
    dm = Reply.message("your report", visibility=Visibility.DM)
    harness = await Harness.start(fake, Canned(_with_button(), dm), content)
    try:
        msg = (await harness.command("help")).last
        out = await harness.press(msg, "Go")
        assert out.callback.kind == 6
        [sent] = [c for c in out.calls if c.path.startswith("/channels/")]
        assert embed_text(sent.body) == "your report"
        [note] = [c for c in out.calls if c.path.startswith("/webhooks/")]
        assert note.method == "POST" and int(note.body["flags"]) & EPHEMERAL
        assert "Sent to your direct messages" in embed_text(note.body)
    finally:
        await harness.close()


async def test_channel_post_is_replaced_only_when_the_core_says_channel(
    fake: FakeDiscord, content: Content
) -> None:
    public = Reply(_with_button().blocks, Visibility.CHANNEL, replace=True)
    private = Reply(_with_button().blocks, Visibility.EPHEMERAL, replace=True)
    for pressed, kind in ((public, 7), (private, 4)):
        harness = await Harness.start(
            fake, Canned(_with_button(Visibility.CHANNEL), pressed), content
        )
        try:
            post = (await harness.command("help")).last
            assert not post["flags"] & EPHEMERAL
            out = await harness.press(post, "Go")
            assert out.callback.kind == kind
            if kind == 4:
                assert out.callback.data["flags"] & EPHEMERAL
        finally:
            await harness.close()
