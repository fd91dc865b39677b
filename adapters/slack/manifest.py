"""The Slack app manifest, generated from the command table.

`manifest.yaml` next to this module is the output of `manifest_yaml()`; a test keeps the
two equal, so a new command in `bot.registry.COMMANDS` shows up in the slash command's
usage hint as soon as the file is regenerated (`studybot slack manifest --write`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import bot.features  # noqa: F401  (its modules declare the commands)
from adapters.slack.app import BOT_SCOPES, REDIRECT_PATH, UNINSTALL_EVENTS
from adapters.slack.form_listeners import SHORTCUT, SHORTCUT_NAME
from adapters.slack.home import HOME_EVENT
from adapters.slack.server import EVENTS_PATH
from bot.registry import COMMANDS, SLASH

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
APP_NAME = "studybot"
DESCRIPTION = "A study group for the Databricks Machine Learning certifications."
USAGE_HINT_MAX = 1000
HEADER = (
    "# Slack app manifest for studybot, generated from the command registry by\n"
    "# adapters/slack/manifest.py (studybot slack manifest --write). Paste it at\n"
    "# https://api.slack.com/apps -> Create New App -> From a manifest.\n"
)


def usage_hint() -> str:
    """Every command name, in table order: Slack shows this under `/study` as you type."""
    hint = "[" + " | ".join(COMMANDS) + "] [options]"
    if len(hint) > USAGE_HINT_MAX:
        raise ValueError("too many commands for Slack's usage hint")
    return hint


def manifest(base_url: str | None = None) -> dict[str, Any]:
    """Socket Mode (no public URL) without `base_url`; HTTP mode with request URLs under it."""
    command: dict[str, Any] = {
        "command": SLASH,
        "description": f"Study group: {len(COMMANDS)} commands, try {SLASH} help",
        "usage_hint": usage_hint(),
        "should_escape": True,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": [*UNINSTALL_EVENTS, HOME_EVENT]}
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if base_url:
        root = base_url.rstrip("/")
        command["url"] = root + EVENTS_PATH
        interactivity["request_url"] = root + EVENTS_PATH
        # the timezone select's search (an external_select) asks this URL for options
        interactivity["message_menu_options_url"] = root + EVENTS_PATH
        events = {"request_url": root + EVENTS_PATH, **events}
        oauth["redirect_urls"] = [root + REDIRECT_PATH]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": DESCRIPTION,
            "background_color": "#1b3139",
        },
        "features": {
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            # The Home tab is each member's home screen (home.py). The weekly DMs and
            # progress reports arrive in the app's Messages tab, which must be on for them
            # to show; members talk to the bot with /study, so the tab is read-only.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "slash_commands": [command],
            # on any message: the core says which question it shows (form_listeners.py)
            "shortcuts": [
                {
                    "name": SHORTCUT_NAME,
                    "type": "message",
                    "callback_id": SHORTCUT,
                    "description": "Report a wrong or unclear question to the maintainers",
                }
            ],
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": base_url is None,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(base_url: str | None = None) -> str:
    body = yaml.safe_dump(manifest(base_url), sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def write(path: Path = MANIFEST_PATH) -> Path:
    path.write_text(manifest_yaml(), encoding="utf-8")
    return path
