"""Where the reveal goes, on the in-memory platform and the terminal: in the thread of the
question it answers, the channel when the platform refuses the thread or the question was
never posted, and the terminal prints it marked as in that thread."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from adapters.console.messenger import ConsoleMessenger
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import ChannelTarget, MessageRef, Reply, ThreadRefused
from tests.clockwork import Rounds
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock

# The group is set up on Monday at noon (the `clock` fixture): its first question is Tuesday's.
TUESDAY = datetime(2026, 3, 3, 9, tzinfo=UTC)
WEDNESDAY = TUESDAY + timedelta(days=1)


@dataclass
class NoThreads(FakeMessenger):
    """A platform that refuses every thread, as a Discord server without the permission."""

    refused: list[str] = field(default_factory=list)

    def post_keyed(self, target: ChannelTarget, reply: Reply, key: str) -> MessageRef:
        if target.thread is not None:
            self.refused.append(key)
            raise ThreadRefused("403 50013: Missing Permissions")
        return super().post_keyed(target, reply, key)


def test_the_reveal_replies_in_the_thread_of_the_question_it_answers(
    bot: StudyBot, content: Content, clock: FakeClock, lead: Chat
) -> None:
    fake = FakeMessenger()
    rounds = Rounds(bot.store, content, clock, {"console": fake})
    rounds.at(TUESDAY)
    rounds.at(WEDNESDAY)
    tuesday = next(i for i, p in enumerate(fake.posts) if p.key == "daily:1:2026-03-03")
    [reveal] = [p for p in fake.posts if p.key == "reveal:1:2026-03-04"]
    assert reveal.thread == f"m{tuesday + 1}" and reveal.target == "C1"
    assert reveal.reply.plain_text().startswith("Answer to Tue 03 Mar 2026")


def test_a_refused_thread_sends_the_reveal_to_the_channel_once(
    bot: StudyBot, content: Content, clock: FakeClock, lead: Chat
) -> None:
    fake = NoThreads()
    rounds = Rounds(bot.store, content, clock, {"console": fake})
    rounds.at(TUESDAY)
    rounds.at(WEDNESDAY)
    assert fake.refused == ["reveal:1:2026-03-04"]
    [reveal] = [p for p in fake.posts if p.key == "reveal:1:2026-03-04"]
    assert reveal.thread is None and reveal.target == "C1"
    assert rounds.outbox("reveal")[-1] == ("reveal:1:2026-03-04", "sent")


def test_a_question_that_was_never_posted_is_revealed_in_the_channel(
    bot: StudyBot, content: Content, clock: FakeClock, lead: Chat
) -> None:
    fake = FakeMessenger()
    rounds = Rounds(bot.store, content, clock, {"console": fake})
    clock.now = TUESDAY + timedelta(hours=8)  # the clock was down for Tuesday's post...
    Chat(bot, user="ana", name="Ana").send("/study join")
    Chat(bot, user="ana", name="Ana").send("/study today")  # ...but Ana saw the question
    rounds.at(WEDNESDAY)
    [reveal] = [p for p in fake.posts if p.key == "reveal:1:2026-03-04"]
    assert reveal.thread is None  # no post to reply under
    assert reveal.reply.plain_text().startswith("Answer to Tue 03 Mar 2026")


def test_the_terminal_prints_the_reveal_as_in_the_days_thread(
    bot: StudyBot, content: Content, clock: FakeClock, lead: Chat, tmp_path: Path
) -> None:
    out = io.StringIO()
    shown = ConsoleMessenger(Console(file=out, width=100), tmp_path, "lead")
    rounds = Rounds(bot.store, content, clock, {"console": shown})
    rounds.at(TUESDAY)
    assert "in the thread" not in out.getvalue()  # a question is posted in the channel
    rounds.at(WEDNESDAY)
    printed = out.getvalue()
    marker = printed.index("(in the thread of Question of the day · Tue 03 Mar 2026)")
    assert printed.index("Answer to Tue 03 Mar 2026") > marker
