"""Mock exams: drawing, the attempt, timing, grading and the report."""

from __future__ import annotations

import math
import random
import re
from collections import Counter

import pytest
from sqlalchemy import select

from bot.content.models import Content
from bot.context import Ctx
from bot.core import StudyBot
from bot.features.exam.draw import draw, quotas
from bot.features.exam.grading import close_expired_exams
from bot.seam import Visibility
from bot.store.db import Store
from bot.store.models import ExamAttempt
from tests.helpers import Chat, FakeClock, answer_exam_question, question_in


def test_exam_runs_in_dms_with_the_real_shape(alice: Chat, content: Content) -> None:
    reply = alice.send("/study exam")
    text = reply.plain_text()
    assert reply.visibility is Visibility.DM
    assert "Mock exam started: 48 questions in 90 minutes" in text
    assert "Mock exam · Question 1 of 48" in text
    assert "⏱ 1 h 30 min left (ends 13:30 UTC) · answered 0 of 48 · flagged 0" in text
    labels = [b.label for b in reply.buttons()]
    assert "Next ▶" in labels and "⚑ Flag" in labels and "Review & submit" in labels
    assert "◀ Previous" not in labels


def test_exam_answers_change_flags_and_report(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    first = question_in(content, reply)
    reply = answer_exam_question(alice, content, reply, right=False)
    if not first.multi:
        assert "Saved" in reply.plain_text() and "Question 2 of 48" in reply.plain_text()
    reply = alice.press("⚑ Flag", reply)
    assert "Flagged question 2 for review" in reply.plain_text()
    assert "Question 2 of 48 ⚑" in reply.plain_text()
    back = alice.press("◀ Previous", reply)
    assert "Question 1 of 48" in back.plain_text()
    assert back.replace is True
    # change the first answer to the right one
    fixed = answer_exam_question(alice, content, back, right=True)
    assert "Question 2 of 48" in fixed.plain_text() or "Saved" in fixed.plain_text()
    clock.advance(minutes=20)
    flag_cmd = alice.send("/study exam flag")
    assert "Unflagged question 2" in flag_cmd.plain_text()
    assert "1 h 10 min left" in flag_cmd.plain_text()
    review_page = alice.press("Review & submit", flag_cmd)
    page = review_page.plain_text()
    assert "review before you submit" in page
    assert "Answered: 1 of 48" in page
    assert "Unanswered: 2, 3, 4" in page
    report = alice.press("Submit", review_page)
    text = report.plain_text()
    assert report.visibility is Visibility.DM
    assert "Mock exam report" in text
    assert "Score: 1 of 48 (2%)" in text
    assert "Below the 70% practice line" in text
    assert "No official pass mark" in text and "practice target" in text
    assert "submitted after 20 of 90 min" in text
    assert "By exam-guide section (your score · guide weight)" in text
    seats = 0
    for sec in content.track("associate").guide_sections:  # the guide's share of 48 each
        m = re.search(rf"{sec.name}: (\d) of (\d+) \(\d+%\) · {sec.weight_label}", text)
        assert m is not None, sec.name
        assert abs(int(m.group(2)) - 48 * sec.weight / 100) < 1
        seats += int(m.group(2))
    assert seats == 48
    assert "By study domain (what to practise · plan weight)" in text
    assert "Missed questions 1–3 of 47" in text
    more = alice.press("More missed ▶", report)
    assert "Missed questions 4–6 of 47" in more.plain_text()
    listing = alice.send("/study exams").plain_text()
    assert "1/48 (2%) · Below the 70% practice line · submitted" in listing
    # answers are closed after submit
    assert "already submitted" in alice.press("A", fixed).plain_text()


def test_exam_report_explains_missed_questions(alice: Chat, content: Content) -> None:
    reply = alice.send("/study exam")
    q = question_in(content, reply)
    reply = alice.send("/study exam submit")
    report = alice.press("Submit exam", reply)
    text = report.plain_text()
    assert f"Q1 · {q.id}" in text
    assert "You: no answer · Right: " in text
    assert q.explanation.strip()[:60] in text


def test_exam_times_out_when_the_member_acts(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    reply = answer_exam_question(alice, content, reply, right=True)
    clock.advance(minutes=91)
    late = alice.press("Next ▶", reply)
    text = late.plain_text()
    assert "Time is up: your exam was submitted automatically." in text
    assert "Score: 1 of 48" in text
    assert "time ran out after 90 min; submitted automatically" in text
    assert "timed out" in alice.send("/study exams").plain_text()
    assert "Mock exam started" in alice.send("/study exam").plain_text()


def test_clock_closes_expired_exams(bot: StudyBot, alice: Chat, clock: FakeClock) -> None:
    alice.send("/study exam")
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 0
    clock.advance(minutes=90)
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 1
    with bot.store.transaction() as s:
        assert close_expired_exams(s, bot.content, clock.now) == 0
        attempt = s.scalar(select(ExamAttempt))
        assert attempt is not None and attempt.status == "expired" and attempt.correct == 0
    assert "0/48 (0%)" in alice.send("/study exams").plain_text()


def test_one_exam_at_a_time_and_resume_after_restart(
    sqlite_store: Store, bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    reply = answer_exam_question(alice, content, reply, right=True)
    reply = alice.press("⚑ Flag", reply)
    again = alice.send("/study exam").plain_text()
    assert "Resuming your exam in progress." in again and "Question 2 of 48 ⚑" in again
    other = alice.send("/study exam professional").plain_text()
    assert "You have a associate exam in progress" in other
    # a new process on the same database file picks the exam up where it was
    clock.advance(minutes=5)
    restarted = StudyBot(Store.from_url(str(sqlite_store.engine.url)), content, clock=clock)
    chat = Chat(restarted, user="alice", name="Alice")
    text = chat.send("/study exam").plain_text()
    assert "Resuming your exam in progress." in text
    assert "Question 2 of 48 ⚑" in text
    assert "1 h 25 min left" in text and "answered 1 of 48 · flagged 1" in text
    assert "Report" not in chat.send("/study exams").plain_text().split("in progress")[0]
    restarted.store.dispose()


def test_exam_flag_without_an_exam(alice: Chat) -> None:
    assert "no exam in progress" in alice.send("/study exam flag").plain_text()
    assert "No mock exams yet" in alice.send("/study exams").plain_text()
    assert "Unknown exam option 'hard'" in alice.send("/study exam hard").plain_text()


def test_someone_elses_exam_buttons_are_refused(alice: Chat, lead: Chat) -> None:
    reply = alice.send("/study exam")
    assert "belongs to someone else" in lead.press("Next ▶", reply).plain_text()


def test_professional_exam_shape(alice: Chat) -> None:
    text = alice.send("/study exam professional").plain_text()
    assert "59 questions in 120 minutes" in text
    assert "2 h 00 min left" in text


def test_exam_buttons_work_from_a_dm_workspace(
    alice: Chat, content: Content, bot: StudyBot
) -> None:
    """Discord DMs have no guild: the press arrives under another workspace id."""
    reply = alice.send("/study exam")
    in_dm = Chat(bot, user="alice", name="Alice", channel="D1", workspace="dm-alice")
    moved = in_dm.press("Next ▶", reply)
    assert "Question 2 of 48" in moved.plain_text()
    stranger = Chat(bot, user="mallory", name="Mallory", channel="D2", workspace="dm-mallory")
    assert "belongs to someone else" in stranger.press("Next ▶", reply).plain_text()
    other_platform = Chat(bot, user="alice", name="Alice", platform="slack", workspace="T1")
    assert "belongs to someone else" in other_platform.press("Next ▶", reply).plain_text()


def test_a_second_open_exam_is_refused_by_the_store(
    bot: StudyBot, alice: Chat, content: Content
) -> None:

    from bot.errors import UserError
    from bot.features.exam import command as exam
    from bot.features.exam.attempt import open_attempt

    alice.send("/study exam")
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=alice.who)
        with pytest.raises(UserError, match="already have an exam in progress"):
            exam._start(ctx, ctx.require_group(), "associate")  # skips the friendly check
        assert open_attempt(s, ctx.user.id) is not None  # the session is still usable
    with bot.store.transaction() as s:
        assert len(s.scalars(select(ExamAttempt)).all()) == 1


def test_a_new_exam_avoids_questions_seen_in_the_last_two_weeks(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    seen = {question_in(content, reply).id}
    for _ in range(3):
        reply = alice.press("Next ▶", reply)
        seen.add(question_in(content, reply).id)
    alice.press("Submit exam", alice.send("/study exam submit"))
    clock.advance(days=1)
    text = alice.send("/study exam").plain_text()
    assert "48 of them not seen in the last 14 days" in text
    with bot.store.transaction() as s:
        latest = s.scalars(select(ExamAttempt).order_by(ExamAttempt.id.desc())).first()
        assert latest is not None and not seen & set(latest.question_ids)


def test_quotas_sum_to_n_and_follow_the_guide_weights_on_average(content: Content) -> None:
    for track in content.tracks:
        n = track.exam.questions
        sums: Counter[str] = Counter()
        runs = 2000
        rng = random.Random(7)
        for _ in range(runs):
            q = quotas(track, n, rng)
            assert sum(q.values()) == n
            for sec in track.guide_sections:
                exact = n * sec.weight / 100
                assert math.floor(exact) <= q[sec.id] <= math.ceil(exact)
            sums.update(q)
        for sec in track.guide_sections:
            assert abs(sums[sec.id] / runs - n * sec.weight / 100) < 0.05, sec.id


@pytest.mark.parametrize("track_id", ["associate", "professional"])
def test_200_mock_exams_follow_the_guide_sections(content: Content, track_id: str) -> None:
    """Each section's average count over 200 drawn mocks is its guide weight's share."""
    track = content.track(track_id)
    n = track.exam.questions
    counts: Counter[str] = Counter()
    runs = 200
    for seed in range(runs):
        picked = draw(content, track, n, set(), content.retired, random.Random(seed))
        assert len(picked) == n and len({q.id for q in picked}) == n
        assert all(q.track == track_id for q in picked)
        per_mock = Counter(q.guide_section for q in picked)
        for sec in track.guide_sections:  # never more than one seat off the exact share
            assert abs(per_mock[sec.id] - n * sec.weight / 100) < 1, (seed, sec.id)
        counts.update(per_mock)
    for sec in track.guide_sections:
        average = counts[sec.id] / runs
        assert abs(average - n * sec.weight / 100) < 0.1, (sec.id, average)


def test_drawing_avoids_recent_questions_where_the_bank_allows(content: Content) -> None:
    track = content.track("associate")
    bank = content.by_track["associate"]
    # everything but 5 of each section was seen lately: the 20 unseen come first
    recent: set[str] = set()
    kept: Counter[str] = Counter()
    for q in bank:
        if kept[q.guide_section] < 5:
            kept[q.guide_section] += 1
        else:
            recent.add(q.id)
    assert len(bank) - len(recent) == 20
    picked = draw(content, track, 48, recent, frozenset(), random.Random(1))
    fresh = [q for q in picked if q.id not in recent]
    assert len(picked) == 48
    assert len(fresh) == 20  # all unseen ones used, the rest filled from the seen ones


def test_drawing_never_uses_excluded_questions(content: Content) -> None:
    track = content.track("professional")
    bank = content.by_track["professional"]
    excluded = frozenset(q.id for q in bank if q.domain == "model-deployment")
    picked = draw(content, track, 59, set(), excluded, random.Random(3))
    assert len(picked) == 59
    assert not {q.id for q in picked} & excluded  # the seats went to the other domains
