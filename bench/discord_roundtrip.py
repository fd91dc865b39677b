"""Discord round trip: `/study today` and an answer click through the real discord.py client.

Payload in (discord.py's own parsing), callback out (recorded by the fake REST API on
127.0.0.1). Each is measured twice in the same run, interleaved: with the real core on a
seeded SQLite store (the bench dataset plus one Discord group), and with a no-op core that
returns the same replies without doing any work. The ratio of the medians is the price of
the core inside a Discord interaction; the target is at most 1.5. `core_today` (the core
called directly, no Discord) is printed to show where the difference goes.

    python -m bench.discord_roundtrip [--n 200] [--groups 50] [--members 40] [--days 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.discord.buttons import decode
from bench.dataset import seed
from bot.content import load_content
from bot.content.models import Content
from bot.core import StudyBot
from bot.features.daily import DailyPick
from bot.features.questions import ANSWER
from bot.seam import Action, Invocation, Reply, Who
from bot.settings import REPO_CONTENT
from bot.store.db import Store
from bot.store.models import DailyQuestion
from tests.discord.fake import FakeDiscord
from tests.discord.harness import (
    CHANNEL,
    GUILD,
    LEAD,
    Harness,
    Member,
    button,
    command_payload,
    press_payload,
)

TARGET = 1.5
WARM_UP = 20
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a Monday inside the seeded 60 days


class NoopCore:
    """Answers with canned replies: everything but the core's own work."""

    def __init__(self, today: Reply, answer: Reply) -> None:
        self.today, self.answer = today, answer

    def handle(self, inv: Invocation) -> Reply:
        return self.today

    def press(self, action: Action) -> Reply:
        return self.answer


class Switch:
    """The client's core, switchable between the real one and the no-op."""

    def __init__(self, core: Any) -> None:
        self.core = core

    def handle(self, inv: Invocation) -> Reply:
        return self.core.handle(inv)

    def press(self, action: Action) -> Reply:
        return self.core.press(action)


async def answer_message(
    h: Harness, today_msg: dict[str, Any], member: Member, content: Content, bot: StudyBot
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The message and button whose press records an answer: "A" on a single-answer
    question; on a multi-answer one, Submit after toggling a full selection, as a member
    would (the selection lives in Submit's custom_id, so any member can press it)."""
    first = button(today_msg, "A")
    action, value = decode(first["custom_id"]) or ("", "")
    if action == ANSWER:
        return today_msg, first
    with bot.store.transaction(read_only=True) as s:
        daily = s.get(DailyQuestion, int(DailyPick.decode(value).ref))
        assert daily is not None
        q = content.by_id[daily.question_id]
    msg = today_msg
    for letter in q.letters()[: len(q.answer)]:
        pressed = await h.run(
            press_payload(msg, button(msg, letter)["custom_id"], member=member), bind=msg["id"]
        )
        msg = {**msg, **pressed.last}
    return msg, button(msg, "Submit")


async def _time(h: Harness, payload: dict[str, Any], bind: str | None = None) -> float:
    t0 = time.perf_counter()
    await h.run(payload, bind=bind)
    return time.perf_counter() - t0


async def run(n: int, groups: int, members: int, days: int) -> dict[str, Any]:
    content = load_content(REPO_CONTENT)
    with tempfile.TemporaryDirectory() as d:
        store = Store.from_url(f"sqlite:///{Path(d) / 'bench.db'}")
        t0 = time.perf_counter()
        seed(
            store,
            content,
            groups=groups,
            members=members,
            days=days,
            platform="discord",
            workspace_prefix="9",
        )
        seeded = time.perf_counter() - t0
        bot = StudyBot(store, content, clock=lambda: NOW)
        lead = Who("discord", GUILD, CHANNEL, LEAD.id, LEAD.name, True)
        bot.handle(Invocation(lead, "setup", {"track": "associate", "start": "2026-01-05"}))
        people = [
            Member(str(640000000000000000 + i), f"Member {i}") for i in range(n + WARM_UP + 3)
        ]
        for m in people:
            bot.handle(Invocation(Who("discord", GUILD, CHANNEL, m.id, m.name), "join"))

        fake = FakeDiscord()
        await fake.start()
        switch = Switch(bot)
        h = await Harness.start(fake, switch, content)
        try:
            asker = people[0]  # asks for today's question, never answers it
            today_msg = (await h.run(command_payload("today", member=asker))).last
            answer_msg, letter = await answer_message(h, today_msg, people[1], content, bot)
            sample = await h.run(
                press_payload(answer_msg, letter["custom_id"], member=people[1]),
                bind=answer_msg["id"],
            )
            assert "Streak" in sample.text(), sample.text()  # an answer was recorded
            noop = NoopCore(
                bot.handle(
                    Invocation(Who("discord", GUILD, CHANNEL, asker.id, asker.name), "today")
                ),
                bot.press(
                    Action(
                        # a member who has not answered: the same feedback a round gets
                        Who("discord", GUILD, CHANNEL, people[2].id, people[2].name),
                        *(decode(letter["custom_id"]) or ("", "")),
                    )
                ),
            )
            assert sample.text()
            times: dict[str, list[float]] = {
                k: [] for k in ("today", "today_noop", "answer", "answer_noop")
            }
            assert "Streak" in Reply(noop.answer.blocks).plain_text(), (
                "no-op answer is not feedback"
            )
            fresh = iter(people[3:])  # each round's answer comes from a new member

            async def round_(core: Any, suffix: str, answerer: Member) -> None:
                switch.core = core
                t = await _time(h, command_payload("today", member=asker))
                times["today" + suffix].append(t)
                t = await _time(
                    h,
                    press_payload(answer_msg, letter["custom_id"], member=answerer),
                    bind=answer_msg["id"],
                )
                times["answer" + suffix].append(t)

            for _ in range(WARM_UP):
                answerer = next(fresh)
                await round_(bot, "", answerer)
                await round_(noop, "_noop", answerer)
            times = {k: [] for k in times}
            for i in range(n):  # interleaved, alternating which goes first
                answerer = next(fresh)
                order = [(bot, ""), (noop, "_noop")]
                for core, suffix in order if i % 2 == 0 else order[::-1]:
                    await round_(core, suffix, answerer)
            # For reading the ratio: the core alone, called directly (no Discord, no thread).
            for _ in range(n):
                who = Who("discord", GUILD, CHANNEL, asker.id, asker.name)
                t0 = time.perf_counter()
                bot.handle(Invocation(who, "today"))
                times.setdefault("core_today", []).append(time.perf_counter() - t0)
        finally:
            await h.close()
            await fake.stop()
            store.dispose()
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    p95 = {k: sorted(v)[int(len(v) * 0.95) - 1] * 1000 for k, v in times.items()}
    return {
        "bench": "discord_roundtrip",
        "n": n,
        "dataset": {
            "groups": groups,
            "members": members,
            "days": days,
            "answers": groups * members * days,
            "seed_s": round(seeded, 2),
        },
        "median_ms": {k: round(v, 3) for k, v in med.items()},
        "p95_ms": {k: round(v, 3) for k, v in p95.items()},
        "ratio_today": round(med["today"] / med["today_noop"], 3),
        "ratio_answer": round(med["answer"] / med["answer_noop"], 3),
        "target": TARGET,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="measured rounds per case")
    ap.add_argument("--groups", type=int, default=50)
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--days", type=int, default=60)
    a = ap.parse_args()
    result = asyncio.run(run(a.n, a.groups, a.members, a.days))
    result["pass"] = max(result["ratio_today"], result["ratio_answer"]) <= TARGET
    print(
        f"Discord round trip, {a.n} rounds each, dataset "
        f"{result['dataset']['answers']:,} answers (seeded in {result['dataset']['seed_s']} s)"
    )
    print(f"{'case':<14}{'median ms':>12}{'p95 ms':>10}")
    for k in ("today", "today_noop", "answer", "answer_noop", "core_today"):
        print(f"{k:<14}{result['median_ms'][k]:>12.3f}{result['p95_ms'][k]:>10.3f}")
    print(f"ratio today  {result['ratio_today']:.3f}  (target <= {TARGET})")
    print(f"ratio answer {result['ratio_answer']:.3f}  (target <= {TARGET})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
