"""One scenario per command: `/study ...` through the real App, answered as Slack shows it."""

from __future__ import annotations

import pytest

from adapters.slack.ack import WORKING
from adapters.slack.inbound import command_text
from adapters.slack.listeners import FAILED, SENT_DM
from bot.registry import COMMANDS, SLASH
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack
from tests.slack.limits import assert_within_limits

# command -> (text after /study, something the reply must say)
SCENARIOS: dict[str, tuple[str, str]] = {
    "help": ("help quiz", "/study quiz"),
    "setup": ("setup", "Study group settings"),
    "join": ("join", "already in this study group"),
    "leave": ("leave", "You left the study group"),
    "tz": ("tz Europe/Berlin", "Europe/Berlin"),
    "away": ("away 3", "paused through"),
    "today": ("today", "Question of the day"),
    "quiz": ("quiz 2", "Practice 1 of 2"),
    "plan": ("plan", "Study plan"),
    "checklist": ("checklist", "Your checklists"),
    "check": ("check S1", "Ticked"),
    "uncheck": ("uncheck S1", "Unticked"),
    "leaderboard": ("leaderboard month", "Leaderboard · This month"),
    "progress": ("progress", "Your progress · Alice"),
    "resources": ("resources mlflow", "MLflow"),
    "dm": ("dm off", "DMs are *off*"),
    "passed": ("passed 2026-03-01", "Congratulations"),
    "flag": ("flag", "Answer a question first"),
}
PRE = {"uncheck": "check S1", "leave": "join"}


def _example(name: str) -> str:
    if name in SCENARIOS:
        return SCENARIOS[name][0]
    cmd = next(c for c in COMMANDS.values() if c.name == name)
    return cmd.examples[0].removeprefix(SLASH).strip() if cmd.examples else name


@pytest.mark.parametrize("name", [c.name for c in COMMANDS.values()])
def test_every_command_answers_through_slack(name: str, ali: SlackUser, fake: FakeSlack) -> None:
    """Derived from the command table, so a new command is exercised here at once."""
    if name in PRE:
        ali.command(PRE[name])
    a = ali.command(_example(name))
    assert a.status == 200
    message = a.ack
    if a.ack.get("text") in (SENT_DM, WORKING):  # a DM, or slow work answered after the ack
        message = a.responses[-1] if a.responses else fake.wait_for("chat.postMessage")[-1].args
    assert message.get("blocks"), a.text()
    assert FAILED not in str(message)
    assert_within_limits(message)
    if name in SCENARIOS:
        assert SCENARIOS[name][1] in str(message), str(message)[:500]


def test_help_lists_every_command(ali: SlackUser) -> None:
    a = ali.command("")
    text = a.text()
    for c in COMMANDS.values():
        assert f"{SLASH} {c.name}" in text
    assert a.ack["response_type"] == "ephemeral"


def test_setup_by_workspace_admin_posts_in_channel(lee: SlackUser, fake: FakeSlack) -> None:
    a = lee.command("setup time=08:30 days=mon,wed,fri")
    assert "Study group updated" in a.text() and "08:30" in a.text()
    assert a.ack["response_type"] == "ephemeral"


def test_group_creation_is_a_channel_post(lee: SlackUser) -> None:
    other = SlackUser(lee.slack, lee.fake, "ULEAD", "Lee", channel="C2")
    a = other.command("setup track=professional")
    assert a.ack["response_type"] == "in_channel"
    assert "Study group created" in a.text()


def test_setup_refused_for_a_member(ali: SlackUser) -> None:
    a = ali.command("setup time=07:00")
    assert "Only a group lead" in a.text()


def test_named_lead_by_mention_may_change_settings(lee: SlackUser, ali: SlackUser) -> None:
    """With should_escape, Slack sends `@Alice` as `<@UALICE|alice>`: it becomes the id."""
    assert command_text("setup leads=<@UALICE|alice>") == "setup leads=UALICE"
    lee.command("setup leads=<@UALICE|alice>")
    a = ali.command("setup time=07:15")
    assert "Study group updated" in a.text() and "07:15" in a.text()


def test_owner_counts_as_admin(slack, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    fake.user("UOWN", "Owner", owner=True)
    a = SlackUser(slack, fake, "UOWN", "Owner", channel="C9").command("setup")
    assert a.ack == {}  # a lead: the form that creates the group opens instead
    view = fake.wait_for("views.open")[0].args["view"]
    assert "Study group settings" in str(view)
    a = SlackUser(slack, fake, "UOWN", "Owner", channel="C9").command("setup tz=Asia/Kolkata")
    assert "Study group created" in a.text()


def test_escaped_command_text_is_decoded(lee: SlackUser) -> None:
    assert command_text("flag wrong &lt;B&gt; &amp; C") == "flag wrong <B> & C"
    assert command_text("see <https://x.example/a|x.example>") == "see https://x.example/a"
    assert command_text("<!here> <#C1|general>") == "@here C1"


def test_unknown_command_suggests(ali: SlackUser) -> None:
    a = ali.command("todya")
    assert "Did you mean" in a.text() and "today" in a.text()


def test_progress_goes_to_dm(ali: SlackUser, fake: FakeSlack) -> None:
    a = ali.command("progress")
    # The chart can make it slow on a busy machine: then the ack says so and the DM follows.
    assert a.ack["text"] in (SENT_DM, WORKING) and a.ack["response_type"] == "ephemeral"
    opened = fake.wait_for("conversations.open")[-1]
    assert opened.args["users"] == "UALICE"
    post = fake.wait_for("chat.postMessage")[-1]
    assert post.args["channel"] == "DUALICE"
    assert post.args["unfurl_links"] is False
    assert "Your progress" in str(post.args["blocks"])
    assert fake.wait_for("files.completeUploadExternal")[-1].args["channel_id"] == "DUALICE"
    assert fake.of("upload")[-1].args["bytes"] > 1000  # the PNG chart itself


def test_progress_falls_back_when_dms_are_closed(ali: SlackUser, fake: FakeSlack) -> None:
    fake.error("conversations.open", "cannot_dm_bot")
    a = ali.command("progress")
    assert a.responses, "the report should be shown in place"
    assert "Your progress" in a.text()
    assert a.responses[-1]["response_type"] == "ephemeral"


def test_no_group_yet(slack, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    a = SlackUser(slack, fake, "UBOB", "Bob", channel="CEMPTY").command("today")
    assert "no study group yet" in a.text()


def test_workspaces_are_separate(lee: SlackUser, fake: FakeSlack) -> None:
    """Same channel id in another team is another group (tenancy by team id)."""
    other = SlackUser(lee.slack, fake, "UALICE", "Alice", team="T2")
    assert "no study group yet" in other.command("today").text()
