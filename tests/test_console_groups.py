"""`studybot console --channel NAME`: another local study group beside the first, with its
own settings and questions, and `/study import PATH` read from disk by the terminal."""

from __future__ import annotations

import re
from pathlib import Path

from tests.features.test_own_files import csv_text, row
from tests.test_console import run_console
from tests.test_console_files import squeezed


def own_ids(output: str) -> set[str]:
    return set(re.findall(r"\bg\d+-\d+\b", output))


def test_a_second_local_group_keeps_to_itself(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    questions = tmp_path / "team.csv"
    questions.write_text(csv_text([row(1), row(2)]))

    first = run_console(
        db, f"/study import {questions}\n/study setup own=only\n/study today\n/study questions\n"
    )
    assert first.returncode == 0, first.stderr
    assert squeezed("Imported from team.csv: added 2 (g1-1 … g1-2).") in squeezed(first.stdout)
    assert "page 1 of 1" in first.stdout and {"g1-1", "g1-2"} <= own_ids(first.stdout)

    second = run_console(
        db,
        "/study setup own=only\n/study today\n/study quiz 5\n/study questions\n",
        "--channel",
        "reading-club",
    )
    assert second.returncode == 0, second.stderr
    assert "Study group created" in second.stdout  # a group of its own, set up on first use
    assert "This group has no questions of its own yet" in squeezed_lines(second.stdout)
    assert "Question of the day" in second.stdout
    assert not own_ids(second.stdout), "the first group's questions never reach the second"

    again = run_console(db, "/study questions\n")
    assert again.returncode == 0, again.stderr
    assert "Study group created" not in again.stdout
    assert {"g1-1", "g1-2"} <= own_ids(again.stdout)


def test_as_names_the_channel_it_needs_set_up(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    assert run_console(db, "/study today\n").returncode == 0  # the default group only
    result = run_console(db, "/study today\n", "--as", "Grace", "--channel", "reading-club")
    assert result.returncode == 1
    assert "run `studybot console --channel reading-club` (without --as)" in result.stderr


def squeezed_lines(output: str) -> str:
    """The printed text with the panel's borders gone and wrapped lines joined."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]+", " ", output))
