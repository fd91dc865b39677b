"""The app manifest agrees with the command table and with what the adapter calls."""

from __future__ import annotations

import re
from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from adapters.slack.app import BOT_SCOPES, REDIRECT_PATH
from adapters.slack.cli import register
from adapters.slack.form_listeners import SHORTCUT
from adapters.slack.manifest import MANIFEST_PATH, manifest, manifest_yaml
from bot.registry import COMMANDS, SLASH

ADAPTER = Path(__file__).resolve().parents[2] / "adapters" / "slack"


def test_file_matches_the_generator() -> None:
    assert MANIFEST_PATH.read_text(encoding="utf-8") == manifest_yaml(), (
        "adapters/slack/manifest.yaml is stale: run `studybot slack manifest --write`"
    )


def test_slash_command_lists_every_command() -> None:
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    (cmd,) = data["features"]["slash_commands"]
    assert cmd["command"] == SLASH
    assert 2 <= len(cmd["command"]) <= 32
    names = re.findall(r"[a-z]+", cmd["usage_hint"].split("]")[0])
    assert names == [c.name for c in COMMANDS.values()]
    assert str(len(COMMANDS)) in cmd["description"]
    assert cmd["should_escape"] is True  # mentions arrive as ids (see command_text)
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True


def test_scopes_cover_every_web_api_method_the_adapter_calls() -> None:
    needs = {
        "chat_postMessage": "chat:write",
        "chat_update": "chat:write",
        "chat_postEphemeral": "chat:write",
        "conversations_open": "im:write",
        "users_info": "users:read",
        "files_upload_v2": "files:write",
        "conversations_history": "channels:history",
    }
    source = "\n".join(p.read_text() for p in ADAPTER.glob("*.py"))
    called = set(re.findall(r"client\.([a-z_0-9A-Z]+)\b", source)) & set(needs)
    assert called == set(needs)
    assert {needs[m] for m in called} | {"commands"} <= set(BOT_SCOPES)


def test_http_variant_has_request_urls() -> None:
    data = manifest("https://study.example.com/")
    assert data["features"]["slash_commands"][0]["url"] == "https://study.example.com/slack/events"
    assert data["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert data["oauth_config"]["redirect_urls"] == ["https://study.example.com" + REDIRECT_PATH]
    assert data["settings"]["socket_mode_enabled"] is False
    events = data["settings"]["event_subscriptions"]
    assert events["request_url"] == "https://study.example.com/slack/events"


def test_uninstall_events_are_subscribed() -> None:
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    events = data["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == {"app_uninstalled", "tokens_revoked", "app_home_opened"}
    assert "request_url" not in events  # Socket Mode


def test_cli_prints_the_manifest() -> None:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from flattening the group
        pass

    out = CliRunner().invoke(app, ["slack", "manifest", "--url", "https://x.example"])
    assert out.exit_code == 0, out.output
    assert "https://x.example/slack/events" in out.output


def test_the_messages_tab_is_on_for_the_bots_dms() -> None:
    """Without the App Home's Messages tab, weekly DMs and progress reports never show."""
    home = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True  # members use /study, not chat


def test_the_home_tab_is_on_and_its_event_subscribed() -> None:
    """The App Home is each member's home screen: the tab, and the event that opens it."""
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    http = manifest("https://study.example.com/")["settings"]["event_subscriptions"]
    assert "app_home_opened" in http["bot_events"]


def test_the_report_shortcut_is_declared_and_listened_for() -> None:
    """The message shortcut the manifest declares is the one the app answers, named as
    the core names it; the timezone search needs the options URL over HTTP, and the
    import form's file needs files:read."""
    from bot.features.report_message import ACTION_NAME

    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    (shortcut,) = data["features"]["shortcuts"]
    assert shortcut == {
        "name": ACTION_NAME,
        "type": "message",
        "callback_id": SHORTCUT,
        "description": shortcut["description"],
    }
    assert len(shortcut["name"]) <= 24 and 0 < len(shortcut["description"]) <= 80
    assert "files:read" in data["oauth_config"]["scopes"]["bot"]
    http = manifest("https://study.example.com/")["settings"]["interactivity"]
    assert http["message_menu_options_url"] == "https://study.example.com/slack/events"
    source = (ADAPTER / "form_listeners.py").read_text()
    assert "app.shortcut(SHORTCUT)" in source and "app.options(TZ_ACTION)" in source
