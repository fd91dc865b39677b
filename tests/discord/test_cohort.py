"""`/study cohort` through discord.py and the fake REST API: private to the lead, with its
chart attached, and paged within the embed limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest

from adapters.discord.render import TRUNCATED
from bot.content.models import Content
from bot.core import StudyBot
from tests import seeding
from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, CHANNEL, LEAD, Harness
from tests.seeding import T0

pytestmark = pytest.mark.anyio
EPHEMERAL = 64
MARKUP = "**@everyone** <@&1> _x_ ||y|| " + "é" * 60  # a long name full of markup


async def setup_group(h: Harness) -> None:
    out = await h.command("setup", LEAD, track="associate", start="2026-03-02", tz="UTC")
    assert "Study group created" in out.text()


def embeds_size(message: dict[str, Any]) -> int:
    return sum(len(discord.Embed.from_dict(e)) for e in message.get("embeds") or [])


async def test_the_lead_sees_it_privately_with_its_chart(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content
) -> None:
    await setup_group(h)
    await h.command("join", ALICE)
    gid, _ = seeding.group_id(bot.store, CHANNEL)
    (uid,) = seeding.add_members(bot.store, gid, ["Quiet Quinn"], T0 - timedelta(days=9))
    q = seeding.singles(content, 1)[0]
    seeding.quiz(bot.store, gid, uid, [(q, q.answer[0])], T0 - timedelta(days=8))
    out = await h.command("cohort", LEAD)
    assert int(out.callback.data.get("flags") or 0) & EPHEMERAL
    text = out.text()
    assert "Cohort report" in text and "Accuracy by exam domain" in text
    assert text.index("Quiet Quinn") < text.index("Alice")
    files = [f for c in out.calls for f in c.files]
    assert [name for name, _ in files] == ["cohort.png"]
    assert files[0][1].startswith(b"\x89PNG\r\n\x1a\n")
    assert any(
        e.get("image", {}).get("url") == "attachment://cohort.png" for e in out.last["embeds"]
    )


async def test_a_member_is_told_it_is_for_leads(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("cohort", ALICE)
    assert int(out.callback.data.get("flags") or 0) & EPHEMERAL
    assert "The cohort report is for the group's leads: Lee" in out.text()


async def test_two_hundred_members_page_within_the_embed_limits(
    h: Harness, fake: FakeDiscord, bot: StudyBot
) -> None:
    await setup_group(h)
    gid, _ = seeding.group_id(bot.store, CHANNEL)
    names = [f"{MARKUP} {i:03d}" for i in range(199)]
    seeding.add_members(bot.store, gid, names, T0 - timedelta(days=10))
    out = await h.command("cohort", LEAD)
    first = out.last
    assert "Page 1 of 20" in out.text() and "Members 1–10 of 200" in out.text()
    assert embeds_size(first) <= 6000 and TRUNCATED not in out.text()
    turned = await h.press(first, "Next ▶", LEAD)
    assert turned.callback.kind == 7  # the report is updated in place
    second = turned.last
    assert "Page 2 of 20" in turned.text() and "Members 11–20 of 200" in turned.text()
    assert embeds_size(second) <= 6000 and TRUNCATED not in turned.text()
    assert "@everyone" not in turned.text().replace("@\u200beveryone", "")
