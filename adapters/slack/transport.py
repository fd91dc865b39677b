"""Keep-alive HTTP for the Web API and `response_url`s.

slack_sdk's `WebClient` and `WebhookClient` (which Bolt's `respond` uses for `response_url`)
send every request through `urllib.request.urlopen`: a new TCP connection, and in
production a new TLS handshake with slack.com or hooks.slack.com, for every `users.info`
and every answer to a click. `PooledWebClient` keeps slack_sdk's request building,
response parsing, error types and retry handlers and replaces only the innermost
`urlopen` with a small pool of persistent `http.client` connections; `respond` posts the
JSON body `WebhookClient` would post, over the same pool. With a proxy configured
(argument or `HTTPS_PROXY`) both use slack_sdk's own transport.

A pooled connection is checked before reuse (a server that closed it idle makes it
readable) and a request that fails on a reused connection before any answer came back
(the server closed it at the same moment) is sent once more on a fresh connection, at
once: slack_sdk's `ConnectionErrorRetryHandler` retries the same errors, but after a sleep.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import threading
import time
from collections.abc import Mapping
from ssl import SSLContext, create_default_context
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook import WebhookClient, WebhookResponse

IDLE_SECONDS = 30.0  # forget connections idle longer than this
IDLE_PER_HOST = 8  # idle connections kept per host; busier moments open more
WEBHOOK_TIMEOUT = 30.0  # WebhookClient's default
_USER_AGENT = get_user_agent()
# Errors that mean a reused connection was already closed by the server.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

Key = tuple[str, str, int, SSLContext | None]


class Response:
    """What `urlopen` returns, as far as slack_sdk reads it."""

    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, body: bytes):
        self.status = self.code = status
        self.reason = reason
        self.headers = headers
        self._body = body

    def read(self) -> bytes:
        return self._body


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed (or sent something unasked) by the server."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Persistent HTTP/1.1 connections per (scheme, host, port, TLS context), thread-safe.

    A connection is used by one request at a time: taken from the idle list (or opened),
    used, and put back only when the response was read completely and the server did not
    ask to close it.
    """

    def __init__(self, idle_seconds: float = IDLE_SECONDS, per_host: int = IDLE_PER_HOST):
        self.idle_seconds, self.per_host = idle_seconds, per_host
        self._idle: dict[Key, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()

    def _take(self, key: Key) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                since, conn = idle.pop()
            if now - since < self.idle_seconds and not _dropped(conn):
                return conn
            conn.close()

    def _give(self, key: Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.per_host:
                idle.append((time.monotonic(), conn))
                return
        conn.close()

    def _open(self, key: Key, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port, context = key
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=timeout, context=context or _default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def urlopen(self, req: Request, *, context: SSLContext | None, timeout: float) -> Response:
        """POST (or any method) `req` like `urllib.request.urlopen`: HTTPError for 4xx/5xx,
        URLError when the connection cannot be made or the request cannot be sent."""
        url = urlsplit(req.full_url)
        scheme = url.scheme.lower()
        if scheme not in ("http", "https") or not url.hostname:
            raise SlackRequestError(f"Invalid URL detected: {req.full_url}")
        port = url.port or (443 if scheme == "https" else 80)
        key: Key = (scheme, url.hostname, port, context if scheme == "https" else None)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = dict(req.header_items())
        headers.setdefault("Connection", "keep-alive")
        body = req.data if isinstance(req.data, bytes | None) else bytes(req.data)  # type: ignore[arg-type]
        while True:
            conn = self._take(key)
            reused = conn is not None
            if conn is None:
                conn = self._open(key, timeout)
            elif conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                try:
                    conn.request(req.get_method(), path, body=body, headers=headers)
                except OSError as e:
                    raise URLError(e) from e
                resp = conn.getresponse()
                data = resp.read()
            except Exception as e:
                conn.close()
                stale = e.reason if isinstance(e, URLError) else e
                if reused and isinstance(stale, _STALE):
                    continue  # the server had closed it: once more on a new connection
                raise
            if resp.will_close:
                conn.close()
            else:
                self._give(key, conn)
            if resp.status >= 400:
                raise HTTPError(req.full_url, resp.status, resp.reason, resp.msg, io.BytesIO(data))
            return Response(resp.status, resp.reason, resp.msg, data)

    def forget(self) -> None:
        """Drop idle connections without closing them (they belong to another process)."""
        self._lock = threading.Lock()
        self._idle = {}

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, conn in conns:
                conn.close()


_context: SSLContext | None = None


def _default_context() -> SSLContext:
    global _context
    if _context is None:
        _context = create_default_context()
    return _context


POOL = ConnectionPool()
if hasattr(os, "register_at_fork"):  # a forked child must not share its parent's sockets
    os.register_at_fork(after_in_child=POOL.forget)


class PooledWebClient(WebClient):
    """slack_sdk's `WebClient`, sending through `POOL` unless a proxy is configured."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy:
            return super()._perform_urllib_http_request_internal(url, req)
        resp = POOL.urlopen(req, context=self.ssl, timeout=self.timeout)
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": resp.headers, "body": resp.read()}
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": resp.headers, "body": resp.read().decode(charset)}


_clients: dict[tuple[Any, ...], PooledWebClient] = {}
_clients_lock = threading.Lock()


def pooled(client: WebClient) -> WebClient:
    """The same client (token, base URL, team, retry handlers) sending through the pool.

    Bolt hands listeners a fresh plain `WebClient` per request; this one is kept per token,
    so the listener path does not build a client per request either.
    """
    if isinstance(client, PooledWebClient) or client.proxy:
        return client
    team_id = client.default_params.get("team_id")
    key = (client.token, client.base_url, team_id, client.timeout, client.ssl)
    found = _clients.get(key)
    if found is None:
        found = PooledWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            headers=dict(client.headers),
            team_id=team_id,
            logger=client._logger,
            retry_handlers=list(client.retry_handlers),
        )
        with _clients_lock:
            if len(_clients) > 1000:
                _clients.clear()
            _clients[key] = found
    return found


def respond(
    response_url: str,
    message: Mapping[str, Any],
    *,
    ssl: SSLContext | None = None,
    proxy: str | None = None,
    timeout: float = WEBHOOK_TIMEOUT,
) -> WebhookResponse:
    """Post a message to a `response_url`: what Bolt's `respond` does, over the pool.

    The JSON body and headers are the ones slack_sdk's `WebhookClient` sends. A request
    that could not be sent or got no answer is tried once more at once (WebhookClient's
    default retry handler does the same, after a sleep); an HTTP error is returned as a
    response. With a proxy this is `WebhookClient` itself.
    """
    if proxy or load_http_proxy_from_env():
        client = WebhookClient(url=response_url, ssl=ssl, proxy=proxy, timeout=int(timeout))
        return client.send_dict(dict(message))
    req = Request(
        response_url,
        data=json.dumps(message).encode("utf-8"),
        headers={"Content-Type": "application/json;charset=utf-8", "User-Agent": _USER_AGENT},
        method="POST",
    )
    for attempt in (1, 2):
        try:
            resp = POOL.urlopen(req, context=ssl, timeout=timeout)
            break
        except HTTPError as e:
            charset = e.headers.get_content_charset() or "utf-8"
            return WebhookResponse(
                url=response_url,
                status_code=e.code,
                body=e.read().decode(charset),
                headers=dict(e.headers.items()),
            )
        except (URLError, ConnectionResetError, http.client.RemoteDisconnected):
            if attempt == 2:
                raise
    charset = resp.headers.get_content_charset() or "utf-8"
    return WebhookResponse(
        url=response_url,
        status_code=resp.status,
        body=resp.read().decode(charset),
        headers=resp.headers,  # type: ignore[arg-type]
    )
