"""The terminal adapter: numbered buttons, piped stdin, a file that survives restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.console.render import render
from adapters.console.session import ConsoleSession, default_setup
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Reply, Span, Visibility, text
from tests.helpers import FakeClock, question_in

ROOT = Path(__file__).resolve().parent.parent


def test_numbers_press_buttons_of_the_last_reply(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    me = ConsoleSession(bot, "Ada Lovelace", is_admin=True)
    assert not me.has_group()
    me.setup(default_setup(clock().date()))
    assert me.has_group()
    reply = me.send("/study today")
    assert reply is not None
    q = question_in(content, reply)
    if q.multi:
        n = q.letters().index(q.answer[0]) + 1
        me.send(str(n))
        m = q.letters().index(q.answer[1]) + 1
        me.send(f"answer {m}")
        out = me.send(str(len(q.letters()) + 1))
    else:
        out = me.send(f"answer {q.letters().index(q.answer[0]) + 1}")
    assert out is not None and out.plain_text().startswith("✅ Correct")
    assert [b.label for b in out.buttons()] == ["⚑ Report a problem"]
    assert "is reported to the maintainers" in me.send("1").plain_text()
    assert "no buttons" in me.press(1).plain_text()
    hint = me.send("hello")
    assert hint is not None and "Commands start with /study" in hint.plain_text()


def test_other_members_via_as(bot: StudyBot, clock: FakeClock) -> None:
    owner = ConsoleSession(bot, "owner", is_admin=True)
    owner.setup(default_setup(clock().date()))
    bob = ConsoleSession(bot, "Bob", is_admin=False)
    reply = bob.send("/study setup tz=Asia/Kolkata")
    assert reply is not None and "Only a group lead" in reply.plain_text()
    bob.send("/study join")
    board = owner.send("/study leaderboard all")
    assert board is not None


def test_rendering_keeps_user_text_literal(tmp_path: Path) -> None:
    from rich.console import Console

    reply = Reply.of(
        *Reply.message("hi ", Span("[bold red]boom[/] <!channel>")).blocks, visibility=Visibility.DM
    )
    console = Console(record=True, width=80)
    console.print(render(reply, tmp_path).renderable)
    out = console.export_text()
    assert "[bold red]boom[/] <!channel>" in out
    assert "direct message" in out
    assert text("x")[0].text == "x"


def run_console(db: Path, lines: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDYBOT_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "console", *extra],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


def test_piped_session_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    first = run_console(db, "/study today\n1\n/study check S2\n")
    assert first.returncode == 0, first.stderr
    assert "Study group created" in first.stdout
    assert "Question of the day" in first.stdout
    assert "Correct" in first.stdout or "Not quite" in first.stdout
    second = run_console(db, "/study progress\n/study today\n/study leaderboard all\n")
    assert second.returncode == 0, second.stderr
    assert "Study group created" not in second.stdout
    assert "Success checklist      ██" in second.stdout  # 1/8 ticked, kept on disk
    assert "You answered on" in second.stdout
    assert "1 answered" in second.stdout
    other = run_console(db, "/study today\n", "--as", "Grace")
    assert "Question of the day" in other.stdout
    assert "You joined this study group." in other.stdout


def test_as_on_a_new_database_says_who_sets_the_group_up(tmp_path: Path) -> None:
    """It used to answer "Only a group lead can change…" without naming the lead."""
    result = run_console(tmp_path / "new.db", "/study today\n", "--as", "Grace")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("No study group in this terminal yet. Its lead is you, ")
    assert line.endswith(
        "run `studybot console` (without --as) to set it up, then `--as Grace` joins it."
    )
    assert "Only a group lead" not in result.stdout
