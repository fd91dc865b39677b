"""Run the adapter's real HTTP server (uvicorn + Bolt's ASGI adapter) on 127.0.0.1:0."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.slack.ack import ACK_DEADLINE
from adapters.slack.app import SlackApp
from adapters.slack.server import (
    THREADS,
    SlackAsgi,
    bound_socket,
    database_health,
    http_server,
)
from bot.core import StudyBot


@contextmanager
def running_server(
    slack: SlackApp, bot: StudyBot, deadline: float = ACK_DEADLINE, threads: int = THREADS
) -> Iterator[str]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    asgi = SlackAsgi(slack, database_health(bot), deadline=deadline, threads=threads)
    server = http_server(asgi, port, host="127.0.0.1", log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > end or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        asgi.close()
        sock.close()
