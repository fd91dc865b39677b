"""`/study mydata` and `/study forget` through the real Bolt app: the file is uploaded
with files_upload_v2 into the member's DMs, and the confirmation button erases."""

from __future__ import annotations

import json

from adapters.slack.listeners import SENT_DM
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack


def test_the_data_file_arrives_in_the_members_dms(ali: SlackUser, fake: FakeSlack) -> None:
    ali.command("check S1")
    a = ali.command("mydata")
    assert a.ack["response_type"] == "ephemeral" and a.ack["text"] != SENT_DM
    assert "holds everything studybot stores about you" in a.text()
    assert "studybot-data-UALICE.json" in a.text() and "in your DMs with the app" in a.text()
    done = fake.wait_for("files.completeUploadExternal")[-1].args
    assert done["channel_id"] == "DUALICE"
    assert [f["title"] for f in json.loads(done["files"])] == ["Your studybot data"]
    asked = fake.of("files.getUploadURLExternal")[-1].args
    assert asked["filename"] == "studybot-data-UALICE.json"
    data = json.loads(fake.of("upload")[-1].args["data"])
    assert int(asked["length"]) == len(fake.of("upload")[-1].args["data"])
    assert data["member"]["platform"] == "slack" and data["member"]["user_id"] == "UALICE"
    assert data["checklist"][0]["item"] == "S1"
    assert data["memberships"][0]["channel"] == "C1"


def test_a_file_that_cannot_reach_the_dms_is_explained(ali: SlackUser, fake: FakeSlack) -> None:
    fake.error("conversations.open", "cannot_dm_bot")
    a = ali.command("mydata")
    assert a.responses, "the member is told the file did not arrive"
    said = a.responses[-1]
    assert said["response_type"] == "ephemeral"
    assert "I could not send you studybot-data-UALICE.json" in json.dumps(said)
    assert not fake.of("files.completeUploadExternal")


def test_forget_me_erases_and_replaces_the_question(
    ali: SlackUser, lee: SlackUser, fake: FakeSlack
) -> None:
    ali.command("check S1")
    ask = ali.command("forget")
    assert "Forget me?" in ask.text() and "1 checklist tick" in ask.text()
    refused = SlackUser(ali.slack, fake, "UBOB", "Bob").click("Forget me", ask.blocks)
    assert "Only the member who asked" in refused.text()
    done = ali.click("Forget me", ask.blocks)
    assert done.responses[-1]["replace_original"] is True
    assert "Done: studybot erased everything it stored about you here" in done.text()
    assert "stores nothing about you" in ali.command("mydata").text()
