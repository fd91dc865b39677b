"""Modals through the real client: `/study setup` and `/study add` alone from a lead open
the core's forms; a submission is the same command as typed options; a refused one names
the field and keeps what was typed behind "Try again"."""

from __future__ import annotations

from typing import Any

import pytest

from bot.content.models import Content
from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, LEAD, Harness, modal_inputs

pytestmark = pytest.mark.anyio
MODAL = 9
EPHEMERAL = 64


async def setup_group(h: Harness, content: Content) -> None:
    out = await h.command(
        "setup", LEAD, track=content.tracks[0].id, start="2026-03-02", tz="UTC", time="09:00"
    )
    assert "Study group created" in out.text()


def modal_of(out: Any) -> dict[str, Any]:
    assert out.callback.kind == MODAL, out.callback.body
    return dict(out.callback.data)


async def test_setup_alone_opens_the_settings_modal_for_a_lead(
    h: Harness, content: Content
) -> None:
    await setup_group(h, content)
    modal = modal_of(await h.command("setup", LEAD))
    assert modal["title"] == "Study group settings"
    inputs = modal_inputs(modal)
    assert list(inputs) == ["start", "exam", "tz", "time", "days"]  # Discord holds five
    assert [i["label"] for i in inputs.values()] == [
        "Cohort start",
        "Exam date",
        "Timezone",
        "Daily question at",
        "Post days",
    ]
    assert inputs["tz"]["value"] == "UTC" and inputs["time"]["value"] == "09:00"
    assert inputs["start"]["value"] == "2026-03-02"
    assert inputs["days"]["value"] == "mon,tue,wed,thu,fri"
    assert inputs["exam"]["required"] is False and inputs["tz"]["required"] is True
    assert inputs["tz"]["placeholder"] == "An IANA name such as Europe/Berlin."
    assert all(len(i["label"]) <= 45 for i in inputs.values())
    # a member sees the settings, no modal
    shown = await h.command("setup", ALICE)
    assert shown.callback.kind == 4 and "Study group settings" in shown.text()


async def test_a_submission_with_a_mistake_names_the_field_and_saves_nothing(
    h: Harness, fake: FakeDiscord, content: Content
) -> None:
    await setup_group(h, content)
    modal = modal_of(await h.command("setup", LEAD))
    refused = await h.submit(modal, LEAD, time="25:99", tz="Asia/Kolkata")
    assert refused.callback.kind == 4
    assert int(refused.callback.data.get("flags") or 0) & EPHEMERAL
    said = refused.text()
    assert "Study group settings: not saved" in said
    assert "**Daily question at**: " in said and "25:99" in said
    assert "Try again" in said  # what to do next
    settings = (await h.command("setup", ALICE)).text()
    assert "09:00" in settings and "Asia/Kolkata" not in settings  # nothing was changed
    # "Try again" opens the form with what was typed, the problem under its field
    again = modal_of(await h.press(refused.last, "Try again", LEAD))
    inputs = modal_inputs(again)
    assert inputs["time"]["value"] == "25:99" and inputs["tz"]["value"] == "Asia/Kolkata"
    assert inputs["time"]["description"].startswith("⚠ ")
    assert inputs["tz"]["description"] is None
    saved = await h.submit(again, LEAD, time="07:30")
    assert "Study group updated" in saved.text()
    settings = (await h.command("setup", ALICE)).text()
    assert "07:30" in settings and "Asia/Kolkata" in settings


async def test_a_valid_submission_saves(h: Harness, content: Content) -> None:
    await setup_group(h, content)
    modal = modal_of(await h.command("setup", LEAD))
    out = await h.submit(modal, LEAD, days="mon,wed,fri", exam="2026-07-31")
    assert "Study group updated" in out.text()
    settings = (await h.command("setup", ALICE)).text()
    assert "Mon, Wed, Fri" in settings or "mon,wed,fri" in settings.lower()
    assert "2026-07-31" in settings or "31 Jul 2026" in settings


async def test_a_new_channels_modal_creates_the_group(h: Harness) -> None:
    modal = modal_of(await h.command("setup", LEAD))
    out = await h.submit(modal, LEAD, tz="Europe/Berlin", time="08:15")
    assert "Study group created" in out.text() and "Europe/Berlin" in out.text()
    refused = await h.command("setup", ALICE)  # a member, no group: told, no modal
    assert refused.callback.kind == 4


async def test_add_alone_opens_the_question_form_in_two_pages(h: Harness, content: Content) -> None:
    await setup_group(h, content)
    member = await h.command("add", ALICE)
    assert member.callback.kind == 4 and "Only a group lead" in member.text()  # no form
    first = modal_of(await h.command("add", LEAD))
    assert first["title"] == "Add a question (1/2)"
    assert list(modal_inputs(first)) == ["prompt", "a", "b", "c", "d"]
    note = await h.submit(
        first,
        LEAD,
        prompt="Which layer keeps a table's history for time travel?",
        a="The transaction log",
        b="The cluster's local disk",
        c="The notebook's revision list",
        d="The driver's memory",
    )
    assert "Page 1 of 2" in note.text() and "nothing is saved" in note.text()
    second = modal_of(await h.press(note.last, "Continue", LEAD))
    assert second["title"] == "Add a question (2/2)"
    inputs = modal_inputs(second)
    assert list(inputs) == ["answer", "explanation", "domain", "difficulty", "ref"]
    domain = content.tracks[0].domains[0]
    assert inputs["domain"]["value"] == domain.id
    bad = await h.submit(second, LEAD, answer="E", explanation="Short.", ref="ftp://x")
    said = bad.text()
    assert "Add a question: not saved" in said and "**Right answer**" in said
    # nothing was added; trying again starts from the page with the first problem
    again = modal_of(await h.press(bad.last, "Try again", LEAD))
    assert again["title"] == "Add a question (2/2)"
    assert modal_inputs(again)["answer"]["value"] == "E"
    ok = await h.submit(
        again,
        LEAD,
        answer="A",
        explanation=(
            "The transaction log records every version of the table, which is what time "
            "travel reads; the other places hold no table history at all."
        ),
        ref="https://docs.databricks.com/en/delta/history.html",
    )
    assert "to this group's own questions" in ok.text(), ok.text()


async def test_emptying_a_set_field_clears_it(h: Harness, content: Content) -> None:
    await setup_group(h, content)
    modal = modal_of(await h.command("setup", LEAD))
    await h.submit(modal, LEAD, exam="2026-07-31")
    reopened = modal_of(await h.command("setup", LEAD))
    assert modal_inputs(reopened)["exam"]["value"] == "2026-07-31"
    out = await h.submit(reopened, LEAD, exam="")  # emptied: no exam date any more
    assert "Study group updated" in out.text()
    assert modal_inputs(modal_of(await h.command("setup", LEAD)))["exam"].get("value") in (
        None,
        "",
    )
