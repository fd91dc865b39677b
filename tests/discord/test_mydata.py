"""`/study mydata` and `/study forget` through the real discord.py client: the file is an
attachment of the ephemeral interaction response, and the button erases."""

from __future__ import annotations

import json

import pytest

from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, BOB, Harness
from tests.discord.test_commands import EPHEMERAL, flags, setup_group

pytestmark = pytest.mark.anyio


async def test_the_data_file_is_attached_to_the_ephemeral_reply(
    h: Harness, fake: FakeDiscord
) -> None:
    await setup_group(h)
    await h.command("join")
    await h.command("check", item="S1")
    out = await h.command("mydata")
    cb = out.callback
    assert cb.kind == 4 and flags(cb.data) & EPHEMERAL
    assert "holds everything studybot stores about you" in out.text()
    assert f"studybot-data-{ALICE.id}.json" in out.text()
    [(name, raw)] = cb.files
    assert name == f"studybot-data-{ALICE.id}.json"
    assert cb.data["attachments"][0]["description"] == "Your studybot data"
    data = json.loads(raw)
    assert data["member"]["platform"] == "discord" and data["member"]["user_id"] == ALICE.id
    assert data["checklist"][0]["item"] == "S1"
    assert not fake.of("POST", r"^/users/@me/channels$"), "no DM needed"


async def test_forget_me_erases_only_for_its_member(h: Harness) -> None:
    await setup_group(h)
    await h.command("join")
    await h.command("check", item="S1")
    ask = await h.command("forget")
    assert "Forget me?" in ask.text() and "1 checklist tick" in ask.text()
    refused = await h.press(ask.last, "Forget me", BOB)
    assert "Only the member who asked" in refused.text()
    done = await h.press(ask.last, "Forget me")
    assert done.callback.kind == 7  # the question is replaced by the answer
    assert "Done: studybot erased everything it stored about you here" in done.text()
    again = await h.command("mydata")
    assert "stores nothing about you" in again.text() and not again.callback.files
