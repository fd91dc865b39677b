"""The clock's `Messenger` for Slack, and the Web API error mapping it shares with listeners.

The delivery worker decides about retries, so the client used here has no rate-limit retry
handler: a 429 becomes `RateLimited(retry_after)` at once and the worker honours it.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.render import Rendered, escape, render, truncate
from bot.seam import (
    Attachment,
    ChannelTarget,
    DeliveryError,
    Image,
    MessageRef,
    RateLimited,
    Reply,
    TargetGone,
    ThreadRefused,
    Transient,
    UserTarget,
)

log = logging.getLogger(__name__)

# Errors that mean the place is gone for good: retrying cannot help
# (docs/platform-rules.md, "Slack errors").
GONE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "token_revoked",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "message_not_found",
        "team_not_found",
        "app_uninstalled",
    }
)
# Errors Slack documents as temporary on its side.
TEMPORARY = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)
DEFAULT_RETRY_AFTER = 30.0
# Message metadata carrying the delivery worker's idempotency key (KeyedMessenger).
METADATA_EVENT = "studybot_post"
HISTORY_LIMIT = 100
LINKS_KEPT = 1000  # permalinks remembered per process
# History errors that only mean "cannot tell": the worker then posts as if unkeyed.
UNREADABLE = frozenset({"not_in_channel", "missing_scope"})

ClientFor = Callable[[str], WebClient]


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for k, v in (headers or {}).items():
        if k.lower() == name:
            return str(v[0] if isinstance(v, list) else v)
    return None


def map_error(err: Exception) -> DeliveryError:
    """Translate a Web API failure into the delivery worker's error types."""
    if isinstance(err, SlackApiError):
        resp = err.response
        status = getattr(resp, "status_code", 200)
        data = resp.data if isinstance(getattr(resp, "data", None), dict) else {}
        code = str(data.get("error", "")) if data else ""
        if status == 429 or code == "ratelimited":
            raw = _header(getattr(resp, "headers", None), "retry-after")
            try:
                retry_after = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
            except ValueError:
                retry_after = DEFAULT_RETRY_AFTER
            return RateLimited(retry_after)
        if code in GONE:
            return TargetGone(code)
        if status >= 500 or code in TEMPORARY:
            return Transient(f"slack {status} {code}".strip())
        return DeliveryError(f"slack error {code or status}")
    if isinstance(
        err, URLError | TimeoutError | socket.timeout | ConnectionError | http.client.HTTPException
    ):
        return Transient(f"{type(err).__name__}: {err}")
    return DeliveryError(f"{type(err).__name__}: {err}")


def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call one Web API method, raising the mapped error on failure."""
    try:
        return fn(**kwargs)
    except (SlackApiError, URLError, OSError, http.client.HTTPException) as e:
        raise map_error(e) from e


def open_dm(client: WebClient, user_id: str) -> str:
    resp = call(client.conversations_open, users=user_id)
    return str(resp["channel"]["id"])


def post_rendered(
    client: WebClient,
    channel: str,
    r: Rendered,
    metadata: dict[str, Any] | None = None,
    target: ChannelTarget | None = None,
) -> str:
    """chat.postMessage with link unfurling off (a question's doc links would swamp it);
    for a `target` with a thread, as a reply in it (and in the channel if it says
    broadcast). A refused thread reply is `ThreadRefused`: the worker posts it again in
    the channel, which fails on its own if the channel is the trouble."""
    extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
    thread_ts = target.thread.message_id if target and target.thread else None
    if thread_ts is not None:
        extra.update(thread_ts=thread_ts, reply_broadcast=bool(target and target.broadcast))
    try:
        resp = call(
            client.chat_postMessage,
            channel=channel,
            blocks=r.blocks,
            text=r.text,
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
    except DeliveryError as e:
        if thread_ts is None or not _refuses_thread(e):
            raise
        raise ThreadRefused(f"no reply in the thread: {e}") from e
    upload_files(client, channel, r.uploads, thread_ts)
    return str(resp["ts"])


def _refuses_thread(e: DeliveryError) -> bool:
    """A thread reply's failure that the channel may not share: not a rate limit or a
    trouble on Slack's side, and not the channel or app gone (the root post gone is)."""
    if isinstance(e, RateLimited | Transient):
        return False
    return not isinstance(e, TargetGone) or str(e) == "message_not_found"


def upload_files(
    client: WebClient,
    channel: str,
    files: Sequence[Image | Attachment],
    thread_ts: str | None = None,
) -> None:
    """Charts and data exports travel as files (Block Kit images need a public URL):
    files_upload_v2, in the thread the message went to."""
    extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    for f in files:
        data, title = (f.png, f.alt) if isinstance(f, Image) else (f.data, f.title)
        call(
            client.files_upload_v2,
            channel=channel,
            file=data,
            filename=f.filename,
            title=truncate(escape(title), 250),
            request_file_info=False,
            **extra,
        )


class SlackMessenger:
    """post, update and dm for the clock, plus keyed posts (`KeyedMessenger`) so a worker
    that died mid-post does not post twice; one client per workspace from `client_for`."""

    def __init__(self, client_for: ClientFor) -> None:
        self._client_for = client_for
        self._links: dict[MessageRef, str] = {}  # every reminder of a day links one post
        self._links_lock = threading.Lock()

    def _client(self, workspace_id: str) -> WebClient:
        try:
            return self._client_for(workspace_id)
        except LookupError as e:  # no installation for this workspace any more
            raise TargetGone(f"no installation for {workspace_id}") from e

    def post(self, target: ChannelTarget, reply: Reply) -> MessageRef:
        client = self._client(target.workspace_id)
        ts = post_rendered(client, target.channel_id, render(reply), None, target)
        return MessageRef(target.workspace_id, target.channel_id, ts)

    def post_keyed(self, target: ChannelTarget, reply: Reply, key: str) -> MessageRef:
        """Post with the idempotency key in the message's metadata, so it can be found."""
        client = self._client(target.workspace_id)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        ts = post_rendered(client, target.channel_id, render(reply), metadata, target)
        return MessageRef(target.workspace_id, target.channel_id, ts)

    def find_posted(self, target: ChannelTarget, key: str) -> MessageRef | None:
        """The recent post carrying `key`, if the channel's history can be read.

        Reading history needs the bot in the channel (and the history scopes); when it is
        not, the answer is "cannot tell" (None) and the worker posts again.
        """
        client = self._client(target.workspace_id)
        places: list[tuple[Callable[..., Any], dict[str, Any]]] = []
        if target.thread is not None:  # a reply in the thread, or the channel where refused
            places.append((client.conversations_replies, {"ts": target.thread.message_id}))
        places.append((client.conversations_history, {}))
        for method, extra in places:
            try:
                resp = call(
                    method,
                    channel=target.channel_id,
                    limit=HISTORY_LIMIT,
                    include_all_metadata=True,
                    **extra,
                )
            except (TargetGone, DeliveryError) as e:
                code = str(e).removeprefix("slack error ")
                if extra and code in ("thread_not_found", "message_not_found"):
                    continue  # the root is gone: a refused reply went to the channel
                if code not in UNREADABLE:
                    raise
                log.info("cannot read %s to look for %s: %s", target.channel_id, key, e)
                return None
            for msg in resp.get("messages") or []:
                meta = msg.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                    return MessageRef(target.workspace_id, target.channel_id, str(msg["ts"]))
        return None

    def link(self, ref: MessageRef) -> str | None:
        """The message's permalink (`chat.getPermalink`, kept for the process: the members
        reminded of one day's question share it); None when Slack cannot give one."""
        with self._links_lock:
            found = self._links.get(ref)
        if found is not None:
            return found
        try:
            client = self._client(ref.workspace_id)
            resp = call(client.chat_getPermalink, channel=ref.channel_id, message_ts=ref.message_id)
        except DeliveryError as e:
            log.info("no permalink for %s in %s: %s", ref.message_id, ref.channel_id, e)
            return None
        url = resp.get("permalink")
        if not isinstance(url, str) or not url.startswith("https://"):
            return None
        with self._links_lock:
            if len(self._links) >= LINKS_KEPT:
                self._links.clear()
            self._links[ref] = url
        return url

    def update(self, ref: MessageRef, reply: Reply) -> None:
        client = self._client(ref.workspace_id)
        r = render(reply)
        call(
            client.chat_update,
            channel=ref.channel_id,
            ts=ref.message_id,
            blocks=r.blocks,
            text=r.text,
        )

    def dm(self, user: UserTarget, reply: Reply) -> MessageRef:
        client = self._client(user.workspace_id)
        channel = open_dm(client, user.user_id)
        ts = post_rendered(client, channel, render(reply))
        return MessageRef(user.workspace_id, channel, ts)
