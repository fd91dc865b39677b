"""`studybot content import|export`: a group's own questions to and from CSV and YAML
files, all or nothing, every problem as FILE:LINE: problem."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.content.drafts import CSV_HEADER
from bot.content.models import Content
from bot.core import StudyBot
from bot.store.db import Store
from bot.store.models import GroupQuestion
from tests.helpers import Chat, FakeClock, start
from tests.subprocesses import ROOT, run

GROUP = "console:W1:C1"
OTHER = "console:W1:C2"
REF = "https://docs.databricks.com/en/machine-learning/index.html"


def row(n: int, **changes: str) -> dict[str, str]:
    base = {
        "prompt": f"Which setting does team {n} change first?",
        "a": f"the first setting {n}",
        "b": f"the second setting {n}",
        "c": f"the third setting {n}",
        "d": f"the fourth setting {n}",
        "answer": "B",
        "explanation": f"B is right for team {n}; A, C and D are not.",
        "domain": "model-training",
        "difficulty": "2",
        "ref": REF,
    }
    return {**base, **changes}


def csv_text(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_HEADER), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def studybot(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content) -> Iterator[StudyBot]:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", url)
    monkeypatch.setenv("STUDYBOT_CONTENT_DIR", str(ROOT / "content"))
    store = Store.from_url(url)
    bot = StudyBot(store, content, clock=FakeClock(start(2026, 3, 2)))
    for channel in ("C1", "C2"):
        Chat(bot, user="lead", name="Lee", admin=True, channel=channel).send("/study setup tz=UTC")
    yield bot
    store.dispose()


def stored(bot: StudyBot, group_id: int | None = None) -> int:
    with bot.store.transaction(read_only=True) as s:
        q = select(func.count()).select_from(GroupQuestion)
        if group_id is not None:
            q = q.where(GroupQuestion.group_id == group_id)
        return int(s.scalar(q) or 0)


def test_a_csv_file_is_imported(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    path.write_text(
        csv_text([row(1), row(2), row(3, answer="A,C", prompt="Which two? (Choose two.)")])
    )
    result = studybot("content", "import", str(path), "--group", GROUP)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{GROUP}: added 3 (g1-1 … g1-3).\n"
    assert stored(bot, 1) == 3 and stored(bot, 2) == 0
    settings = Chat(bot, user="lead", name="Lee", admin=True).send("/study setup").plain_text()
    assert "Own questions: 3 in rotation" in settings


def test_one_bad_row_imports_nothing_and_names_the_row(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    rows = [row(1), row(2, answer="E", ref="http://example.com"), row(3), row(4, domain="")]
    path.write_text(csv_text(rows))
    result = studybot("content", "import", str(path), "--group", GROUP)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        f"{path}:3: answer 'E' is outside the choices A, B, C, D",
        f"{path}:3: ref is not an https URL: 'http://example.com'",
        f"{path}:5: unknown domain None for track associate (known: automl-platform, "
        "data-exploration, feature-engineering, model-deployment, model-training)",
        f"3 problem(s) in {path}: nothing was imported",
    ]
    assert stored(bot) == 0


def test_rows_are_numbered_by_the_line_they_start_on(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    rows = [row(1, explanation="B is right.\nA, C and D are not."), row(2, answer="Z")]
    path.write_text(csv_text(rows))  # the header is line 1; row 1 spans lines 2-3
    result = studybot("content", "import", str(path), "--group", GROUP)
    assert (
        result.stderr.splitlines()[0] == f"{path}:4: answer 'Z' is outside the choices A, B, C, D"
    )


def test_a_wrong_header_or_an_empty_file_is_named(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("question,a,b\nx,y,z\n")
    result = studybot("content", "import", str(path), "--group", GROUP)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:1: the header must be prompt,a,b,c,d,answer,explanation,domain,difficulty,ref;"
        " got question,a,b"
    )
    empty = tmp_path / "empty.yaml"
    empty.write_text("[]\n")
    result = studybot("content", "import", str(empty), "--group", GROUP)
    assert result.stderr.splitlines()[0] == f"{empty}:1: no questions in the file"


def test_yaml_in_the_banks_schema_names_the_questions_line(
    bot: StudyBot, tmp_path: Path, content: Content
) -> None:
    q = content.by_track["associate"][0]
    good = {k: v for k, v in q.model_dump(mode="json").items() if k not in ("file", "line", "id")}
    bad = {**good, "choices": good["choices"][:1]}
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump([good, bad], sort_keys=False))
    line = next(
        n
        for n, text in enumerate(path.read_text().splitlines(), 1)
        if text.startswith("- ") and n > 1
    )
    result = studybot("content", "import", str(path), "--group", GROUP)
    assert result.exit_code == 1
    assert f"{path}:{line}: needs at least two choices, has 1" in result.stderr.splitlines()
    assert stored(bot) == 0


def _without_ids(text: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in q.items() if k != "id"} for q in yaml.safe_load(text)]


def test_export_then_import_round_trips(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    path.write_text(csv_text([row(1), row(2, answer="A,D", prompt="Which two? (Choose two.)")]))
    assert studybot("content", "import", str(path), "--group", GROUP).exit_code == 0

    shown = studybot("content", "export", "--group", GROUP)
    assert shown.exit_code == 0
    exported = yaml.safe_load(shown.stdout)
    assert [q["id"] for q in exported] == ["g1-1", "g1-2"]
    assert exported[1]["answer"] == ["A", "D"] and exported[0]["answer"] == "B"
    assert exported[0]["track"] == "associate" and exported[0]["refs"] == [REF]

    out = tmp_path / "export.yaml"
    written = studybot("content", "export", "--group", GROUP, "--out", str(out))
    assert written.stdout == f"Wrote 2 question(s) of {GROUP} to {out}.\n"
    assert out.read_text() == shown.stdout

    # into another group: the same questions, ids of its own
    again = studybot("content", "import", str(out), "--group", OTHER)
    assert again.stdout == f"{OTHER}: added 2 (g2-1 … g2-2).\n"
    other = studybot("content", "export", "--group", OTHER).stdout
    assert _without_ids(other) == _without_ids(shown.stdout)

    # back into the same group: the questions are rewritten in place, not doubled
    back = studybot("content", "import", str(out), "--group", GROUP)
    assert back.stdout == f"{GROUP}: updated 2 (g1-1 … g1-2).\n"
    assert stored(bot, 1) == 2
    assert studybot("content", "export", "--group", GROUP).stdout == shown.stdout


def test_an_unknown_group_is_one_line(bot: StudyBot, tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    path.write_text(csv_text([row(1)]))
    env = {
        "STUDYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}",
        "STUDYBOT_CONTENT_DIR": str(ROOT / "content"),
    }
    done = run(tmp_path, ["content", "import", str(path), "--group", "console:W1:nope"], **env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "studybot: no study group console:W1:nope: a lead starts one with `/study setup` in "
        "that channel"
    )
    shape = run(tmp_path, ["content", "export", "--group", "W1:C1"], **env)
    assert shape.returncode == 1
    assert shape.stderr.strip().startswith(
        "studybot: --group 'W1:C1' is not PLATFORM:WORKSPACE:CHANNEL"
    )
