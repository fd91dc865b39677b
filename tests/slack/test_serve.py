"""`serve(settings, port)`, the `studybot serve slack` entry point, in both modes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from adapters.slack.server import bound_socket, serve
from tests.slack.conftest import command_body, signed_headers, slack_settings
from tests.slack.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import sys
from adapters.slack.server import serve
from bot.settings import Settings
serve(Settings(_env_file=None), int(sys.argv[1]), host="127.0.0.1")
"""


def test_http_mode_process(tmp_path: Path, fake: FakeSlack) -> None:
    """The whole process: settings from the environment, migrations, uvicorn, signed POSTs."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": fake.api_url,
        "STUDYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    for key in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(key, None)
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < end, "server did not come up"
            time.sleep(0.1)
        body = command_body(fake, "UALICE", "Alice", "help")
        ok = httpx.post(
            base + "/slack/events", content=body, headers=signed_headers(body, "s3cret")
        )
        assert ok.status_code == 200 and "/study today" in ok.text
        bad = httpx.post(base + "/slack/events", content=body, headers=signed_headers(body))
        assert bad.status_code == 401
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "s3cret" not in output and "xoxb-test" not in output  # secrets never logged
    # SIGTERM ends it through serve()'s own shutdown (the pool and the follow-ups
    # finish), not by the signal uvicorn raises again once it has stopped
    assert proc.returncode == 0, output


def test_socket_mode_opens_a_connection_with_the_app_token(tmp_path: Path, fake: FakeSlack) -> None:
    """With SLACK_APP_TOKEN, serve() asks Slack for a Socket Mode URL (no HTTP server)."""
    fake.error("apps.connections.open", "invalid_auth")
    settings = slack_settings(
        fake,
        SLACK_APP_TOKEN="xapp-1-test",
        SLACK_SIGNING_SECRET=None,
        STUDYBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'socket.db'}",
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(settings, None)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive()
    opened = fake.of("apps.connections.open")
    assert opened and opened[0].headers["authorization"] == "Bearer xapp-1-test"
    assert errors and "invalid_auth" in str(errors[0])
