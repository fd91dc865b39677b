"""Running the Slack adapter: Socket Mode, or HTTP mode under uvicorn.

HTTP mode serves Bolt through its ASGI adapter, with three changes that a production
server needs: the synchronous `App.dispatch` runs in a thread pool instead of on the event
loop (one slow request must not stall every other), Slack gets an answer within the ack
deadline whatever the listener is doing (ack.py), and `GET /healthz` answers load
balancers after checking the database. Socket Mode runs Bolt's handler with the same
deadline.

This is the one module that reaches into Bolt's private API (`BaseSlackRequestHandler.
_get_http_response`, `slack_bolt.adapter.socket_mode.internals`): Bolt offers no public hook
for answering before the listener returns. pyproject.toml pins slack-bolt to its minor
version for that reason.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from slack_bolt.adapter.asgi.base_handler import BaseSlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.adapter.asgi.utils import scope_type
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from adapters.slack.ack import ACK_DEADLINE, AckGuard, guarded, stand_in
from adapters.slack.app import SlackApp, create_app
from adapters.slack.modes import Mode, check_bot_token, slack_api_rejection, slack_mode
from bot import metrics
from bot.bootstrap import build
from bot.core import StudyBot
from bot.errors import OperatorError
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
HOST = "0.0.0.0"  # HTTP mode runs behind a load balancer: listen on all interfaces
THREADS = 32


class GuardedRequest(AsgiHttpRequest):
    """An ASGI request with the guard of the ack it will get."""

    __slots__ = ("guard",)

    def __init__(self, scope: scope_type, receive: Callable[..., Any]) -> None:
        super().__init__(scope, receive)
        self.guard = AckGuard()


def _kind(req: BoltRequest) -> str:
    """What a request is, for the ack-latency histogram."""
    body = req.body
    if "command" in body:
        return "command"
    return "press" if body.get("type") == "block_actions" else "other"


def _acked(req: BoltRequest, started: float, stand_in: bool = False) -> None:
    metrics.observe_ack(_kind(req), time.perf_counter() - started)
    if stand_in:
        metrics.SLACK_STAND_INS.inc()


def _stop_waiting(waiting: asyncio.Future[Any], guard: AckGuard) -> None:
    """At the deadline: unless the listener has claimed the ack, stop waiting for it.
    `waiting` shields the dispatch: cancelling it wakes the request, and the dispatch
    runs on, or still starts if it was queued behind busy threads (its click is acked)."""
    if guard.expire():
        waiting.cancel()


def _retrieved(done: asyncio.Future[Any]) -> None:
    """A dispatch nobody awaits any more (acked at the deadline): Bolt answers a
    listener's error itself, so anything left is only marked as seen."""
    if not done.cancelled():
        done.exception()


class SlackAsgi(BaseSlackRequestHandler):
    """Bolt's ASGI handler with dispatch off the event loop, the ack deadline and a health
    endpoint."""

    def __init__(
        self,
        slack: SlackApp,
        health: Callable[[], bool],
        path: str = EVENTS_PATH,
        threads: int = THREADS,
        deadline: float = ACK_DEADLINE,
    ) -> None:
        self.app = slack.app
        self.path = path
        self.health = health
        self.deadline = deadline
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-http")

    async def __call__(self, scope: scope_type, receive: Callable[..., Any], send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = GuardedRequest(scope, receive)
        try:
            response = await self._get_http_response(
                str(scope["method"]), str(scope["path"]), request
            )
            await send(response.get_response_start())
            await send(response.get_response_body())
        finally:
            request.guard.release()  # the answer is out: follow-up work may start

    @staticmethod
    async def _bolt_request(request: AsgiHttpRequest) -> BoltRequest:
        return BoltRequest(
            body=await request.get_raw_body(),
            query=request.query_string,
            headers=request.get_headers(),
        )

    async def _run(
        self, fn: Callable[[BoltRequest], BoltResponse], request: AsgiHttpRequest
    ) -> BoltResponse:
        req = await self._bolt_request(request)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, req)

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        started = time.perf_counter()
        req = await self._bolt_request(request)
        # __call__ passes a GuardedRequest and releases its guard once the answer is out;
        # any other caller gets a released guard, so follow-up work is never held back.
        if isinstance(request, GuardedRequest):
            guard = guarded(req, request.guard)
        else:
            guard = guarded(req, AckGuard(released=True))
        loop = asyncio.get_running_loop()
        answer = loop.run_in_executor(self._pool, self.app.dispatch, req)
        waiting = asyncio.shield(answer)
        timer = loop.call_later(self.deadline, _stop_waiting, waiting, guard)
        try:
            resp: BoltResponse = await waiting
        except asyncio.CancelledError:
            answer.add_done_callback(_retrieved)
            if not guard.expired:  # cancelled from outside: shutting down
                raise
            log.info("no answer after %.1fs; acked for the listener", self.deadline)
            _acked(req, started, stand_in=True)
            return stand_in(req)
        finally:
            timer.cancel()
        _acked(req, started)
        return resp

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
        if path == METRICS_PATH and method == "GET":
            return AsgiHttpResponse(
                status=200,
                headers={"content-type": [CONTENT_TYPE_LATEST]},
                body=generate_latest(REGISTRY).decode(),
            )
        return await super()._get_http_response(method, path, request)

    def close(self) -> None:
        """Let every dispatch already handed to the pool run to its end: a click the
        transport acked at the deadline may still be queued, and its answer is recorded
        only when it runs (Slack will not send it again)."""
        self._pool.shutdown(wait=True, cancel_futures=False)


class GuardedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler with the ack deadline: dispatch runs on a pool of its
    own and the envelope is acked with the stand-in if the listener is not done in time."""

    def __init__(
        self,
        app: Any,
        app_token: str,
        *,
        deadline: float = ACK_DEADLINE,
        threads: int = THREADS,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, app_token, **kwargs)
        self.deadline = deadline
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-socket")

    def handle(self, client: Any, req: Any) -> None:
        started, clock = time.time(), time.perf_counter()
        bolt_req = BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
        guard = guarded(bolt_req)
        answer = self._pool.submit(self.app.dispatch, bolt_req)
        try:
            late = False
            try:
                resp = answer.result(timeout=self.deadline)
            except FutureTimeout:
                late = guard.expire()
                resp = stand_in(bolt_req) if late else answer.result()
            send_response(client, req, resp, started)
            _acked(bolt_req, clock, stand_in=late)
        finally:
            guard.release()

    def close(self) -> None:
        super().close()  # type: ignore[no-untyped-call]
        self._pool.shutdown(wait=True, cancel_futures=False)  # as SlackAsgi.close


def database_health(bot: StudyBot) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with bot.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception as e:
            if bot.store.availability.failed(e) is None:  # an outage: one line, not one a probe
                log.warning("health check failed: %s", e)
            return False

    return check


def asgi_app(slack: SlackApp, bot: StudyBot) -> SlackAsgi:
    return SlackAsgi(slack, database_health(bot))


def http_server(
    asgi: Any, port: int, host: str = HOST, log_level: str | None = None
) -> uvicorn.Server:
    """A uvicorn server for the ASGI app (run it with `.run()` or `.run(sockets=[...])`).

    uvicorn's loggers go through studybot's logging (bot/logs.py), as a library's: its
    start-up lines only with --log-level debug, its errors always."""
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
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
    return "socket" if slack_mode(settings) is Mode.SOCKET else "http"


def listening_socket(host: str, port: int) -> socket.socket:
    """The HTTP port, bound before uvicorn starts so a taken port is the operator's line."""
    try:
        return bound_socket(host, port)
    except OSError as e:
        raise OperatorError(
            f"cannot listen on port {port} ({e.strerror}): set PORT or --port to a free port"
            + (" (ports below 1024 need root)" if port < 1024 else "")
        ) from e


def _on_stop_signals(then: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `then` instead of ending the process at once, so the
    adapter closes in order and what its clicks started finishes (only the main thread
    can take signals; a test that serves from another thread stops it otherwise)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: then())


def _until_stopped() -> None:
    """Socket Mode: block until SIGTERM or SIGINT, then close as uvicorn does."""
    stop = threading.Event()
    _on_stop_signals(stop.set)
    stop.wait()


def serve(settings: Settings, port: int | None = None, *, host: str = HOST) -> None:
    """The `studybot.serve` entry point for `slack`: blocks running the adapter."""
    chosen = slack_mode(settings)
    if settings.slack_bot_token is not None:
        check_bot_token(settings)
    sock = None if chosen is Mode.SOCKET else listening_socket(host, port or settings.port)
    bot = build(settings)
    slack = create_app(bot, settings)
    try:
        if sock is None:
            assert settings.slack_app_token is not None
            log.info("Slack Socket Mode")
            handler = GuardedSocketModeHandler(
                slack.app, settings.slack_app_token.get_secret_value()
            )
            try:
                handler.connect()  # type: ignore[no-untyped-call]
            except SlackApiError as e:
                raise slack_api_rejection(e, "SLACK_APP_TOKEN") from e
            try:
                _until_stopped()
            finally:
                handler.close()  # what the envelopes started finishes
            return
        listen = sock.getsockname()[1]
        log.info(
            "Slack HTTP mode on port %d (%s, %s, %s)",
            listen,
            EVENTS_PATH,
            HEALTH_PATH,
            METRICS_PATH,
        )
        asgi = asgi_app(slack, bot)
        # uvicorn takes the signals while it serves and, once it has shut down, raises
        # the one it caught again with the handler it found: this one, not the default
        # that would end the process before the pool and the follow-ups finish
        _on_stop_signals(lambda: None)
        try:
            http_server(asgi, listen, host=host).run(sockets=[sock])
        finally:
            asgi.close()  # the requests are answered; what they started finishes
    finally:
        slack.close()
        bot.store.dispose()
