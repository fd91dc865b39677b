"""`/study cohort` through the real App: the lead's private report, its chart, its pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.slack.ack import WORKING
from bot.content.models import Content
from bot.core import StudyBot
from tests import seeding
from tests.seeding import T0
from tests.slack.conftest import Answer, SlackUser
from tests.slack.fakeslack import FakeSlack
from tests.slack.limits import assert_within_limits

HOSTILE = "<!here> *Bold* `code` & <@U0> " + "ü" * 60  # a long name full of markup


def shown(a: Answer) -> dict[str, Any]:
    """The reply the caller sees: the ack, or the response that follows slow work."""
    return a.responses[-1] if a.ack.get("text") == WORKING else a.ack


def test_the_lead_sees_the_report_privately_with_its_chart(
    lee: SlackUser, ali: SlackUser, fake: FakeSlack, bot: StudyBot, content: Content
) -> None:
    gid, _ = seeding.group_id(bot.store)
    (uid,) = seeding.add_members(bot.store, gid, ["Quiet Quinn"], T0 - timedelta(days=9))
    q = seeding.singles(content, 1)[0]
    seeding.quiz(bot.store, gid, uid, [(q, q.answer[0])], T0 - timedelta(days=8))
    a = lee.command("cohort")
    message = shown(a)
    assert message["response_type"] == "ephemeral"
    assert_within_limits(message)
    text = a.text()
    assert "Cohort report" in text and "Accuracy by exam domain" in text
    assert text.index("Quiet Quinn") < text.index("Alice")  # quiet members first
    assert "quiet 8 days" in text and "/study quiz " in text
    upload = fake.wait_for("files.completeUploadExternal")[-1]
    assert upload.args["channel_id"] == "DULEAD"  # the chart goes to the lead alone
    assert fake.of("upload")[-1].args["bytes"] > 1000


def test_a_member_is_told_it_is_for_leads(ali: SlackUser, fake: FakeSlack) -> None:
    a = ali.command("cohort")
    assert a.ack["response_type"] == "ephemeral"
    assert "The cohort report is for the group's leads: Lee" in a.text()
    assert not fake.of("files.completeUploadExternal")


def test_two_hundred_members_page_within_block_kit(
    lee: SlackUser, fake: FakeSlack, bot: StudyBot
) -> None:
    gid, _ = seeding.group_id(bot.store)
    names = [f"{HOSTILE} {i:03d}" for i in range(199)]
    seeding.add_members(bot.store, gid, names, T0 - timedelta(days=10))
    a = lee.command("cohort")
    first = shown(a)
    assert_within_limits(first)
    assert "Page 1 of 20" in a.text() and "Members 1–10 of 200" in a.text()
    page = lee.click("Next ▶", first["blocks"])
    second = page.responses[-1]
    assert second["replace_original"] is True
    assert_within_limits(second)
    assert "Page 2 of 20" in page.text() and "Members 11–20 of 200" in page.text()
    assert "&lt;!here&gt;" in page.text() and "<!here>" not in page.text()
