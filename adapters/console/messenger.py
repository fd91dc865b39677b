"""The terminal's Messenger: clock posts appear in the terminal as they are delivered."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from adapters.console.render import print_reply
from bot.seam import ChannelTarget, Context, MessageRef, Reply, UserTarget, plain


class ConsoleMessenger:
    """Prints this terminal's channel posts and the local user's DMs; another local
    group's posts and other members' DMs are noted briefly."""

    def __init__(
        self,
        console: Console,
        image_dir: Path,
        user_id: str,
        shown: Callable[[Reply], None] | None = None,
        *,
        channel: str | None = None,
    ) -> None:
        self.console = console
        self.image_dir = image_dir
        self.user_id = user_id
        self.channel = channel  # None: every channel's posts
        # After a post is printed: its buttons become the ones a key presses, and the
        # prompt the post printed over is shown again.
        self.shown = shown
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def post(self, target: ChannelTarget, reply: Reply) -> MessageRef:
        with self._lock:
            if self.channel is not None and target.channel_id != self.channel:
                self.console.print(f"(studybot posted in {target.channel_id})", style="dim")
            else:
                if target.thread is not None:  # the terminal has no threads: say where it goes
                    where = reply.thread_name or "the day's question"
                    self.console.print(f"(in the thread of {where})", style="dim")
                print_reply(self.console, reply, self.image_dir)
                if self.shown is not None:
                    self.shown(reply)
            return MessageRef(target.workspace_id, target.channel_id, str(next(self._ids)))

    def update(self, ref: MessageRef, reply: Reply) -> None:
        counts = [
            plain(b.text)
            for b in reply.blocks
            if isinstance(b, Context) and "answered so far" in plain(b.text)
        ]
        with self._lock:
            self.console.print(
                f"(today's question: {counts[0].split(' ·')[0]})"
                if counts
                else "(a post was updated)",
                style="dim",
            )

    def dm(self, user: UserTarget, reply: Reply) -> MessageRef:
        with self._lock:
            if user.user_id == self.user_id:
                print_reply(self.console, reply, self.image_dir)
                if self.shown is not None:
                    self.shown(reply)
            else:
                self.console.print(f"(studybot sent {user.user_id} a direct message)", style="dim")
            return MessageRef(user.workspace_id, user.user_id, str(next(self._ids)))
