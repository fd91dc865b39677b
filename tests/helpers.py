"""Test helpers: a settable clock and an errbot-style chat (push a line, read the reply)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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


def answer_today(chat: Chat, content: Content, right: bool = True) -> tuple[Reply, str]:
    """Answer today's question right (or wrong); the reply and the question's id."""
    reply = chat.send("/study today")
    q = question_in(content, reply)
    if q.multi:
        for letter in q.answer if right else [wrong_letter(q), *q.answer[1:]]:
            chat.press(letter)
        return chat.press("Submit"), q.id
    letter = q.answer[0] if right else wrong_letter(q)
    return chat.press(letter, reply), q.id


def pin_daily(bot: StudyBot, chat: Chat, content: Content, q: Question, day: date) -> None:
    """Make `q` the chat's group's question of `day`."""
    from bot.context import Ctx
    from bot.features.daily import daily_for

    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=chat.who)
        daily_for(ctx, ctx.require_group(), day).question_id = q.id


def single(content: Content, difficulty: int | None = None, skip: int = 0) -> Question:
    """An associate single-answer question (of a difficulty)."""
    qs = [
        q
        for q in content.by_track["associate"]
        if not q.multi and (difficulty is None or q.difficulty == difficulty)
    ]
    return qs[skip]


def answer_exam_question(chat: Chat, content: Content, reply: Reply, right: bool) -> Reply:
    """Answer the mock exam question on screen right (or wrong), moving on if needed."""
    q = question_in(content, reply)
    if q.multi:
        letters = list(q.answer) if right else [wrong_letter(q), *q.answer[1:]]
        for letter in letters:
            reply = chat.press(letter, reply)
        if "Next ▶" in [b.label for b in reply.buttons()]:
            reply = chat.press("Next ▶", reply)
        return reply
    return chat.press(q.answer[0] if right else wrong_letter(q), reply)
