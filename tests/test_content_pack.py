"""Tracks come from content alone: the bot runs on a small pack for another certification
(tests/fixtures/content_pack: one track, two domains, a dozen questions) through setup,
today, quiz, exam and progress, and no code names the shipped tracks or domains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.console.session import ConsoleSession, default_setup
from adapters.discord.tree import commands_payload
from bot.completions import Completions
from bot.content import Content, load_content
from bot.core import StudyBot
from bot.seam import Who
from bot.store.db import Store
from tests.helpers import Chat, FakeClock, answer_exam_question, question_in, start

ROOT = Path(__file__).resolve().parent.parent
PACK = Path(__file__).parent / "fixtures" / "content_pack"


@pytest.fixture(scope="module")
def pack() -> Content:
    return load_content(PACK)


@pytest.fixture
def pack_bot(sqlite_store: Store, pack: Content) -> StudyBot:
    return StudyBot(sqlite_store, pack, clock=FakeClock(start(2026, 3, 2)))


def test_the_pack_is_another_certification(pack: Content, content: Content) -> None:
    assert [t.id for t in pack.tracks] == ["pg-admin"]
    assert [d.id for d in pack.tracks[0].domains] == ["backup-recovery", "query-tuning"]
    assert len(pack.questions) == 12
    assert not {t.id for t in pack.tracks} & {t.id for t in content.tracks}


def test_setup_today_quiz_exam_and_progress_on_the_pack(pack_bot: StudyBot, pack: Content) -> None:
    lead = Chat(pack_bot, user="lead", name="Lee", admin=True)
    made = lead.send("/study setup start=2026-03-02 tz=UTC").plain_text()
    assert "Study group created" in made
    assert "PostgreSQL Administration (sample pack)" in made  # the content's first track

    refused = lead.send("/study setup track=expert").plain_text()
    assert "Unknown track 'expert'. Use track=pg-admin." in refused

    alice = Chat(pack_bot, user="alice", name="Alice")
    alice.send("/study join")
    today = alice.send("/study today")
    q = question_in(pack, today)
    assert q.track == "pg-admin"
    domain = pack.tracks[0].domain(q.domain)
    assert domain is not None and domain.name in today.plain_text()
    answered = alice.press(q.answer[0], today)
    if q.multi:
        for letter in q.answer[1:]:
            answered = alice.press(letter, answered)
        answered = alice.press("Submit", answered)
    assert "Correct" in answered.plain_text()

    quiz = alice.send("/study quiz query-tuning 3")
    assert "Practice 1 of 3" in quiz.plain_text()
    assert question_in(pack, quiz).domain == "query-tuning"
    unknown = alice.send("/study quiz nosuch").plain_text()
    assert "Use one of: backup-recovery, query-tuning." in unknown

    exam = alice.send("/study exam")
    assert "Mock exam started: 10 questions in 20 minutes" in exam.plain_text()
    assert "PostgreSQL Administration (sample pack) exam weights" in exam.plain_text()
    reply = exam
    for _ in range(10):
        reply = answer_exam_question(alice, pack, reply, right=True)
    reply = alice.press("Review & submit", reply)
    report = alice.press("Submit", reply).plain_text()
    assert "10 of 10" in report, report
    wrong_word = alice.send("/study exam associate").plain_text()
    assert "Use pg-admin, flag or submit" in wrong_word

    progress = alice.send("/study progress").plain_text()
    assert "Backup and Recovery" in progress and "Query Tuning" in progress
    plan = alice.send("/study plan").plain_text()
    assert "Keep the data safe" in plan
    passed = alice.send("/study passed 2026-03-02").plain_text()
    assert "PostgreSQL Administration (sample pack)" in passed and "3 years" in passed


def test_help_shows_the_packs_tracks_and_ids(pack_bot: StudyBot) -> None:
    lead = Chat(pack_bot, user="lead", name="Lee", admin=True)
    lead.send("/study setup")
    setup_help = lead.send("/study help setup").plain_text()
    assert "[track=pg-admin]" in setup_help
    assert "/study setup track=pg-admin start=" in setup_help
    assert "/study quiz backup-recovery 10" in lead.send("/study help quiz").plain_text()
    assert "[pg-admin|flag|submit]" in lead.send("/study help exam").plain_text()


def test_the_discord_tree_offers_the_packs_tracks_and_domains(pack: Content) -> None:
    """The tree's track and domain options complete from the pack, not from the code."""
    group = next(c for c in commands_payload(pack) if c["name"] == "study")
    options = {o["name"]: o for o in group["options"]}
    for command, param in (("setup", "track"), ("exam", "track"), ("quiz", "domain")):
        (opt,) = [p for p in options[command]["options"] if p["name"] == param]
        assert opt.get("autocomplete") is True, (command, param)

    offered = Completions(pack)
    nobody = Who("discord", "G1", "C1", "U1", "Ada")

    def values(command: str, param: str) -> list[str]:
        return [v for _name, v in offered.values(nobody, command, param)]

    assert values("setup", "track") == ["pg-admin"]
    assert values("exam", "track") == ["pg-admin", "flag", "submit"]
    assert values("quiz", "domain") == ["backup-recovery", "query-tuning"]


def test_the_terminal_sets_up_on_the_packs_first_track(pack_bot: StudyBot) -> None:
    me = ConsoleSession(pack_bot, "Ada", is_admin=True)
    me.setup(default_setup(pack_bot.clock().date()))
    shown = me.send("/study setup")
    assert shown is not None and "PostgreSQL Administration" in shown.plain_text()


# --------------------------------------------------------------------------- no ids in code


def _shipped_ids(content: Content) -> set[str]:
    ids: set[str] = set()
    for t in content.tracks:
        ids.add(t.id)
        ids.update(d.id for d in t.domains)
        ids.update(s.id for s in t.guide_sections)
    return ids


def test_no_code_names_a_shipped_track_domain_or_section(content: Content) -> None:
    """Defaults, choices, examples and help come from the content: the sources of the
    core, the adapters and the scheduler (and the generated Slack manifest) never spell
    a track, domain or guide-section id of the shipped bank."""
    ids = _shipped_ids(content)
    assert {"associate", "professional"} <= ids
    pattern = re.compile(
        r"(?<![\w-])("
        + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        + r")(?![\w-])",
        re.IGNORECASE,
    )
    found = []
    files = [p for d in ("bot", "adapters", "scheduler") for p in (ROOT / d).rglob("*.py")]
    files.append(ROOT / "adapters" / "slack" / "manifest.yaml")
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in pattern.finditer(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {m.group(0)}")
    assert not found, "\n".join(found)
