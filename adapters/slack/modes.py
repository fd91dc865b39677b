"""Which way the Slack adapter runs, read from the settings, and the start-up checks.

Three sets of variables each select a mode, and a self-hoster who mixes them should be
told which set selects what rather than have one win silently:
- Socket Mode (one workspace, no public URL): SLACK_APP_TOKEN and SLACK_BOT_TOKEN;
- HTTP with one token (one workspace): SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET;
- OAuth (HTTP, any number of workspaces): SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and
  SLACK_SIGNING_SECRET.
Every problem is an `OperatorError`: one line naming the variables, never their values.
"""

from __future__ import annotations

import logging
from enum import Enum
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import OperatorError
from bot.settings import Settings

SOCKET_VARS = "SLACK_APP_TOKEN + SLACK_BOT_TOKEN selects Socket Mode (one workspace)"
HTTP_VARS = "SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET selects HTTP mode (one workspace)"
OAUTH_VARS = (
    "SLACK_CLIENT_ID + SLACK_CLIENT_SECRET + SLACK_SIGNING_SECRET selects OAuth "
    "(HTTP, many workspaces)"
)
MODES = f"{SOCKET_VARS}; {HTTP_VARS}; {OAUTH_VARS}"

# The start-up check's own client logs nothing: its outcome becomes the operator's one line.
_quiet = logging.getLogger("adapters.slack.startup_check")
_quiet.propagate = False
_quiet.addHandler(logging.NullHandler())


class Mode(Enum):
    SOCKET = "socket"
    HTTP = "http"
    OAUTH = "oauth"


def configured(settings: Settings) -> bool:
    """Whether any Slack variable is set (else the adapter is simply not in use)."""
    return any(
        (
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_client_id,
            settings.slack_client_secret,
        )
    )


def slack_mode(settings: Settings, *, serving: bool = True) -> Mode:
    """The mode the settings select; `serving=False` (delivery only) needs no secret."""
    bot, app = bool(settings.slack_bot_token), bool(settings.slack_app_token)
    cid, csecret = bool(settings.slack_client_id), bool(settings.slack_client_secret)
    signing = bool(settings.slack_signing_secret)
    if not configured(settings):
        raise OperatorError(f"no Slack settings are set: {MODES}")
    if app and (cid or csecret):
        raise OperatorError(
            f"contradictory Slack settings: {SOCKET_VARS}, but {OAUTH_VARS}; "
            "unset one of the two sets"
        )
    if bot and (cid or csecret):
        raise OperatorError(
            "contradictory Slack settings: SLACK_BOT_TOKEN is one workspace's token, but "
            f"{OAUTH_VARS}, where each workspace's token comes from its install; "
            "unset one of the two"
        )
    if cid or csecret:
        missing = [
            n
            for n, ok in (
                ("SLACK_CLIENT_ID", cid),
                ("SLACK_CLIENT_SECRET", csecret),
                ("SLACK_SIGNING_SECRET", signing or not serving),
            )
            if not ok
        ]
        if missing:
            raise OperatorError(f"{' and '.join(missing)} not set: {OAUTH_VARS}")
        return Mode.OAUTH
    if app:
        if not bot:
            raise OperatorError(f"SLACK_BOT_TOKEN not set: {SOCKET_VARS}")
        _prefix(settings, "SLACK_APP_TOKEN", "xapp-", "an app-level token")
        _prefix(settings, "SLACK_BOT_TOKEN", "xoxb-", "the bot token")
        return Mode.SOCKET
    _prefix(settings, "SLACK_BOT_TOKEN", "xoxb-", "the bot token")
    if serving and not signing:
        raise OperatorError(
            f"SLACK_SIGNING_SECRET not set: {HTTP_VARS}; or set SLACK_APP_TOKEN for Socket Mode"
        )
    return Mode.HTTP


def _prefix(settings: Settings, name: str, prefix: str, what: str) -> None:
    secret = getattr(settings, name.lower())
    if secret is not None and not secret.get_secret_value().startswith(prefix):
        raise OperatorError(
            f"{name} does not look like {what} (it should start with {prefix}…): copy it "
            "again from the app's settings at api.slack.com/apps"
        )


def check_bot_token(settings: Settings) -> None:
    """Ask Slack whether the bot token works, once, before anything listens."""
    assert settings.slack_bot_token is not None
    base = settings.slack_api_url.rstrip("/") + "/"
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=base, timeout=10, logger=_quiet
    )
    try:
        client.auth_test()
    except SlackApiError as e:
        code = e.response.get("error", "an error")
        raise OperatorError(
            f"Slack rejected SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token (xoxb-…) "
            "again from the app's OAuth & Permissions page, and reinstall the app if it was "
            "revoked"
        ) from e
    except (URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise OperatorError(
            f"could not reach Slack at {base} ({reason}): check the network, or SLACK_API_URL"
        ) from e


def slack_api_rejection(e: SlackApiError, setting: str) -> OperatorError:
    """A Web API refusal at start-up, as the operator's line."""
    code = e.response.get("error", "an error")
    return OperatorError(
        f"Slack rejected {setting} ({code}): copy it again from the app's settings at "
        "api.slack.com/apps"
    )
