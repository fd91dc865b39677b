"""The open-loop load of `bench.burst`: signed clicks, each sent at its own instant.

A small HTTP/1.1 client on asyncio streams (keep-alive connections, at most `CONNECTIONS`
per server, as a load balancer would hold): lighter than a general client, so on a small
machine the load takes little of the CPU the servers under test need. Each request is
signed as Slack signs it (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) when it leaves, and
its latency runs from its scheduled instant to the last byte of the ack, so time a request
spends waiting for a connection or for a server that fell behind counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from urllib.parse import urlsplit

CONNECTIONS = 256
TIMEOUT = 30.0


class _Server:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port, parts.path
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(CONNECTIONS)

    async def post(self, body: bytes, headers: str) -> int:
        async with self.slots:
            if self.idle:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            head = (
                f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status = int((await reader.readline()).split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                elif name.lower() == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            if close:
                writer.close()
            else:
                self.idle.append((reader, writer))
            return status


def _headers(body: str, secret: str) -> str:
    ts = str(int(time.time()))
    mac = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return (
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: v0={mac}\r\n"
    )


async def _fire(
    urls: list[str], bodies: list[str], rate: float, secret: str
) -> tuple[list[float], int, float, list[float]]:
    loop = asyncio.get_running_loop()
    targets = [_Server(u) for u in urls]
    latencies: list[float] = []
    lags: list[float] = []  # how late the client itself sent each request
    errors = 0
    start = loop.time() + 0.3
    # each click's scheduled instant on time.perf_counter(), the clock the fake Slack
    # stamps arrivals with (one clock for every process of the machine)
    offset = time.perf_counter() - loop.time()
    scheduled = [start + i / rate + offset for i in range(len(bodies))]

    async def one(i: int, body: str) -> None:
        nonlocal errors
        at = start + i / rate
        wait = at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        lags.append(loop.time() - at)
        try:
            status = await asyncio.wait_for(
                targets[i % len(targets)].post(body.encode(), _headers(body, secret)), TIMEOUT
            )
        except Exception:
            errors += 1
            return
        latencies.append(loop.time() - at)
        if status != 200:
            errors += 1

    await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    for t in targets:
        for _, writer in t.idle:
            writer.close()
    lags.sort()
    return latencies, errors, lags[int(len(lags) * 0.99)] if lags else 0.0, scheduled


def fire(
    urls: list[str], bodies: list[str], rate: float, secret: str
) -> tuple[list[float], int, float, list[float]]:
    """Send `bodies` at `rate` a second, round-robin over `urls`: the acks' latencies in
    seconds (of those answered), how many failed or were not 200, the 99th percentile of
    how late the client sent them (a client that cannot keep up with the rate measures
    itself, not the server), and each body's scheduled instant (`time.perf_counter()`)."""
    return asyncio.run(_fire(urls, bodies, rate, secret))
