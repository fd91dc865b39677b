"""Multi-workspace install: OAuth with slack_sdk's SQLAlchemy stores on the study database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_bolt.request import BoltRequest

from adapters.slack.app import SlackApp, create_app
from adapters.slack.modes import Mode, slack_mode
from bot.core import StudyBot
from bot.seam import ChannelTarget, Reply, TargetGone
from tests.slack.conftest import SlackUser, command_body, signed_headers, slack_settings
from tests.slack.fakeslack import FakeSlack
from tests.slack.server import running_server

pytest.importorskip(
    "greenlet",
    reason="slack_sdk's SQLAlchemy stores import sqlalchemy.ext.asyncio, which needs greenlet",
)


@pytest.fixture
def oauth_slack(bot: StudyBot, fake: FakeSlack) -> Iterator[SlackApp]:
    settings = slack_settings(
        fake, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="client-secret"
    )
    assert slack_mode(settings) is Mode.OAUTH
    app = create_app(bot, settings)
    yield app
    app.frontend.drain()
    app.close()


def test_install_then_use_the_installed_token(
    oauth_slack: SlackApp, bot: StudyBot, fake: FakeSlack
) -> None:
    with running_server(oauth_slack, bot) as base, httpx.Client(base_url=base) as web:
        page = web.get("/slack/install")
        assert page.status_code == 200
        assert "oauth/v2/authorize" in page.text
        state = web.cookies.get("slack-app-oauth-state")
        assert state
        link = next(part for part in page.text.split('"') if "oauth/v2/authorize" in part)
        query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
        assert query["client_id"] == ["111.222"]
        assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "users:read"}
        # The state cookie is `Secure`; a browser would send it back over https.
        done = web.get(
            "/slack/oauth_redirect",
            params={"code": "the-code", "state": state},
            headers={"cookie": f"slack-app-oauth-state={state}"},
        )
        assert done.status_code == 200, done.text
        assert fake.of("oauth.v2.access")[-1].args["code"] == "the-code"

        forged = web.get(
            "/slack/oauth_redirect",
            params={"code": "x", "state": "forged"},
            headers={"cookie": "slack-app-oauth-state=forged"},
        )
        assert forged.status_code >= 400

    assert oauth_slack.installation_store is not None
    installed = oauth_slack.installation_store.find_bot(enterprise_id=None, team_id="T2")
    assert installed is not None and installed.bot_token == "xoxb-installed"

    # A /study from the new workspace runs with that workspace's token.
    u = SlackUser(oauth_slack, fake, "ULEAD", "Lee", team="T2")
    a = u.command("setup tz=UTC")
    assert "Study group created" in a.text()
    assert fake.of("users.info")[-1].headers["authorization"] == "Bearer xoxb-installed"

    ref = oauth_slack.messenger.post(ChannelTarget("T2", "C1"), Reply.message("hello"))
    assert ref.message_id
    assert fake.of("chat.postMessage")[-1].headers["authorization"] == "Bearer xoxb-installed"
    with pytest.raises(TargetGone):
        oauth_slack.messenger.post(ChannelTarget("T404", "C1"), Reply.message("hello"))


def test_uninstalled_workspace_is_not_served(oauth_slack: SlackApp, fake: FakeSlack) -> None:
    body = command_body(fake, "ULEAD", "Lee", "today", team="T3")
    resp = SlackUser(oauth_slack, fake, "ULEAD", "Lee").dispatch(body, signed_headers(body))
    assert fake.of("users.info") == []
    assert "Question of the day" not in (resp.body or "")


@pytest.mark.postgres
def test_installations_on_postgres(pg_store, content, clock, fake: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    """The same stores on PostgreSQL (CI), in the test's own schema."""
    from slack_sdk.oauth.installation_store import Installation

    pg_bot = StudyBot(pg_store, content, clock=clock)
    settings = slack_settings(
        fake, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="s"
    )
    app = create_app(pg_bot, settings)
    try:
        assert app.installation_store is not None
        app.installation_store.save(
            Installation(
                app_id="A1",
                team_id="T7",
                bot_token="xoxb-pg",
                bot_id="B7",
                bot_user_id="UBOT",
                user_id="U7",
            )
        )
        app.messenger.post(ChannelTarget("T7", "C1"), Reply.message("hello"))
        assert fake.of("chat.postMessage")[-1].headers["authorization"] == "Bearer xoxb-pg"
        a = SlackUser(app, fake, "ULEAD", "Lee", team="T7").command("setup tz=UTC")
        assert "Study group created" in a.text()
    finally:
        app.frontend.drain()
        app.close()


def _event(team: str, event: dict[str, object]) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": 1700000000,
        }
    )


def _send_event(slack: SlackApp, body: str, retry: bool = False) -> int:
    headers = {**signed_headers(body), "content-type": "application/json"}
    if retry:
        headers |= {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    return slack.app.dispatch(BoltRequest(body=body, headers=headers)).status


def _install(slack: SlackApp, team: str) -> None:
    from slack_sdk.oauth.installation_store import Installation

    assert slack.installation_store is not None
    slack.installation_store.save(
        Installation(
            app_id="A1",
            team_id=team,
            bot_token=f"xoxb-{team}",
            bot_id="B1",
            bot_user_id="UBOT",
            user_id="ULEAD",
        )
    )


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": ["ULEAD"], "bot": ["UBOT"]}},
    ],
)
def test_uninstall_deletes_the_installation_and_stops_posts(
    oauth_slack: SlackApp, fake: FakeSlack, event: dict[str, object]
) -> None:
    _install(oauth_slack, "T5")
    lee = SlackUser(oauth_slack, fake, "ULEAD", "Lee", team="T5")
    assert "Study group created" in lee.command("setup tz=UTC").text()
    oauth_slack.messenger.post(ChannelTarget("T5", "C1"), Reply.message("daily question"))

    assert _send_event(oauth_slack, _event("T5", event)) == 200
    assert _send_event(oauth_slack, _event("T5", event), retry=True) == 200  # Slack's retry

    assert oauth_slack.installation_store is not None
    assert oauth_slack.installation_store.find_bot(enterprise_id=None, team_id="T5") is None
    # The clock's next post there fails as "gone", which pauses the group (scheduler).
    with pytest.raises(TargetGone):
        oauth_slack.messenger.post(ChannelTarget("T5", "C1"), Reply.message("daily question"))
    posts = fake.of("chat.postMessage")
    assert [p.args["text"] for p in posts] == ["daily question"]
    # /study from that workspace is no longer served.
    resp = lee.dispatch(command_body(fake, "ULEAD", "Lee", "today", team="T5"))
    assert "Question of the day" not in (resp.body or "")


def test_uninstall_event_with_a_bad_signature_is_refused(
    oauth_slack: SlackApp, fake: FakeSlack
) -> None:
    _install(oauth_slack, "T6")
    body = _event("T6", {"type": "app_uninstalled"})
    headers = {**signed_headers(body, secret="wrong"), "content-type": "application/json"}
    assert oauth_slack.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    assert oauth_slack.installation_store is not None
    assert oauth_slack.installation_store.find_bot(enterprise_id=None, team_id="T6") is not None


def test_single_token_mode_acknowledges_uninstall_events(slack: SlackApp) -> None:
    body = _event("T1", {"type": "app_uninstalled"})
    assert _send_event(slack, body) == 200
