"""A group's own questions: a lead adds them, the bank's rules check them, and they reach
that group's daily questions, quizzes, reviews and (opted in) mock exams, never another
group's."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from adapters.console.session import ConsoleSession, default_setup
from bot.content import check_content
from bot.content.drafts import completed, from_fields
from bot.content.models import Content
from bot.context import Ctx
from bot.core import StudyBot
from bot.features import own_bank
from bot.features.exam.draw import draw
from bot.store.models import GroupQuestion
from tests.helpers import Chat, FakeClock

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "prompt": "Which alias does the team's nightly job load?",
    "a": "champion",
    "b": "production",
    "c": "latest",
    "d": "staging",
    "answer": "A",
    "explanation": "A is right: the job loads models:/name@champion. B, C and D are wrong.",
    "domain": "model-deployment",
    "difficulty": "2",
    "ref": "https://docs.databricks.com/en/machine-learning/manage-model-lifecycle/index.html",
}


def words(fields: dict[str, str]) -> str:
    return " ".join(f'{k}="{v}"' for k, v in fields.items())


def add(chat: Chat, **changes: str) -> str:
    return chat.send(f"/study add {words({**GOOD, **changes})}").plain_text()


def shown_ids(text: str) -> list[str]:
    """The question ids a reply names in its footers (`Domain · medium · g1-2 · ...`)."""
    return re.findall(r"· (g\d+-\d+)\b", text)


def alice_in_first(bot: StudyBot) -> Chat:
    return Chat(bot, user="alice", name="Alice")


def own_count(bot: StudyBot) -> int:
    with bot.store.transaction(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(GroupQuestion)) or 0)


@pytest.fixture
def other(bot: StudyBot, lead: Chat) -> Chat:
    """A member of the lead's group who is also in a second group (channel C2)."""
    second_lead = Chat(bot, user="olga", name="Olga", admin=True, channel="C2")
    second_lead.send("/study setup track=associate start=2026-03-02 tz=UTC")
    chat = Chat(bot, user="alice", name="Alice", channel="C2")
    chat.send("/study join")
    return chat


def test_a_lead_adds_a_question_and_a_member_cannot(bot: StudyBot, lead: Chat, alice: Chat) -> None:
    text = add(lead)
    assert "Added g1-1 to this group's own questions" in text
    assert "Which alias does the team's nightly job load?" in text
    assert "A. champion" in text and "Model Deployment · medium · g1-1" in text
    assert "It joins the group's daily questions and quizzes (own=mix)." in text
    assert lead.last is not None and lead.last.visibility.value == "ephemeral"
    assert "Added g1-2" in add(lead, prompt="Which alias is the newest version's?")

    refused = add(alice)
    assert "Only a group lead can add the group's own questions" in refused
    assert alice.last is not None and alice.last.refused
    assert own_count(bot) == 2


def test_a_multi_answer_question_takes_several_letters(lead: Chat) -> None:
    text = add(lead, prompt="Which two are aliases? (Choose two.)", answer="A,C")
    assert "Added g1-1" in text and "Pick the letters" not in text
    assert "A. champion\nC. latest" in text


def test_a_bad_question_is_refused_with_the_problems_content_check_names(
    bot: StudyBot, lead: Chat, content: Content, tmp_path: Path
) -> None:
    bad = {**GOOD, "c": "champion", "answer": "E", "ref": "http://example.com", "d": ""}
    refused = add(lead, **bad)
    assert refused.startswith("That question was not saved. The bank's checks found:")
    assert own_count(bot) == 0

    # The same question as a bank file: `content check` names the same problems.
    root = tmp_path / "content"
    (root / "questions" / "associate").mkdir(parents=True)
    for name in ("curriculum.yaml", "checklists.yaml"):
        shutil.copy(ROOT / "content" / name, root / name)
    data = completed(from_fields(bad), content, "associate") | {"id": "t-001"}
    (root / "questions" / "associate" / "bad.yaml").write_text(yaml.safe_dump([data]))
    _, problems = check_content(root)
    messages = [p.message for p in problems]
    assert len(messages) == 3, messages
    for message in messages:
        assert f"• {message}" in refused
    assert "duplicate choice 'champion'" in refused
    assert "answer 'E' is outside the choices A, B, C" in refused
    assert "ref is not an https URL: 'http://example.com'" in refused

    missing = lead.send('/study add prompt="Only a prompt"').plain_text()
    for problem in ("empty explanation", "needs at least two choices, has 0", "refs must list"):
        assert problem in missing
    assert "unknown domain None for track associate" in missing


def test_an_own_question_is_drawn_for_its_group_alone(
    bot: StudyBot, lead: Chat, alice: Chat, other: Chat, clock: FakeClock
) -> None:
    add(lead)
    lead.send("/study setup own=only")
    today = alice.send("/study today").plain_text()
    assert shown_ids(today) == ["g1-1"]
    assert "Model Deployment · medium · g1-1" in today
    right = alice.press("A").plain_text()
    assert right.startswith("✅ Correct")
    quiz = alice.send("/study quiz 3").plain_text()
    assert shown_ids(quiz) == ["g1-1"]  # own=only: the group's one question, then nothing more

    # the second group: a month of daily questions and full quizzes, never g1-1
    for _day in range(28):
        text = other.send("/study today").plain_text()
        assert not shown_ids(text), text
        clock.advance(days=1)
    for _ in range(5):
        quiz = other.send("/study quiz 20")
        for _ in range(20):
            assert not shown_ids(quiz.plain_text())
            letters = [b for b in quiz.buttons() if len(b.label) == 1]
            if not letters:
                break
            quiz = other.press(letters[0].label, quiz)
    refused = other.send("/study flag g1-1 the key is wrong").plain_text()
    assert refused.startswith("There is no question g1-1.")


def test_own_off_leaves_them_out_and_mix_draws_with_the_bank(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    add(lead)
    lead.send("/study setup own=off")
    for _ in range(3):
        assert not shown_ids(alice.send("/study quiz 20").plain_text())
    with bot.store.transaction(read_only=True) as s:
        ctx = Ctx(s, content=bot.content, now=bot.clock(), who=lead.who)
        g = ctx.require_group()
        assert ctx.bank.own_ids == {"g1-1"}
        assert "g1-1" in own_bank.exclusions(ctx.bank, g, frozenset())
        mixed = own_bank.exclusions(ctx.bank, g.with_values(own_questions="mix"), frozenset())
        assert mixed == frozenset()
        only = own_bank.exclusions(ctx.bank, g.with_values(own_questions="only"), frozenset())
        assert "g1-1" not in only and len(only) == len(bot.content.by_track["associate"])
        # only, with its one question pulled or retired: the bank's, not nothing
        fallback = own_bank.exclusions(
            ctx.bank, g.with_values(own_questions="only"), frozenset({"g1-1"})
        )
        assert fallback == {"g1-1"}
    settings = lead.send("/study setup").plain_text()
    assert "Own questions: 1 in rotation · daily and quizzes: off · mock exams: off" in settings
    assert "Use own=mix, own=only or own=off" in lead.send("/study setup own=some").plain_text()


def test_mock_exams_draw_them_only_when_the_lead_opts_in(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    import random

    for i in range(30):
        add(lead, prompt=f"Own question number {i}?")
    with bot.store.transaction(read_only=True) as s:
        ctx = Ctx(s, content=bot.content, now=bot.clock(), who=lead.who)
        g = ctx.require_group()
        track = content.track("associate")
        for opted, want in ((False, 0), (True, 1)):
            group = g.with_values(own_in_exams=opted)
            excluded = own_bank.exclusions(ctx.bank, group, frozenset(), exam=True)
            picked = draw(ctx.bank, track, 48, set(), excluded, random.Random(7))
            own = [q.id for q in picked if q.id.startswith("g1-")]
            assert bool(own) == bool(want), own
            # own=off wins over own_exam=on
            off = own_bank.exclusions(
                ctx.bank, group.with_values(own_questions="off"), frozenset(), exam=True
            )
            assert ctx.bank.own_ids <= off
    shown = lead.send("/study setup own_exam=on").plain_text()
    assert "mock exams: on" in shown
    exam = lead.send("/study exam").plain_text()
    assert "Mock exam started: 48 questions" in exam


def test_reviews_show_an_own_question_in_its_group_only(
    bot: StudyBot, lead: Chat, alice: Chat, other: Chat, clock: FakeClock
) -> None:
    add(lead)
    lead.send("/study setup own=only")
    alice.send("/study today")
    alice.press("B")  # wrong: the card is due tomorrow
    clock.advance(days=1)
    mine = alice.send("/study review").plain_text()
    assert "1 card due" in mine and shown_ids(mine) == ["g1-1"]
    elsewhere = other.send("/study review").plain_text()
    assert "Nothing to review right now" in elsewhere
    assert "Due for review: 0 cards" in other.send("/study progress").plain_text()
    assert "Due for review: 1 card" in alice_in_first(bot).send("/study progress").plain_text()


def test_ids_are_never_given_twice(bot: StudyBot, lead: Chat) -> None:
    add(lead)
    with bot.store.transaction() as s:
        s.execute(GroupQuestion.__table__.delete())  # even if a row were gone
    assert "Added g1-2" in add(lead)


def test_the_terminal_opens_another_local_group(bot: StudyBot, clock: FakeClock) -> None:
    first = ConsoleSession(bot, "Ada", is_admin=True)
    first.setup(default_setup(clock().date()))
    reply = first.send(f"/study add {words(GOOD)}")
    assert reply is not None and "Added g1-1" in reply.plain_text()
    first.send("/study setup own=only")
    shown = first.send("/study today")
    assert shown is not None and shown_ids(shown.plain_text()) == ["g1-1"]

    second = ConsoleSession(bot, "Ada", is_admin=True, channel="reading-club")
    assert not second.has_group()
    second.setup(default_setup(clock().date()))
    for _ in range(5):
        text = second.send("/study today")
        assert text is not None and not shown_ids(text.plain_text())
        clock.advance(days=1)
    assert second.send("/study setup own=only") is not None
    quiz = second.send("/study quiz 20")
    assert quiz is not None and not shown_ids(quiz.plain_text())


def test_the_daily_post_shows_an_own_question(bot: StudyBot, lead: Chat, content: Content) -> None:
    from bot.features.posts import daily_post, reveal_post

    add(lead)
    lead.send("/study setup own=only")
    with bot.store.transaction() as s:
        from bot.features.daily import daily_for

        ctx = Ctx(s, content=content, now=bot.clock(), who=lead.who)
        row = daily_for(ctx, ctx.require_group(), date(2026, 3, 2))
        assert row.question_id == "g1-1"
        row2 = daily_for(ctx, ctx.require_group(), date(2026, 3, 2) + timedelta(days=1))
        post = daily_post(s, content, row2).plain_text()
        revealed = reveal_post(s, content, row)
    assert "Which alias" in post
    assert revealed is not None  # yesterday's, revealed in its thread
    assert "Answer to Mon 02 Mar 2026: A\nA. champion" in revealed.plain_text()
