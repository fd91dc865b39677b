"""Test helpers: a settable clock and an errbot-style chat (push a line, read the reply)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.seam import Action, Button, Invocation, Reply, Who


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

    def set(self, *args: int, tz=UTC) -> None:  # type: ignore[no-untyped-def]
        self.now = datetime(*args, tzinfo=tz).astimezone(UTC)


@dataclass
class Chat:
    """One member in one channel, talking to the core as an adapter would."""

    bot: StudyBot
    user: str = "alice"
    name: str = "Alice"
    admin: bool = False
    channel: str = "C1"
    workspace: str = "W1"
    platform: str = "console"
    last: Reply | None = None

    @property
    def who(self) -> Who:
        return Who(self.platform, self.workspace, self.channel, self.user, self.name, self.admin)

    def send(self, line: str) -> Reply:
        self.last = self.bot.handle_text(self.who, line)
        return self.last

    def call(self, command: str, **args: str) -> Reply:
        self.last = self.bot.handle(Invocation(self.who, command, args))
        return self.last

    def press(self, label: str, reply: Reply | None = None) -> Reply:
        reply = reply or self.last
        assert reply is not None
        button = find_button(reply, label)
        self.last = self.bot.press(Action(self.who, button.action_id, button.value))
        return self.last

    def text(self) -> str:
        assert self.last is not None
        return self.last.plain_text()


def find_button(reply: Reply, label: str) -> Button:
    for b in reply.buttons():
        if b.label == label or b.label.endswith(" " + label) or b.label.startswith(label):
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in reply.buttons()]}")


def question_in(content: Content, reply: Reply) -> Question:
    """The question a reply shows (its id is in the context line)."""
    text = reply.plain_text()
    found = [q for qid, q in content.by_id.items() if f" {qid} ·" in text]
    assert len(found) == 1, text
    return found[0]


def wrong_letter(q: Question) -> str:
    return next(letter for letter in q.letters() if letter not in q.answer)


def start(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)
