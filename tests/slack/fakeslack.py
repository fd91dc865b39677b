"""A small fake of Slack's Web API, `response_url`s and file uploads, on 127.0.0.1.

It records every call and answers like Slack does; `script()` queues failures for one
method (an `ok: false` error, HTTP 429 with `Retry-After`, a 5xx, a slow answer) so tests
can walk the failure paths of the real `slack_sdk` client.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

TEAM = "T1"
BOT_USER = "UBOT"


class _Listener(ThreadingHTTPServer):
    """Slack's servers take a burst of connections; the standard backlog of 5 would drop
    their SYNs and add the kernel's 1 s retransmit to a benchmark's feedback."""

    request_queue_size = 256


@dataclass
class Call:
    method: str  # Web API method, "response", or "upload"
    args: dict[str, Any]
    path: str
    headers: dict[str, str]
    peer: int = 0  # the client's port: requests on one kept-alive connection share it
    at: float = 0.0  # time.perf_counter() when the request had arrived (benchmarks)


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False  # close the connection after answering, without saying so


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._responses = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # what members uploaded, by file id
        self.refuse_threads: str | None = None  # an error code for every thread reply
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffer each response and send it in one piece: headers and body in separate
            # small writes meet Nagle and delayed ACKs and cost 40 ms per call.
            wbufsize = -1

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = _Listener(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ test API

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._responses)}"

    def user(self, user_id: str, name: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": name.lower(),
            "real_name": name,
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "profile": {"display_name": name, "real_name": name},
        }

    def file(self, name: str, data: bytes) -> dict[str, Any]:
        """A file a member gave a file input: its object as a view's state carries it,
        downloadable with the bot token (without it, Slack's sign-in page, as Slack does)."""
        fid = f"F{len(self.files) + 100}"
        self.files[fid] = (name, data)
        url = f"{self.url}/files-pri/{TEAM}-{fid}/download/{name}"
        return {
            "id": fid,
            "name": name,
            "title": name,
            "url_private": url,
            "url_private_download": url,
        }

    def script(self, method: str, *answers: Scripted) -> None:
        with self._cond:
            self._scripts[method].extend(answers)

    def error(self, method: str, error: str, times: int = 1) -> None:
        self.script(method, *[Scripted(body={"ok": False, "error": error})] * times)

    def rate_limit(self, method: str, retry_after: int = 7, times: int = 1) -> None:
        self.script(
            method,
            *[
                Scripted(
                    status=429,
                    body={"ok": False, "error": "ratelimited"},
                    headers={"Retry-After": str(retry_after)},
                )
            ]
            * times,
        )

    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def received_at(self, method: str) -> float:
        """When the latest call of `method` arrived (`time.perf_counter()`)."""
        with self._cond:
            return next(c.at for c in reversed(self.calls) if c.method == method)

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    def wait_for(self, method: str, n: int = 1, timeout: float = 5.0) -> list[Call]:
        end = time.monotonic() + timeout
        with self._cond:
            while len([c for c in self.calls if c.method == method]) < n:
                left = end - time.monotonic()
                if left <= 0:
                    got = [c.method for c in self.calls]
                    raise AssertionError(f"expected {n} {method} call(s); got {got}")
                self._cond.wait(left)
            return [c for c in self.calls if c.method == method]

    def posted_texts(self) -> list[str]:
        """Every message body the bot sent (JSON of blocks and text), for hostile-text checks."""
        with self._cond:
            return [
                json.dumps(c.args, ensure_ascii=False)
                for c in self.calls
                if c.method in ("chat.postMessage", "chat.update", "response")
            ]

    # ------------------------------------------------------------ HTTP

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        at = time.perf_counter()
        parsed = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        ctype = h.headers.get("Content-Type", "")
        args: dict[str, Any] = dict(parse_qsl(parsed.query))
        if parsed.path.startswith("/upload/"):
            args["bytes"] = len(raw)
            args["data"] = raw  # the file itself
        elif "application/json" in ctype and raw:
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw.decode("utf-8")))
        if parsed.path.startswith("/api/"):
            method = parsed.path[len("/api/") :]
        elif parsed.path.startswith("/response/"):
            method = "response"
        elif parsed.path.startswith("/upload/"):
            method = "upload"
        elif parsed.path.startswith("/files-pri/"):
            method = "download"
        else:
            method = parsed.path
        call = Call(
            method,
            args,
            parsed.path,
            {k.lower(): v for k, v in h.headers.items()},
            h.client_address[1],
            at,
        )
        with self._cond:
            self.calls.append(call)
            scripted = self._scripts[method].popleft() if self._scripts[method] else None
            self._cond.notify_all()
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            body = scripted.body if scripted.body is not None else {"ok": True}
            self._send(h, scripted.status, body, scripted.headers)
            if scripted.close:
                h.wfile.flush()
                h.close_connection = True
            return
        if method == "download":
            self._download(h, parsed.path)
        elif method == "response":
            self._send(h, 200, "ok")
        elif method == "upload":
            self._send(h, 200, f"OK - {args['bytes']}")
        else:
            self._send(h, 200, self._answer(method, args))

    def _download(self, h: BaseHTTPRequestHandler, path: str) -> None:
        fid = path.split("/")[2].split("-", 1)[-1]
        found = self.files.get(fid)
        authorized = (h.headers.get("Authorization") or "").startswith("Bearer xoxb-")
        if found is None or not authorized:  # Slack answers a sign-in page, with 200
            page = b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>"
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(page)))
            h.end_headers()
            h.wfile.write(page)
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(found[1])))
        h.end_headers()
        h.wfile.write(found[1])

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any] | str,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        h.send_response(status)
        h.send_header(
            "Content-Type",
            "application/json; charset=utf-8" if isinstance(body, dict) else "text/plain",
        )
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        try:
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "studybot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "B1",
            }
        if method == "users.info":
            uid = str(args.get("user"))
            if uid not in self.users:
                self.user(uid, uid)
            return {"ok": True, "user": self.users[uid]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))}}
        if method == "chat.postMessage" and args.get("thread_ts") and self.refuse_threads:
            return {"ok": False, "error": self.refuse_threads}
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            args["_ts"] = ts
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text", "")},
            }
        if method == "conversations.history":
            channel = args.get("channel")
            with self._cond:
                posts = [
                    c.args
                    for c in self.calls
                    if c.method == "chat.postMessage" and c.args.get("channel") == channel
                ]
            messages = []
            for i, p in enumerate(reversed(posts)):
                msg: dict[str, Any] = {"type": "message", "ts": p.get("_ts", f"0.{i}")}
                if p.get("metadata") and args.get("include_all_metadata") in (True, "1", "true"):
                    msg["metadata"] = p["metadata"]
                messages.append(msg)
            return {"ok": True, "messages": messages[: int(args.get("limit", 100))]}
        if method == "conversations.replies":  # a thread: its root, then its replies
            channel, root = args.get("channel"), str(args.get("ts", ""))
            with self._cond:
                thread = [
                    c.args
                    for c in self.calls
                    if c.method == "chat.postMessage"
                    and c.args.get("channel") == channel
                    and c.args.get("_ts")  # posted, not refused
                    and root in (c.args.get("_ts"), c.args.get("thread_ts"))
                ]
            if not any(p.get("_ts") == root for p in thread):
                return {"ok": False, "error": "thread_not_found"}
            replies = []
            for p in thread:
                msg = {"type": "message", "ts": p.get("_ts"), "thread_ts": root}
                if p.get("metadata") and args.get("include_all_metadata") in (True, "1", "true"):
                    msg["metadata"] = p["metadata"]
                replies.append(msg)
            return {"ok": True, "messages": replies[: int(args.get("limit", 100))]}
        if method == "chat.getPermalink":
            channel, ts = args.get("channel"), str(args.get("message_ts", ""))
            url = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": url}
        if method in ("views.publish", "views.open", "views.update"):
            # a Home or a modal: Slack answers with the view as it now stands, with its id
            view = args.get("view") or {}
            view = json.loads(view) if isinstance(view, str) else view
            vid = args.get("view_id") or f"V{next(self._ts):06d}"
            return {"ok": True, "view": {**view, "id": vid, "hash": f"h{next(self._ts)}"}}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            files = json.loads(args.get("files", "[]"))
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": "A1",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "access_token": "xoxb-installed",
                "bot_user_id": BOT_USER,
                "team": {"id": "T2", "name": "Second"},
                "enterprise": None,
                "authed_user": {"id": "U9"},
                "is_enterprise_install": False,
            }
        return {"ok": True}
