"""Slack modals through the real Bolt App: `/study setup` and `/study add` alone from a
lead open a form (views.open with the command's trigger), a submission's problems stand
beside their fields (response_action errors), a valid one is saved and confirmed to the
lead alone, and the timezone select searches the IANA names."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx

from adapters.slack.ack import AckGuard
from adapters.slack.app import SlackApp, create_app
from adapters.slack.modals import TZ_ACTION
from bot.core import StudyBot
from tests.slack.conftest import SlackUser, command_body, signed_headers, slack_settings
from tests.slack.fakeslack import FakeSlack
from tests.slack.modal_helpers import (
    blocks_by_id,
    opened_view,
    posted_to,
    submission_body,
    submit,
    suggest,
)
from tests.slack.server import running_server

GOOD = {
    "prompt": "Which alias does the team's nightly job load?",
    "a": "champion",
    "b": "production",
    "c": "latest",
    "d": "staging",
    "answer": "A",
    "explanation": "A is right: the job loads models:/name@champion. B, C and D are wrong.",
    "domain": "model-deployment",
    "difficulty": "2",
    "ref": "https://docs.databricks.com/en/machine-learning/manage-model-lifecycle/index.html",
}


def test_setup_alone_opens_the_settings_modal_for_a_lead(lee: SlackUser, fake: FakeSlack) -> None:
    fake.clear()
    answer = lee.command("setup")
    assert answer.status == 200 and answer.ack == {}  # no message beside the modal
    assert not answer.responses
    call = fake.wait_for("views.open")[0]
    assert call.args["trigger_id"] == "1.2.3"
    view = opened_view(fake)
    assert view["type"] == "modal" and view["title"]["text"] == "Study group settings"
    assert view["submit"]["text"] == "Save"
    blocks = blocks_by_id(view)
    assert list(blocks) == [
        "f_track", "f_start", "f_exam", "f_tz", "f_time", "f_days", "f_leads", "f_summary",
        "f_digest",
    ]  # fmt: skip
    kinds = {bid: b["element"]["type"] for bid, b in blocks.items()}
    assert kinds == {
        "f_track": "static_select",
        "f_start": "datepicker",
        "f_exam": "datepicker",
        "f_tz": "external_select",
        "f_time": "timepicker",
        "f_days": "checkboxes",
        "f_leads": "multi_users_select",
        "f_summary": "static_select",
        "f_digest": "static_select",
    }
    assert blocks["f_start"]["element"]["initial_date"] == "2026-03-02"
    assert blocks["f_time"]["element"]["initial_time"] == "09:00"
    assert blocks["f_tz"]["element"]["initial_option"]["value"] == "UTC"
    days = [o["value"] for o in blocks["f_days"]["element"]["initial_options"]]
    assert days == ["mon", "tue", "wed", "thu", "fri"]
    assert blocks["f_exam"]["optional"] is True
    assert json.loads(view["private_metadata"])["channel"] == "C1"


def test_a_member_running_setup_alone_sees_the_settings(ali: SlackUser, fake: FakeSlack) -> None:
    fake.clear()
    answer = ali.command("setup")
    assert "Study group settings" in answer.text() and "Timezone" in answer.text()
    assert fake.of("views.open") == []


def test_a_submission_with_errors_is_answered_beside_the_fields(
    lee: SlackUser, fake: FakeSlack
) -> None:
    lee.command("setup")
    view = opened_view(fake)
    fake.clear()
    sent = submit(lee, view, exam="2026-01-01", time="07:15")
    assert sent.action == "errors"
    assert list(sent.errors) == ["f_exam"]
    assert "must come after the start date" in sent.errors["f_exam"]
    assert fake.of("chat.postEphemeral") == [] and fake.of("chat.postMessage") == []
    text = lee.command("setup time=09:00").text()  # nothing was saved: still 09:00
    assert "09:00" in text


def test_a_valid_submission_is_saved_and_confirmed(
    lee: SlackUser, ali: SlackUser, fake: FakeSlack
) -> None:
    lee.command("setup")
    view = opened_view(fake)
    fake.clear()
    sent = submit(
        lee, view, tz="Europe/Berlin", time="07:15", days="mon,wed,fri", leads="UALICE",
        exam="2026-06-05", digest="off",
    )  # fmt: skip
    assert sent.response.status == 200 and sent.body == {}  # the modal closes
    confirm = fake.wait_for("chat.postEphemeral")[0].args
    assert (confirm["channel"], confirm["user"]) == ("C1", "ULEAD")
    shown = json.dumps(confirm, ensure_ascii=False)
    assert "Study group updated" in shown
    assert "07:15 on Mon, Wed, Fri" in shown and "Europe/Berlin" in shown
    assert "Lead digest" in shown and "off" in shown
    # Alice is a lead now: her setup opens the form, with the values just saved
    fake.clear()
    ali.command("setup")
    again = blocks_by_id(opened_view(fake))
    assert again["f_leads"]["element"]["initial_users"] == ["UALICE"]
    assert again["f_tz"]["element"]["initial_option"]["value"] == "Europe/Berlin"
    assert again["f_exam"]["element"]["initial_date"] == "2026-06-05"
    # emptying the exam date clears it (the text form's exam=none)
    fake.clear()
    assert submit(ali, _reopened(ali, fake), exam="").body == {}
    cleared = json.dumps(fake.wait_for("chat.postEphemeral")[0].args, ensure_ascii=False)
    assert "not set" in cleared


def _reopened(u: SlackUser, fake: FakeSlack) -> dict[str, object]:
    u.command("setup")
    view = opened_view(fake)
    fake.clear()
    return view


def test_the_timezone_select_searches_iana_names(lee: SlackUser, fake: FakeSlack) -> None:
    lee.command("setup")
    view = opened_view(fake)
    berlin = suggest(lee, view, TZ_ACTION, "berl")
    assert berlin == ["Europe/Berlin"]
    new_york = suggest(lee, view, TZ_ACTION, "new y")
    assert "America/New_York" in new_york
    assert len(suggest(lee, view, TZ_ACTION, "a")) == 100  # Slack's most
    assert suggest(lee, view, TZ_ACTION, "zzz") == []


def test_add_alone_opens_the_question_modal(
    lee: SlackUser, ali: SlackUser, fake: FakeSlack, slack: SlackApp
) -> None:
    fake.clear()
    assert "Only a group lead" in ali.command("add").text()
    assert fake.of("views.open") == []
    lee.command("add")
    view = opened_view(fake)
    blocks = blocks_by_id(view)
    assert blocks["f_prompt"]["element"]["multiline"] is True
    assert blocks["f_explanation"]["element"]["multiline"] is True
    assert blocks["f_domain"]["element"]["type"] == "static_select"
    assert blocks["f_c"]["optional"] is True and not blocks["f_a"].get("optional")
    fake.clear()
    bad = submit(lee, view, **(GOOD | {"prompt": "", "ref": "http://x.example"}))
    assert set(bad.errors) == {"f_prompt", "f_ref"}
    assert "empty prompt" in bad.errors["f_prompt"]
    assert "https" in bad.errors["f_ref"]
    good = submit(lee, view, **GOOD)
    assert good.body == {}
    shown = posted_to(fake, "ULEAD")
    assert "to this group's own questions" in shown and "Which alias" in shown


def test_a_modal_slack_will_not_open_leaves_the_settings_in_words(
    lee: SlackUser, fake: FakeSlack
) -> None:
    fake.error("views.open", "expired_trigger_id")
    answer = lee.command("setup")
    assert len(answer.responses) == 1 and answer.responses[0]["response_type"] == "ephemeral"
    assert "Study group settings" in answer.text() and "09:00" in answer.text()


def test_the_form_in_a_new_channel_creates_the_group(slack: SlackApp, fake: FakeSlack) -> None:
    owner = SlackUser(slack, fake, "ULEAD", "Lee", channel="C9")
    owner.command("setup")
    view = opened_view(fake)
    assert blocks_by_id(view)["f_tz"]["element"]["initial_option"]["value"] == "UTC"
    fake.clear()
    assert submit(owner, view, tz="Asia/Kolkata", time="06:30").body == {}
    post = fake.wait_for("chat.postMessage")[0].args  # for the channel to see
    assert post["channel"] == "C9"
    shown = json.dumps(post, ensure_ascii=False)
    assert "Study group created" in shown and "06:30" in shown and "Asia/Kolkata" in shown


def test_past_the_deadline_a_refusal_is_posted_to_the_lead(lee: SlackUser, fake: FakeSlack) -> None:
    """The transport answered Slack itself (the modal closed): the problems cannot stand
    beside the fields any more, so the lead is told them under the channel."""
    lee.command("setup")
    view = opened_view(fake)
    fake.clear()
    late = AckGuard()
    assert late.expire()
    submit(lee, view, guard=late, exam="2026-01-01")
    shown = json.dumps(fake.wait_for("chat.postEphemeral")[0].args, ensure_ascii=False)
    assert "must come after the start date" in shown


def test_over_http_the_errors_and_the_search_ride_in_the_answer(
    bot: StudyBot, fake: FakeSlack
) -> None:
    """Through the real transport (uvicorn, the ack guard): a refused submission's
    errors are the HTTP answer itself, and so is the timezone search."""
    app = create_app(bot, slack_settings(fake))
    with running_server(app, bot) as base, httpx.Client(base_url=base) as web:
        lead = SlackUser(app, fake, "ULEAD", "Lee")

        def post(body: str) -> httpx.Response:
            return web.post("/slack/events", content=body, headers=signed_headers(body))

        post(command_body(fake, "ULEAD", "Lee", "setup tz=UTC"))
        assert post(command_body(fake, "ULEAD", "Lee", "setup")).text == ""
        view = opened_view(fake)
        answer = post(submission_body(lead, view, exam="2026-01-01")).json()
        assert answer["response_action"] == "errors" and "f_exam" in answer["errors"]
        typed = {
            "type": "block_suggestion",
            "user": {"id": "ULEAD", "name": "lee", "team_id": "T1"},
            "team": {"id": "T1"},
            "action_id": TZ_ACTION,
            "block_id": "f_tz",
            "value": "kolk",
            "view": view,
        }
        found = post(urlencode({"payload": json.dumps(typed)})).json()["options"]
        assert [o["value"] for o in found] == ["Asia/Kolkata"]
        app.frontend.drain()
    app.close()
