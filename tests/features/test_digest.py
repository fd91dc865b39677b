"""The weekly lead digest: a DM to each lead on the summary day at the post time, once per
lead and week, through the outbox; `setup digest=on|off`; on the terminal, Slack and
Discord."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleSession
from bot.content.models import Content
from bot.core import StudyBot
from bot.features.groups import pause_gone_group
from bot.seam import TargetGone, Visibility
from bot.store.db import Store
from bot.store.models import User
from tests.clockwork import Rounds
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock, answer_today
from tests.seeding import distractor, seed_wrong_key

FRIDAY = datetime(2026, 3, 6, 9, tzinfo=UTC)  # the first summary day, at the post time


@pytest.fixture
def when() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, tzinfo=UTC))  # Sunday; groups start Monday


@pytest.fixture
def study(sqlite_store: Store, content: Content, when: FakeClock) -> StudyBot:
    return StudyBot(sqlite_store, content, clock=when)


@pytest.fixture
def fake() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def rounds(sqlite_store: Store, content: Content, when: FakeClock, fake: FakeMessenger) -> Rounds:
    return Rounds(sqlite_store, content, when, {"console": fake})


def make_group(study: StudyBot, settings: str = "") -> Chat:
    lead = Chat(study, user="lead", name="Lee", admin=True)
    reply = lead.send(f"/study setup start=2026-03-02 tz=UTC time=09:00 {settings}")
    assert "Study group created" in reply.plain_text(), reply.plain_text()
    return lead


def digests(fake: FakeMessenger, target: str | None = None) -> list[str]:
    return [
        p.reply.plain_text()
        for p in fake.posts
        if p.kind == "dm"
        and (target is None or p.target == target)
        and p.reply.plain_text().startswith("📋 Lead digest")
    ]


def week(rounds: Rounds, first: datetime, days: int = 5) -> list[str]:
    """The group's posts at 09:00 on `days` days from `first`: what was planned."""
    planned: list[str] = []
    for i in range(days):
        planned += rounds.at(first + timedelta(days=i))
    return planned


def weakest_line(text: str) -> str:
    (line,) = [x for x in text.splitlines() if x.startswith("Weakest domain: ")]
    return line


# ------------------------------------------------------------------ the setting


def test_setup_shows_the_digest_and_a_lead_turns_it_off(study: StudyBot) -> None:
    lead = make_group(study)
    shown = lead.send("/study setup").plain_text()
    assert "Lead digest: on (a DM to the leads, Fri at 09:00)" in shown
    assert "Lead digest: off" in lead.send("/study setup digest=off").plain_text()
    assert "Lead digest: off" in lead.send("/study setup").plain_text()
    ana = Chat(study, user="ana", name="Ana")
    ana.send("/study join")
    assert "Only a group lead" in ana.send("/study setup digest=on").plain_text()
    assert "Lead digest: off" in ana.send("/study setup").plain_text()  # anyone may look
    assert (
        "Lead digest: on (a DM to the leads, Sun at 07:30)"
        in lead.send("/study setup digest=on summary=sun time=07:30").plain_text()
    )


def test_a_bad_digest_value_says_what_is_accepted(study: StudyBot) -> None:
    lead = make_group(study)
    said = lead.send("/study setup digest=maybe").plain_text()
    assert "digest=on" in said and "digest=off" in said and "maybe" in said
    assert "Lead digest: on" in lead.send("/study setup").plain_text()  # nothing changed


def test_help_lists_digest_in_the_setup_grammar(study: StudyBot) -> None:
    lead = make_group(study)
    assert "[digest=on|off]" in lead.send("/study help setup").plain_text()


# ------------------------------------------------------------------ the digest


def test_the_lead_gets_the_digest_on_the_summary_day_once(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger, when: FakeClock, content: Content
) -> None:
    lead = make_group(study)
    ana, bo, quinn = (
        Chat(study, user=u, name=n) for u, n in [("ana", "Ana"), ("bo", "Bo"), ("quinn", "Quinn")]
    )
    for c in (ana, bo, quinn):
        c.send("/study join")
    for day in range(4):  # Monday to Thursday: Ana every day, Bo on Monday, Quinn never
        rounds.at(FRIDAY - timedelta(days=4 - day))
        when.now = FRIDAY - timedelta(days=4 - day) + timedelta(hours=2)
        answer_today(ana, content)
        if day == 0:
            answer_today(bo, content, right=False)
    assert digests(fake) == []
    assert "digest:1:lead:2026-W10" in rounds.at(FRIDAY)
    assert rounds.at(FRIDAY) == [] and rounds.at(FRIDAY, clock=rounds.second_clock()) == []
    assert rounds.outbox("digest") == [("digest:1:lead:2026-W10", "sent")]
    [dm] = [
        p.reply
        for p in fake.posts
        if p.kind == "dm" and p.target == "lead" and "digest" in p.reply.plain_text()
    ]
    assert dm.visibility is Visibility.DM
    said = dm.plain_text()
    assert said.startswith("📋 Lead digest · Databricks Certified Machine Learning Associate")
    assert "The study group's week, Fri 27 Feb 2026 – Thu 05 Mar 2026." in said
    assert "Members who answered: 2 of 4 · the week before: 0 (+2)" in said
    assert "Answers (daily and quiz): 5 · the week before: 0 (+5)" in said
    assert weakest_line(said) == weakest_line(lead.send("/study cohort").plain_text())
    assert re.search(r"Practise it with /study quiz [a-z-]+\.", weakest_line(said))
    assert "None flagged." in said
    assert "/study setup digest=off stops this digest" in said
    # the next week: nobody answered, and every member has been quiet for a week or more
    week(rounds, FRIDAY + timedelta(days=1), 7)
    [_, second] = digests(fake, "lead")
    assert "The study group's week, Fri 06 Mar 2026 – Thu 12 Mar 2026." in second
    assert "Members who answered: 0 of 4 · the week before: 2 (-2)" in second
    assert "Answers (daily and quiz): 0 · the week before: 5 (-5)" in second
    assert re.search(r"^• Quinn — quiet 12 days · \d+ days behind$", second, re.M), second
    assert re.search(r"^• Bo — quiet 11 days", second, re.M)
    assert re.search(r"^• Ana — quiet 8 days", second, re.M)


def test_the_digest_names_the_groups_questions_whose_statistics_look_wrong(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger
) -> None:
    make_group(study)
    target, _, _ = seed_wrong_key(study, study.content, strong=12, weak=24)
    week(rounds, FRIDAY - timedelta(days=4))
    [said] = digests(fake, "lead")
    assert "Members who answered: 36 of 37 · the week before: 0 (+36)" in said
    assert "Answers (daily and quiz): 432 · the week before: 0 (+432)" in said
    flagged = [x for x in said.splitlines() if x.startswith(f"• {target.id}: ")]
    assert flagged and flagged[0].startswith(
        f"• {target.id}: likely wrong key (the strongest third chose {distractor(target)}, "
        f"the key is {''.join(target.answer)})"
    )
    assert flagged[0].endswith(" right of 36")
    assert "a flag needs 10 of them" in said


def test_each_named_lead_gets_one_a_week(
    study: StudyBot, rounds: Rounds, fake: FakeMessenger, when: FakeClock
) -> None:
    lead = make_group(study)
    for u, n in [("ana", "Ana"), ("bo", "Bo")]:
        Chat(study, user=u, name=n).send("/study join")
    lead.send("/study setup leads=Ana,Bo")
    planned = week(rounds, FRIDAY - timedelta(days=4))
    assert [k for k in planned if k.startswith("digest:")] == [
        "digest:1:ana:2026-W10",
        "digest:1:bo:2026-W10",
    ]
    assert len(digests(fake, "ana")) == len(digests(fake, "bo")) == 1
    assert digests(fake, "lead") == []  # named leads take the creator's place
    when.now = FRIDAY + timedelta(hours=1)
    lead.send("/study setup summary=sat")  # a second summary day in the same week
    planned = rounds.at(FRIDAY + timedelta(days=1))
    assert "weekly:1:2026-03-07" in planned and not [k for k in planned if "digest" in k]
    assert len(digests(fake)) == 2


def test_digest_off_and_a_paused_group_send_none(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, fake: FakeMessenger, when: FakeClock
) -> None:
    lead = make_group(study, "digest=off")
    planned = week(rounds, FRIDAY - timedelta(days=4))
    assert "weekly:1:2026-03-06" in planned and digests(fake) == []
    when.now = FRIDAY + timedelta(hours=1)
    lead.send("/study setup digest=on")
    with sqlite_store.transaction() as s:
        pause_gone_group(s, 1, "channel_not_found")
    assert week(rounds, FRIDAY + timedelta(days=1), 7) == []
    assert digests(fake) == [] and rounds.outbox("digest") == []


def test_a_lead_whose_dms_are_closed_is_not_tried_again(
    study: StudyBot, sqlite_store: Store, rounds: Rounds, fake: FakeMessenger
) -> None:
    lead = make_group(study)
    ana = Chat(study, user="ana", name="Ana")
    ana.send("/study join")
    lead.send("/study setup leads=Ana")
    ana.send("/study leave")  # a lead who studies elsewhere: the digest is her only DM
    fake.fail["ana"] = [TargetGone("cannot_dm_bot")]
    week(rounds, FRIDAY - timedelta(days=4))
    week(rounds, FRIDAY + timedelta(days=1), 7)
    assert rounds.outbox("digest") == [
        ("digest:1:ana:2026-W10", "dead"),
        ("digest:1:ana:2026-W11", "skipped"),  # DMs off since: nothing sent
    ]
    with sqlite_store.transaction(read_only=True) as s:
        assert s.scalar(select(User.dm_enabled).where(User.external_id == "ana")) is False
    assert digests(fake) == []


# ------------------------------------------------------------------ the platforms


def test_the_terminal_prints_the_leads_digest(
    study: StudyBot, sqlite_store: Store, content: Content, tmp_path: Path
) -> None:
    lee = ConsoleSession(study, "Lee", is_admin=True)
    lee.send("/study setup start=2026-03-02 tz=UTC time=09:00")
    printed = io.StringIO()
    shown = ConsoleMessenger(Console(file=printed, width=120), tmp_path, lee.who.user_id)
    rounds = Rounds(sqlite_store, content, study.clock, {"console": shown})  # type: ignore[arg-type]
    week(rounds, FRIDAY - timedelta(days=4), 4)
    assert "Lead digest" not in printed.getvalue()
    rounds.at(FRIDAY)
    out = printed.getvalue()
    assert "📋 Lead digest · Databricks Certified Machine Learning Associate" in out
    assert "Members who answered" in out and "/study setup digest=off" in out


def test_slack_sends_the_digest_to_the_lead(
    sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    from adapters.slack.app import create_app
    from tests.slack.conftest import SlackUser, slack_settings
    from tests.slack.fakeslack import FakeSlack

    fake = FakeSlack().start()
    fake.user("ULEAD", "Lee", admin=True)
    slack = create_app(StudyBot(sqlite_store, content, clock=when), slack_settings(fake))
    try:
        lee = SlackUser(slack, fake, "ULEAD", "Lee")
        assert "Lead digest" in lee.command("setup start=2026-03-02 tz=UTC").text()
        rounds = Rounds(sqlite_store, content, when, {"slack": slack.messenger})
        week(rounds, FRIDAY - timedelta(days=4))
        rounds.at(FRIDAY, clock=rounds.second_clock())
        sent = [c.args for c in fake.of("chat.postMessage") if "📋 Lead digest" in c.args["text"]]
        assert len(sent) == 1 and sent[0]["channel"] == "DULEAD"
        assert "Members who answered" in str(sent[0]["blocks"])
        assert "conversations.open" in [c.method for c in fake.calls]
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
async def test_discord_sends_the_digest_to_the_lead(
    sqlite_store: Store, content: Content, when: FakeClock
) -> None:
    from adapters.discord.messenger import background_messenger
    from tests.discord.fake import FakeDiscord
    from tests.discord.harness import CHANNEL, LEAD, Harness, embed_text

    fake = FakeDiscord()
    await fake.start()
    h = await Harness.start(fake, StudyBot(sqlite_store, content, clock=when), content)
    try:
        await h.command("setup", LEAD, start="2026-03-02", tz="UTC")

        def deliver() -> None:
            with background_messenger("test-token", timeout=10) as m:
                rounds = Rounds(sqlite_store, content, when, {"discord": m})
                week(rounds, FRIDAY - timedelta(days=4))
                rounds.at(FRIDAY, clock=rounds.second_clock())

        await asyncio.to_thread(deliver)
        posted: list[dict[str, Any]] = list(fake.messages.values())
        dms = [
            m
            for m in posted
            if str(m["channel_id"]) != CHANNEL and "📋 Lead digest" in embed_text(m)
        ]
        assert len(dms) == 1
        assert "Members who answered" in embed_text(dms[0])
        assert fake.of("POST", r"^/users/@me/channels$")[-1].body["recipient_id"] == int(LEAD.id)
    finally:
        await h.close()
        await fake.stop()
