"""The terminal delivers a reply's file (a data export) by saving it and printing where."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from adapters.console.render import render
from bot.seam import Attachment, Heading, Reply
from tests.test_console import run_console


def squeezed(output: str) -> str:
    """The printed text without the panel's borders and any white space, so a line the
    panel wrapped reads as one."""
    return re.sub(r"[\s│╭╮╰╯─]+", "", output)


def test_mydata_saves_the_file_in_the_data_folder_and_prints_its_path(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    result = run_console(tmp_path / "p.db", "/study check S1\n/study mydata\n")
    assert result.returncode == 0, result.stderr
    saved = list(home.glob(".local/share/studybot/files/studybot-data-*.json"))
    assert len(saved) == 1, "the export is saved under the (temporary) HOME"
    assert str(home).startswith(tempfile.gettempdir())
    assert squeezed(f"📎 Your studybot data: saved to {saved[0]}") in squeezed(result.stdout)
    data = json.loads(saved[0].read_text())
    assert data["member"]["platform"] == "console"
    assert data["checklist"][0]["item"] == "S1"


def test_a_file_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    reply = Reply.of(Heading("x"), Attachment(b"{}", "../../escape.json", "application/json", "t"))
    render(reply, tmp_path / "pictures", file_dir=tmp_path / "files")
    assert (tmp_path / "files" / "escape.json").read_bytes() == b"{}"
    assert not (tmp_path.parent / "escape.json").exists()


def test_the_plans_calendar_is_saved_as_an_ics_file(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    result = run_console(tmp_path / "p.db", "/study plan\n10\n")
    assert result.returncode == 0, result.stderr
    assert "[10] 📅 Add to my calendar" in result.stdout
    saved = list(home.glob(".local/share/studybot/files/study-plan-*.ics"))
    assert len(saved) == 1, result.stdout[-2000:]
    assert squeezed(f"saved to {saved[0]}") in squeezed(result.stdout)
    assert saved[0].read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
