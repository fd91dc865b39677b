"""The process commands: status, deliver and run say what they do and what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import _load_plugins, app
from tests.helpers import Chat

_load_plugins()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", url)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_SIGNING_SECRET",
        "DISCORD_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    return url


def test_status_lists_groups_and_failures(env: str) -> None:
    from bot.bootstrap import build

    bot = build()
    Chat(bot, user="lead", name="Lee", admin=True).send(
        "/study setup tz=Asia/Kolkata time=07:30 days=mon,wed"
    )
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "1 study group(s)" in result.output
    assert "07:30" in result.output and "Asia/Kolkata" in result.output
    assert "No delivery failures in the last 7 days." in result.output


def test_deliver_and_run_need_a_platform(env: str) -> None:
    for cmd in ("deliver", "run"):
        result = CliRunner().invoke(app, [cmd])
        assert result.exit_code == 2
        assert "No platform is configured" in result.output


def test_deliver_and_run_take_a_starting_rate_within_range(env: str) -> None:
    for cmd in ("deliver", "run"):
        result = CliRunner().invoke(app, [cmd, "--rate", "500"])
        assert result.exit_code == 2
        assert "--rate" in result.output and "100" in result.output
        ok = CliRunner().invoke(app, [cmd, "--rate", "3"])
        assert "No platform is configured" in ok.output  # the rate itself was accepted


@pytest.mark.parametrize("command", [[], ["deliver"], ["run"], ["clock"], ["content", "flags"]])
def test_help_names_the_values_an_option_takes(command: list[str]) -> None:
    """`--help` used to show `<bool>` beside every flag and `<float range>` for --rate."""
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "range>" not in result.output
    if command in (["deliver"], ["run"]):
        assert "--rate POSTS" in result.output
