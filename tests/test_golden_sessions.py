"""Scripted sessions whose every reply is recorded, so a refactoring can prove it changed
nothing a member sees: the core as the terminal drives it, the real Bolt app, the real
discord.py client, and the clock's posts.

`STUDYBOT_UPDATE_GOLDEN=1 pytest tests/test_golden_sessions.py` rewrites the recordings
(tests/golden/*.json); review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import (
    Buttons,
    Context,
    Fields,
    Heading,
    Image,
    Paragraph,
    ProgressBar,
    Reply,
)
from scheduler.clock import Clock
from scheduler.worker import DeliveryConfig, Worker
from tests.fakes import FakeMessenger
from tests.helpers import Chat, FakeClock, question_in, wrong_letter

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("STUDYBOT_UPDATE_GOLDEN") == "1"


def check_golden(name: str, recorded: list[Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(recorded, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} was missing and has been written; run again")
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    for i, (want, got) in enumerate(zip(expected, recorded, strict=False)):
        assert got == want, f"step {i} of {name} differs: {json.dumps(want)[:200]}"
    assert len(recorded) == len(expected), f"{name}: {len(recorded)} steps, {len(expected)}"


def spans(t: Any) -> list[list[str]]:
    return [[s.text, s.style.value, s.url or "", s.user_id or ""] for s in t]


def reply_json(reply: Reply) -> dict[str, Any]:
    """Everything a reply carries, pictures by their alt text (PNG bytes vary by version)."""
    blocks: list[Any] = []
    for b in reply.blocks:
        if isinstance(b, Heading):
            blocks.append(["heading", b.text])
        elif isinstance(b, Paragraph | Context):
            blocks.append([type(b).__name__.lower(), spans(b.text)])
        elif isinstance(b, Fields):
            blocks.append(["fields", [[f.label, spans(f.value)] for f in b.fields]])
        elif isinstance(b, ProgressBar):
            blocks.append(["bar", b.label, b.done, b.total])
        elif isinstance(b, Buttons):
            blocks.append(
                ["buttons", [[x.label, x.action_id, x.value, x.style.value] for x in b.buttons]]
            )
        elif isinstance(b, Image):
            blocks.append(["image", b.alt, b.filename])
        else:
            blocks.append(["divider"])
    return {"visibility": reply.visibility.value, "replace": reply.replace, "blocks": blocks}


class Recorder:
    def __init__(self) -> None:
        self.steps: list[Any] = []

    def add(self, who: str, what: str, reply: Reply) -> Reply:
        self.steps.append({"who": who, "input": what, "reply": reply_json(reply)})
        return reply


def answer(chat: Chat, content: Content, rec: Recorder, right: bool) -> None:
    """Answer the question on screen: its right letters (or a wrong one)."""
    assert chat.last is not None
    q = question_in(content, chat.last)
    letters = list(q.answer) if right else [wrong_letter(q), *q.answer[1:]]
    if q.multi:
        for letter in letters:
            rec.add(chat.user, f"press {letter}", chat.press(letter))
        rec.add(chat.user, "press Submit", chat.press("Submit"))
    else:
        rec.add(chat.user, f"press {letters[0]}", chat.press(letters[0]))


def test_a_scripted_terminal_session_replies_as_recorded(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    rec = Recorder()
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    alice = Chat(bot, user="alice", name="Alice")

    def say(chat: Chat, line: str) -> Reply:
        return rec.add(chat.user, line, chat.send(line))

    say(lead, "/study setup")
    say(lead, "/study setup track=associate start=2026-03-02 tz=UTC time=09:00 exam=2026-06-30")
    say(lead, "/study setup time=25:99")
    say(alice, "/study setup tz=Asia/Kolkata")
    say(alice, "/study help")
    say(alice, "/study help setup")
    say(alice, "/study todya")
    say(alice, "/study join")
    say(alice, "/study today")
    answer(alice, content, rec, right=True)
    say(alice, "/study today")
    say(lead, "/study today")
    answer(lead, content, rec, right=False)
    say(alice, "/study leaderboard")
    say(alice, "/study leaderboard month")
    say(alice, "/study leaderboard forever")
    say(alice, "/study quiz 2")
    answer(alice, content, rec, right=True)
    answer(alice, content, rec, right=False)
    say(alice, "/study quiz nonsense")
    say(alice, "/study review")
    clock.advance(days=1)
    say(lead, "/study review")
    answer(lead, content, rec, right=True)
    say(alice, "/study exam")
    q = question_in(content, alice.last)  # type: ignore[arg-type]
    rec.add("alice", f"press {q.answer[0]}", alice.press(q.answer[0]))
    rec.add("alice", "press Next", alice.press("Next"))
    rec.add("alice", "press Flag", alice.press("⚑ Flag"))
    rec.add("alice", "press Review & submit", alice.press("Review & submit"))
    rec.add("alice", "press Submit exam", alice.press("Submit exam"))
    rec.add("alice", "press More missed", alice.press("More missed"))
    say(alice, "/study exams")
    say(alice, "/study plan")
    say(alice, "/study checklist")
    say(alice, "/study check F1-1")
    say(alice, "/study check F1-1")
    say(alice, "/study uncheck F1-1")
    say(alice, "/study check nothing")
    say(alice, "/study progress")
    say(alice, "/study resources")
    say(alice, "/study resources mlflow")
    say(alice, "/study tz Europe/Berlin")
    say(alice, "/study tz group")
    say(alice, "/study away 3")
    say(alice, "/study away 0")
    say(alice, "/study dm off")
    say(alice, "/study dm on")
    say(alice, "/study passed 2026-03-01")
    say(alice, "/study flag the explanation contradicts choice B")
    say(alice, "/study leave")
    say(alice, "/study join")
    check_golden("terminal", rec.steps)


def test_the_clocks_posts_are_as_recorded(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    lead = Chat(bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup track=associate start=2026-03-02 tz=UTC time=09:00 exam=2026-03-20")
    alice = Chat(bot, user="alice", name="Alice")
    alice.send("/study join")
    fake = FakeMessenger()
    worker = Worker(
        bot.store, content, {"console": fake}, clock=clock, config=DeliveryConfig(channel_gap=0)
    )
    tick = Clock(bot.store, content, clock=clock)

    def run() -> None:
        tick.tick()
        while worker.run_once():
            pass

    run()  # Monday noon: the daily question and the phase start
    alice.send("/study today")
    assert alice.last is not None
    q = question_in(content, alice.last)
    if q.multi:
        for letter in q.answer:
            alice.press(letter)
        alice.press("Submit")
    else:
        alice.press(q.answer[0])
    clock.advance(minutes=1)
    run()  # the "answered so far" update
    for _ in range(5):  # Tuesday to Saturday: reveals, the Friday board and DMs
        clock.advance(days=1)
        run()
    recorded = [  # in a fixed order: the worker posts to several targets side by side
        {"kind": p.kind, "target": p.target, "key": p.key, "reply": reply_json(p.reply)}
        for p in fake.posts
    ]
    recorded.sort(key=lambda r: json.dumps(r, sort_keys=True))
    check_golden("clock", recorded)


# Adapter sessions: the same kind of script through the real libraries.

SlackStep = Callable[[], Any]


def test_a_scripted_slack_session_sends_what_was_recorded(bot: StudyBot, content: Content) -> None:
    from adapters.slack.app import create_app
    from tests.slack.conftest import SlackUser, slack_settings
    from tests.slack.fakeslack import FakeSlack

    fake = FakeSlack().start()
    fake.user("ULEAD", "Lee", admin=True)
    fake.user("UALICE", "Alice")
    slack = create_app(bot, slack_settings(fake))
    try:
        lee = SlackUser(slack, fake, "ULEAD", "Lee")
        ali = SlackUser(slack, fake, "UALICE", "Alice")
        steps: list[Any] = []

        def seen(who: str, what: str, ans: Any) -> None:
            steps.append(
                {
                    "who": who,
                    "input": what,
                    "status": ans.status,
                    "ack": ans.ack,
                    "responses": ans.responses,
                }
            )

        seen("lee", "setup", lee.command("setup track=associate start=2026-03-02 tz=UTC"))
        seen("ali", "join", ali.command("join"))
        seen("ali", "today", ali.command("today"))
        first = next(b for b in ali.last.blocks if b["type"] == "actions")["elements"][0]  # type: ignore[union-attr]
        seen("ali", "click first", ali.click(first["text"]["text"]))
        seen("ali", "leaderboard", ali.command("leaderboard"))
        seen("ali", "quiz 1", ali.command("quiz 1"))
        seen("ali", "help quiz", ali.command("help quiz"))
        seen("ali", "bad", ali.command("leaderboard forever"))
        seen("ali", "progress", ali.command("progress"))
        dms = [
            {"channel": c.args.get("channel"), "blocks": c.args.get("blocks")}
            for c in fake.of("chat.postMessage")
        ]
        steps.append({"dms": dms})
    finally:
        slack.frontend.drain()
        slack.close()
        fake.stop()
    check_golden("slack", steps)


@pytest.mark.anyio
async def test_a_scripted_discord_session_sends_what_was_recorded(
    bot: StudyBot, content: Content
) -> None:
    from tests.discord.fake import FakeDiscord
    from tests.discord.harness import ALICE, LEAD, Harness, button, saved_discord_globals

    def stable(data: Any) -> Any:
        """Drop the ids a fake or a counter makes up."""
        if isinstance(data, dict):
            return {
                k: stable(v)
                for k, v in data.items()
                if k not in ("id", "timestamp", "channel_id", "nonce")
            }
        if isinstance(data, list):
            return [stable(v) for v in data]
        return data

    steps: list[Any] = []
    with saved_discord_globals():
        fake = FakeDiscord()
        await fake.start()
        h = await Harness.start(fake, bot, content)
        try:

            async def cmd(member: Any, sub: str, **options: Any) -> Any:
                out = await h.command(sub, member, **options)
                steps.append({"input": sub, "options": options, "messages": stable(out.messages())})
                return out

            await cmd(LEAD, "setup", track="associate", start="2026-03-02", tz="UTC")
            await cmd(ALICE, "join")
            out = await cmd(ALICE, "today")
            label = next(b for row in out.last["components"] for b in row["components"])["label"]
            button(out.last, label)
            pressed = await h.press(out.last, label, ALICE)
            steps.append({"input": f"press {label}", "messages": stable(pressed.messages())})
            await cmd(ALICE, "leaderboard", period="month")
            await cmd(ALICE, "quiz", n=1)
            await cmd(ALICE, "help", command="exam")
            await cmd(ALICE, "away", days=99)
        finally:
            await h.close()
            await fake.stop()
    check_golden("discord", steps)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_keyed_terminal_session_replies_as_recorded(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    """The terminal as a member types it: letters for choices, the same number for the same
    button on every screen, `report` for a report, and refused presses that keep the
    screen (quiz, today single and multi-answer, review, the mock exam, setup)."""
    from adapters.console.session import ConsoleSession, default_setup

    steps: list[Any] = []
    lead = ConsoleSession(bot, "Lee", is_admin=True)
    alice = ConsoleSession(bot, "Alice", is_admin=False)

    def type_(who: ConsoleSession, line: str) -> Reply:
        reply = who.send(line)
        assert reply is not None
        keys = [k for k, _ in who.buttons]
        steps.append(
            {"who": who.who.user_id, "input": line, "keys": keys, "reply": reply_json(reply)}
        )
        return reply

    def answer_on_screen(who: ConsoleSession, reply: Reply, right: bool = True) -> Reply:
        q = question_in(content, reply)
        letters = list(q.answer) if right else [wrong_letter(q), *q.answer[1:]]
        reply = type_(who, " ".join(x.lower() for x in letters))
        return type_(who, "1") if q.multi else reply  # Submit is 1

    steps.append(
        {
            "who": "lee",
            "input": "(first run)",
            "reply": reply_json(
                lead.setup({**default_setup(clock().date()), "tz": "UTC", "exam": "2026-06-30"})
            ),
        }
    )
    type_(alice, "/study join")
    today = type_(alice, "/study today")
    answer_on_screen(alice, today)
    type_(alice, "1")  # refused: no button 1 under the feedback
    type_(alice, "report")
    quiz = type_(alice, "/study quiz 3")
    type_(alice, "9")  # refused, the question stays
    quiz = answer_on_screen(alice, quiz, right=False)
    answer_on_screen(alice, quiz)
    type_(alice, "/study quiz")  # the unfinished set is offered
    type_(alice, "/study review")
    exam = type_(alice, "/study exam")
    exam = type_(alice, "a")
    for _ in range(47):
        if "(Choose two.)" in exam.plain_text():
            break
        exam = type_(alice, "3")  # Next ▶
    if "(Choose two.)" in exam.plain_text():
        type_(alice, "a b c")  # the third pick is refused; the screen stays
    type_(alice, "4")  # ⚑ Flag
    type_(alice, "5")  # Review & submit
    type_(alice, "6")  # Submit exam
    type_(alice, "9")  # More missed ▶
    type_(lead, "/study setup leads=Alice")
    type_(alice, "/study setup time=07:30")
    check_golden("terminal_keys", steps)
