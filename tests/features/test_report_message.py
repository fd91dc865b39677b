""" "Report this question" on a message: the question a message shows is read from its
text, and the form's submission files the same report as `/study flag`."""

from __future__ import annotations

from sqlalchemy import select

from bot.content.models import Content
from bot.core import StudyBot
from bot.store.db import Store
from bot.store.models import Flag
from tests.features.test_setup_form import GOOD
from tests.helpers import Chat, question_in


def test_the_daily_post_gives_the_report_form(
    bot: StudyBot, alice: Chat, content: Content, sqlite_store: Store
) -> None:
    shown = alice.send("/study today")
    q = question_in(content, shown)
    reply = bot.report_form(alice.who, shown.plain_text())
    assert not reply.refused
    form = reply.form
    assert form is not None and (form.command, form.title) == ("flag", "Report this question")
    assert [f.name for f in form.fields] == ["reason"] and form.fixed == (("question", q.id),)
    text = alice.call("flag", **form.args({"reason": "two choices fit"})).plain_text()
    assert f"Thanks: {q.id} is reported to the maintainers (two choices fit)." in text
    with sqlite_store.transaction(read_only=True) as s:
        flags = s.scalars(select(Flag)).all()
    assert [(f.question_id, f.reason) for f in flags] == [(q.id, "two choices fit")]
    again = alice.call("flag", **form.args({"reason": "the key is C"})).plain_text()
    assert "already reported" in again  # the same report as /study flag, updated


def test_an_empty_reason_is_named_beside_its_field(bot: StudyBot, alice: Chat) -> None:
    reply = alice.call("flag", question="a-mt-001", reason="  ")
    assert reply.refused and reply.field_errors[0][0] == "reason"


def test_an_answered_question_and_a_group_s_own_are_recognised(
    bot: StudyBot, lead: Chat, alice: Chat, content: Content
) -> None:
    q = content.by_track["associate"][3]
    footer = f"Some heading\nA. x\nDeploy models · hard · {q.id}"
    form = bot.report_form(alice.who, footer).form
    assert form is not None and form.fixed == (("question", q.id),)
    added = lead.send("/study add " + " ".join(f'{k}="{v}"' for k, v in GOOD.items()))
    own = next(w for w in added.plain_text().split() if w.startswith("g") and "-" in w)
    form = bot.report_form(alice.who, f"Added {own} to this group's own questions").form
    assert form is not None and form.fixed == (("question", own),)
    other = Chat(bot, user="eve", name="Eve", admin=True, channel="C5")
    other.send("/study setup")
    other.send("/study setup track=associate")
    refused = bot.report_form(other.who, f"Deploy · medium · {own}")
    assert refused.refused and refused.form is None  # another group's question is not seen


def test_a_message_without_a_question_is_refused(bot: StudyBot, alice: Chat) -> None:
    for message in ("Welcome to the study group, Alice!", "Meet at g9-999 or a-zz-9999?", ""):
        reply = bot.report_form(alice.who, message)
        assert reply.refused and reply.form is None
        assert "does not show a question" in reply.plain_text()
    a, b = "a-mt-001", "a-mt-002"
    several = bot.report_form(alice.who, f"x · medium · {a}\ny · medium · {b}")
    assert several.refused and "several questions" in several.plain_text()


def test_outside_a_group_the_refusal_says_so(bot: StudyBot) -> None:
    nobody = Chat(bot, user="zed", name="Zed", channel="C42")
    reply = bot.report_form(nobody.who, "Deploy · medium · a-mt-001")
    assert reply.refused and "no study group" in reply.plain_text()
