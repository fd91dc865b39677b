"""Running the Slack adapter: Socket Mode, or HTTP mode under uvicorn.

HTTP mode serves Bolt through its ASGI adapter, with two changes that a production server
needs: the synchronous `App.dispatch` runs in a thread pool instead of on the event loop
(one slow request must not stall every other), and `GET /healthz` answers load balancers
after checking the database.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from slack_bolt.adapter.asgi.base_handler import BaseSlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import text

from adapters.slack.app import SlackApp, create_app
from bot.bootstrap import build
from bot.core import StudyBot
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HOST = "0.0.0.0"  # HTTP mode runs behind a load balancer: listen on all interfaces
THREADS = 32


class SlackAsgi(BaseSlackRequestHandler):
    """Bolt's ASGI handler with dispatch off the event loop and a health endpoint."""

    def __init__(
        self,
        slack: SlackApp,
        health: Callable[[], bool],
        path: str = EVENTS_PATH,
        threads: int = THREADS,
    ) -> None:
        self.app = slack.app
        self.path = path
        self.health = health
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-http")

    async def _run(
        self, fn: Callable[[BoltRequest], BoltResponse], request: AsgiHttpRequest
    ) -> BoltResponse:
        req = BoltRequest(
            body=await request.get_raw_body(),
            query=request.query_string,
            headers=request.get_headers(),
        )
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, req)

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        return await self._run(self.app.dispatch, request)

    async def handle_installation(self, request: AsgiHttpRequest) -> BoltResponse:
        assert self.app.oauth_flow is not None
        return await self._run(self.app.oauth_flow.handle_installation, request)

    async def handle_callback(self, request: AsgiHttpRequest) -> BoltResponse:
        assert self.app.oauth_flow is not None
        return await self._run(self.app.oauth_flow.handle_callback, request)

    async def _get_http_response(
        self, method: str, path: str, request: AsgiHttpRequest
    ) -> AsgiHttpResponse:
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            ok = await asyncio.get_running_loop().run_in_executor(self._pool, self.health)
            return AsgiHttpResponse(
                status=200 if ok else 503,
                headers={"content-type": ["application/json"]},
                body='{"ok": true}' if ok else '{"ok": false}',
            )
        return await super()._get_http_response(method, path, request)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def database_health(bot: StudyBot) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with bot.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception as e:
            log.warning("health check failed: %s", e)
            return False

    return check


def asgi_app(slack: SlackApp, bot: StudyBot) -> SlackAsgi:
    return SlackAsgi(slack, database_health(bot))


def http_server(asgi: Any, port: int, host: str = HOST, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for the ASGI app (run it with `.run()` or `.run(sockets=[...])`)."""
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        proxy_headers=True,
    )
    return uvicorn.Server(config)


def bound_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket to hand to `Server.run(sockets=...)` (port 0: tests, benches).

    Created with `IPPROTO_TCP` explicitly: asyncio turns Nagle off (TCP_NODELAY) only for
    sockets whose protocol says TCP, and without it every response whose body follows its
    headers in a second write waits ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def mode(settings: Settings) -> str:
    """Socket Mode when an app-level token is set (no public URL needed), else HTTP."""
    return "socket" if settings.slack_app_token else "http"


def serve(settings: Settings, port: int | None = None, *, host: str = HOST) -> None:
    """The `studybot.serve` entry point for `slack`: blocks running the adapter."""
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    bot = build(settings)
    slack = create_app(bot, settings)
    try:
        if mode(settings) == "socket":
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            log.warning("studybot: Slack Socket Mode")
            handler = SocketModeHandler(slack.app, settings.slack_app_token.get_secret_value())
            handler.start()  # type: ignore[no-untyped-call]
            return
        if settings.slack_signing_secret is None:
            raise SystemExit("SLACK_SIGNING_SECRET is required for Slack's HTTP mode")
        listen = port or settings.port
        log.warning(
            "studybot: Slack HTTP mode on port %d (%s, %s)", listen, EVENTS_PATH, HEALTH_PATH
        )
        http_server(asgi_app(slack, bot), listen, host=host).run()
    finally:
        slack.close()
        bot.store.dispose()
