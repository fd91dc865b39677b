"""One scenario per `/study` subcommand, through the real client and the fake REST API."""

from __future__ import annotations

import pytest

from bot.registry import COMMANDS, Kind
from tests.discord.fake import FakeDiscord
from tests.discord.harness import (
    ADMINISTRATOR,
    ALICE,
    BOB,
    LEAD,
    MANAGE_GUILD,
    Harness,
    Member,
    embed_text,
)

pytestmark = pytest.mark.anyio
EPHEMERAL = 64


async def setup_group(h: Harness) -> None:
    out = await h.command(
        "setup", LEAD, track="associate", start="2026-03-02", tz="UTC", time="09:00"
    )
    assert "Study group created" in out.text()


def flags(data: dict) -> int:  # type: ignore[type-arg]
    return int(data.get("flags") or 0)


async def test_help(h: Harness) -> None:
    out = await h.command("help")
    assert out.callback.kind == 4 and flags(out.callback.data) & EPHEMERAL
    assert "Study bot commands" in out.text() and "/study today" in out.text()
    one = await h.command("help", command="setup")
    assert "/study setup" in one.text() and "track" in one.text()


async def test_setup_by_manage_server_posts_to_channel(h: Harness) -> None:
    out = await h.command(
        "setup",
        LEAD,
        track="professional",
        tz="Europe/Berlin",
        time="08:30",
        days="mon,wed,fri",
        exam="2026-06-30",
    )
    assert out.callback.kind == 4
    assert not flags(out.callback.data) & EPHEMERAL  # the group sees it was created
    text = out.text()
    assert "Study group created" in text and "Professional" in text
    assert "Europe/Berlin" in text and "08:30" in text
    shown = await h.command("setup", ALICE)  # no arguments: anyone may look
    assert "Study group settings" in shown.text()
    assert flags(shown.callback.data) & EPHEMERAL


async def test_setup_refused_without_manage_server(h: Harness) -> None:
    out = await h.command("setup", ALICE, track="associate")
    assert "Only a group lead" in out.text()
    await setup_group(h)
    refused = await h.command("setup", ALICE, tz="Asia/Kolkata")
    assert "Only a group lead" in refused.text()
    assert flags(refused.callback.data) & EPHEMERAL
    admin = Member("600000000000000009", "Ada", ADMINISTRATOR)
    ok = await h.command("setup", admin, tz="Asia/Kolkata")
    assert "Study group updated" in ok.text() and "Asia/Kolkata" in ok.text()


async def test_setup_named_lead_by_mention(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("setup", LEAD, leads=f"<@{ALICE.id}>, <@!{BOB.id}>")
    assert ALICE.id in out.text() and BOB.id in out.text() and "<@" not in out.text()
    ok = await h.command("setup", ALICE, time="07:15")
    assert "Study group updated" in ok.text() and "07:15" in ok.text()


async def test_join(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("join", BOB)
    assert "Welcome to the study group, **Bob**!" in out.text()
    again = await h.command("join", BOB)
    assert "already in this study group" in again.text()


async def test_join_without_group(h: Harness) -> None:
    out = await h.command("join", BOB)
    assert "no study group yet" in out.text()


async def test_leave(h: Harness) -> None:
    await setup_group(h)
    await h.command("join")
    out = await h.command("leave")
    assert "You left the study group" in out.text()


async def test_tz(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("tz", timezone="Europe/Berlin")
    assert "Your timezone is now **Europe/Berlin**" in out.text()
    back = await h.command("tz", timezone="group")
    assert "follow the group's timezone" in back.text()
    bad = await h.command("tz", timezone="Mars/Olympus")
    assert "Mars/Olympus" in bad.text()


async def test_away(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("away", days=5)
    assert out.callback.kind == 4 and "5" in out.text()
    bad = await h.command("away", days=99)
    assert "60" in bad.text()


async def test_today(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("today")
    msg = out.last
    assert flags(msg) & EPHEMERAL
    assert "Question of the day" in embed_text(msg)
    ids = [b["custom_id"] for row in msg["components"] for b in row["components"]]
    assert ids and all(i.startswith("sb:") and len(i) <= 100 for i in ids)


async def test_quiz_with_domain_choice(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("quiz", domain="model-training", n=3)
    assert "Practice 1 of 3" in out.text() and "Model Training" in out.text()
    bad = await h.command("quiz", domain="ml-ops")  # a professional domain
    assert "Unknown domain" in bad.text()


async def test_plan(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("plan")
    assert "Study plan" in out.text() and "Phase" in out.text()


async def test_checklist_check_uncheck(h: Harness) -> None:
    await setup_group(h)
    listed = await h.command("checklist")
    assert "Your checklists" in listed.text()
    ticked = await h.command("check", item="S1")
    assert "Ticked" in ticked.text() and "`S1`" in ticked.text()
    unticked = await h.command("uncheck", item="S1")
    assert "Unticked" in unticked.text()
    bad = await h.command("check", item="ZZ9")
    assert "ZZ9" in bad.text()


async def test_leaderboard_empty(h: Harness) -> None:
    await setup_group(h)
    out = await h.command("leaderboard", period="month")
    assert "Leaderboard · This month" in out.text() and "No points yet" in out.text()


async def test_progress_goes_by_dm(h: Harness, fake: FakeDiscord) -> None:
    await setup_group(h)
    await h.command("join")
    out = await h.command("progress")
    assert out.callback.kind == 5 and flags(out.callback.data) & EPHEMERAL  # deferred
    [opened] = fake.of("POST", r"^/users/@me/channels$")
    assert str(opened.body["recipient_id"]) == ALICE.id
    dms = [c for c in fake.of("POST", r"^/channels/\d+/messages$")]
    assert len(dms) == 1 and "Only you can see this report" in embed_text(dms[0].body)
    assert "Sent to your direct messages" in out.text()


async def test_progress_dms_closed_falls_back_to_ephemeral(h: Harness, fake: FakeDiscord) -> None:
    await setup_group(h)
    fake.fail("POST", r"^/channels/\d+/messages$", 403, 50007)
    out = await h.command("progress")
    text = out.text()
    assert "Only you can see this report" in text
    assert "direct messages are closed" in text
    edit = [c for c in out.calls if c.method == "PATCH"]
    assert len(edit) == 1 and "/messages/@original" in edit[0].path
    assert len(fake.callbacks(out.interaction_id)) == 1


async def test_resources_with_area_choice(h: Harness) -> None:
    out = await h.command("resources", area="mlflow")
    assert "Study resources" in out.text() and "MLflow" in out.text()
    assert "](https://" in out.text()  # links stay links


def _example(kind: Kind) -> object:
    return {
        Kind.INT: 1,
        Kind.DATE: "2026-03-03",
        Kind.TIME: "10:00",
        Kind.TZ: "UTC",
        Kind.DAYS: "mon,tue",
    }.get(kind, "x")


@pytest.mark.parametrize("cmd", list(COMMANDS.values()), ids=lambda c: c.name)
async def test_every_command_answers_once(h: Harness, fake: FakeDiscord, cmd) -> None:  # type: ignore[no-untyped-def]
    """Also covers commands added to the table later: each answers exactly once."""
    await setup_group(h)
    options = {
        p.name: (p.choices[0] if p.choices else _example(p.kind)) for p in cmd.params if p.required
    }
    out = await h.command(cmd.name, ALICE, **options)
    assert len(fake.callbacks(out.interaction_id)) == 1
    assert out.text().strip()


async def test_manage_server_bit_is_what_counts(h: Harness) -> None:
    """A member with every other permission is not a lead."""
    busy = Member("600000000000000010", "Busy", 0xFFFFFFFF & ~MANAGE_GUILD & ~ADMINISTRATOR)
    out = await h.command("setup", busy, track="associate")
    assert "Only a group lead" in out.text()
