"""The "Report question" message menu through the real client: on a message that shows a
question it opens the reason's modal, whose submission files the same report as `/study
flag`; on any other message it answers privately that there is no question to report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.discord.menus import REPORT
from adapters.discord.messenger import DiscordMessenger
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import ChannelTarget
from bot.store.models import Flag
from tests.clockwork import Rounds
from tests.discord.harness import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    LEAD,
    Harness,
    embed_text,
    modal_inputs,
)
from tests.fakes import FakeMessenger
from tests.helpers import FakeClock

pytestmark = pytest.mark.anyio
MODAL, MESSAGE, EPHEMERAL = 9, 4, 64


def flags(bot: StudyBot) -> list[tuple[str, str, str]]:
    with bot.store.transaction(read_only=True) as s:
        return [(f.question_id, f.reason, f.seen_in) for f in s.scalars(select(Flag))]


async def start(h: Harness, content: Content) -> None:
    out = await h.command("setup", LEAD, track=content.tracks[0].id, start="2026-03-02", tz="UTC")
    assert "Study group created" in out.text()


async def test_reporting_the_question_a_message_shows(
    h: Harness, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    today = (await h.command("today", ALICE)).last
    qid = next(q.id for q in content.questions if q.id in embed_text(today))
    opened = await h.menu(today, REPORT, BOB)
    assert opened.callback.kind == MODAL
    modal = opened.callback.data
    assert modal["title"] == "Report this question"
    [reason] = modal_inputs(modal).values()
    assert reason["label"] == f"What is wrong with {qid}?"[:45]
    assert reason["style"] == 2  # a paragraph
    assert flags(bot) == []  # opening the form files nothing
    filed = await h.submit(modal, BOB, reason="Two of the choices are both right.")
    assert f"{qid} is reported" in filed.text().replace("`", "")
    assert int(filed.callback.data.get("flags") or 0) & EPHEMERAL
    assert flags(bot) == [(qid, "Two of the choices are both right.", "command")]


async def test_an_empty_reason_is_refused_by_field(
    h: Harness, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    today = (await h.command("today", ALICE)).last
    modal = (await h.menu(today, REPORT, ALICE)).callback.data
    refused = await h.submit(modal, ALICE, reason="   ")
    assert "Say what is wrong with the question." in refused.text()
    assert flags(bot) == []
    again = (await h.press(refused.last, "Try again", ALICE)).callback
    assert again.kind == MODAL


async def test_a_message_without_a_question_is_not_reported(
    h: Harness, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    board = (await h.command("leaderboard", ALICE)).last
    out = await h.menu(board, REPORT, ALICE)
    assert out.callback.kind == MESSAGE
    assert int(out.callback.data.get("flags") or 0) & EPHEMERAL
    assert "does not show a question" in out.text()
    assert flags(bot) == []


async def test_reporting_the_clocks_daily_post(
    h: Harness, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    """The daily question the clock posts in the channel, as Discord shows it."""
    await start(h, content)
    memory = FakeMessenger()
    rounds = Rounds(bot.store, content, clock, {"discord": memory})
    planned = rounds.at((clock.now + timedelta(days=1)).replace(hour=9, minute=1))
    assert any(k.startswith("daily") for k in planned), planned
    [daily] = [p for p in memory.posts if p.kind == "post" and CHANNEL in p.target]
    ref = await DiscordMessenger(h.client).apost(ChannelTarget(GUILD, CHANNEL), daily.reply)
    posted = h.fake.messages[ref.message_id]
    qid = next(q.id for q in content.questions if q.id in embed_text(posted))
    modal = (await h.menu(posted, REPORT, ALICE)).callback.data
    assert modal["title"] == "Report this question"
    await h.submit(modal, ALICE, reason="The explanation names the wrong setting.")
    assert flags(bot) == [(qid, "The explanation names the wrong setting.", "command")]
