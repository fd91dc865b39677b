"""An in-memory platform for the clock's tests: records posts, fails on request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bot.seam import (
    ChannelTarget,
    DeliveryError,
    MessageRef,
    Reply,
    UserTarget,
)


@dataclass
class Posted:
    kind: str  # post | dm | update
    target: str
    reply: Reply
    key: str | None = None
    thread: str | None = None  # the message id of the post it replies in the thread of


@dataclass
class FakeMessenger:
    """Implements Messenger and KeyedMessenger; `fail[target]` raises queued errors first."""

    posts: list[Posted] = field(default_factory=list)
    fail: dict[str, list[DeliveryError]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _maybe_fail(self, target: str) -> None:
        with self.lock:
            queue = self.fail.get(target)
            if queue:
                raise queue.pop(0)

    def _record(self, p: Posted) -> MessageRef:
        with self.lock:
            self.posts.append(p)
            n = len(self.posts)
        return MessageRef("W", p.target, f"m{n}")

    def post(self, target: ChannelTarget, reply: Reply) -> MessageRef:
        self._maybe_fail(target.channel_id)
        return self._record(Posted("post", target.channel_id, reply, None, _root(target)))

    def post_keyed(self, target: ChannelTarget, reply: Reply, key: str) -> MessageRef:
        self._maybe_fail(target.channel_id)
        return self._record(Posted("post", target.channel_id, reply, key, _root(target)))

    def find_posted(self, target: ChannelTarget, key: str) -> MessageRef | None:
        with self.lock:
            for i, p in enumerate(self.posts):
                if p.key == key and p.target == target.channel_id:
                    return MessageRef("W", p.target, f"m{i + 1}")
        return None

    def update(self, ref: MessageRef, reply: Reply) -> None:
        self._maybe_fail(ref.channel_id)
        self._record(Posted("update", ref.message_id, reply))

    def dm(self, user: UserTarget, reply: Reply) -> MessageRef:
        self._maybe_fail(user.user_id)
        return self._record(Posted("dm", user.user_id, reply))

    def channel_posts(self, channel: str) -> list[Posted]:
        return [p for p in self.posts if p.kind == "post" and p.target == channel]

    def texts(self, kind: str = "post") -> list[str]:
        return [p.reply.plain_text() for p in self.posts if p.kind == kind]


def _root(target: ChannelTarget) -> str | None:
    return None if target.thread is None else target.thread.message_id
