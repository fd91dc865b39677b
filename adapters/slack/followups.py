"""What follows a Slack ack: the click's reply to `response_url`, DMs, pictures, name look-ups.

Slack needs the ack within 3 seconds and ignores the body of a click's ack, so everything
that can wait for it does: `after_ack` starts work once the transport has answered (ack.py),
on a thread pool, and counts it as pending from the moment it is queued, so `drain` (tests,
benchmarks, shutdown) waits for it. Name look-ups that a request asks for run on one thread
of their own, queued once the request's reply has gone out, so they never compete with it.

Replies to `response_url` are posted over kept-alive connections (urllib3): one TLS
handshake with hooks.slack.com per process, not one per click.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from ssl import SSLContext
from typing import Any

import urllib3
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env

from adapters.slack.ack import AckGuard

log = logging.getLogger(__name__)

WORKERS = 16
RESPONSE_TIMEOUT = urllib3.Timeout(connect=10.0, read=30.0)
# A post on a pooled connection the server had just closed is sent once more, at once.
RESPONSE_RETRIES = urllib3.Retry(total=1, connect=1, read=1, status=0, allowed_methods=None)


class FollowUps:
    """Work started after an ack, and the name look-ups the replies queued."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studybot-slack")
        self._names = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studybot-names")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._track(self._pool.submit(fn, *args))

    def after_ack(self, guard: AckGuard, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the pool once the ack has gone out; pending from now on."""
        marker: Future[None] = self._track(Future())

        def start() -> None:
            try:
                self.submit(fn, *args)
            finally:
                marker.set_result(None)

        guard.after(start)

    def look_up_later(self, fn: Callable[[], None]) -> None:
        """A name look-up: after the current request's ack, on the look-up thread."""
        queued: list[Callable[[], None]] | None = getattr(self._local, "queued", None)
        if queued is None:
            self._track(self._names.submit(fn))
        else:
            queued.append(fn)

    @contextmanager
    def replying(self, guard: AckGuard) -> Iterator[None]:
        """Hold the look-ups a request queues until its ack has been sent."""
        self._local.queued = []
        try:
            yield
        finally:
            queued, self._local.queued = self._local.queued, None
            if queued:
                marker: Future[None] = self._track(Future())

                def start() -> None:
                    try:
                        for fn in queued:
                            self._track(self._names.submit(fn))
                    finally:
                        marker.set_result(None)

                guard.after(start)

    def _track(self, fut: Future[Any]) -> Future[Any]:
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(fut)
        error = None if fut.cancelled() else fut.exception()
        if error is not None:  # a pool task's error would otherwise vanish with its future
            log.error("Slack work after an ack failed", exc_info=error)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until no work is pending (work may queue more, which is waited for too)."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} Slack deliveries still running")
            wait(pending, timeout=left)

    def close(self) -> None:
        self._names.shutdown(wait=False, cancel_futures=True)  # looked up again next time
        self._pool.shutdown(wait=True, cancel_futures=False)


class ResponseUrls:
    """POST a message to a request's `response_url`: the JSON body Bolt's `respond` sends,
    over urllib3's connection pool (a proxy, from the request or `HTTPS_PROXY`, gets a
    pool of its own)."""

    def __init__(self) -> None:
        self._pools: dict[tuple[int, str | None], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def post(
        self,
        url: str,
        message: Mapping[str, Any],
        *,
        ssl: SSLContext | None = None,
        proxy: str | None = None,
    ) -> urllib3.BaseHTTPResponse:
        return self._pool(ssl, proxy or load_http_proxy_from_env()).request(
            "POST",
            url,
            body=json.dumps(message).encode("utf-8"),
            headers={"Content-Type": "application/json;charset=utf-8"},
            timeout=RESPONSE_TIMEOUT,
            retries=RESPONSE_RETRIES,
        )

    def _pool(self, ssl: SSLContext | None, proxy: str | None) -> urllib3.PoolManager:
        key = (id(ssl) if ssl is not None else 0, proxy)
        with self._lock:
            found = self._pools.get(key)
            if found is None:
                # a connection per worker: with fewer, a burst's posts opened a fresh
                # connection (a TLS handshake) and discarded it with a warning each time
                options: dict[str, Any] = {"maxsize": WORKERS, "ssl_context": ssl}
                if proxy:
                    found = urllib3.ProxyManager(proxy, **options)
                else:
                    found = urllib3.PoolManager(**options)
                self._pools[key] = found
            return found

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.clear()
            self._pools.clear()
