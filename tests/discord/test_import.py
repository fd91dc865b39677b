"""`/study questions import file:` through the real client: the attached file is
downloaded and imported all or nothing; one bad row imports nothing and is named by line;
a file over the limit is refused before it is downloaded."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from bot.content.drafts import CSV_HEADER
from bot.content.models import Content
from bot.core import StudyBot
from bot.features.own_files import MAX_BYTES
from bot.store.models import GroupQuestion
from tests.discord.fake import FakeDiscord
from tests.discord.harness import ALICE, LEAD, Harness, modal_inputs

pytestmark = pytest.mark.anyio
REF = "https://docs.databricks.com/en/machine-learning/index.html"


def csv_file(content: Content, rows: list[dict[str, str]]) -> bytes:
    domain = content.tracks[0].domains[0].id
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_HEADER), lineterminator="\n")
    w.writeheader()
    for n, changes in enumerate(rows, start=1):
        base = {
            "prompt": f"Which setting does team {n} change first?",
            "a": f"the first setting {n}",
            "b": f"the second setting {n}",
            "c": f"the third setting {n}",
            "d": f"the fourth setting {n}",
            "answer": "B",
            "explanation": f"B is right for team {n}; A, C and D are not.",
            "domain": domain,
            "difficulty": "2",
            "ref": REF,
        }
        w.writerow({**base, **changes})
    return buf.getvalue().encode()


def stored(bot: StudyBot) -> int:
    with bot.store.transaction(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(GroupQuestion)) or 0)


async def start(h: Harness, content: Content) -> None:
    out = await h.command("setup", LEAD, track=content.tracks[0].id, start="2026-03-02", tz="UTC")
    assert "Study group created" in out.text()


async def test_an_attached_file_is_imported(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    good = fake.attach("team.csv", csv_file(content, [{}, {}, {}]))
    out = await h.command("import", LEAD, file=good)
    assert "Imported from team.csv: added 3" in out.text()
    assert fake.of("GET", r"^/cdn/")  # downloaded from where Discord keeps it
    assert stored(bot) == 3


async def test_one_bad_row_imports_nothing_and_names_it(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    bad = fake.attach("team.csv", csv_file(content, [{}, {"answer": "E"}, {}]))
    out = await h.command("import", LEAD, file=bad)
    said = out.text()
    assert "Nothing was imported" in said
    assert "team.csv:3: answer 'E' is outside the choices A, B, C, D" in said
    assert stored(bot) == 0


async def test_a_member_and_a_file_too_big_are_refused(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content
) -> None:
    await start(h, content)
    good = fake.attach("team.csv", csv_file(content, [{}]))
    assert "Only a group lead" in (await h.command("import", ALICE, file=good)).text()
    huge = fake.attach("huge.csv", b"prompt\n", size=MAX_BYTES + 1)
    before = len(fake.of("GET", r"^/cdn/"))
    out = await h.command("import", LEAD, file=huge)
    assert "huge.csv is 2.0 MB" in out.text() and "at most 2 MB" in out.text()
    assert len(fake.of("GET", r"^/cdn/")) == before  # nothing was downloaded
    assert stored(bot) == 0


async def test_import_alone_says_how_to_attach(h: Harness, content: Content) -> None:
    await start(h, content)
    out = await h.command("import", LEAD)
    assert out.callback.kind == 4  # no modal: Discord attaches files to the command
    assert "file:" in out.text() and ",".join(CSV_HEADER) in out.text()


async def test_editing_an_imported_question_in_the_form(
    h: Harness, fake: FakeDiscord, bot: StudyBot, content: Content
) -> None:
    """`/study questions list action:edit id:…` alone opens add's form filled with the
    question, in two pages; saving keeps the id."""
    await start(h, content)
    out = await h.command("import", LEAD, file=fake.attach("team.csv", csv_file(content, [{}])))
    with bot.store.transaction(read_only=True) as s:
        [qid] = s.scalars(select(GroupQuestion.question_id)).all()
    assert qid in out.text()
    first = await h.command("questions", LEAD, action="edit", id=qid)
    assert first.callback.kind == 9, out.text()
    inputs = modal_inputs(first.callback.data)
    assert inputs["prompt"]["value"] == "Which setting does team 1 change first?"
    note = await h.submit(first.callback.data, LEAD, prompt="Which setting changes first?")
    second = await h.press(note.last, "Continue", LEAD)
    assert modal_inputs(second.callback.data)["answer"]["value"] == "B"
    saved = await h.submit(second.callback.data, LEAD, answer="C")
    assert qid in saved.text() and "Which setting changes first?" in saved.text()
