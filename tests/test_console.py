"""The terminal adapter: buttons by stable keys, piped stdin, a file that survives restarts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from adapters.console.render import render
from adapters.console.session import ConsoleSession, default_setup
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Reply, Span, Visibility, text
from tests.helpers import FakeClock, question_in

ROOT = Path(__file__).resolve().parent.parent


def test_letters_answer_and_report_takes_its_own_word(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    me = ConsoleSession(bot, "Ada Lovelace", is_admin=True)
    assert not me.has_group()
    me.setup(default_setup(clock().date()))
    assert me.has_group()
    reply = me.send("/study today")
    assert reply is not None
    q = question_in(content, reply)
    assert [k for k, _ in me.buttons][: len(q.letters())] == list(q.letters().lower())
    if q.multi:
        me.send(q.answer[0].lower())
        out = me.send("1")  # Submit is 1 on every screen that has it
        assert out is not None and "Pick" not in out.plain_text()
    else:
        out = me.send(f"answer {q.answer[0]}")
    assert out is not None and out.plain_text().startswith(("✅ Correct", "❌"))
    assert me.buttons[0][0] == "report"
    slip = me.send("1")  # a number meant for the next question never files a report
    assert slip is not None and slip.refused and "There is no button 1 here" in slip.plain_text()
    assert "is reported to the maintainers" in me.send("report").plain_text()
    assert "no buttons" in me.press("a").plain_text()
    hint = me.send("hello")
    assert hint is not None and "Commands start with /study" in hint.plain_text()


def test_a_quiz_keeps_its_keys_from_question_to_question(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    """`/study quiz 2`, `1`, `1` used to report the first question instead of answering
    the second: after an answer the report button took 1 and the letters moved up."""
    me = ConsoleSession(bot, "Ada", is_admin=True)
    me.setup(default_setup(clock().date()))
    reply = me.send("/study quiz 2")
    for position in (1, 2):
        assert reply is not None
        assert f"Practice {position} of 2" in reply.plain_text()
        q = question_in(content, reply)
        assert [k for k, _ in me.buttons if k != "report"][:4] == ["a", "b", "c", "d"]
        slip = me.send("1")  # no number answers or reports anything on a quiz screen
        assert slip is not None and slip.refused
        reply = me.send(" ".join(x.lower() for x in q.answer))
        if q.multi:
            reply = me.send("1")
        assert reply is not None and reply.plain_text().startswith("✅ Correct")
        assert me.buttons[0][0] == "report"
    assert "Practice set done: 2 of 2 right" in reply.plain_text()


def test_a_refused_press_keeps_the_screen_and_its_buttons(
    bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    """A third pick on a two-answer exam question used to leave nothing to press."""
    me = ConsoleSession(bot, "Ada", is_admin=True)
    me.setup(default_setup(clock().date()))
    screen = me.send("/study exam")
    assert screen is not None
    seen = 0
    while "(Choose two.)" not in screen.plain_text():
        assert dict(me.buttons).get("3") is not None, "Next ▶ is 3 on every question"
        screen = me.send("3")
        assert screen is not None
        seen += 1
        assert seen < 48, "no two-answer question in this mock"
    refused = me.send("a b c")
    assert refused is not None and refused.refused
    assert "untick" in refused.plain_text()
    keys = dict(me.buttons)
    assert {"a", "b", "c", "d", "4", "5"} <= set(keys)  # the same screen, still usable
    review = me.send("5")
    assert review is not None and "review before you submit" in review.plain_text()


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
    first = run_console(db, "/study today\na\n1\n/study check S2\n")
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


def test_the_first_run_wizard_checks_each_answer_where_it_is_asked() -> None:
    """`2026-13-45`, `Mars/Olympus`, `25:99` and `next month` used to be accepted at their
    prompts and one error at the end threw every answer away."""
    import io

    from rich.console import Console

    from adapters.console.cli import _guided_setup

    shown = io.StringIO()
    answers = io.StringIO(
        "associate\n2026-13-45\n2026-03-02\nMars/Olympus\nEurope/Berlin\n25:99\n08:30\n"
        "next month\n2026-02-01\n2026-06-01\n"
    )
    values = _guided_setup(
        Console(file=shown, width=200),
        {"track": "associate", "start": "2026-03-01", "tz": "UTC", "time": "09:00"},
        stream=answers,
        tracks=["associate", "professional"],
    )
    assert values == {
        "track": "associate",
        "start": "2026-03-02",
        "tz": "Europe/Berlin",
        "time": "08:30",
        "exam": "2026-06-01",
    }
    out = shown.getvalue()
    assert out.count("Try again.") == 5  # each bad answer asked again, with what is accepted
    assert "The exam date must come after the start date 2026-03-02" in out


def test_a_clock_post_can_be_answered_by_its_keys_and_the_prompt_returns(
    tmp_path: Path, bot: StudyBot, content: Content, clock: FakeClock
) -> None:
    """The daily post printed over the prompt and its buttons could not be pressed."""
    import io

    from rich.console import Console

    from adapters.console.messenger import ConsoleMessenger
    from bot.seam import ChannelTarget

    me = ConsoleSession(bot, "Ada", is_admin=True)
    me.setup(default_setup(clock().date()))
    screen = me.send("/study today")
    assert screen is not None
    printed = io.StringIO()
    console = Console(file=printed, width=120)

    def shown(reply: Reply) -> None:
        me.remember(reply)
        console.print("study> ", end="")

    me.send("/study help")  # the last reply now has no buttons
    assert me.buttons == []
    ConsoleMessenger(console, tmp_path, me.who.user_id, shown).post(
        ChannelTarget("console", "study-group"), screen
    )
    assert printed.getvalue().endswith("study> ")
    assert [k for k, _ in me.buttons] == list(question_in(content, screen).letters().lower())


def test_a_session_writes_nothing_outside_its_home(tmp_path: Path) -> None:
    """`make test` used to save pictures into the real ~/.local/share/studybot."""
    home = Path(os.environ["HOME"])
    result = run_console(tmp_path / "p.db", "/study today\na\n/study progress\n")
    assert result.returncode == 0, result.stderr
    pictures = list(home.glob(".local/share/studybot/pictures/*.png"))
    assert pictures, "the progress chart is saved under the (temporary) HOME"
    assert str(home).startswith(tempfile.gettempdir())
