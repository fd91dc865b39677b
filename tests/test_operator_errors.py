"""An operator's mistake is one line on stderr and a non-zero exit: no traceback, no secret."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.slack.fakeslack import FakeSlack

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
    ],
)
def test_each_mistake_is_one_line_and_exit_1(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    result = run(tmp_path, args, **env)
    assert result.returncode == 1, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip()]
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


# ---------------------------------------------------------------- every mistake, every entry


SOCKET = "SLACK_APP_TOKEN + SLACK_BOT_TOKEN selects Socket Mode"
OAUTH = "SLACK_CLIENT_ID + SLACK_CLIENT_SECRET + SLACK_SIGNING_SECRET selects OAuth"


def one_line(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """The single stderr line of a failed run, after checking it kept every rule."""
    assert result.returncode != 0, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for s in secrets:
        assert s not in result.stderr and s not in result.stdout
    return lines[0]


@pytest.fixture
def slack_api() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


class _Unauthorized(BaseHTTPRequestHandler):
    """Discord's answer to a bad token, on every path."""

    def do_GET(self) -> None:
        body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def discord_401() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v10"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, f"studybot: no Slack settings are set: {SOCKET}"),
        ({"SLACK_APP_TOKEN": "xapp-1-A"}, f"studybot: SLACK_BOT_TOKEN not set: {SOCKET}"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-sekrit", "SLACK_CLIENT_ID": "1.2"},
            "studybot: contradictory Slack settings: SLACK_BOT_TOKEN is one workspace's token, "
            f"but {OAUTH}",
        ),
        (
            {
                "SLACK_APP_TOKEN": "xapp-sekrit",
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
            },
            f"studybot: contradictory Slack settings: {SOCKET} (one workspace), but {OAUTH}",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "sekrit"},
            f"studybot: SLACK_SIGNING_SECRET not set: {OAUTH}",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-sekrit"},
            "studybot: SLACK_SIGNING_SECRET not set: SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET "
            "selects HTTP mode",
        ),
        (
            {"SLACK_BOT_TOKEN": "sekrit", "SLACK_SIGNING_SECRET": "s"},
            "studybot: SLACK_BOT_TOKEN does not look like the bot token (it should start with "
            "xoxb-",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-sekrit", "SLACK_API_URL": "http://127.0.0.1:9/api/"},
            "studybot: could not reach Slack at http://127.0.0.1:9/api/ (",
        ),
    ],
)
def test_slack_settings_that_cannot_work(tmp_path: Path, env: dict[str, str], line: str) -> None:
    env = {"SLACK_SIGNING_SECRET": "sign-sekrit", **env} if "SLACK_API_URL" in env else env
    got = one_line(run(tmp_path, ["serve", "slack"], **env), "sekrit")
    assert got.startswith(line), got


def test_a_token_slack_rejects(tmp_path: Path, slack_api: FakeSlack) -> None:
    slack_api.error("auth.test", "invalid_auth")
    result = run(
        tmp_path,
        ["serve", "slack"],
        SLACK_BOT_TOKEN="xoxb-sekrit",
        SLACK_SIGNING_SECRET="sign-sekrit",
        SLACK_API_URL=slack_api.api_url,
    )
    assert one_line(result, "sekrit").startswith(
        "studybot: Slack rejected SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token"
    )


def test_a_port_in_use(tmp_path: Path, slack_api: FakeSlack) -> None:
    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = run(
            tmp_path,
            ["serve", "slack", "--port", str(port)],
            SLACK_BOT_TOKEN="xoxb-sekrit",
            SLACK_SIGNING_SECRET="sign-sekrit",
            SLACK_API_URL=slack_api.api_url,
        )
    finally:
        taken.close()
    assert one_line(result, "sekrit") == (
        f"studybot: cannot listen on port {port} (Address already in use): "
        "set PORT or --port to a free port"
    )


@pytest.mark.parametrize("args", [["serve", "discord"], ["discord", "sync"]])
def test_discord_token_missing_rejected_or_unreachable(
    tmp_path: Path, args: list[str], discord_401: str
) -> None:
    missing = one_line(run(tmp_path, args))
    assert missing.startswith("studybot: DISCORD_TOKEN is not set: copy the bot's token from ")
    rejected = one_line(
        run(tmp_path, args, DISCORD_TOKEN="sekrit-token", DISCORD_API_URL=discord_401), "sekrit"
    )
    assert rejected.startswith("studybot: Discord rejected DISCORD_TOKEN (")
    unreachable = one_line(
        run(tmp_path, args, DISCORD_TOKEN="sekrit", DISCORD_API_URL="http://127.0.0.1:9/api/v10"),
        "sekrit",
    )
    assert unreachable.startswith("studybot: could not reach Discord at http://127.0.0.1:9/api/v10")


def test_a_shard_count_that_is_not_a_number(tmp_path: Path) -> None:
    result = run(tmp_path, ["serve", "discord"], DISCORD_TOKEN="sekrit", DISCORD_SHARD_COUNT="abc")
    assert one_line(result, "sekrit") == (
        "studybot: DISCORD_SHARD_COUNT must be a whole number from 1, or auto (got 'abc')"
    )


ENTRY_POINTS = [
    ["console"],
    ["run"],
    ["serve", "slack"],
    ["serve", "discord"],
    ["clock"],
    ["deliver"],
    ["status"],
    ["db", "upgrade"],
    ["content", "flags"],
]


@pytest.mark.parametrize("args", ENTRY_POINTS, ids=" ".join)
def test_every_entry_point_names_a_bad_database_url(
    tmp_path: Path, args: list[str], slack_api: FakeSlack
) -> None:
    tokens = {
        "SLACK_APP_TOKEN": "xapp-1-sekrit",
        "SLACK_BOT_TOKEN": "xoxb-sekrit",
        "SLACK_API_URL": slack_api.api_url,
        "DISCORD_TOKEN": "sekrit",
    }
    if args == ["serve", "discord"]:
        tokens = {"DISCORD_TOKEN": "sekrit"}
    url = "postgresql+psycopg://bot:hunter2@127.0.0.1:9/studies"
    line = one_line(run(tmp_path, args, STUDYBOT_DATABASE_URL=url, **tokens), "sekrit", "hunter2")
    assert line.startswith("studybot: the database refused or could not be reached: "), line
    assert line.endswith("(check STUDYBOT_DATABASE_URL)")


@pytest.mark.parametrize(
    "args",
    [
        *(a for a in ENTRY_POINTS if a[0] not in ("db", "content")),  # these read no content
        ["content", "check"],
        ["content", "stats"],
        ["discord", "sync", "--dry-run"],
    ],
    ids=" ".join,
)
def test_every_entry_point_names_a_content_folder_that_is_a_file(
    tmp_path: Path, args: list[str], slack_api: FakeSlack
) -> None:
    not_a_folder = tmp_path / "content.txt"
    not_a_folder.write_text("questions?")
    tokens = {
        "SLACK_APP_TOKEN": "xapp-1-x",
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_API_URL": slack_api.api_url,
        "DISCORD_TOKEN": "x",
    }
    if args == ["serve", "discord"]:
        tokens = {"DISCORD_TOKEN": "x"}
    result = run(tmp_path, args, STUDYBOT_CONTENT_DIR=str(not_a_folder), **tokens)
    assert one_line(result) == (
        f"studybot: content directory is a file, not a folder: {not_a_folder} "
        "(set STUDYBOT_CONTENT_DIR to the folder that holds curriculum.yaml)"
    )


@pytest.mark.skipif(not os.environ.get("STUDYBOT_TEST_POSTGRES_URL"), reason="no PostgreSQL")
@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("nobody:hunter2@127.0.0.1:5432/test", 'role "nobody" does not exist'),
        ("postgres:hunter2@127.0.0.1:5432/no_such_db", 'database "no_such_db" does not exist'),
    ],
)
def test_a_database_that_refuses(tmp_path: Path, path: str, says: str) -> None:
    result = run(tmp_path, ["status"], STUDYBOT_DATABASE_URL=f"postgresql+psycopg://{path}")
    line = one_line(result, "hunter2")
    assert line.startswith("studybot: the database refused or could not be reached: ")
    assert says in line and "check STUDYBOT_DATABASE_URL" in line


def test_a_prompt_left_unanswered_is_cancelled_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """End of input at a confirmation is the operator walking away, not a crash."""
    import io

    import typer

    from bot import cli

    @cli.app.command("ask-for-test", hidden=True)
    def ask() -> None:
        typer.confirm("Sure?", abort=True)

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setattr("sys.argv", ["studybot", "ask-for-test"])
    try:
        with pytest.raises(SystemExit) as stop:
            cli.main()
    finally:
        cli.app.registered_commands.pop()
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "studybot: cancelled"
