"""Content validation: every problem listed as file:line: id: problem, and the bank's rules."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.content import check_content, load_content
from bot.content.loader import ContentError
from bot.content.models import Content
from tests.conftest import ROOT

GOOD = """\
- id: t-001
  track: associate
  domain: model-training
  guide_section: databricks-ml
  area: mlflow
  phase: 2
  difficulty: 1
  prompt: Which call records a metric?
  choices: [mlflow.log_metric, mlflow.log_param, mlflow.set_tag, mlflow.end_run]
  answer: A
  explanation: A logs a metric; the others log params, set tags or end the run.
  refs: [https://mlflow.org/docs/latest/tracking.html]
"""


def make_content(tmp_path: Path, questions: str, name: str = "bad.yaml") -> Path:
    root = tmp_path / "content"
    root.mkdir()
    shutil.copy(ROOT / "content" / "curriculum.yaml", root / "curriculum.yaml")
    shutil.copy(ROOT / "content" / "checklists.yaml", root / "checklists.yaml")
    (root / "questions" / "associate").mkdir(parents=True)
    (root / "questions" / "associate" / name).write_text(questions)
    return root


def problems(tmp_path: Path, questions: str) -> list[str]:
    content, found = check_content(make_content(tmp_path, questions))
    assert content is None
    return [str(p) for p in found]


def test_good_file_loads(tmp_path: Path) -> None:
    content = load_content(make_content(tmp_path, GOOD))
    assert [q.id for q in content.questions] == ["t-001"]
    assert content.questions[0].answer == ("A",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("answer: A", "answer: E"), "t-001: answer 'E' is outside the choices A, B, C, D"),
        (("answer: A", "answer: [A, B]"), "single-answer question has several answers"),
        (("mlflow.end_run]", "mlflow.log_metric]"), "duplicate choice 'mlflow.log_metric'"),
        (
            (
                "choices: [mlflow.log_metric, mlflow.log_param, mlflow.set_tag, mlflow.end_run]",
                "choices: [mlflow.log_metric]",
            ),
            "needs at least two choices, has 1",
        ),
        (("track: associate", "track: expert"), "unknown track 'expert'"),
        (("domain: model-training", "domain: cooking"), "unknown domain 'cooking'"),
        (("area: mlflow", "area: baking"), "unknown area 'baking'"),
        (("phase: 2", "phase: 9"), "unknown phase 9"),
        (("prompt: Which call records a metric?", "prompt: ''"), "empty prompt"),
        (("explanation: A logs", "explanation: ''\n  x: A logs"), "empty explanation"),
        (("https://mlflow.org", "http://mlflow.org"), "ref is not an https URL"),
        (("mlflow.end_run]", "all of the above]"), "all of the above"),
        (
            ("  guide_section: databricks-ml\n", ""),
            "t-001: missing guide_section: the exam guide's section it tests (one of: "
            "data-processing, databricks-ml, model-deployment, model-development)",
        ),
        (
            ("guide_section: databricks-ml", "guide_section: ml-ops"),
            "unknown guide_section 'ml-ops' for track associate",
        ),
    ],
)
def test_each_problem_is_named_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    bad = GOOD.replace(*change)
    found = problems(tmp_path, bad)
    assert any(p.startswith("content/questions/associate/bad.yaml:1: t-001: ") for p in found)
    assert any(expected in p for p in found), found


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    second = GOOD.replace("t-001", "t-002").replace("answer: A", "answer: Z")
    dup = GOOD.replace("answer: A", "answer: B")
    found = problems(tmp_path, GOOD + second + dup)
    assert any("bad.yaml:13: t-002: answer 'Z'" in p for p in found)
    assert any(
        "bad.yaml:25: t-001: duplicate id (first at content/questions/associate/bad.yaml:1)" in p
        for p in found
    )


def test_malformed_yaml_reports_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD + "- id: [unclosed\n  track: x\n")
    assert len(found) == 1
    assert found[0].startswith("content/questions/associate/bad.yaml:14: -: malformed YAML")


def test_multi_answer_needs_choose_and_matching_count(tmp_path: Path) -> None:
    multi = GOOD.replace("answer: A", "answer: [A, B]").replace(
        "records a metric?", "records values? (Choose three.)"
    )
    found = problems(tmp_path, multi)
    assert any('says "(Choose three.)" but answer has 2 letters' in p for p in found)


def test_cli_check_exits_non_zero_and_lists_problems(tmp_path: Path) -> None:
    root = make_content(tmp_path, GOOD.replace("answer: A", "answer: Q"))
    result = CliRunner().invoke(app, ["content", "check", str(root)])
    assert result.exit_code == 1
    assert "bad.yaml:1: t-001: answer 'Q' is outside the choices" in result.output


def test_cli_check_counts_the_real_bank() -> None:
    result = CliRunner().invoke(app, ["content", "check", str(ROOT / "content")])
    assert result.exit_code == 0, result.output
    assert "Content OK" in result.output
    assert "model-training" in result.output


def test_cli_stats_json(content: Content) -> None:
    result = CliRunner().invoke(app, ["content", "stats", "--json", "--dir", str(ROOT / "content")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == len(content.questions)
    assoc = data["tracks"]["associate"]
    assert set(assoc) >= {"domain", "area", "phase", "difficulty", "answer_position"}
    assert sum(assoc["domain"].values()) == assoc["total"]


def test_bot_refuses_to_start_on_invalid_content(tmp_path: Path) -> None:
    from bot.bootstrap import build
    from bot.settings import Settings

    root = make_content(tmp_path, GOOD.replace("phase: 2", "phase: 0"))
    settings = Settings(
        STUDYBOT_CONTENT_DIR=root, STUDYBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"
    )
    with pytest.raises(ContentError) as e:
        build(settings)
    assert "t-001: unknown phase 0" in str(e.value)
    assert not (tmp_path / "x.db").exists()  # nothing was opened before content passed


# ------------------------------------------------------------------ the real bank's rules


def test_a_question_past_its_runtime_is_listed_and_never_drawn(tmp_path: Path) -> None:
    """valid_for names the runtimes a fact holds on; once the curriculum's platform runtime
    is past its end the question is retired, and `content check` lists it."""
    held = GOOD + GOOD.replace("t-001", "t-002").replace(
        "  refs:", '  valid_for: {runtime: {max: "16.4"}, note: Hyperopt}\n  refs:'
    ).replace("Which call records a metric?", "Which call records a metric on 16.4?")
    root = make_content(tmp_path, held)
    content = load_content(root)
    assert content.platform is not None and content.platform.runtime == "16.4"
    assert content.outdated == frozenset() and "t-002" not in content.retired
    cur = root / "curriculum.yaml"
    cur.write_text(cur.read_text().replace('runtime: "16.4"', 'runtime: "17.3"'))
    content = load_content(root)
    assert content.outdated == {"t-002"} and "t-002" in content.retired
    result = CliRunner().invoke(app, ["content", "check", str(root)])
    assert result.exit_code == 0, result.output
    assert "1 question(s) outdated by the platform's runtime (17.3), never drawn: t-002" in (
        " ".join(result.output.split())
    )
    stats = CliRunner().invoke(app, ["content", "stats", "--json", "--dir", str(root)])
    data = json.loads(stats.output)["tracks"]["associate"]
    assert data["outdated"] == ["t-002"]
    assert data["section"]["databricks-ml"] == {"questions": 1, "target": 146}


def test_the_bank_holds_its_mocks_worth_of_every_guide_section(content: Content) -> None:
    """Eight associate and five professional mocks' worth of every section, not retired."""
    for track, minimum, mocks in (("associate", 400, 8), ("professional", 300, 5)):
        t = content.track(track)
        qs = [q for q in content.by_track[track] if q.id not in content.retired]
        assert len(qs) >= minimum and t.exam.bank_mocks == mocks
        for sec in t.guide_sections:
            n = sum(1 for q in qs if q.guide_section == sec.id)
            need = math.ceil(t.exam.questions * sec.weight / 100 * mocks)
            assert t.bank_target(sec) == need
            assert n >= need, (track, sec.id, n, need)


def test_answer_positions_are_balanced(content: Content) -> None:
    for track, qs in content.by_track.items():
        letters = Counter(a for q in qs for a in q.answer)
        total = sum(letters.values())
        for letter, n in letters.items():
            assert n / total <= 0.30, (track, letter, n, total)


def test_every_phase_area_and_difficulty_is_covered(content: Content) -> None:
    assert {q.phase for q in content.questions} == {p.number for p in content.phases}
    assert {q.area for q in content.questions} == {a.id for a in content.areas}
    for qs in content.by_track.values():
        assert {q.difficulty for q in qs} == {1, 2, 3}


def test_questions_have_four_choices_docs_and_a_guide(content: Content) -> None:
    official = (
        "databricks.com",
        "learn.microsoft.com",
        "mlflow.org",
        "spark.apache.org",
        "docs.ray.io",
        "optuna.readthedocs.io",
        "scikit-learn.org",
        "lightgbm.readthedocs.io",
        "databricks-sdk-py.readthedocs.io",
        "pandas.pydata.org",
        "docs.python.org",
        "xgboost.readthedocs.io",
        "pytorch.org",
        "hyperopt.github.io",
    )
    for q in content.questions:
        assert len(q.choices) == 4, q.id
        assert q.guide == content.track(q.track).exam.guide, q.id
        assert any(r.split("/")[2].endswith(official) for r in q.refs), (q.id, q.refs)
        if q.multi:
            assert "(Choose two.)" in q.prompt, q.id


def test_no_two_questions_share_a_prompt(content: Content) -> None:
    prompts = Counter(" ".join(q.prompt.lower().split()) for q in content.questions)
    assert [p for p, n in prompts.items() if n > 1] == []


def test_content_check_prints_one_problem_per_line_however_narrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped into a script (or an 80-column terminal), each problem stays on one line."""
    monkeypatch.setenv("COLUMNS", "60")
    bad = GOOD.replace("guide_section: databricks-ml", "guide_section: a-section-nobody-defined")
    result = CliRunner().invoke(app, ["content", "check", str(make_content(tmp_path, bad))])
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if "t-001" in x]
    assert line.startswith("content/questions/associate/bad.yaml:1: t-001: unknown guide_section")
    assert line.endswith("model-deployment, model-development)")
