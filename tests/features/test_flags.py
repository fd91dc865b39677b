"""Reporting questions, pulling them from rotation and reviewing reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.content.models import Content
from bot.context import Ctx
from bot.core import StudyBot
from bot.store.db import Store
from bot.store.models import Flag
from tests.helpers import Chat, answer_today, question_in, wrong_letter


def test_flag_the_last_answered_question(alice: Chat, content: Content) -> None:
    assert "Answer a question first" in alice.send("/study flag wrong key").plain_text()
    reply = alice.send("/study today")
    q = question_in(content, reply)
    alice.press(q.answer[0] if not q.multi else "Submit", reply)
    text = alice.send("/study flag the key should be B").plain_text()
    assert f"Thanks: {q.id} is reported to the maintainers (the key should be B)." in text
    again = alice.send("/study flag actually C").plain_text()
    assert "already reported" in again
    assert "Say what is wrong" in alice.send(f"/study flag {q.id}").plain_text()


def test_flag_by_id_and_from_the_feedback_button(alice: Chat, content: Content) -> None:
    qid = content.by_track["associate"][5].id
    assert f"Thanks: {qid} is reported" in alice.send(f"/study flag {qid} two fit").plain_text()
    reply = alice.send("/study quiz 1")
    q = question_in(content, reply)
    feedback = alice.press(wrong_letter(q) if not q.multi else "Submit", reply)
    if q.multi:
        return
    text = alice.press("⚑ Report a problem", feedback).plain_text()
    assert f"Thanks: {q.id} is reported to the maintainers." in text


def test_three_members_pull_a_question_until_reviewed(
    bot: StudyBot,
    lead: Chat,
    content: Content,
    sqlite_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    target = content.by_track["associate"][0]
    for i in range(3):
        c = Chat(bot, user=f"f{i}", name=f"F{i}")
        c.send("/study join")
        c.send(f"/study flag {target.id} the explanation contradicts the key")
    # pulled: today's pick avoids it even when it would be next; quizzes skip it
    from bot.features.flags import pulled

    with sqlite_store.transaction() as s:
        assert target.id in pulled(s, 3)
    quiz_ids = set()
    for _ in range(4):
        reply = (
            lead.send("/study quiz automl-platform 20")
            if target.domain == "automl-platform"
            else lead.send(f"/study quiz {target.domain} 20")
        )
        quiz_ids.add(question_in(content, reply).id)
    assert target.id not in quiz_ids

    from bot.cli import app

    url = str(sqlite_store.engine.url)
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["content", "flags"])
    assert result.exit_code == 0, result.output
    assert f"{target.id}: 3 report(s) from 3 member(s), PULLED" in result.output
    assert "the explanation contradicts the key" in result.output
    reviewed = CliRunner().invoke(app, ["content", "flags", "--review", target.id])
    assert "3 report(s) marked reviewed" in reviewed.output
    with sqlite_store.transaction() as s:
        assert target.id not in pulled(s, 3)
    assert "No open reports." in CliRunner().invoke(app, ["content", "flags"]).output


def test_pulled_question_is_not_picked_for_the_day(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    from bot.features.rotation import pick_question

    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=lead.who)
        g = ctx.require_group()
        first = pick_question(content, s, g, date(2026, 3, 2))
        other = pick_question(content, s, g, date(2026, 3, 2), frozenset({first.id}))
    assert other.id != first.id


def test_stale_guide_questions_are_listed(content: Content) -> None:
    assert content.stale == frozenset()  # the whole bank is written to the current guides


def test_a_flag_on_an_unknown_id_is_refused_and_changes_nothing(
    alice: Chat, content: Content, bot: StudyBot
) -> None:
    """`flag zz-999 …` used to update the report on the last answered question instead."""
    _, qid = answer_today(alice, content)
    alice.send(f"/study flag {qid} the key looks wrong")
    text = alice.send("/study flag zz-999 nonsense id").plain_text()
    assert "There is no question zz-999" in text and "like a-mt-012" in text
    with bot.store.transaction() as s:
        reasons = list(s.scalars(select(Flag.reason)))
    assert reasons == ["the key looks wrong"]


def test_reviewing_an_id_without_reports_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'f.db'}")
    result = CliRunner().invoke(app, ["content", "flags", "--review", "zz-999"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "zz-999: no open reports on this question; `studybot content flags` lists the reported ones"
    ]
