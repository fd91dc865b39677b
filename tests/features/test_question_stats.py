"""Question statistics from first attempts: `studybot content analytics` and the likely
wrong keys in `studybot content flags`."""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.cli_analytics import CSV_COLUMNS
from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.features.question_stats import question_stats
from bot.store.db import Store
from tests import seeding
from tests.helpers import Chat, FakeClock, start
from tests.seeding import T0, distractor, seed_wrong_key, singles


def studybot(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


@pytest.fixture
def ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content) -> Iterator[StudyBot]:
    """A group in C1 whose database is the one the CLI reads (STUDYBOT_DATABASE_URL)."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", url)
    store = Store.from_url(url)
    bot = StudyBot(store, content, clock=FakeClock(start(2026, 3, 2)))
    Chat(bot, user="lead", name="Lee", admin=True).send("/study setup track=associate tz=UTC")
    yield bot
    store.dispose()


def records(result: Result) -> dict[str, dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in json.loads(result.stdout)["questions"]}


def test_strong_members_preferring_a_distractor_flag_exactly_that_key(
    ops: StudyBot, content: Content
) -> None:
    target, qs, _ = seed_wrong_key(ops, content, strong=12, weak=24)
    result = studybot("content", "analytics", "--json")
    data = json.loads(result.stdout)
    assert data["min_attempts"] == 10
    wrong = [r["id"] for r in data["questions"] if "likely_wrong_key" in r["flags"]]
    assert wrong == [target.id]
    assert data["questions"][0]["id"] == target.id  # flagged first
    rec = records(result)[target.id]
    assert rec["attempts"] == 36 and rec["strongest_third"] == 12
    assert rec["strong_choices"][distractor(target)] == 9
    assert rec["strong_choices"][target.answer[0]] == 3
    assert sum(rec["choices"].values()) == 36
    assert set(rec["choices"]) == set(target.letters())
    for q in qs[1:]:
        assert records(result)[q.id]["discrimination"] > 0.3, q.id


def test_discrimination_is_the_corrected_point_biserial(ops: StudyBot, content: Content) -> None:
    """Against an independent computation: right (0/1) on the question against the
    member's share right on the other questions."""
    target, qs, ids = seed_wrong_key(ops, content, strong=6, weak=9)
    with ops.store.transaction(read_only=True) as s:
        got = {r.question_id: r for r in question_stats(s, content)}
    picks = _picks_by_member(ops, ids)
    for q in (target, qs[3]):
        xs, ys = [], []
        for member in picks.values():
            others = [q2.is_correct(c) for q2, c in member.items() if q2 != q]
            xs.append(float(q.is_correct(member[q])))
            ys.append(sum(others) / len(others))
        assert got[q.id].discrimination == pytest.approx(statistics.correlation(xs, ys))
    assert got[target.id].discrimination is not None and got[target.id].discrimination < 0
    assert "not_discriminating" in got[target.id].flags


def _picks_by_member(bot: StudyBot, ids: Sequence[int]) -> dict[int, dict[Question, str]]:
    from sqlalchemy import select

    from bot.store.models import QuizAnswer

    out: dict[int, dict[Question, str]] = {uid: {} for uid in ids}
    with bot.store.transaction(read_only=True) as s:
        rows = s.execute(select(QuizAnswer.user_id, QuizAnswer.question_id, QuizAnswer.choice))
        for uid, qid, choice in rows:
            out[uid][bot.content.by_id[qid]] = choice
    return out


def test_fewer_first_attempts_than_the_minimum_flag_nothing(
    ops: StudyBot, content: Content
) -> None:
    target, _, _ = seed_wrong_key(ops, content, strong=3, weak=6)
    data = json.loads(studybot("content", "analytics", "--json").stdout)
    assert all(r["flags"] == [] for r in data["questions"]) and len(data["questions"]) == 12
    lower = studybot("content", "analytics", "--json", "--min-attempts", "9")
    assert json.loads(lower.stdout)["min_attempts"] == 9
    assert "likely_wrong_key" in records(lower)[target.id]["flags"]
    table = studybot("content", "analytics", "--min-attempts", "9")
    assert table.exit_code == 0
    assert "need at least 9 first attempts (--min-attempts N, 1 to 10)" in table.stdout
    assert table.stdout.index(target.id) < table.stdout.index(singles(content, 2)[1].id)


def test_only_first_attempts_count(ops: StudyBot, content: Content) -> None:
    """Later answers (a review, a daily question, a mock exam) never replace a member's
    first pick; a question left blank in a mock exam, or an open exam, is no attempt."""
    target, _, ids = seed_wrong_key(ops, content, strong=12, weak=24)
    gid, _ = seeding.group_id(ops.store)
    later = T0 + timedelta(days=5)
    for k, uid in enumerate(ids[:12]):
        seeding.review(ops.store, gid, uid, [(target, target.answer[0])], later)
        seeding.daily(ops.store, gid, uid, target, target.answer[0], later + timedelta(hours=k))
    extra = seeding.add_members(ops.store, gid, ["Exam A", "Exam B", "Exam C"], T0, "x")
    seeding.exam(ops.store, gid, extra[0], [(target, target.answer[0])], later)
    seeding.exam(ops.store, gid, extra[1], [(target, "")], later)
    seeding.exam(ops.store, gid, extra[2], [(target, target.answer[0])], later, status="open")
    rec = records(studybot("content", "analytics", "--json"))[target.id]
    assert rec["attempts"] == 37  # 36 quiz answers and one closed exam's
    assert rec["strongest_third"] == 13 and rec["strong_choices"][distractor(target)] >= 9
    assert "likely_wrong_key" in rec["flags"]


def test_a_first_attempt_belongs_to_the_group_it_was_made_in(
    ops: StudyBot, content: Content
) -> None:
    target, _, ids = seed_wrong_key(ops, content, strong=12, weak=24)
    Chat(ops, user="lead", name="Lee", admin=True, channel="C2").send("/study setup tz=UTC")
    g1, _ = seeding.group_id(ops.store, "C1")
    g2, _ = seeding.group_id(ops.store, "C2")
    newcomer = seeding.add_members(ops.store, g2, ["New"], T0, "n")[0]
    seeding.quiz(ops.store, g2, newcomer, [(target, target.answer[0])], T0)
    seeding.join(ops.store, g2, ids[0], T0)  # a C1 member joins C2 and sees it again
    seeding.quiz(ops.store, g2, ids[0], [(target, target.answer[0])], T0 + timedelta(days=3))
    with ops.store.transaction(read_only=True) as s:
        everywhere = {r.question_id: r for r in question_stats(s, content)}
        in_c1 = {r.question_id: r for r in question_stats(s, content, group_id=g1)}
        in_c2 = {r.question_id: r for r in question_stats(s, content, group_id=g2)}
    assert everywhere[target.id].attempts == 37
    assert in_c1[target.id].attempts == 36 and in_c1[target.id].likely_wrong_key
    assert in_c2[target.id].attempts == 1 and in_c2[target.id].flags == ()


def test_too_easy_too_hard_and_not_discriminating(ops: StudyBot, content: Content) -> None:
    base = singles(content, 10, skip=20)
    easy, hard, upside_down = base[:3]
    gid, _ = seeding.group_id(ops.store)
    ids = seeding.add_members(ops.store, gid, [f"M{i}" for i in range(12)], T0)
    for i, uid in enumerate(ids):  # member i gets base[3 + j] right while i < 9 - j
        picks = [(q, q.answer[0] if i < 9 - j else distractor(q)) for j, q in enumerate(base[3:])]
        picks.append((easy, easy.answer[0]))
        picks.append((hard, hard.answer[0] if i == 0 else distractor(hard, i % 3)))
        # the weakest right, the middle wrong, the strongest mostly right
        right_here = i >= 8 or i in (0, 1, 2)
        picks.append(
            (upside_down, upside_down.answer[0] if right_here else distractor(upside_down))
        )
        seeding.quiz(ops.store, gid, uid, picks, T0 + timedelta(hours=i))
    got = records(studybot("content", "analytics", "--json"))
    assert got[easy.id]["flags"] == ["too_easy"] and got[easy.id]["facility"] == 1.0
    assert got[easy.id]["discrimination"] is None  # everyone right: no variance
    assert got[hard.id]["flags"] == ["too_hard"] and got[hard.id]["facility"] < 0.2
    assert got[upside_down.id]["discrimination"] < 0
    assert got[upside_down.id]["flags"] == ["not_discriminating"]
    assert all(got[q.id]["flags"] == [] for q in base[3:]), {q.id: got[q.id] for q in base[3:]}


def test_multi_answer_wrong_key_compares_whole_selections(ops: StudyBot, content: Content) -> None:
    multi = [q for q in content.by_track["associate"] if q.multi and len(q.answer) == 2][:2]
    wrong_key, sound = multi
    others = singles(content, 8, skip=40)
    gid, _ = seeding.group_id(ops.store)
    ids = seeding.add_members(ops.store, gid, [f"M{i}" for i in range(15)], T0)
    rng = random.Random(3)

    def other_pair(q: Question) -> str:
        key = set(q.answer)
        keep = sorted(key)[0]
        swap = next(x for x in q.letters() if x not in key)
        return "".join(sorted({keep, swap}))

    for i, uid in enumerate(ids):
        strong = i < 5
        picks = [(q, q.answer[0] if strong else rng.choice(q.letters())) for q in others]
        for q in (wrong_key, sound):
            if strong:
                choice = other_pair(q) if q is wrong_key and i != 4 else "".join(q.answer)
            else:
                choice = "".join(sorted(rng.sample(q.letters(), 2)))
            picks.append((q, choice))
        seeding.quiz(ops.store, gid, uid, picks, T0 + timedelta(hours=i))
    got = records(studybot("content", "analytics", "--json"))
    assert "likely_wrong_key" in got[wrong_key.id]["flags"]
    assert got[wrong_key.id]["strong_selections"] == {
        other_pair(wrong_key): 4,
        "".join(wrong_key.answer): 1,
    }
    shared = sorted(wrong_key.answer)[0]  # in both selections: counted per letter
    assert got[wrong_key.id]["strong_choices"][shared] == 5
    assert "likely_wrong_key" not in got[sound.id]["flags"]


def test_csv_has_one_row_per_question_with_the_columns(ops: StudyBot, content: Content) -> None:
    target, qs, _ = seed_wrong_key(ops, content, strong=12, weak=24)
    as_json = records(studybot("content", "analytics", "--json"))
    result = studybot("content", "analytics", "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["id"] == target.id and len(rows) == len(qs)
    for r in rows:
        rec = as_json[r["id"]]
        assert (r["flags"].split(";") if r["flags"] else []) == rec["flags"]
        assert r["choices"] == ";".join(f"{k}={v}" for k, v in rec["choices"].items())
        assert int(r["attempts"]) == rec["attempts"] and r["min_attempts"] == "10"
    assert rows[0]["flags"].split(";")[0] == "likely_wrong_key"
    help_text = studybot("content", "analytics", "--help").stdout
    assert "A=3;B=1" in help_text and "joined by ';'" in help_text


@pytest.mark.parametrize("n", ["11", "0"])
def test_min_attempts_out_of_range_is_refused(ops: StudyBot, n: str) -> None:
    result = studybot("content", "analytics", "--min-attempts", n)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        "studybot: --min-attempts must be 1 to 10 (a flag never needs more than 10 first "
        f"attempts); got {n}"
    )


def test_unknown_track_is_one_line(ops: StudyBot) -> None:
    result = studybot("content", "analytics", "--track", "expert")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "studybot: unknown track 'expert'; use one of associate, professional"
    )
    empty = studybot("content", "analytics", "--track", "professional")
    assert empty.exit_code == 0 and "No first attempts yet" in empty.stdout


def test_likely_wrong_keys_appear_in_content_flags(ops: StudyBot, content: Content) -> None:
    assert studybot("content", "flags").stdout == "No open reports.\n"
    target, qs, _ = seed_wrong_key(ops, content, strong=12, weak=24)
    key, picked = target.answer[0], distractor(target)
    line = (
        "likely wrong key from the answer statistics: the strongest third (12 members) "
        f"picked {picked} 9 time(s), the key {key} 3 time(s); 36 first attempts"
    )
    unreported = studybot("content", "flags")
    assert unreported.exit_code == 0
    assert f"{target.id}: no reports; {line}" in unreported.stdout
    member = Chat(ops, user="s000", name="Strong 0")
    member.send(f"/study flag {target.id} the answer should be {picked}")
    member.send(f"/study flag {qs[5].id} unclear wording")
    reported = studybot("content", "flags").stdout
    lines = reported.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith(f"{target.id}: 1 report(s)"))
    assert f"the answer should be {picked}" in lines[head + 1]
    assert lines[head + 2].startswith(f"  - {line}, ") and lines[head + 2].endswith("% right")
    assert "no reports" not in reported
    assert f"{qs[5].id}: 1 report(s)" in reported and reported.count("likely wrong key") == 1
