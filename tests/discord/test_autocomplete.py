"""Autocomplete through the real client: the track, exam domain, study area and checklist
options offer what the content (and, for the items, the member's own marks) holds,
filtered by what was typed, at most 25."""

from __future__ import annotations

import time
from typing import Any

import pytest

from adapters.discord import autocomplete
from bot.completions import Completions
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Who
from tests.discord.harness import ALICE, LEAD, Harness

pytestmark = pytest.mark.anyio


def values(found: list[dict[str, str]]) -> list[str]:
    return [c["value"] for c in found]


async def test_track_wherever_it_appears(h: Harness, content: Content) -> None:
    first = content.tracks[0]
    typed = first.name[:4].lower()
    for sub in ("setup", "passed", "exam"):
        found = await h.autocomplete(sub, "track", typed)
        assert first.id in values(found), sub
        assert all(typed in c["name"].lower() or typed in c["value"] for c in found)
        assert {"name": first.name, "value": first.id} in found
    everything = values(await h.autocomplete("exam", "track", ""))
    assert everything == [t.id for t in content.tracks] + ["flag", "submit"]
    assert values(await h.autocomplete("exam", "track", "SUB")) == ["submit"]
    assert await h.autocomplete("setup", "track", "no such track") == []


async def test_quiz_domain_of_the_groups_track(h: Harness, content: Content) -> None:
    every = {d.id for t in content.tracks for d in t.domains}
    assert set(values(await h.autocomplete("quiz", "domain", ""))) == every  # no group yet
    track = content.tracks[0]
    out = await h.command("setup", LEAD, track=track.id, start="2026-03-02", tz="UTC")
    assert "Study group created" in out.text()
    found = await h.autocomplete("quiz", "domain", "")
    assert values(found) == [d.id for d in track.domains]
    domain = track.domains[-1]
    word = domain.name.split()[-1].upper()  # case does not matter
    narrowed = await h.autocomplete("quiz", "domain", word)
    assert domain.id in values(narrowed)
    assert all(word.lower() in (c["name"] + c["value"]).lower() for c in narrowed)
    assert len(narrowed) < len(found)
    # the add form's domain is the same list
    assert await h.autocomplete("add", "domain", word, member=LEAD) == narrowed


async def test_resources_area(h: Harness, content: Content) -> None:
    area = content.areas[1]
    found = await h.autocomplete("resources", "area", area.id[:3])
    assert values(found)[0] == area.id  # a prefix match comes first
    assert {"name": area.name, "value": area.id} in found
    assert len(await h.autocomplete("resources", "area", "")) == min(25, len(content.areas))


async def test_check_offers_unticked_items_and_uncheck_ticked_ones(
    h: Harness, content: Content
) -> None:
    await h.command("setup", LEAD, track=content.tracks[0].id, start="2026-03-02", tz="UTC")
    success = [it.id for it in content.success]
    first = await h.autocomplete("check", "item", "s")
    assert values(first)[: len(success)] == success  # prefix matches first
    assert len(first) == 25  # many items hold an "s": Discord's 25
    assert await h.autocomplete("uncheck", "item", "") == []  # nothing ticked yet
    assert "Ticked" in (await h.command("check", ALICE, item=success[0])).text()
    assert "Ticked" in (await h.command("check", ALICE, item=success[2].lower())).text()
    after = values(await h.autocomplete("check", "item", "s"))
    assert success[0] not in after and success[2] not in after and success[1] in after
    ticked = await h.autocomplete("uncheck", "item", "")
    assert values(ticked) == [success[0], success[2]]
    label = content.success[2].text
    assert ticked[1]["name"] == f"{success[2]} · {label}"[:100]
    # filtered by the words of the item, too; each member sees their own marks
    word = label.split()[1]
    assert values(await h.autocomplete("uncheck", "item", word)) == [success[2]]
    assert await h.autocomplete("uncheck", "item", "", member=LEAD) == []


async def test_a_slow_store_gets_the_contents_values_in_time(
    h: Harness, bot: StudyBot, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord drops an autocomplete answered after 3 s: past the deadline the content's
    values are offered (every item, ticked or not) instead of waiting on the database."""
    await h.command("setup", LEAD, track=content.tracks[0].id, start="2026-03-02", tz="UTC")
    await h.command("check", ALICE, item=content.success[0].id)
    real = Completions._read

    def slow(self: Completions, who: Who, read: Any) -> Any:
        time.sleep(0.5)
        return real(self, who, read)

    monkeypatch.setattr(Completions, "_read", slow)
    monkeypatch.setattr(autocomplete, "DEADLINE", 0.05)  # read when the client is made
    h2 = await Harness.start(h.fake, bot, content)
    try:
        found = values(await h2.autocomplete("check", "item", content.success[0].id))
    finally:
        await h2.close()
    assert found[0] == content.success[0].id  # ticked, but the store did not answer in time
