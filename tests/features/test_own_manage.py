"""`/study questions` and `/study import`: a lead lists the group's own questions with their
statistics and members' reports, edits, retires and restores them, and imports a file in
chat; a member can do none of it, and a retired question leaves every draw."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.console.session import ConsoleSession, default_setup
from bot.content.models import Content
from bot.core import StudyBot
from bot.forms import FieldKind
from bot.seam import Invocation, Reply, Upload
from bot.store.db import Store
from tests.features.test_own_files import csv_text, row
from tests.features.test_own_questions import GOOD, add, own_count, shown_ids, words
from tests.helpers import Chat, FakeClock, find_button


@pytest.fixture
def other(bot: StudyBot, lead: Chat) -> Chat:
    """A lead of a second group (channel C2)."""
    chat = Chat(bot, user="olga", name="Olga", admin=True, channel="C2")
    chat.send("/study setup track=associate start=2026-03-02 tz=UTC")
    return chat


def upload(chat: Chat, name: str, data: str) -> Reply:
    chat.last = chat.bot.handle(
        Invocation(chat.who, "import", {}, (Upload(name, data.encode("utf-8")),))
    )
    return chat.last


def test_the_list_shows_each_question_and_a_member_is_told_it_is_for_leads(
    lead: Chat, alice: Chat
) -> None:
    empty = lead.send("/study questions").plain_text()
    assert "This group has no questions of its own yet" in empty and "/study import" in empty
    add(lead)
    add(
        lead, prompt="Which alias names the version under test in staging?", domain="model-training"
    )
    text = lead.send("/study questions").plain_text()
    assert "The group's own questions · page 1 of 1" in text
    assert "2 question(s), 2 in rotation (own=mix, mock exams: off)" in text
    assert (
        "g1-1 · Model Deployment · in rotation\nWhich alias does the team's nightly job load?"
        in text
    )
    assert "g1-2 · Model Training · in rotation" in text
    assert text.count("no first attempts yet") == 2
    assert [b.label for b in lead.last.buttons()] == ["Retire g1-1", "Retire g1-2"]

    refused = alice.send("/study questions")
    assert refused.refused
    assert "Only a group lead can see and change the group's own questions" in refused.plain_text()
    for line in ("/study questions edit g1-1 answer=B", "/study questions retire g1-1"):
        assert alice.send(line).refused
    assert "· in rotation" in lead.send("/study questions").plain_text()


def test_the_list_is_paged_and_shows_first_attempts(bot: StudyBot, lead: Chat, alice: Chat) -> None:
    for i in range(7):
        add(lead, prompt=f"Which alias does nightly job {i} load?")
    first = lead.send("/study questions")
    assert "page 1 of 2" in first.plain_text() and shown_ids_in(first) == [
        f"g1-{i}" for i in range(1, 6)
    ]
    second = lead.press("Next ▶", first)
    assert second.replace and "page 2 of 2" in second.plain_text()
    assert shown_ids_in(second) == ["g1-6", "g1-7"]
    assert "Next ▶" not in second.plain_text()
    back = lead.press("◀ Previous", second)
    assert "page 1 of 2" in back.plain_text()
    assert alice.press("Next ▶", first).refused  # a member's press on a lead's screen

    lead.send("/study setup own=only")
    today = alice.send("/study today")
    qid = shown_ids(today.plain_text())[0]
    alice.press("A", today)  # every one of them is answered A
    listed = lead.send("/study questions")
    if qid not in shown_ids_in(listed):
        listed = lead.press("Next ▶", listed)
    entry = listed.plain_text().split(f"{qid} ·", 1)[1]
    assert entry.split("\n")[2].startswith("1 first attempt(s) · 100% right")


def shown_ids_in(reply: Reply) -> list[str]:
    return [
        b.label.split()[-1] for b in reply.buttons() if b.label.startswith(("Retire", "Restore"))
    ]


def test_a_lead_edits_a_question_checked_as_add_checks_it(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    add(lead)
    text = lead.send(
        '/study questions edit g1-1 answer=B explanation="B is right: the job loads the '
        'production alias. A, C and D are not."'
    ).plain_text()
    assert text.startswith("Updated g1-1")
    assert "Changed: answer, explanation. Its answers and review cards stay with it." in text
    assert "B is right: the job loads the production alias." in text

    refused = lead.send('/study questions edit g1-1 answer=E c="champion"')
    assert refused.refused
    said = refused.plain_text()
    assert said.startswith("That question was not saved. The bank's checks found:")
    assert "answer 'E' is outside the choices" in said and "duplicate choice 'champion'" in said
    assert "/study questions edit g1-1 key=value…" in said
    kept = lead.send("/study questions edit g1-1")
    assert "B is right: the job loads the production alias." in kept.plain_text()

    assert "There is no question g1-9 among this group's own" in (
        lead.send("/study questions edit g1-9 answer=A").plain_text()
    )
    assert "Say which question" in lead.send("/study questions retire").plain_text()
    assert "Unknown action 'drop'" in lead.send("/study questions drop g1-1").plain_text()
    member = alice.send("/study questions edit g1-1 answer=A")
    assert member.refused and "Only a group lead" in member.plain_text()


def test_edit_alone_gives_a_form_filled_with_the_question(lead: Chat) -> None:
    add(lead, prompt="Which two are aliases? (Choose two.)", answer="A,C")
    reply = lead.send("/study questions edit g1-1")
    form = reply.form
    assert form is not None and form.command == "questions"
    assert [f.name for f in form.fields] == [
        "prompt",
        "a",
        "b",
        "c",
        "d",
        "answer",
        "explanation",
        "domain",
        "difficulty",
        "ref",
    ]
    initial = {f.name: f.initial for f in form.fields}
    assert initial["prompt"] == "Which two are aliases? (Choose two.)"
    assert initial["answer"] == "A,C" and initial["a"] == "champion"
    assert initial["domain"] == "model-deployment" and initial["difficulty"] == "2"
    assert dict(form.fixed) == {"action": "edit", "id": "g1-1"}
    # the terminal shows the question and the words that change it
    assert "/study questions edit g1-1 answer=C" in reply.plain_text()
    # a submission is the command with the form's values
    values = {**initial, "d": "shadow", "answer": "A,C"}
    saved = lead.call("questions", **form.args(values))
    assert saved.plain_text().startswith("Updated g1-1"), saved.plain_text()
    assert "D. shadow" in saved.plain_text()


def test_a_retired_question_leaves_every_draw_and_restore_brings_it_back(
    bot: StudyBot, lead: Chat, alice: Chat, other: Chat, clock: FakeClock
) -> None:
    add(lead)
    lead.send("/study setup own=only")
    said = lead.send("/study questions retire g1-1").plain_text()
    assert said.startswith("Retired g1-1: it leaves the group's daily questions")
    assert "retired already" in lead.send("/study questions retire g1-1").plain_text()
    assert "· retired" in lead.send("/study questions").plain_text()
    for _ in range(5):
        today = alice.send("/study today").plain_text()
        assert not shown_ids(today), today  # own=only with none in rotation: the bank's
        assert not shown_ids(other.send("/study today").plain_text())
        clock.advance(days=1)
    for _ in range(3):
        assert not shown_ids(alice.send("/study quiz 20").plain_text())

    restored = lead.send("/study questions restore g1-1").plain_text()
    assert restored.startswith("Restored g1-1: it is back in the group's rotation.")
    assert "in rotation already" in lead.send("/study questions restore g1-1").plain_text()
    assert shown_ids(alice.send("/study quiz 3").plain_text()) == ["g1-1"]
    assert not shown_ids(other.send("/study quiz 20").plain_text())


def test_the_lists_buttons_retire_and_restore(lead: Chat, alice: Chat) -> None:
    add(lead)
    listed = lead.send("/study questions")
    assert alice.press("Retire g1-1", listed).refused
    retired = lead.press("Retire g1-1", listed)
    assert retired.replace and retired.plain_text().startswith("Retired g1-1")
    assert "g1-1 · Model Deployment · retired" in retired.plain_text()
    back = lead.press("Restore g1-1", retired)
    assert "g1-1 · Model Deployment · in rotation" in back.plain_text()
    assert find_button(back, "Retire g1-1")


def test_members_reports_go_to_the_leads_not_the_maintainers(
    bot: StudyBot,
    lead: Chat,
    alice: Chat,
    sqlite_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    content: Content,
) -> None:
    add(lead)
    bank_q = content.by_track["associate"][0]
    said = alice.send("/study flag g1-1 the key should be B").plain_text()
    assert "Thanks: g1-1 is reported to this group's leads (the key should be B)." in said
    assert "reported to the maintainers" in alice.send(f"/study flag {bank_q.id} typo").plain_text()

    listed = lead.send("/study questions").plain_text()
    assert "members reported g1-1" in listed
    assert "⚑ 1 member report(s): “the key should be B”" in listed

    from bot.cli import app

    monkeypatch.setenv("STUDYBOT_DATABASE_URL", str(sqlite_store.engine.url))
    shown = CliRunner().invoke(app, ["content", "flags"]).output
    assert f"{bank_q.id}: 1 report(s)" in shown and "g1-1" not in shown

    for i in range(3):  # enough reports pull it, until the lead acts
        c = Chat(bot, user=f"m{i}", name=f"M{i}")
        c.send("/study join")
        c.send("/study flag g1-1 two choices fit")
    assert (
        "g1-1 · Model Deployment · pulled by reports" in lead.send("/study questions").plain_text()
    )
    edited = lead.send('/study questions edit g1-1 d="shadow"').plain_text()
    assert "Members' reports on it (4) are marked reviewed." in edited
    after = lead.send("/study questions").plain_text()
    assert "· in rotation" in after and "⚑" not in after


def test_import_in_chat_is_all_or_nothing_and_for_leads(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    bad = csv_text([row(1), row(2, answer="E"), row(3)])
    refused = upload(lead, "team.csv", bad)
    assert refused.refused
    said = refused.plain_text()
    assert said.startswith("Nothing was imported: 1 problem(s) to fix first.")
    assert "team.csv:3: answer 'E' is outside the choices" in said
    assert own_count(bot) == 0

    good = upload(lead, "team.csv", csv_text([row(1), row(2)]))
    assert "Imported from team.csv: added 2 (g1-1 … g1-2)." in good.plain_text()
    assert own_count(bot) == 2

    member = upload(alice, "team.csv", csv_text([row(3)]))
    assert member.refused and "Only a group lead can import" in member.plain_text()
    assert own_count(bot) == 2


def test_import_without_a_file_says_how_to_attach_one(bot: StudyBot, lead: Chat) -> None:
    reply = lead.send("/study import")
    assert "give its path: /study import PATH" in reply.plain_text()
    assert reply.form is not None and reply.form.command == "import"
    (field,) = reply.form.fields
    assert field.name == "file" and field.kind is FieldKind.FILE
    for platform, hint in (
        ("discord", "file option"),
        ("slack", "the form it opens takes the file"),
    ):
        chat = Chat(bot, user="lead", name="Lee", admin=True, platform=platform)
        chat.send("/study setup tz=UTC")
        assert hint in chat.send("/study import").plain_text()


def test_the_terminal_reads_the_path_it_is_given(
    bot: StudyBot, clock: FakeClock, tmp_path: Path
) -> None:
    me = ConsoleSession(bot, "Ada", is_admin=True)
    me.setup(default_setup(clock().date()))
    path = tmp_path / "team.csv"
    path.write_text(csv_text([row(1), row(2, domain="nowhere")]))
    bad = me.send(f"/study import {path}")
    assert bad is not None and bad.refused
    assert "team.csv:3: unknown domain 'nowhere'" in bad.plain_text()
    path.write_text(csv_text([row(1)]))
    done = me.send(f"/study import {path}")
    assert done is not None and "Imported from team.csv: added 1 (g1-1)." in done.plain_text()
    missing = me.send(f"/study import {tmp_path / 'nope.csv'}")
    assert missing is not None and missing.refused
    assert "Cannot read" in missing.plain_text() and "nope.csv" in missing.plain_text()
    listed = me.send("/study questions")
    assert listed is not None and "g1-1 · " in listed.plain_text()
    assert me.send(f"/study add {words(GOOD)}") is not None


def test_an_exported_file_imported_in_chat_updates_in_place(
    bot: StudyBot, lead: Chat, other: Chat
) -> None:
    from bot.features.own_files import export_yaml

    upload(lead, "team.csv", csv_text([row(1), row(2)]))
    with bot.store.transaction(read_only=True) as s:
        from bot.context import Ctx

        g = Ctx(s, content=bot.content, now=bot.clock(), who=lead.who).require_group()
        text, n = export_yaml(s, bot.content, g, "console:W1:C1")
    assert n == 2
    edited = text.replace("Which setting does team 2 change first?", "Which setting goes first?")
    done = upload(lead, "team.yaml", edited)
    assert "Imported from team.yaml: updated 2 (g1-1 … g1-2)." in done.plain_text()
    assert "Which setting goes first?" in lead.send("/study questions").plain_text()
    assert own_count(bot) == 2
    # the same file in another group: its ids are not that group's, so they are added anew
    elsewhere = upload(other, "team.yaml", edited)
    assert "Imported from team.yaml: added 2 (g2-1 … g2-2)." in elsewhere.plain_text()


def test_the_words_edit_shows_give_the_same_question_back(lead: Chat) -> None:
    prompt = 'Which alias does the team\'s "nightly" job load?'
    add(lead, prompt=prompt.replace('"', '\\"'))
    shown = lead.send("/study questions edit g1-1").plain_text()
    line = shown[shown.index("All of it: ") + len("All of it: ") :].strip()
    assert line.startswith('/study questions edit g1-1 prompt="Which alias does the team\'s \\"')
    again = lead.send(line)
    assert again.plain_text().startswith("Updated g1-1"), again.plain_text()
    assert prompt in again.plain_text()
    assert "Changed: nothing. Its answers" in again.plain_text()  # the same question back
