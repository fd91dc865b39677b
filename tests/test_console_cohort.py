"""`/study cohort` in the terminal: the lead's report, its chart saved, its pages by key;
a member is told it is for the leads."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from adapters.console.render import render
from adapters.console.session import ConsoleSession, default_setup
from bot.content.models import Content
from bot.core import StudyBot
from tests.helpers import FakeClock, question_in


def test_the_lead_reads_the_report_and_turns_its_pages(
    bot: StudyBot, content: Content, clock: FakeClock, tmp_path: Path
) -> None:
    lead = ConsoleSession(bot, "Ada", is_admin=True)
    lead.setup(default_setup(clock().date()))
    members = [ConsoleSession(bot, f"Member {i:02d}", is_admin=False) for i in range(11)]
    for m in members:
        m.send("/study join")
    today = members[0].send("/study today")
    assert today is not None
    members[0].send(question_in(content, today).answer[0].lower())

    reply = lead.send("/study cohort")
    assert reply is not None
    console = Console(record=True, width=200)
    console.print(render(reply, tmp_path).renderable)
    out = console.export_text()
    assert "only you can see this" in out and "Cohort report" in out
    assert "Members 1–10 of 12" in out and "Page 1 of 2" in out
    assert "for 1 member against the 70% practice line" in out and "(picture saved to " in out
    assert (tmp_path / "cohort.png").read_bytes().startswith(b"\x89PNG")
    (key,) = [k for k, b in lead.buttons if b.label == "Next ▶"]
    second = lead.send(key)
    assert second is not None and "Members 11–12 of 12" in second.plain_text()
    assert "Page 2 of 2" in second.plain_text()

    refused = members[1].send("/study cohort")
    assert refused is not None and refused.refused
    assert refused.plain_text().startswith("The cohort report is for the group's leads: Ada")
