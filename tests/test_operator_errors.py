"""An operator's mistake is one line on stderr and a non-zero exit: no traceback, no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STUDYBOT_", "SLACK_", "DISCORD_")) and k != "PORT"
    }
    clean.update({"HOME": str(tmp_path), "COLUMNS": "300"})
    clean.setdefault("STUDYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'o.db'}")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ["status"],
            {"STUDYBOT_DATABASE_URL": "not a url"},
            "studybot: STUDYBOT_DATABASE_URL is not a database URL; use sqlite:///",
        ),
        (
            ["status"],
            {"STUDYBOT_DATABASE_URL": "postgresql+psycopg://bot:hunter2@127.0.0.1:9/x"},
            "studybot: the database refused or could not be reached: ",
        ),
        (
            ["status"],
            {"STUDYBOT_FLAG_THRESHOLD": "abc"},
            "studybot: STUDYBOT_FLAG_THRESHOLD: Input should be a valid integer",
        ),
        (
            ["status"],
            {"STUDYBOT_CONTENT_DIR": "/nonexistent/content"},
            "content directory not found: /nonexistent/content (set STUDYBOT_CONTENT_DIR",
        ),
        (
            ["serve", "slack"],
            {},
            "studybot: SLACK_SIGNING_SECRET is required for Slack's HTTP mode",
        ),
    ],
)
def test_each_mistake_is_one_line_and_exit_1(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    result = run(tmp_path, args, **env)
    assert result.returncode == 1, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip() and "davey" not in x]
    assert len(lines) == 1, result.stderr
    assert line in lines[0]
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    result = run(tmp_path, ["--debug", "status"], STUDYBOT_FLAG_THRESHOLD="abc")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = run(tmp_path, ["--version"])
    assert result.returncode == 0 and result.stdout.startswith("studybot 0.")


def test_an_installed_package_finds_its_content(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a checkout's content/ beside the code, the copy pip installed is used."""
    from bot import settings

    monkeypatch.setattr(settings, "REPO_CONTENT", tmp_path / "no-checkout")
    assert settings.default_content_dir() == settings.INSTALLED_CONTENT
    assert settings.INSTALLED_CONTENT.parts[-3:] == ("share", "studybot", "content")
