"""The Slack app the processes run: the Bolt `App` with its listeners, and the clock's
messenger, in single-token mode (SLACK_BOT_TOKEN) or multi-workspace OAuth (installations
in the study database through slack_sdk's SQLAlchemy stores).

The modules it puts together: inbound.py (payloads to what the core reads), directory.py
(`users.info`), listeners.py (the Bolt listeners), followups.py (work after the ack),
render.py (Block Kit), messenger.py (the clock's posts), ack.py and server.py (the 3-second
ack, HTTP and Socket Mode).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

from adapters.slack.directory import Directory
from adapters.slack.listeners import FAILED, SENT_DM, SlackFrontEnd, safe_render
from adapters.slack.messenger import SlackMessenger
from adapters.slack.modes import Mode, configured, slack_mode
from bot.core import StudyBot
from bot.settings import Settings
from bot.store.db import make_engine

log = logging.getLogger(__name__)


class _NotTheTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that the
    client we pass (which carries that same token) wins: true, and not news to anyone."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_NotTheTokenWarning())

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "files:write",
    "files:read",  # download the file a lead gives /study import's modal
    "channels:history",  # find a post after a worker died mid-delivery (find_posted)
    "groups:history",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


UNINSTALL_EVENTS = ("app_uninstalled", "tokens_revoked")


def _token_gone(event: dict[str, Any], context: BoltContext) -> None:
    """Single-token mode: nothing to delete, but the operator should know."""
    log.warning(
        "Slack says %s for workspace %s: SLACK_BOT_TOKEN no longer works there",
        event.get("type"),
        context.team_id,
    )


@dataclass
class SlackApp:
    """What the factory builds: the Bolt app, its listeners and the clock's messenger."""

    app: App
    frontend: SlackFrontEnd
    messenger: SlackMessenger
    installation_store: InstallationStore | None = None

    def close(self) -> None:
        self.frontend.close()


def web_client(api_url: str, token: str | None = None, *, retry_rate_limits: bool) -> WebClient:
    handlers: list[Any] = [ConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    base = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(token=token, base_url=base, retry_handlers=handlers, timeout=10)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def installation_store(settings: Settings, engine: Engine) -> InstallationStore:
    """slack_sdk's SQLAlchemy installation store on the study database, tables ensured.

    Imported here: slack_sdk's SQLAlchemy stores pull in sqlalchemy.ext.asyncio, which needs
    greenlet; single-token mode does without.
    """
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    store = SQLAlchemyInstallationStore(client_id=str(settings.slack_client_id), engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]
    return store


def installed_clients(store: InstallationStore, api_url: str) -> Callable[[str], WebClient]:
    """A client with the bot token installed in a workspace; LookupError when there is none."""

    def client_for(workspace_id: str) -> WebClient:
        found = store.find_bot(enterprise_id=None, team_id=workspace_id)
        if found is None or not found.bot_token:
            raise LookupError(workspace_id)
        return web_client(api_url, found.bot_token, retry_rate_limits=False)

    return client_for


def make_messenger(settings: Settings) -> SlackMessenger | None:
    """The `studybot.messenger` entry point: the clock's Slack messenger when Slack is
    configured (a bot token, or OAuth installations in the database), else None."""
    if not configured(settings):
        return None
    if slack_mode(settings, serving=False) is Mode.OAUTH:
        store = installation_store(settings, make_engine(settings.database_url))
        return SlackMessenger(installed_clients(store, settings.slack_api_url))
    token = _secret(settings.slack_bot_token)
    assert token is not None  # slack_mode() said so
    plain = web_client(settings.slack_api_url, token, retry_rate_limits=False)
    return SlackMessenger(lambda _workspace_id: plain)


def create_app(
    bot: StudyBot,
    settings: Settings,
    *,
    engine: Engine | None = None,
    directory: Directory | None = None,
) -> SlackApp:
    """Build the Bolt app: single-token mode with SLACK_BOT_TOKEN, multi-workspace OAuth
    with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (installations in the study database)."""
    mode = slack_mode(settings)
    signing_secret = _secret(settings.slack_signing_secret)
    frontend = SlackFrontEnd(bot, directory=directory)
    api_url = settings.slack_api_url
    common: dict[str, Any] = {
        "signing_secret": signing_secret or "",
        "process_before_response": True,
        "name": "studybot",
    }
    if mode is Mode.OAUTH:
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        engine = engine or bot.store.engine
        store = installation_store(settings, engine)
        state = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        state.create_tables()  # type: ignore[no-untyped-call]
        app = App(
            client=web_client(api_url, retry_rate_limits=True),
            oauth_settings=OAuthSettings(
                client_id=str(settings.slack_client_id),
                client_secret=_secret(settings.slack_client_secret),
                scopes=list(BOT_SCOPES),
                installation_store=store,
                state_store=state,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
            ),
            **common,
        )
        frontend.attach(app)
        # app_uninstalled / tokens_revoked: slack_sdk's store deletes the installation, so
        # the clock's messenger finds no token for the workspace (TargetGone) and the
        # delivery worker pauses each of its groups at their next post.
        app.enable_token_revocation_listeners()
        return SlackApp(app, frontend, SlackMessenger(installed_clients(store, api_url)), store)

    token = _secret(settings.slack_bot_token)
    assert token is not None  # slack_mode() said so
    app = App(client=web_client(api_url, token, retry_rate_limits=True), **common)
    plain = web_client(api_url, token, retry_rate_limits=False)
    frontend.attach(app)
    for event in UNINSTALL_EVENTS:  # subscribed in the manifest: answer, do not 404
        app.event(event)(_token_gone)
    return SlackApp(app, frontend, SlackMessenger(lambda _workspace_id: plain))


__all__ = [
    "FAILED",
    "SENT_DM",
    "Directory",
    "SlackApp",
    "SlackFrontEnd",
    "create_app",
    "make_messenger",
    "safe_render",
    "web_client",
]
