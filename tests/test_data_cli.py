"""`studybot data export|forget`: an operator's copy of one member's data, and its erasure
on the member's request, by the platform's own ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import _load_plugins, app
from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Attachment
from bot.store.db import Store
from tests.helpers import Chat, FakeClock, answer_today, start

_load_plugins()
WHO = ["--platform", "console", "--workspace", "W1", "--user", "alice"]


def studybot(*args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=answer)


def one_line(result: Result) -> str:
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert "Traceback" not in result.output
    return line


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content) -> Iterator[StudyBot]:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", url)
    store = Store.from_url(url)
    bot = StudyBot(store, content, clock=FakeClock(start(2026, 3, 2)))
    Chat(bot, user="lead", name="Lee", admin=True).send("/study setup tz=UTC")
    alice = Chat(bot)
    alice.send("/study join")
    answer_today(alice, content)
    alice.send("/study check S1")
    yield bot
    store.dispose()


def members_file(bot: StudyBot) -> dict[str, Any]:
    """What `/study mydata` sends Alice."""
    reply = Chat(bot).send("/study mydata")
    (file,) = [b for b in reply.blocks if isinstance(b, Attachment)]
    data: dict[str, Any] = json.loads(file.data)
    return data


def without_time(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "exported_at"}


def test_export_prints_what_the_member_would_get(bot: StudyBot, tmp_path: Path) -> None:
    result = studybot("data", "export", *WHO)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert without_time(data) == without_time(members_file(bot))
    assert data["checklist"][0]["item"] == "S1" and len(data["daily_answers"]) == 1

    out = tmp_path / "alice.json"
    written = studybot("data", "export", *WHO, "--out", str(out))
    assert written.exit_code == 0, written.output
    assert written.stdout == f"Wrote the data of alice (Alice) in console:W1 to {out}\n"
    assert without_time(json.loads(out.read_text())) == without_time(data)


def test_an_unknown_member_or_platform_is_one_line(bot: StudyBot) -> None:
    nobody = studybot("data", "export", "--platform", "console", "--workspace", "W1", "--user", "x")
    assert nobody.exit_code == 1 and nobody.stdout == ""
    assert one_line(nobody) == (
        "studybot: no member x in console:W1: nothing is stored about them "
        "(`studybot status` lists the workspaces)"
    )
    wrong = studybot("data", "forget", "--platform", "irc", "--workspace", "W1", "--user", "alice")
    assert wrong.exit_code == 1
    assert "unknown platform 'irc'; use one of slack, discord, console" in one_line(wrong)


def test_forget_asks_on_the_terminal_first(bot: StudyBot) -> None:
    kept = studybot("data", "forget", *WHO, answer="n\n")
    assert kept.exit_code == 1
    assert "Erase alice (Alice) in console:W1: your settings and 1 group membership" in (
        kept.stderr
    )
    assert one_line(kept).endswith("studybot: nothing was erased")
    assert members_file(bot)["daily_answers"], "nothing was erased"

    erased = studybot("data", "forget", *WHO, answer="y\n")
    assert erased.exit_code == 0, erased.output
    assert erased.stdout.splitlines()[-1] + "\n" == (  # before it, the runner echoes "y"
        "Erased alice (Alice) in console:W1: your settings and 1 group membership, "
        "1 daily answer, 1 review card, 1 checklist tick.\n"
    )
    assert "stores nothing about you" in Chat(bot).send("/study mydata").plain_text()
    again = studybot("data", "forget", *WHO, "--yes")
    assert again.exit_code == 1 and "no member alice in console:W1" in one_line(again)


def test_forget_yes_erases_without_asking(bot: StudyBot) -> None:
    lee = ["--platform", "console", "--workspace", "W1", "--user", "lead"]
    result = studybot("data", "forget", *lee, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Erased lead (Lee) in console:W1: your settings and")
    assert result.stdout.endswith("Now without a named lead: C1.\n")
    assert result.stderr == ""
    board = Chat(bot, user="lead", name="Lee", admin=True).send("/study leaderboard all")
    assert "Alice" in board.plain_text(), "only Lee was erased"


def test_status_names_the_ids_an_operator_passes(bot: StudyBot) -> None:
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "console:W1" in result.stdout and " C1 " in result.stdout
