"""The member's home (bot/features/home.py) through `StudyBot`, as the Slack adapter calls
it: the screen, its presses in the shown group's channel, and which group it shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.content.models import Content
from bot.core import StudyBot
from bot.features.home import HomeScreen
from bot.seam import Action, Reply, Visibility
from bot.store.models import Answer, User
from tests import seeding
from tests.helpers import Chat, FakeClock, find_button, pin_daily, question_in, single, wrong_letter


def home(chat: Chat, channel: str | None = None) -> HomeScreen:
    screen = chat.bot.home(replace(chat.who, channel_id=""), channel)
    assert isinstance(screen, HomeScreen), screen.plain_text()
    return screen


def press(chat: Chat, screen: Reply, label: str) -> Reply:
    """Press a button of the home as the adapter does: in the shown group's channel."""
    assert isinstance(screen, HomeScreen)
    b = find_button(screen, label)
    who = replace(chat.who, channel_id=screen.channel_id)
    return chat.bot.press(Action(who, b.action_id, b.value))


def test_someone_in_no_group_is_told_how_to_join(bot: StudyBot, lead: Chat) -> None:
    bob = Chat(bot, user="bob", name="Bob")
    screen = home(bob)
    assert screen.channel_id == ""
    assert "You are not in a study group yet" in screen.plain_text()
    assert "/study join" in screen.plain_text()
    with bot.store.transaction(read_only=True) as s:  # the home only reads
        assert s.scalar(select(func.count()).where(User.external_id == "bob")) == 0


def test_answering_today_on_the_home_shows_the_result(
    bot: StudyBot, alice: Chat, content: Content
) -> None:
    screen = home(alice)
    text = screen.plain_text()
    assert screen.channel_id == "C1" and "Your study home" in text
    assert "Streak: 0 days" in text and "Points: 0" in text and "Rank: #" in text
    assert "Due for review: 0 cards" in text and "Your pace: on track" in text
    assert "• Answer today's question, above — /study today" in text
    shown = press(alice, screen, "Show today's question")
    assert isinstance(shown, HomeScreen)
    q = question_in(content, shown)
    if q.multi:
        for letter in q.answer:
            shown = press(alice, shown, letter)
        done = press(alice, shown, "Submit")
    else:
        done = press(alice, shown, q.answer[0])
    assert isinstance(done, HomeScreen) and done.channel_id == "C1"
    text = done.plain_text()
    assert "✅ Correct" in text and "Why: " in text and "Streak: 1 day" in text
    assert "Answer today's question" not in text
    assert "You answered on" in alice.send("/study today").plain_text()  # the same answer
    again = press(alice, shown, q.answer[0] if not q.multi else "Submit")
    assert isinstance(again, HomeScreen) and "✅ Correct" in again.plain_text()  # counted once
    with bot.store.transaction(read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(Answer)) == 1


def test_a_wrong_answer_shows_the_key_and_a_multi_answer_toggles(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    multi = next(q for q in content.by_track["associate"] if q.multi and len(q.answer) == 2)
    pin_daily(bot, alice, content, multi, clock.now.date())
    screen = home(alice)
    first = press(alice, screen, multi.letters()[0])
    assert isinstance(first, HomeScreen) and "☑ A" in first.plain_text()
    assert "[Submit A]" in first.plain_text()
    refused = press(alice, first, "Submit")
    assert refused.refused and "needs 2 choices" in refused.plain_text()
    wrong = [wrong_letter(multi), multi.answer[1]]
    shown: Reply = screen
    for letter in wrong:
        shown = press(alice, shown, letter)
    done = press(alice, shown, "Submit")
    assert f"the answer is {multi.answer_text()}" in done.plain_text()


def test_no_question_on_a_day_off(bot: StudyBot, alice: Chat, clock: FakeClock) -> None:
    clock.set(2026, 3, 7, 12)  # a Saturday
    text = home(alice).plain_text()
    assert "No question today" in text and "Mon 09 Mar 2026" in text


def test_the_group_used_last_and_a_choice_that_holds(
    bot: StudyBot, lead: Chat, alice: Chat, clock: FakeClock, content: Content
) -> None:
    lead2 = Chat(bot, user="lead", name="Lee", admin=True, channel="C2")
    lead2.send("/study setup track=associate start=2026-03-02 tz=UTC time=09:00")
    alice2 = Chat(bot, user="alice", name="Alice", channel="C2")
    alice2.send("/study join")  # joined last: shown first
    assert home(alice).channel_id == "C2"
    clock.advance(minutes=5)
    q = single(content)
    pin_daily(bot, alice, content, q, clock.now.date())
    alice.send("/study today")
    alice.press(q.answer[0])  # answered in C1 since
    screen = home(alice)
    assert screen.channel_id == "C1"
    assert "Your groups (2)" in screen.plain_text() and "#C2" in screen.plain_text()
    clock.advance(minutes=5)
    switched = press(alice, screen, "Switch")
    assert isinstance(switched, HomeScreen) and switched.channel_id == "C2"
    assert switched.chosen_at == clock.now
    clock.advance(minutes=5)
    chosen = bot.home(replace(alice.who, channel_id=""), "C2", switched.chosen_at)
    assert isinstance(chosen, HomeScreen) and chosen.channel_id == "C2"  # the choice holds
    alice.send("/study quiz")  # studying in C1 again brings it first
    later = bot.home(replace(alice.who, channel_id=""), "C2", switched.chosen_at)
    assert isinstance(later, HomeScreen) and later.channel_id == "C1"


def test_a_lead_sees_the_cohort_and_opens_the_report(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    gid, _ = seeding.group_id(bot.store)
    seeding.add_members(bot.store, gid, ["Quiet Quinn"], seeding.T0 - timedelta(days=9))
    screen = home(lead)
    text = screen.plain_text()
    assert "Your group, for its leads" in text and "Members: 3 active" in text
    assert "Quiet 7+ days: 1" in text and "Quiet: Quiet Quinn." in text
    report = press(lead, screen, "Open the cohort report")
    assert not isinstance(report, HomeScreen) and report.visibility is Visibility.EPHEMERAL
    assert "Cohort report" in report.plain_text()
    assert "The readiness chart comes with /study cohort." in report.plain_text()
    assert "Your group, for its leads" not in home(alice).plain_text()
    forged = press(alice, screen, "Open the cohort report")  # a lead's button, pressed
    assert forged.refused and "for the group's leads" in forged.plain_text()


def test_an_open_mock_exam_resumes_in_the_dms(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    alice.send("/study exam")
    screen = home(alice)
    assert "Your mock exam is open." in screen.plain_text()
    assert (
        "Question 1 of " in screen.plain_text() and "• Finish your mock exam" in screen.plain_text()
    )
    resumed = press(alice, screen, "Resume the exam")
    assert resumed.visibility is Visibility.DM and "Resuming your exam" in resumed.plain_text()
    clock.advance(hours=5)
    late = home(alice)
    assert "Its time ran out" in late.plain_text()
    graded = press(alice, late, "See the result")
    assert graded.visibility is Visibility.DM and "Time ran out" in graded.plain_text()


def test_the_home_is_counted_like_a_command(bot: StudyBot, alice: Chat) -> None:
    def seen() -> float:
        labels = {"command": "home", "outcome": "ok"}
        return REGISTRY.get_sample_value("studybot_commands_total", labels) or 0.0

    before = seen()
    home(alice)
    assert seen() == before + 1


def test_the_explanation_line_is_its_first_sentence(content: Content) -> None:
    from bot.features.home_parts import first_sentence

    assert first_sentence("A is right: it works. B is wrong because no.") == "A is right: it works."
    assert len(first_sentence("x" * 900)) == 400
