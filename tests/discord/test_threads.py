"""The daily question's thread on Discord, through discord.py and the fake REST API: the
daily post opens a public thread on itself (archived after a day), the next post day's
reveal is posted in it, and the "N answered so far" line keeps editing the root post;
where Discord refuses the thread, the reveal goes to the channel."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select

from adapters.discord.messenger import background_messenger
from bot.content.models import Content
from bot.core import StudyBot
from bot.store.models import Outbox
from tests.clockwork import Rounds
from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, CHANNEL, GUILD, LEAD, Harness, embed_text
from tests.helpers import Chat, FakeClock, answer_today

pytestmark = pytest.mark.anyio
# The group is set up on Monday at noon: its first question is Tuesday's.
TUESDAY = datetime(2026, 3, 3, 9, tzinfo=UTC)
WEDNESDAY = TUESDAY + timedelta(days=1)
README = Path(__file__).resolve().parents[2] / "adapters" / "discord" / "README.md"


async def deliver(bot: StudyBot, content: Content, clock: FakeClock, *moments: datetime) -> None:
    """The clock and a worker with the REST-only messenger, as `studybot deliver` runs."""

    def run() -> None:
        with background_messenger("test-token", timeout=10) as m:
            rounds = Rounds(bot.store, content, clock, {"discord": m})
            for when in moments:
                rounds.at(when)

    await asyncio.to_thread(run)


def posted(fake: FakeDiscord, channel: str, words: str) -> list[dict[str, Any]]:
    """The messages the fake took in `channel` whose text has `words`."""
    return [
        c.answered
        for c in fake.of("POST", rf"^/channels/{channel}/messages$")
        if isinstance(c.answered, dict) and "id" in c.answered and words in embed_text(c.body)
    ]


async def group(h: Harness) -> None:
    await h.command("setup", LEAD, start="2026-03-02", tz="UTC")
    await h.command("join", ALICE)


async def test_the_daily_post_opens_a_thread_where_the_reveal_goes(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    await group(h)
    await deliver(bot, content, clock, TUESDAY)
    [root] = posted(fake, CHANNEL, "Question of the day · Tue 03 Mar 2026")
    [opened] = fake.of("POST", rf"^/channels/{CHANNEL}/messages/{root['id']}/threads$")
    assert opened.body["name"] == "Question of the day · Tue 03 Mar 2026"
    assert opened.body["auto_archive_duration"] == 1440
    alice = Chat(bot, ALICE.id, "Alice", channel=CHANNEL, workspace=GUILD, platform="discord")
    answer_today(alice, content)  # answers stay private: a button, as before
    await deliver(bot, content, clock, TUESDAY + timedelta(minutes=1))
    [count] = fake.of("PATCH", rf"^/channels/{CHANNEL}/messages/{root['id']}$")
    assert "1 answered so far" in embed_text(count.body)  # the root post keeps counting

    await deliver(bot, content, clock, WEDNESDAY)
    [reveal] = posted(fake, root["id"], "Answer to Tue 03 Mar 2026")  # the thread's id
    text = embed_text(reveal)
    assert "1 of 1 got it right" in text and "First right: Alice" in text
    assert not posted(fake, CHANNEL, "Answer to")  # in the thread, not the channel
    [wednesday] = posted(fake, CHANNEL, "Question of the day · Wed 04 Mar 2026")
    assert "Answer to" not in embed_text(wednesday)
    assert fake.of("POST", rf"^/channels/{CHANNEL}/messages/{wednesday['id']}/threads$")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, 50013),  # Missing Permissions: no Create Public Threads
        (400, 50024),  # a channel type without threads
    ],
)
async def test_with_threads_refused_the_reveal_goes_to_the_channel(
    h: Harness,
    fake: FakeDiscord,
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
    status: int,
    code: int,
) -> None:
    await group(h)
    fake.fail("POST", r"^/channels/\d+/messages/\d+/threads$", status, code, times=10)
    await deliver(bot, content, clock, TUESDAY)
    [root] = posted(fake, CHANNEL, "Question of the day · Tue 03 Mar 2026")  # it stands
    await deliver(bot, content, clock, WEDNESDAY)
    tried = fake.of("POST", rf"^/channels/{CHANNEL}/messages/{root['id']}/threads$")
    assert len(tried) == 2  # when posted, and again for the reveal
    [reveal] = posted(fake, CHANNEL, "Answer to Tue 03 Mar 2026")
    assert "nobody answered" in embed_text(reveal)
    assert not fake.threads
    with bot.store.transaction(read_only=True) as s:
        rows = dict(s.execute(select(Outbox.idem_key, Outbox.status)).all())
    assert rows["reveal:1:2026-03-04"] == "sent" and rows["daily:1:2026-03-03"] == "sent"


async def test_no_send_messages_in_threads_sends_the_reveal_to_the_channel(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    await group(h)
    await deliver(bot, content, clock, TUESDAY)
    [root] = posted(fake, CHANNEL, "Question of the day · Tue 03 Mar 2026")
    assert root["id"] in fake.threads
    fake.fail("POST", rf"^/channels/{root['id']}/messages$", 403, 50001)
    await deliver(bot, content, clock, WEDNESDAY)
    assert len(posted(fake, CHANNEL, "Answer to Tue 03 Mar 2026")) == 1
    assert not posted(fake, root["id"], "Answer to")


async def test_a_thread_not_opened_with_the_post_is_opened_for_the_reveal(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    await group(h)
    # A long rate limit when the question was posted: the post stands, without its thread.
    fake.fail("POST", r"/threads$", 429, retry_after=120.0)
    await deliver(bot, content, clock, TUESDAY)
    [root] = posted(fake, CHANNEL, "Question of the day · Tue 03 Mar 2026")
    assert root["id"] not in fake.threads
    await deliver(bot, content, clock, WEDNESDAY)
    assert fake.threads[root["id"]]["name"] == "Question of the day · Tue 03 Mar 2026"
    assert len(posted(fake, root["id"], "Answer to Tue 03 Mar 2026")) == 1
    assert not posted(fake, CHANNEL, "Answer to")


def test_the_invite_asks_for_the_thread_permissions() -> None:
    """The README's invite link carries every permission the bot uses, threads included."""
    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        create_public_threads=True,
        send_messages_in_threads=True,
    )
    text = README.read_text()
    [value] = re.findall(r"permissions=(\d+)", text)
    assert int(value) == needed.value
    assert "Create Public Threads" in text and "Send Messages in Threads" in text
