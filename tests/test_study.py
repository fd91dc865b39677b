"""The study core through the seam, as a member and a lead see it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import OperationalError

from bot.content.models import Content
from bot.core import StudyBot
from bot.features import daily
from bot.seam import Action, Reply, Visibility
from tests.helpers import Chat, FakeClock, find_button, question_in, wrong_letter


def answer_today(chat: Chat, content: Content, right: bool = True) -> tuple[Reply, str]:
    reply = chat.send("/study today")
    q = question_in(content, reply)
    if q.multi:
        for letter in q.answer if right else [wrong_letter(q), *q.answer[1:]]:
            chat.press(letter)
        return chat.press("Submit"), q.id
    letter = q.answer[0] if right else wrong_letter(q)
    return chat.press(letter, reply), q.id


# ------------------------------------------------------------------ setup and membership


def test_setup_creates_group_and_shows_settings(lead: Chat) -> None:
    reply = lead.send("/study setup")
    text = reply.plain_text()
    assert "Databricks Certified Machine Learning Associate" in text
    assert "09:00 on Mon–Fri" in text
    assert "Cohort start: Mon 02 Mar 2026" in text


def test_setup_changes_only_given_values(lead: Chat) -> None:
    lead.send("/study setup tz=Europe/Berlin time=07:45 days=mon,wed,fri exam=2026-06-01")
    text = lead.send("/study setup").plain_text()
    assert "Timezone: Europe/Berlin" in text
    assert "07:45 on Mon, Wed, Fri" in text
    assert "Exam date: Mon 01 Jun 2026" in text
    assert "Cohort start: Mon 02 Mar 2026" in text


def test_non_lead_setup_is_refused_and_changes_nothing(lead: Chat, alice: Chat) -> None:
    reply = alice.send("/study setup tz=Asia/Kolkata")
    assert "Only a group lead" in reply.plain_text()
    assert "Timezone: UTC" in lead.send("/study setup").plain_text()


def test_named_lead_may_change_settings(lead: Chat, alice: Chat) -> None:
    lead.send("/study setup leads=alice")
    assert "Study group updated" in alice.send("/study setup time=10:00").plain_text()


def test_setup_first_time_needs_a_lead(bot: StudyBot) -> None:
    chat = Chat(bot, user="bob", name="Bob", admin=False, channel="C9")
    assert "Only a group lead" in chat.send("/study setup track=associate").plain_text()
    assert "no study group yet" in chat.send("/study today").plain_text()


def test_invalid_values_name_the_accepted_form(lead: Chat) -> None:
    cases = {
        "tz=Mars/Olympus": "Use an IANA name in the form Area/City",
        "start=03/02/2026": "Use YYYY-MM-DD",
        "time=9am": "Use 24-hour HH:MM",
        "days=mon,funday": "Use weekday names separated by commas",
        "track=expert": "Use track=associate or track=professional",
        "colour=blue": "Unknown option 'colour' for setup",
        "exam=2026-01-01": "must come after the start date",
    }
    for arg, message in cases.items():
        assert message in lead.send(f"/study setup {arg}").plain_text(), arg
    # a failed setup with a valid part writes nothing (one transaction per action)
    lead.send("/study setup time=11:00 tz=Nowhere/Land")
    assert "09:00 on Mon–Fri" in lead.send("/study setup").plain_text()


def test_unknown_command_suggests_the_closest(alice: Chat) -> None:
    text = alice.send("/study todya").plain_text()
    assert "Unknown command 'todya'" in text
    assert "/study today" in text
    assert "/study help" in text


def test_join_leave_and_rejoin(alice: Chat) -> None:
    assert "already in this study group" in alice.send("/study join").plain_text()
    assert "You left the study group" in alice.send("/study leave").plain_text()
    assert "not in this study group" in alice.send("/study leave").plain_text()
    assert "Welcome to the study group" in alice.send("/study join").plain_text()


def test_help_lists_every_command_and_one_in_detail(alice: Chat) -> None:
    from bot.registry import COMMANDS

    text = alice.send("/study help").plain_text()
    for c in COMMANDS.values():
        assert f"/study {c.name}" in text
    detail = alice.send("/study help setup").plain_text()
    assert "Usage: /study setup [track=associate|professional]" in detail
    assert "Who: group lead" in detail


# ------------------------------------------------------------------ the daily question


def test_today_shows_a_question_with_buttons(alice: Chat, content: Content) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    assert q.track == "associate"
    assert reply.visibility is Visibility.EPHEMERAL
    assert "Question of the day · Mon 02 Mar 2026" in reply.plain_text()
    labels = [b.label for b in reply.buttons()]
    assert labels[:4] == (["A", "B", "C", "D"] if not q.multi else labels[:4])


def test_same_question_for_everyone_on_a_date(
    bot: StudyBot, lead: Chat, alice: Chat, content: Content
) -> None:
    q1 = question_in(content, alice.send("/study today"))
    q2 = question_in(content, lead.send("/study today"))
    assert q1.id == q2.id


def test_right_answer_gives_feedback_and_points(alice: Chat, content: Content) -> None:
    reply, qid = answer_today(alice, content, right=True)
    q = content.by_id[qid]
    text = reply.plain_text()
    assert text.startswith("✅ Correct")
    points = {1: 10, 2: 15, 3: 20}[q.difficulty]
    assert f"+{points} points" in text
    assert q.explanation.strip()[:40] in text
    assert "Streak: 1 day." in text
    assert "Read more" in text


def _right_answer_today(chat: Chat, content: Content) -> tuple[Action, str]:
    reply = chat.send("/study today")
    q = question_in(content, reply)
    assert not q.multi  # the fixture group's first question takes one click
    button = find_button(reply, q.answer[0])
    return Action(chat.who, button.action_id, button.value), q.id


def test_an_answer_is_committed_before_its_reply_is_made(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content
) -> None:
    """`record` commits the answer (the Slack adapter acks then); `reply()` reads the
    streak afterwards, and it counts the answer just recorded."""
    action, qid = _right_answer_today(alice, content)
    points = {1: 10, 2: 15, 3: 20}[content.by_id[qid].difficulty]
    recorded = bot.record(action)
    board = lead.send("/study leaderboard").plain_text()  # another member sees it
    assert f"Alice — {points} pts" in board
    text = recorded.reply().plain_text()
    assert text.startswith("✅ Correct") and "Streak: 1 day." in text


def test_a_recorded_answer_is_answered_even_if_its_streak_cannot_be_read(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    action, qid = _right_answer_today(alice, content)

    def unreadable(*_args: object) -> int:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(daily, "member_streak", unreadable)
    text = bot.record(action).reply().plain_text()
    assert text.startswith("✅ Correct")
    assert content.by_id[qid].explanation.strip()[:40] in text
    assert "Streak" not in text
    points = {1: 10, 2: 15, 3: 20}[content.by_id[qid].difficulty]
    assert f"Alice — {points} pts" in lead.send("/study leaderboard").plain_text()


def test_wrong_answer_shows_the_right_one(alice: Chat, content: Content) -> None:
    reply, qid = answer_today(alice, content, right=False)
    q = content.by_id[qid]
    text = reply.plain_text()
    assert text.startswith("❌ Not quite")
    assert f"the answer is {q.answer_text()}" in text


def test_second_click_says_what_you_answered_first(alice: Chat, content: Content) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    if q.multi:
        return  # covered by the multi-answer test
    first = wrong_letter(q)
    alice.press(first, reply)
    again = alice.press(q.answer[0], reply).plain_text()
    assert f"You already answered {first} (not right)" in again
    board = alice.send("/study leaderboard").plain_text()
    assert "Alice — 0 pts" in board


def test_multi_answer_toggles_then_submits(bot: StudyBot, alice: Chat, content: Content) -> None:
    from bot.context import Ctx
    from bot.features.daily import daily_for

    multi = next(q for q in content.by_track["associate"] if q.multi)
    # pin today's question to a multi-answer one
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=alice.who)
        row = daily_for(ctx, ctx.require_group(), date(2026, 3, 2))
        row.question_id = multi.id
    reply = alice.send("/study today")
    assert "Pick the letters, then Submit" in reply.plain_text()
    a, b = multi.answer
    step = alice.press(a, reply)
    assert step.replace is True
    assert find_button(step, f"☑ {a}")
    too_few = alice.press("Submit", step).plain_text()
    assert "needs 2 choices; you picked 1" in too_few
    step = alice.press(b, step)
    done = alice.press("Submit", step).plain_text()
    assert done.startswith(f"✅ Correct: {''.join(sorted(multi.answer))}")


def test_no_question_on_days_off(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    clock.set(2026, 3, 7, 12)  # Saturday
    text = alice.send("/study today").plain_text()
    assert "No question today (Sat 07 Mar 2026)" in text
    assert "The next one is on Mon 09 Mar 2026" in text
    lead.send("/study setup skip=2026-03-09")
    assert "The next one is on Tue 10 Mar 2026" in alice.send("/study today").plain_text()


def test_questions_do_not_repeat_until_the_bank_is_used(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    from datetime import timedelta

    from bot.context import Ctx
    from bot.features.daily import daily_for

    bank = content.by_track["associate"]
    seen: list[str] = []
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=lead.who)
        g = ctx.require_group()
        for i in range(len(bank) + 3):
            seen.append(daily_for(ctx, g, date(2026, 3, 2) + timedelta(days=i)).question_id)
    assert len(set(seen[: len(bank)])) == len(bank)
    assert set(seen[len(bank) :]) <= set(seen)


def test_member_timezone_moves_today(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    clock.set(2026, 3, 2, 23, 30)  # Mon 23:30 UTC = Tue in Auckland
    assert "Mon 02 Mar 2026" in alice.send("/study today").plain_text()
    assert "Pacific/Auckland" in alice.send("/study tz Pacific/Auckland").plain_text()
    assert "Tue 03 Mar 2026" in alice.send("/study today").plain_text()
    assert "Unknown timezone" in alice.send("/study tz Pacific/Atlantis").plain_text()
    alice.send("/study tz group")
    assert "Mon 02 Mar 2026" in alice.send("/study today").plain_text()


def test_old_questions_close(alice: Chat, content: Content, clock: FakeClock) -> None:
    reply = alice.send("/study today")
    q = question_in(content, reply)
    clock.set(2026, 3, 5, 12)
    letter = q.answer[0]
    assert "is closed" in alice.press(letter, reply).plain_text()


# ------------------------------------------------------------------ streaks and away


def test_streak_counts_post_days_and_survives_away(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    for day in (2, 3, 4):  # Mon-Wed
        clock.set(2026, 3, day, 12)
        answer_today(alice, content)
    clock.set(2026, 3, 5, 8)  # Thursday morning, not answered yet: streak still 3
    assert "streak 3" in alice.send("/study leaderboard").plain_text()
    assert "paused through Fri 06 Mar 2026" in alice.send("/study away 2").plain_text()
    clock.set(2026, 3, 9, 12)  # Monday after the weekend
    reply, _ = answer_today(alice, content)
    assert "Streak: 4 days." in reply.plain_text()
    clock.set(2026, 3, 11, 12)  # skipped Tuesday: the streak breaks
    reply, _ = answer_today(alice, content)
    assert "Streak: 1 day." in reply.plain_text()


def test_away_validates_days(alice: Chat) -> None:
    assert "from 0 to 60" in alice.send("/study away 99").plain_text()
    assert "Use a whole number" in alice.send("/study away soon").plain_text()
    assert "pause has ended" in alice.send("/study away 0").plain_text()


# ------------------------------------------------------------------ quiz


def test_quiz_runs_through_a_set_with_capped_points(alice: Chat, content: Content) -> None:
    reply = alice.send("/study quiz model-training 7")
    assert "Practice 1 of 7" in reply.plain_text()
    earned = 0
    for i in range(7):
        q = question_in(content, reply)
        assert q.domain == "model-training"
        if q.multi:
            for letter in q.answer:
                reply = alice.press(letter, reply)
            reply = alice.press("Submit", reply)
        else:
            reply = alice.press(q.answer[0], reply)
        text = reply.plain_text()
        assert "✅ Correct" in text
        earned += 1 if "(+1 points)" in text else 0
        if i < 6:
            assert f"Practice {i + 2} of 7" in text
    assert "Practice set done: 7 of 7 right" in reply.plain_text()
    assert earned == 5  # the daily cap
    assert "Alice — 5 pts" in alice.send("/study leaderboard").plain_text()


def test_quiz_validates_arguments(alice: Chat) -> None:
    assert "from 1 to 20" in alice.send("/study quiz 50").plain_text()
    assert "Unknown domain 'cooking'" in alice.send("/study quiz cooking").plain_text()
    assert "Practice 1 of 3" in alice.send("/study quiz 3").plain_text()


def test_quiz_prefers_unseen_questions(alice: Chat, content: Content) -> None:
    first = alice.send("/study quiz automl-platform 20")
    seen = {question_in(content, first).id}
    reply = first
    for _ in range(19):
        q = question_in(content, reply)
        reply = (
            alice.press(q.answer[0] if not q.multi else "Submit", reply)
            if not q.multi
            else alice.press("Submit", alice.press(q.answer[1], alice.press(q.answer[0], reply)))
        )
        if "Practice" in reply.plain_text() and "done" not in reply.plain_text():
            seen.add(question_in(content, Reply(reply.blocks[5:])).id)
    second = alice.send("/study quiz automl-platform 10")
    assert question_in(content, second).id not in seen


def test_someone_elses_quiz_buttons_are_refused(bot: StudyBot, alice: Chat, lead: Chat) -> None:
    reply = alice.send("/study quiz 2")
    text = lead.press("A", reply).plain_text()
    assert "belongs to someone else" in text


# ------------------------------------------------------------------ boards and reports


def test_leaderboard_ranks_by_points_with_deterministic_ties(
    bot: StudyBot, lead: Chat, content: Content
) -> None:
    chats = [Chat(bot, user=f"u{i}", name=n) for i, n in enumerate(["Zed", "Amy", "Bo"])]
    for c in chats:
        c.send("/study join")
    answer_today(chats[0], content, right=True)
    answer_today(chats[1], content, right=True)
    answer_today(chats[2], content, right=False)
    text = chats[2].send("/study leaderboard").plain_text()
    lines = [x for x in text.splitlines() if " pts" in x]
    assert lines[0].startswith("1. Amy")  # tie on points and correct: by name
    assert lines[1].startswith("2. Zed")
    assert "▶ Bo — 0 pts" in text
    assert "accuracy 0%" in text


def test_leaderboard_week_month_all(alice: Chat, content: Content, clock: FakeClock) -> None:
    answer_today(alice, content, right=True)
    clock.set(2026, 3, 10, 12)
    assert "No points yet in this period" in alice.send("/study leaderboard week").plain_text()
    assert "Alice —" in alice.send("/study leaderboard month").plain_text()
    assert "All time" in alice.send("/study leaderboard all").plain_text()
    assert "Unknown period" in alice.send("/study leaderboard year").plain_text()


def test_leaderboard_pages(bot: StudyBot, lead: Chat, content: Content) -> None:
    for i in range(23):
        c = Chat(bot, user=f"m{i:02d}", name=f"Member {i:02d}")
        c.send("/study join")
        answer_today(c, content, right=bool(i % 2))
    page1 = lead.send("/study leaderboard")
    assert "Page 1 of 3" in page1.plain_text()
    page2 = lead.press("Next ▶", page1)
    assert page2.replace and "Page 2 of 3" in page2.plain_text()
    assert "11." in page2.plain_text()


def test_progress_is_private_and_complete(alice: Chat, content: Content) -> None:
    _, qid = answer_today(alice, content, right=True)
    alice.send("/study check S1")
    reply = alice.send("/study progress")
    assert reply.visibility is Visibility.DM
    text = reply.plain_text()
    domain = content.track("associate").domain(content.by_id[qid].domain)
    assert domain is not None
    assert "Phase 1 (ML fundamentals), week 1" in text
    assert "Success checklist: 1/8" in text
    assert f"{domain.name}: 100% of 1 · weight {domain.weight_label}" in text
    assert "Rank: #1 of 2" in text
    assert "Streak: 1 day" in text
    assert "Study next" in text


def test_plan_shows_dates_current_phase_and_pace(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    lead.send("/study setup exam=2026-05-18")  # 11 weeks: between the plan's 10 and 14
    clock.set(2026, 3, 16, 12)
    text = alice.send("/study plan").plain_text()
    assert "▶ Phase 1: ML fundamentals · week 3 (current)" in text
    assert "Mon 02 Mar 2026 – Tue 17 Mar 2026 · 2–3 weeks" in text
    assert "Exam Mon 18 May 2026 (63 days away)" in text
    assert "days behind" in text
    for item in ("F1-1", "F1-2", "F1-3", "F1-4", "F1-5", "F2-1", "F2-2"):
        alice.send(f"/study check {item}")
        lead.send(f"/study check {item}")
    assert "days ahead" in alice.send("/study plan").plain_text()


def test_checklist_check_and_uncheck(alice: Chat) -> None:
    assert "Ticked: P1-2" in alice.send("/study check p1-2").plain_text()
    assert "Already ticked" in alice.send("/study check P1-2").plain_text()
    assert "☑ P1-2" in alice.send("/study checklist").plain_text()
    assert "Unticked: P1-2" in alice.send("/study uncheck P1-2").plain_text()
    assert "No checklist item 'Z9'" in alice.send("/study check Z9").plain_text()


def test_resources_all_and_by_area(alice: Chat) -> None:
    text = alice.send("/study resources").plain_text()
    assert "Official documentation" in text and "Databricks Academy" in text
    assert "MLflow documentation" in alice.send("/study resources mlflow").plain_text()
    assert "Unknown study area" in alice.send("/study resources cooking").plain_text()


def test_workspaces_are_isolated(bot: StudyBot, lead: Chat, content: Content) -> None:
    other = Chat(bot, user="lead", name="Lee", admin=True, workspace="W2")
    assert "no study group yet" in other.send("/study today").plain_text()
    reply = lead.send("/study today")
    q = question_in(content, reply)
    stranger = Chat(bot, user="lead", name="Lee", workspace="W2")
    assert "no study group yet" in stranger.press(q.letters()[0], reply).plain_text()
