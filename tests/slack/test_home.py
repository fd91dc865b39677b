"""The App Home through the real Bolt App: `app_home_opened` in (a signed Events API
request), `views.publish` out, presses on the Home, its refresh and Slack's rate limit."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from prometheus_client import REGISTRY
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from adapters.slack.app import SlackApp
from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.store.models import User
from tests import seeding
from tests.helpers import FakeClock
from tests.slack.conftest import SECRET, SlackUser, find_button, unescape
from tests.slack.fakeslack import TEAM, FakeSlack
from tests.slack.limits import assert_valid_block_kit

HOSTILE = "<!here> *Bold* `code` & <@U0> " + "ü" * 60


# ------------------------------------------------------------------ the wire


def events_request(payload: dict[str, Any], retry: int | None = None) -> BoltRequest:
    """An Events API request, JSON signed over the raw body as Slack signs it."""
    body = json.dumps(payload)
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    if retry is not None:
        headers |= {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
    return BoltRequest(body=body, headers=headers)


def open_home(
    slack: SlackApp,
    user: str,
    view: dict[str, Any] | None = None,
    tab: str = "home",
    retry: int | None = None,
) -> BoltResponse:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    payload = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
    }
    return slack.app.dispatch(events_request(payload, retry))


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """A button by its label, in a row of buttons or beside a line (an accessory)."""
    beside = [b["accessory"] for b in blocks if b.get("accessory", {}).get("type") == "button"]
    return find_button([*blocks, {"type": "actions", "elements": beside}], label)


def press_on(
    slack: SlackApp, user: str, view: dict[str, Any], label: str, kind: str = "home"
) -> BoltResponse:
    """A click on a button of a published Home (or of a modal): no channel, the view."""
    pressed = button(view["blocks"], label)
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "12345.98765.abcd",
        "container": {"type": "view", "view_id": view["id"]},
        "view": {**view, "type": kind},
        "actions": [
            {
                "action_id": pressed["action_id"],
                "block_id": "b1",
                "text": pressed["text"],
                "value": pressed.get("value", ""),
                "type": "button",
                "action_ts": "1700000001.000001",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    resp = slack.app.dispatch(BoltRequest(body=body, headers=headers))
    assert resp.status == 200
    return resp


def published(fake: FakeSlack, slack: SlackApp, user: str, n: int | None = None) -> dict[str, Any]:
    """The latest Home published for `user` (after waiting for `n` publishes in all), as
    Slack stores it: valid, within a Home's 100 blocks, with the fake's id."""
    slack.frontend.home.drain()
    calls = fake.wait_for("views.publish", n or 1)
    mine = [c.args for c in calls if c.args.get("user_id") == user]
    assert mine, f"no Home published for {user}"
    view = mine[-1]["view"]
    assert view["type"] == "home"
    assert View(**view).to_dict() == view  # slack_sdk's View model and its validators
    assert_valid_block_kit(view["blocks"])
    assert len(view["blocks"]) <= 100
    return {**view, "id": "VHOME" + user}


def user_id(bot: StudyBot, external: str) -> int:
    with bot.store.transaction(read_only=True) as s:
        return int(s.scalar(select(User.id).where(User.external_id == external)))


def shown(view: dict[str, Any]) -> str:
    return unescape(json.dumps(view["blocks"], ensure_ascii=False))


def channel_of(view: dict[str, Any]) -> str:
    return str(json.loads(view["private_metadata"])["channel"])


def question_of(content: Content, view: dict[str, Any]) -> Question:
    (qid,) = re.findall(r"· ([a-z0-9-]+) · (?:Answer|Pick)", shown(view))
    return content.by_id[qid]


def answer_on_home(
    slack: SlackApp, fake: FakeSlack, user: str, content: Content, view: dict[str, Any]
) -> dict[str, Any]:
    """Answer the Home's question right (toggling letters first on a multi-answer one)."""
    q = question_of(content, view)
    for letter in q.answer if q.multi else []:
        press_on(slack, user, view, letter)
        view = published(fake, slack, user, len(fake.of("views.publish")))
    press_on(slack, user, view, "Submit" if q.multi else q.answer[0])
    slack.frontend.drain()
    return published(fake, slack, user, len(fake.of("views.publish")))


@pytest.fixture
def snappy(slack: SlackApp) -> SlackApp:
    """The app with the Home's refresh debounced in 3 s, not 10 s: long enough that two
    answers a loaded CI machine takes a second or more to send still fall in one refresh."""
    slack.frontend.home.refresher.quiet = 3.0
    slack.frontend.home.refresher.interval = 3.0
    return slack


# ------------------------------------------------------------------ scenarios


def test_opening_the_home_publishes_todays_question_and_standing(
    ali: SlackUser, slack: SlackApp, fake: FakeSlack, content: Content
) -> None:
    started = time.monotonic()
    resp = open_home(slack, "UALICE")
    assert resp.status == 200 and time.monotonic() - started < 1.0  # acked, nothing waited
    view = published(fake, slack, "UALICE")
    text = shown(view)
    assert "Your study home" in text and "<#C1>" in text
    assert "Streak" in text and "Points" in text and "Rank" in text
    assert "Due for review" in text and "Your pace" in text and "Next three things to do" in text
    assert channel_of(view) == "C1"
    home = button(view["blocks"], "Show today's question")
    assert any(b.get("accessory") == home for b in view["blocks"])  # beside its line
    assert "Your group, for its leads" not in text  # Alice is no lead

    press_on(slack, "UALICE", view, "Show today's question")
    view = published(fake, slack, "UALICE", 2)
    q = question_of(content, view)
    assert q.prompt.strip()[:40] in shown(view)
    after = answer_on_home(slack, fake, "UALICE", content, view)
    text = shown(after)
    assert "✅ Correct" in text and "Why:" in text and "Streak" in text
    assert f"*{q.answer[0]}.* {q.choices[q.letters().index(q.answer[0])][:30]}" in text
    assert not fake.of("response")  # a Home has no response_url: nothing went there
    assert "You answered on" in ali.command("today").text()  # the channel's answer too


def test_the_messages_tab_publishes_nothing(
    ali: SlackUser, slack: SlackApp, fake: FakeSlack
) -> None:
    assert open_home(slack, "UALICE", tab="messages").status == 200
    slack.frontend.home.drain()
    assert not fake.of("views.publish")


def test_a_retried_event_publishes_once(ali: SlackUser, slack: SlackApp, fake: FakeSlack) -> None:
    open_home(slack, "UALICE")
    published(fake, slack, "UALICE")
    assert open_home(slack, "UALICE", retry=1).status == 200
    slack.frontend.home.drain()
    assert len(fake.of("views.publish")) == 1


def test_someone_in_no_group_is_told_how_to_join(
    lee: SlackUser, slack: SlackApp, fake: FakeSlack
) -> None:
    open_home(slack, "UBOB")
    text = shown(published(fake, slack, "UBOB"))
    assert "You are not in a study group yet" in text and "/study join" in text
    assert "/study setup" in text


def test_two_groups_the_last_used_first_and_a_switch_that_holds(
    lee: SlackUser, ali: SlackUser, slack: SlackApp, fake: FakeSlack, clock: FakeClock
) -> None:
    lee2 = SlackUser(slack, fake, "ULEAD", "Lee", channel="C2")
    lee2.command("setup track=associate start=2026-03-02 tz=UTC time=09:00")
    ali2 = SlackUser(slack, fake, "UALICE", "Alice", channel="C2")
    ali2.command("join")
    clock.advance(minutes=5)
    ali2.command("quiz")  # studied in C2 last
    open_home(slack, "UALICE")
    view = published(fake, slack, "UALICE")
    assert channel_of(view) == "C2"
    text = shown(view)
    assert "Your groups (2)" in text and "<#C2> · " in text and "shown here" in text
    switch = button(view["blocks"], "Switch")
    assert any(
        "<#C1>" in b.get("text", {}).get("text", "") and b.get("accessory") == switch
        for b in view["blocks"]
    )

    clock.advance(minutes=5)
    press_on(slack, "UALICE", view, "Switch")
    view = published(fake, slack, "UALICE", 2)
    assert channel_of(view) == "C1" and json.loads(view["private_metadata"])["chosen"] > 0
    clock.advance(minutes=5)
    open_home(slack, "UALICE", view=view)  # back to the tab: the choice holds
    view = published(fake, slack, "UALICE", 3)
    assert channel_of(view) == "C1"
    clock.advance(minutes=5)
    ali2.command("quiz")  # studying in C2 again brings it first
    ali2.click("Continue the set")
    ali2.click("A")
    open_home(slack, "UALICE", view=view)
    assert channel_of(published(fake, slack, "UALICE", 4)) == "C2"


def test_a_lead_of_two_hundred_members_stays_within_a_homes_blocks(
    lee: SlackUser, slack: SlackApp, fake: FakeSlack, bot: StudyBot, clock: FakeClock
) -> None:
    gid, _ = seeding.group_id(bot.store)
    names = [f"{HOSTILE} {i:03d}" for i in range(199)]
    seeding.add_members(bot.store, gid, names, seeding.T0 - timedelta(days=10))
    for i in range(2, 10):  # and eight more groups of Lee's
        SlackUser(slack, fake, "ULEAD", "Lee", channel=f"C{i}").command(
            "setup track=associate start=2026-03-02 tz=UTC time=09:00"
        )
    chosen = int(clock.now.timestamp()) + 60  # C1 chosen on the Home after the setups
    open_home(
        slack, "ULEAD", view={"private_metadata": json.dumps({"channel": "C1", "chosen": chosen})}
    )
    view = published(fake, slack, "ULEAD")
    text = shown(view)
    assert len(view["blocks"]) <= 100
    assert "Your group, for its leads" in text
    assert "Your groups (9)" in text and "…and 3 more" in text
    assert "&lt;!here&gt;" in json.dumps(view["blocks"]) and "<!here>" not in json.dumps(view)

    press_on(slack, "ULEAD", view, "Open the cohort report")
    slack.frontend.drain()
    (opened,) = fake.of("views.open")
    assert opened.args["trigger_id"] == "12345.98765.abcd"
    modal = opened.args["view"]
    assert modal["type"] == "modal" and modal["title"]["text"] == "Cohort report"
    assert View(**modal).to_dict() == modal and len(modal["blocks"]) <= 100
    assert_valid_block_kit(modal["blocks"])
    assert "Members 1–10 of 200" in shown(modal) and "/study cohort" in shown(modal)

    press_on(slack, "ULEAD", {**modal, "id": "VMODAL"}, "Next ▶", kind="modal")
    slack.frontend.drain()
    (updated,) = fake.of("views.update")
    assert updated.args["view_id"] == "VMODAL"
    assert "Members 11–20 of 200" in shown(updated.args["view"])
    assert not fake.of("response")


def test_an_open_mock_exam_resumes_in_the_dms(
    ali: SlackUser,
    slack: SlackApp,
    fake: FakeSlack,
    bot: StudyBot,
    content: Content,
    clock: FakeClock,
) -> None:
    gid, _ = seeding.group_id(bot.store)
    uid = user_id(bot, "UALICE")
    picks = [(q, "") for q in seeding.singles(content, 3)]
    seeding.exam(bot.store, gid, uid, picks, clock.now - timedelta(minutes=10), status="open")
    open_home(slack, "UALICE")
    view = published(fake, slack, "UALICE")
    assert "Your mock exam is open" in shown(view) and "Question 1 of 3" in shown(view)
    press_on(slack, "UALICE", view, "Resume the exam")
    slack.frontend.drain()
    assert "Resuming your exam" in unescape(json.dumps(ali.last_dm()))


def test_two_quick_answers_make_one_refresh(
    ali: SlackUser, snappy: SlackApp, fake: FakeSlack, content: Content
) -> None:
    open_home(snappy, "UALICE")
    published(fake, snappy, "UALICE")
    today = ali.command("today")
    q = question_of(content, {"blocks": today.blocks})
    if q.multi:
        for letter in q.answer:
            ali.click(letter)
        ali.click("Submit")
    else:
        ali.click(q.answer[0], today.blocks)
    quiz = ali.command("quiz")
    ali.click("A", quiz.blocks)
    assert len(fake.of("views.publish")) == 1  # nothing yet: the refresh waits for quiet
    view = published(fake, snappy, "UALICE", 2)
    time.sleep(snappy.frontend.home.refresher.interval)  # nothing more comes
    snappy.frontend.home.drain()
    assert len(fake.of("views.publish")) == 2  # opened, then one refresh for both answers
    assert "Correct" in shown(view) or "Not quite" in shown(view)


def test_a_rate_limited_publish_is_tried_again_after_retry_after(
    ali: SlackUser, slack: SlackApp, fake: FakeSlack
) -> None:
    def limited() -> float:
        return REGISTRY.get_sample_value("studybot_rate_limited_total", {"platform": "slack"}) or 0

    before = limited()
    fake.rate_limit("views.publish", retry_after=1)
    started = time.monotonic()
    assert open_home(slack, "UALICE").status == 200
    assert time.monotonic() - started < 0.5  # the ack never waits for Slack's limit
    fake.wait_for("views.publish", 1)
    slack.frontend.drain()
    ali.command("quiz")  # a change while backing off joins the retry, not sooner
    first, second = fake.wait_for("views.publish", 2, timeout=5)
    assert second.at - first.at >= 0.9  # retried once Retry-After had passed
    assert limited() == before + 1
    view = published(fake, slack, "UALICE", 2)
    assert "Your study home" in shown(view)
    assert len(fake.of("views.publish")) == 2  # the quiz's refresh was the retry itself
