"""`/study remind`: a DM at the member's own time on post days while the day's question is
unanswered, planned by the clock when it is due (not at the group's post time), once,
through the outbox; on the terminal, Slack and Discord."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleSession
from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.features.groups import pause_gone_group
from bot.seam import TargetGone, Visibility
from bot.store.db import Store
from bot.store.models import Group, User
from bot.timeutil import as_utc
from tests.clockwork import Rounds
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock, answer_today, question_in

MINUTE = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def when() -> FakeClock:
    return FakeClock(utc(2026, 3, 1, 12))  # Sunday; the groups start on Monday 2 March


@pytest.fixture
def study(sqlite_store: Store, content: Content, when: FakeClock) -> StudyBot:
    return StudyBot(sqlite_store, content, clock=when)


@pytest.fixture
def fake() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def rounds(sqlite_store: Store, content: Content, when: FakeClock, fake: FakeMessenger) -> Rounds:
    return Rounds(sqlite_store, content, when, {"console": fake})


def make_group(study: StudyBot, settings: str = "tz=UTC time=09:00 days=mon-fri") -> Chat:
    lead = Chat(study, user="lead", name="Lee", admin=True)
    reply = lead.send(f"/study setup start=2026-03-02 {settings}")
    assert "Study group created" in reply.plain_text(), reply.plain_text()
    return lead


def member(study: StudyBot, *lines: str) -> Chat:
    ana = Chat(study, user="ana", name="Ana")
    ana.send("/study join")
    for line in lines:
        ana.send(line)
    return ana


def stored(store: Store) -> datetime | None:
    with store.transaction(read_only=True) as s:
        value = s.scalar(select(Group.next_due_at).where(Group.channel_id == "C1"))
    return None if value is None else as_utc(value)


def reminders(fake: FakeMessenger, target: str = "ana") -> list[str]:
    return [
        p.reply.plain_text()
        for p in fake.posts
        if p.kind == "dm" and p.target == target and "still waiting" in p.reply.plain_text()
    ]


def todays_question(content: Content, fake: FakeMessenger) -> Question:
    posts = [
        p.reply for p in fake.channel_posts("C1") if "Question of the day" in p.reply.plain_text()
    ]
    return question_in(content, posts[-1])


# ------------------------------------------------------------------ the command


def test_remind_alone_shows_the_setting_and_a_time_sets_it(study: StudyBot) -> None:
    make_group(study)
    ana = member(study)
    assert ana.send("/study remind").plain_text().startswith("You have no reminder.")
    set_ = ana.send("/study remind 18:30").plain_text()
    assert set_.startswith("Reminder set: 18:30 your time (UTC) on the group's post days (Mon–Fri)")
    assert "Next: Mon 02 Mar 2026 at 18:30." in set_
    ana.send("/study tz Europe/Berlin")
    shown = ana.send("/study remind").plain_text()
    assert shown.startswith("Your reminder: 18:30 your time (Europe/Berlin)")
    assert "/study remind off stops it" in shown
    assert ana.send("/study remind off").plain_text().startswith("Reminders are off.")
    assert ana.send("/study remind").plain_text().startswith("You have no reminder.")


@pytest.mark.parametrize("bad", ["6pm", "25:00", "18.30", "18:3"])
def test_a_bad_time_is_refused_with_what_is_accepted(study: StudyBot, bad: str) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    said = ana.send(f"/study remind {bad}").plain_text()
    assert said == (
        "Give a time as HH:MM in your timezone, e.g. `/study remind 18:30`, or "
        f"`/study remind off`; got {bad!r}."
    )
    assert ana.send("/study remind").plain_text().startswith("Your reminder: 18:30")  # unchanged


def test_remind_needs_a_group_and_a_member_who_has_not_left(study: StudyBot) -> None:
    make_group(study)
    elsewhere = Chat(study, user="ana", name="Ana", channel="C9")
    assert "no study group yet" in elsewhere.send("/study remind 18:30").plain_text()
    ana = member(study, "/study leave")
    assert "You left this study group" in ana.send("/study remind 18:30").plain_text()


def test_a_time_before_the_post_says_it_comes_with_the_post(study: StudyBot) -> None:
    make_group(study)
    ana = member(study)
    said = ana.send("/study remind 07:00").plain_text()
    assert "Next: Mon 02 Mar 2026 at 09:00, with the group's post (it posts at 09:00 UTC" in said


def test_a_post_after_the_members_day_is_over_means_no_reminder(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger
) -> None:
    make_group(study, "tz=America/Los_Angeles time=20:00 days=daily")
    ana = member(study, "/study tz Pacific/Kiritimati")  # UTC+14: the post is tomorrow there
    said = ana.send("/study remind 08:00").plain_text()
    assert "only after your day is over, so no reminder can come" in said
    for day in range(2, 6):
        rounds.at(utc(2026, 3, day + 1, 4))  # 20:00 in Los Angeles, 18:00 in Kiritimati
        rounds.at(utc(2026, 3, day, 18))  # 08:00 in Kiritimati
    assert reminders(fake) == []


# ------------------------------------------------------------------ the clock


def test_a_reminder_at_1830_is_planned_at_1830_though_the_group_posts_at_0900(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, fake: FakeMessenger, content: Content
) -> None:
    make_group(study)
    member(study, "/study tz Europe/Berlin", "/study remind 18:30")  # 17:30 UTC in March
    assert stored(sqlite_store) == utc(2026, 3, 2, 9)  # the group's post comes first
    assert rounds.at(utc(2026, 3, 2, 9)) == ["daily:1:2026-03-02", "milestone:1:1:start"]
    assert stored(sqlite_store) == utc(2026, 3, 2, 17, 30)  # read again at the reminder
    assert rounds.at(utc(2026, 3, 2, 17, 30) - MINUTE) == []
    assert rounds.at(utc(2026, 3, 2, 17, 30)) == ["reminder:1:2:2026-03-02"]
    assert rounds.at(utc(2026, 3, 2, 17, 30)) == []  # the same tick again
    assert rounds.at(utc(2026, 3, 2, 17, 31), clock=rounds.second_clock()) == []
    assert stored(sqlite_store) == utc(2026, 3, 3, 9)
    assert rounds.outbox("reminder") == [("reminder:1:2:2026-03-02", "sent")]
    [dm] = [p.reply for p in fake.posts if p.kind == "dm"]
    q = todays_question(content, fake)
    said = dm.plain_text()
    assert said.startswith("⏰ Today's question is still waiting for your answer.")
    assert "Question of the day · Mon 02 Mar 2026" in said and q.prompt.strip() in said
    assert "Answer it with /study today in the study group's channel." in said
    assert dm.visibility is Visibility.DM and dm.buttons() == []  # a DM's press has no group


@pytest.mark.parametrize(
    ("tz", "days"),
    [
        (  # Berlin springs forward on Sunday 29 March: 18:30 is 17:30 UTC, then 16:30
            "Europe/Berlin",
            [
                (date(2026, 3, 28), utc(2026, 3, 28, 17, 30)),
                (date(2026, 3, 29), utc(2026, 3, 29, 16, 30)),
            ],
        ),
        (  # New York falls back on Sunday 1 November: 22:30 UTC, then 23:30
            "America/New_York",
            [
                (date(2026, 10, 31), utc(2026, 10, 31, 22, 30)),
                (date(2026, 11, 1), utc(2026, 11, 1, 23, 30)),
            ],
        ),
    ],
)
def test_a_reminder_keeps_the_members_wall_clock_across_dst(
    study: StudyBot,
    sqlite_store: Store,
    rounds: Rounds,
    when: FakeClock,
    tz: str,
    days: list[tuple[date, datetime]],
) -> None:
    first = days[0][0]
    when.now = utc(first.year, first.month, first.day, 8) - timedelta(days=1)
    lead = Chat(study, user="lead", name="Lee", admin=True)
    lead.send(f"/study setup start={first - timedelta(days=1)} tz=UTC time=09:00 days=daily")
    member(study, f"/study tz {tz}", "/study remind 18:30")
    for day, due in days:
        assert f"daily:1:{day}" in rounds.at(utc(day.year, day.month, day.day, 9))
        assert stored(sqlite_store) == due
        assert rounds.at(due - MINUTE) == []
        assert rounds.at(due) == [f"reminder:1:2:{day}"]
    assert [k for k, _ in rounds.outbox("reminder")] == [f"reminder:1:2:{d}" for d, _ in days]


def test_a_reminder_before_the_post_comes_with_it(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger
) -> None:
    make_group(study)
    member(study, "/study remind 07:00")
    assert rounds.at(utc(2026, 3, 2, 7)) == []
    planned = rounds.at(utc(2026, 3, 2, 9))
    assert planned == ["daily:1:2026-03-02", "milestone:1:1:start", "reminder:1:2:2026-03-02"]
    assert len(reminders(fake)) == 1


def test_no_reminder_once_the_days_question_is_answered(
    study: StudyBot,
    sqlite_store: Store,
    rounds: Rounds,
    fake: FakeMessenger,
    when: FakeClock,
    content: Content,
) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    rounds.at(utc(2026, 3, 2, 9))
    when.now = utc(2026, 3, 2, 12)
    answer_today(ana, content)
    assert "reminder:1:2:2026-03-02" not in rounds.at(utc(2026, 3, 2, 18, 30))
    assert stored(sqlite_store) == utc(2026, 3, 3, 9)
    # planned, then answered before it was sent: nothing goes out
    rounds.at(utc(2026, 3, 3, 9))
    when.now = utc(2026, 3, 3, 18, 30)
    assert [p.due.key for p in rounds.ticker.tick().planned] == ["reminder:1:2:2026-03-03"]
    answer_today(ana, content)
    while rounds.worker.run_once():
        pass
    assert rounds.outbox("reminder") == [("reminder:1:2:2026-03-03", "skipped")]
    assert reminders(fake) == []


def test_no_reminder_on_away_days(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger, when: FakeClock
) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    when.now = utc(2026, 3, 2, 8)
    assert "paused through Tue 03 Mar 2026" in ana.send("/study away 2").plain_text()
    for day in (2, 3, 4):
        rounds.at(utc(2026, 3, day, 9))
        rounds.at(utc(2026, 3, day, 18, 30))
    assert [k for k, _ in rounds.outbox("reminder")] == ["reminder:1:2:2026-03-04"]
    assert len(reminders(fake)) == 1


def test_a_member_who_left_gets_none_and_one_who_comes_back_does(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, when: FakeClock
) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    rounds.at(utc(2026, 3, 2, 9))
    when.now = utc(2026, 3, 2, 10)
    ana.send("/study leave")
    assert rounds.at(utc(2026, 3, 2, 18, 30)) == []
    rounds.at(utc(2026, 3, 3, 9))
    assert stored(sqlite_store) == utc(2026, 3, 4, 9)  # nobody's reminder to wait for
    when.now = utc(2026, 3, 3, 10)
    ana.send("/study join")
    assert stored(sqlite_store) == utc(2026, 3, 3, 18, 30)  # their reminder came back too
    assert rounds.at(utc(2026, 3, 3, 18, 30)) == ["reminder:1:2:2026-03-03"]


def test_a_paused_group_sends_no_reminder(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, fake: FakeMessenger, when: FakeClock
) -> None:
    lead = make_group(study)
    member(study, "/study remind 18:30")
    rounds.at(utc(2026, 3, 2, 9))
    with sqlite_store.transaction() as s:
        pause_gone_group(s, 1, "channel_not_found")
    assert rounds.at(utc(2026, 3, 2, 18, 30)) == []
    # planned, then the group paused before delivery: the row is dropped
    when.now = utc(2026, 3, 3, 10)
    lead.send("/study setup time=09:00")  # a lead's change resumes it
    when.now = utc(2026, 3, 3, 18, 30)
    assert "reminder:1:2:2026-03-03" in [p.due.key for p in rounds.ticker.tick().planned]
    with sqlite_store.transaction() as s:
        pause_gone_group(s, 1, "channel_not_found")
    while rounds.worker.run_once():
        pass
    assert rounds.outbox("reminder") == [("reminder:1:2:2026-03-03", "dead")]
    assert reminders(fake) == []


def test_a_new_timezone_moves_the_reminder(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, when: FakeClock
) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    rounds.at(utc(2026, 3, 2, 9))
    assert stored(sqlite_store) == utc(2026, 3, 2, 18, 30)
    when.now = utc(2026, 3, 2, 10)
    ana.send("/study tz Europe/Helsinki")  # 18:30 there is 16:30 UTC
    assert stored(sqlite_store) == utc(2026, 3, 2, 16, 30)
    assert rounds.at(utc(2026, 3, 2, 16, 30)) == ["reminder:1:2:2026-03-02"]


def test_closed_dms_turn_the_reminder_off(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, fake: FakeMessenger
) -> None:
    make_group(study)
    ana = member(study, "/study remind 18:30")
    rounds.at(utc(2026, 3, 2, 9))
    fake.fail["ana"] = [TargetGone("cannot_dm_bot")]
    rounds.at(utc(2026, 3, 2, 18, 30))
    assert rounds.outbox("reminder") == [("reminder:1:2:2026-03-02", "dead")]
    assert ana.send("/study remind").plain_text().startswith("You have no reminder.")
    with sqlite_store.transaction(read_only=True) as s:
        assert s.scalar(select(User.dm_enabled).where(User.external_id == "ana")) is False
    rounds.at(utc(2026, 3, 3, 9))
    assert rounds.at(utc(2026, 3, 3, 18, 30)) == []


# ------------------------------------------------------------------ the platforms


def test_the_terminal_prints_the_reminder(
    study: StudyBot, sqlite_store: Store, content: Content, when: FakeClock, tmp_path: Path
) -> None:
    lead = ConsoleSession(study, "Lee", is_admin=True)
    lead.send("/study setup start=2026-03-02 tz=UTC time=09:00")
    ada = ConsoleSession(study, "Ada", is_admin=False)
    ada.send("/study join")
    assert ada.send("/study remind 18:30") is not None
    printed = io.StringIO()
    shown = ConsoleMessenger(Console(file=printed, width=120), tmp_path, ada.who.user_id)
    rounds = Rounds(sqlite_store, content, when, {"console": shown})
    rounds.at(utc(2026, 3, 2, 9))
    before = printed.getvalue()
    assert "still waiting" not in before
    rounds.at(utc(2026, 3, 2, 18, 30))
    out = printed.getvalue()[len(before) :]
    assert "⏰ Today's question is still waiting for your answer." in out
    assert "Question of the day · Mon 02 Mar 2026" in out
    assert "/study today in the study group's channel" in out


def test_slack_sends_the_reminder_with_a_link_to_the_days_post(
    sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    from adapters.slack.app import create_app
    from tests.slack.conftest import SlackUser, slack_settings
    from tests.slack.fakeslack import FakeSlack

    fake = FakeSlack().start()
    fake.user("ULEAD", "Lee", admin=True)
    fake.user("UALICE", "Alice")
    slack = create_app(StudyBot(sqlite_store, content, clock=when), slack_settings(fake))
    try:
        SlackUser(slack, fake, "ULEAD", "Lee").command("setup start=2026-03-02 tz=UTC")
        ali = SlackUser(slack, fake, "UALICE", "Alice")
        ali.command("join")
        assert "Reminder set: 18:30" in ali.command("remind 18:30").text()
        rounds = Rounds(sqlite_store, content, when, {"slack": slack.messenger})
        rounds.at(utc(2026, 3, 2, 9))
        daily = next(
            c.args for c in fake.of("chat.postMessage") if "Question of the day" in c.args["text"]
        )
        rounds.at(utc(2026, 3, 2, 18, 30))
        rounds.at(utc(2026, 3, 2, 18, 31), clock=rounds.second_clock())
        assert [c.args["users"] for c in fake.of("conversations.open")] == ["UALICE"]
        dm = ali.last_dm()
        text = str(dm)
        assert "still waiting for your answer" in text and "Question of the day" in text
        assert "actions" not in [b["type"] for b in dm]
        [link] = fake.of("chat.getPermalink")
        assert link.args == {"channel": "C1", "message_ts": daily["_ts"]}
        url = f"https://fake.slack.com/archives/C1/p{daily['_ts'].replace('.', '')}"
        assert f"<{url}|today's post>" in text
    finally:
        slack.frontend.drain()
        slack.close()
        fake.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def _discord_globals() -> Iterator[None]:
    from tests.discord.harness import saved_discord_globals

    with saved_discord_globals():
        yield


@pytest.mark.anyio
@pytest.mark.usefixtures("_discord_globals")
async def test_discord_sends_the_reminder_with_a_jump_link(
    sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    from adapters.discord.messenger import background_messenger
    from tests.discord.fake import FakeDiscord
    from tests.discord.harness import ALICE, CHANNEL, GUILD, LEAD, Harness, embed_text

    fake = FakeDiscord()
    await fake.start()
    h = await Harness.start(fake, StudyBot(sqlite_store, content, clock=when), content)
    try:
        await h.command("setup", LEAD, start="2026-03-02", tz="UTC")
        await h.command("join", ALICE)
        said = (await h.command("remind", ALICE, time="18:30")).text()
        assert said.startswith("**Reminder set:** 18:30 your time (UTC)")

        def deliver() -> None:
            with background_messenger("test-token", timeout=10) as m:
                rounds = Rounds(sqlite_store, content, when, {"discord": m})
                rounds.at(utc(2026, 3, 2, 9))
                rounds.at(utc(2026, 3, 2, 18, 30))
                rounds.at(utc(2026, 3, 2, 18, 30), clock=rounds.second_clock())

        await asyncio.to_thread(deliver)
        posted: list[tuple[str, dict[str, Any]]] = [
            (str(m["channel_id"]), m) for m in fake.messages.values()
        ]
        daily = next(
            m for c, m in posted if c == CHANNEL and "Question of the day" in embed_text(m)
        )
        dms = [m for c, m in posted if c != CHANNEL and "still waiting" in embed_text(m)]
        assert len(dms) == 1
        said = embed_text(dms[0])
        assert "Question of the day" in said and not dms[0].get("components")
        assert (
            f"[today's post](https://discord.com/channels/{GUILD}/{CHANNEL}/{daily['id']})" in said
        )
    finally:
        await h.close()
        await fake.stop()


def test_a_reminder_and_a_digest_once_on_each_database(
    any_store: Store, content: Content, when: FakeClock
) -> None:
    """The planning statements (the reminders' look-up, the digests' leads) on SQLite
    and PostgreSQL alike, with a second clock."""
    study = StudyBot(any_store, content, clock=when)
    fake = FakeMessenger()
    rounds = Rounds(any_store, content, when, {"console": fake})
    make_group(study)
    member(study, "/study tz Europe/Berlin", "/study remind 18:30")
    for day in range(2, 7):
        rounds.at(utc(2026, 3, day, 9))
        assert rounds.at(utc(2026, 3, day, 17, 30)) == [f"reminder:1:2:2026-03-0{day}"]
        assert rounds.at(utc(2026, 3, day, 17, 30), clock=rounds.second_clock()) == []
    assert len(reminders(fake)) == 5
    assert rounds.outbox("digest") == [("digest:1:lead:2026-W10", "sent")]
