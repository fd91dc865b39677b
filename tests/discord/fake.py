"""A small fake of Discord's REST API on 127.0.0.1 (aiohttp), for the real discord.py client.

It answers login (`/users/@me`, `/oauth2/applications/@me`), records interaction callbacks,
webhook follow-ups and edits, channel posts, edits and DMs, threads opened on messages
(whose ids are the messages'), keeps the messages it created
(so a test can press a button on one), answers command syncs, and can be told to fail a
route with a status, a Discord error code and a `retry_after`.

discord.py parses JSON only when Content-Type is exactly `application/json`, so responses
are bytes with that header, not `web.json_response`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
BOT_USER = {
    "id": BOT_ID,
    "username": "studybot",
    "global_name": "studybot",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
    "flags": 0,
}
APP = {
    "id": APP_ID,
    "name": "studybot",
    "description": "",
    "icon": None,
    "bot_public": True,
    "bot_require_code_grant": False,
    "verify_key": "00",
    "flags": 0,
    "owner": {**BOT_USER, "id": "900000000000000003", "username": "owner", "bot": False},
}
TIMESTAMP = "2026-03-02T12:00:00.000000+00:00"


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    body: Any  # the JSON payload (or `payload_json` of a multipart request)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    answered: Any = None  # what the fake answered

    @property
    def data(self) -> dict[str, Any]:
        """The message payload: a callback's `data`, else the body itself."""
        if isinstance(self.body, dict) and "data" in self.body and "type" in self.body:
            return self.body.get("data") or {}
        return self.body if isinstance(self.body, dict) else {}

    @property
    def kind(self) -> int | None:
        return self.body.get("type") if isinstance(self.body, dict) else None


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    retry_after: float | None
    times: int


async def serve_local(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve on 127.0.0.1, a port the OS picks (bound first, so it is read back publicly)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner, sock.getsockname()[1]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.failures: list[Failure] = []
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._original: dict[str, str] = {}  # interaction token -> message id
        self._dm: dict[str, str] = {}  # user id -> DM channel id
        self.threads: dict[str, dict[str, Any]] = {}  # thread id (its root's id) -> thread
        self.uploads: dict[str, bytes] = {}  # attachment id -> what a member attached
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.url = ""
        self.gateway_url = "ws://127.0.0.1:9/"  # what GET /gateway/bot answers
        self.gateway_shards = 1

    def new_id(self) -> str:
        return str(next(self._ids))

    # ------------------------------------------------------------------ control

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner, port = await serve_local(app)
        self.url = f"http://127.0.0.1:{port}/api/v10"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        code: int = 0,
        *,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with an error."""
        self.failures.append(Failure(method, re.compile(pattern), status, code, retry_after, times))

    def attach(self, filename: str, data: bytes, *, size: int | None = None) -> dict[str, Any]:
        """A file a member attached to a command: its attachment object (served from the
        fake's CDN path); `size` as Discord reports it (default: the real size)."""
        aid = self.new_id()
        self.uploads[aid] = data
        url = f"{self.url}/cdn/{aid}/{filename}"
        return {
            "id": aid,
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": url,
            "proxy_url": url,
            "content_type": "text/csv",
        }

    def bind(self, token: str, message_id: str) -> None:
        """A component interaction's original message is the one whose button was pressed."""
        self._original[token] = message_id

    def of(self, method: str, pattern: str) -> list[Call]:
        rx = re.compile(pattern)
        return [c for c in self.calls if c.method == method and rx.search(c.path)]

    def callbacks(self, interaction_id: str | None = None) -> list[Call]:
        ident = interaction_id or r"\d+"
        pat = f"^/interactions/{ident}/"
        return self.of("POST", pat + r"[^/]+/callback$")

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def loop() -> Any:
            while True:
                got = pred()
                if got:
                    return got
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(loop(), timeout)

    # ------------------------------------------------------------------ serving

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: list[tuple[str, bytes]] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""  # type: ignore[union-attr]
                raw = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    body = json.loads(raw)
                else:
                    files.append((part.filename or name, bytes(raw)))  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Call(request.method, path, body, files, dict(request.query))
        self.calls.append(call)
        try:
            response = self._failure(call) or self._route(call)
        finally:
            self._changed.set()
        return response

    def _failure(self, call: Call) -> web.Response | None:
        for f in self.failures:
            if f.times > 0 and f.method == call.method and f.pattern.search(call.path):
                f.times -= 1
                body: dict[str, Any] = {"message": f"fake error {f.code}", "code": f.code}
                headers: dict[str, str] = {}
                if f.status == 429:
                    body.update(retry_after=f.retry_after or 1.0, **{"global": False})
                    headers = {"Via": "1.1 google", "Retry-After": str(f.retry_after or 1.0)}
                call.answered = body
                return _json(body, f.status, headers)
        return None

    def _route(self, call: Call) -> web.Response:
        m, p = call.method, call.path
        if m == "GET" and p == "/users/@me":
            return _json(BOT_USER)
        if m == "GET" and p == "/oauth2/applications/@me":
            return _json(APP)
        if m == "GET" and p == "/gateway/bot":
            limits = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": self.gateway_shards,
                    "session_start_limit": limits,
                }
            )
        if m == "POST" and (x := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)):
            return self._callback(call, x[1], x[2])
        if m == "PATCH" and (x := re.fullmatch(r"/webhooks/\d+/([^/]+)/messages/@original", p)):
            mid = self._original.get(x[1]) or self.new_id()
            self._original[x[1]] = mid
            return self._store(call, mid, "0", call.body or {}, edit=True)
        if m == "POST" and (x := re.fullmatch(r"/webhooks/\d+/([^/]+)", p)):
            return self._store(call, self.new_id(), "0", call.body or {})
        if m == "POST" and (x := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", p)):
            return self._thread(call, x[1], x[2])
        if m == "POST" and (x := re.fullmatch(r"/channels/(\d+)/messages", p)):
            if x[1] in self.messages and x[1] not in self.threads:  # a message, not a thread
                return _json({"message": "Unknown Channel", "code": 10003}, 404)
            return self._store(call, self.new_id(), x[1], call.body or {})
        if m == "PATCH" and (x := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)):
            return self._store(call, x[2], x[1], call.body or {}, edit=True)
        if m == "POST" and p == "/users/@me/channels":
            uid = str((call.body or {}).get("recipient_id"))
            cid = self._dm.setdefault(uid, self.new_id())
            user = {"id": uid, "username": f"u{uid}", "discriminator": "0", "avatar": None}
            return _json({"id": cid, "type": 1, "recipients": [user], "last_message_id": None})
        if m == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", p):
            out = [
                {
                    "description": "",
                    **c,
                    "id": self.new_id(),
                    "application_id": APP_ID,
                    "version": "1",
                }
                for c in call.body or []
            ]
            return _json(out)
        if m == "GET" and (x := re.fullmatch(r"/cdn/(\d+)/[^/]+", p)):
            if x[1] not in self.uploads:
                return _json({"message": "404: Not Found", "code": 0}, 404)
            return web.Response(body=self.uploads[x[1]], content_type="application/octet-stream")
        if m == "DELETE":
            return web.Response(status=204)
        return _json({"message": f"404: no fake route for {m} {p}", "code": 0}, 404)

    def _callback(self, call: Call, interaction_id: str, token: str) -> web.Response:
        kind = (call.body or {}).get("type")
        data = (call.body or {}).get("data") or {}
        flags = int(data.get("flags") or 0)
        interaction = {
            "id": interaction_id,
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & 64),
        }
        out: dict[str, Any] = {"interaction": interaction}
        if kind in (4, 5):
            mid = self.new_id()
            self._original[token] = mid
            message = self._message(mid, "0", data)
            self.messages[mid] = message
            interaction["response_message_id"] = mid
            out["resource"] = {"type": kind, "message": message}
        elif kind == 7:
            mid = self._original.get(token)
            out["resource"] = {"type": kind}
            if mid is not None and mid in self.messages:
                self._store(call, mid, "0", data, edit=True)
                out["resource"]["message"] = self.messages[mid]
        elif kind is not None:
            out["resource"] = {"type": kind}
        call.answered = out
        return _json(out)

    def _thread(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        """A public thread opened on a message: it takes the message's id."""
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if message_id in self.threads:
            body = {"message": "A thread has already been created for this message"}
            return _json({**body, "code": 160004}, 400)
        body = call.body or {}
        thread = {
            "id": message_id,
            "type": 11,
            "guild_id": None,
            "parent_id": channel_id,
            "owner_id": BOT_ID,
            "name": body.get("name"),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration"),
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }
        self.threads[message_id] = thread
        call.answered = thread
        return _json(thread, 201)

    def _message(self, mid: str, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": mid,
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": payload.get("content") or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": int(payload.get("flags") or 0),
            "components": payload.get("components") or [],
        }

    def _store(
        self, call: Call, mid: str, channel_id: str, payload: dict[str, Any], *, edit: bool = False
    ) -> web.Response:
        if edit and mid in self.messages:
            message = {**self.messages[mid]}
            for key in ("content", "embeds", "components"):
                if key in payload:
                    message[key] = payload[key] or ([] if key != "content" else "")
        else:
            message = self._message(mid, channel_id, payload)
        self.messages[mid] = message
        call.answered = message
        return _json(message)
