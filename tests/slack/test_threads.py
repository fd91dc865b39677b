"""The daily question's thread on Slack: the next post day's reveal is a reply in the
question's thread, also shown in the channel (reply_broadcast), through the real Bolt App,
the clock and the delivery worker; a thread reply Slack refuses goes to the channel, and a
reply whose outcome a dying worker left unknown is found in the thread, not posted twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from adapters.slack.app import SlackApp
from bot.content.models import Content
from bot.core import StudyBot
from bot.features.posts import compose
from bot.store.models import Group, Outbox
from scheduler.threads import reveal_thread
from scheduler.worker import DeliveryConfig, Worker
from tests.clockwork import Rounds
from tests.helpers import Chat, FakeClock, answer_today
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import TEAM, FakeSlack

# The group is set up on Monday at noon: its first question is Tuesday's.
TUESDAY = datetime(2026, 3, 3, 9, tzinfo=UTC)
WEDNESDAY = TUESDAY + timedelta(days=1)


def posts(fake: FakeSlack, words: str) -> list[dict[str, Any]]:
    """The channel posts (sent, not refused) whose text has `words`."""
    return [
        c.args
        for c in fake.of("chat.postMessage")
        if words in c.args.get("text", "") and c.args.get("_ts")
    ]


def rounds(bot: StudyBot, content: Content, clock: FakeClock, slack: SlackApp) -> Rounds:
    return Rounds(bot.store, content, clock, {"slack": slack.messenger})


def answered(bot: StudyBot, content: Content) -> None:
    """Alice answers today's question right (her click, as the App passes it on)."""
    alice = Chat(bot, user="UALICE", name="Alice", channel="C1", workspace=TEAM, platform="slack")
    reply, _ = answer_today(alice, content)
    assert "Correct" in reply.plain_text(), reply.plain_text()


def test_the_reveal_is_a_broadcast_reply_in_the_questions_thread(
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
    slack: SlackApp,
    fake: FakeSlack,
    ali: SlackUser,
) -> None:
    r = rounds(bot, content, clock, slack)
    r.at(TUESDAY)  # no question was asked before Tuesday's: nothing to reveal
    assert r.outbox("reveal") == [("reveal:1:2026-03-03", "skipped")]
    [root] = posts(fake, "Question of the day · Tue 03 Mar 2026")
    assert "thread_ts" not in root and root["channel"] == "C1"
    answered(bot, content)
    r.at(TUESDAY + timedelta(minutes=1))
    [count] = fake.of("chat.update")
    assert count.args["ts"] == root["_ts"] and "1 answered so far" in str(count.args["blocks"])

    assert "reveal:1:2026-03-04" in r.at(WEDNESDAY)
    [reveal] = posts(fake, "Answer to Tue 03 Mar 2026")
    assert reveal["channel"] == "C1"
    assert reveal["thread_ts"] == root["_ts"]  # in Tuesday's thread...
    assert reveal["reply_broadcast"] is True  # ...and shown in the channel
    assert "1 of 1 got it right" in reveal["text"] and "First right: Alice" in reveal["text"]
    assert reveal["metadata"]["event_payload"] == {"key": "reveal:1:2026-03-04"}
    [wednesday] = posts(fake, "Question of the day · Wed 04 Mar 2026")
    assert "thread_ts" not in wednesday and "Answer to" not in wednesday["text"]
    assert r.outbox("reveal")[-1] == ("reveal:1:2026-03-04", "sent")


def test_a_thread_reply_slack_refuses_goes_to_the_channel(
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
    slack: SlackApp,
    fake: FakeSlack,
    ali: SlackUser,
) -> None:
    r = rounds(bot, content, clock, slack)
    r.at(TUESDAY)
    [root] = posts(fake, "Question of the day · Tue 03 Mar 2026")
    fake.refuse_threads = "cannot_reply_to_message"
    r.at(WEDNESDAY)
    tries = [c.args for c in fake.of("chat.postMessage") if "Answer to Tue" in c.args["text"]]
    assert [t.get("thread_ts") for t in tries] == [root["_ts"], None]
    [reveal] = posts(fake, "Answer to Tue 03 Mar 2026")
    assert "thread_ts" not in reveal and "reply_broadcast" not in reveal
    assert reveal["channel"] == "C1" and "nobody answered" in reveal["text"]
    assert r.outbox("reveal")[-1] == ("reveal:1:2026-03-04", "sent")


def test_a_channel_gone_is_not_taken_for_a_refused_thread(
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
    slack: SlackApp,
    fake: FakeSlack,
    ali: SlackUser,
) -> None:
    r = rounds(bot, content, clock, slack)
    r.at(TUESDAY)
    fake.refuse_threads = "channel_not_found"  # the channel itself went, not the thread
    r.at(WEDNESDAY)
    tries = [c.args for c in fake.of("chat.postMessage") if "Answer to Tue" in c.args["text"]]
    assert len(tries) == 1 and tries[0]["thread_ts"]  # never tried again in the channel
    assert r.outbox("reveal")[-1] == ("reveal:1:2026-03-04", "dead")
    with bot.store.transaction(read_only=True) as s:
        assert s.scalar(select(Group.paused)) is True  # and the lead is told, as for any post
    assert [c.args["users"] for c in fake.of("conversations.open")] == ["ULEAD"]


def test_a_reveal_a_dying_worker_sent_is_found_in_the_thread(
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
    slack: SlackApp,
    fake: FakeSlack,
    ali: SlackUser,
) -> None:
    r = rounds(bot, content, clock, slack)
    r.at(TUESDAY)
    clock.now = WEDNESDAY
    r.ticker.tick()
    clock.advance(seconds=2)  # the reveal is due a second after the question
    dying = Worker(bot.store, content, {"slack": slack.messenger}, clock=clock)
    claimed = dying.claim()
    assert sorted(c.kind for c in claimed) == ["daily", "reveal"]
    for c in claimed:  # the platform calls went out; the worker died before recording
        with bot.store.transaction() as s:
            row = s.get(Outbox, c.id)
            assert row is not None
            reply, thread = compose(s, content, clock(), row), reveal_thread(s, row, c.workspace)
        assert reply is not None
        dying._send(slack.messenger, c, reply, thread)
    clock.now = WEDNESDAY + timedelta(minutes=3)  # the lease has run out
    fresh = Worker(
        bot.store,
        content,
        {"slack": slack.messenger},
        clock=clock,
        config=DeliveryConfig(channel_gap=0),
        sleep=lambda _s: None,
    )
    while fresh.run_once():
        pass
    assert len(posts(fake, "Answer to Tue 03 Mar 2026")) == 1
    assert len(posts(fake, "Question of the day · Wed 04 Mar 2026")) == 1
    [replies] = fake.of("conversations.replies")
    assert replies.args["ts"] == posts(fake, "Question of the day · Tue 03 Mar 2026")[0]["_ts"]
    assert r.outbox("reveal")[-1] == ("reveal:1:2026-03-04", "sent")
    assert {status for _, status in r.outbox("daily")} == {"sent"}
