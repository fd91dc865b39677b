"""`/study progress`: readiness, reviews, pace and the chart."""

from __future__ import annotations

import io
import re
from datetime import date

from PIL import Image as PILImage

from bot.content.models import Content
from bot.core import StudyBot
from bot.seam import Image, Visibility
from tests.helpers import (
    Chat,
    FakeClock,
    answer_exam_question,
    answer_today,
    pin_daily,
    single,
    wrong_letter,
)


def test_progress_is_private_and_complete(alice: Chat, content: Content) -> None:
    _, qid = answer_today(alice, content, right=True)
    alice.send("/study check S1")
    reply = alice.send("/study progress")
    assert reply.visibility is Visibility.DM
    text = reply.plain_text()
    track = content.track("associate")
    domain = track.domain(content.by_id[qid].domain)
    section = track.section(content.by_id[qid].guide_section)
    assert domain is not None and section is not None
    assert "Phase 1 (ML fundamentals), week 1" in text
    assert "Success checklist: 1/8" in text
    sections, domains = text.split("By study domain")
    assert "Accuracy by exam-guide section (your answers · guide weight)" in sections
    assert f"{section.name}: 100% of 1 · {section.weight_label}" in sections
    assert f"{domain.name}: 100% of 1 · {domain.weight_label}" in domains
    assert "Rank: #1 of 2" in text
    assert "Streak: 1 day" in text
    assert "Study next" in text


def test_progress_shows_readiness_reviews_pace_and_a_chart(
    alice: Chat, content: Content, bot: StudyBot
) -> None:
    q = single(content, 2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    reply = alice.send("/study progress")
    text = reply.plain_text()
    assert reply.visibility is Visibility.DM
    assert "Estimated exam score: " in text and "80% interval" in text
    assert "from 1 answers" in text
    assert "Due for review: 0 cards" in text
    assert "Your pace: on track (the calendar has you in phase 1" in text
    assert "Next three things to do" in text
    assert "No official pass mark is published; 70% is a practice line." in text
    images = [b for b in reply.blocks if isinstance(b, Image)]
    assert len(images) == 1
    png = images[0].png
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 200_000
    assert "accuracy by domain against the 70% line" in images[0].alt
    with PILImage.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size[0] >= 600


def test_due_count_and_pace_behind(
    alice: Chat, content: Content, bot: StudyBot, clock: FakeClock
) -> None:
    q = single(content, 2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(wrong_letter(q), alice.send("/study today"))
    clock.set(2026, 3, 16, 12)
    text = alice.send("/study progress").plain_text()
    assert "Due for review: 1 card" in text
    assert "days behind" in text
    assert "Review your 1 due card — /study review" in text
    assert "Catch up: " in text or "/study check F" in text


def test_progress_counts_an_exam_that_timed_out(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    reply = alice.send("/study exam")
    for _ in range(3):
        reply = answer_exam_question(alice, content, reply, right=True)
    clock.advance(hours=2)
    text = alice.send("/study progress").plain_text()
    assert "from 48 answers" in text  # the 45 left blank count, as wrong, as in the exam
    assert "timed out" in alice.send("/study exams").plain_text()


def test_a_poor_mock_exam_lowers_the_estimate_and_every_view_counts_it(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    """A 5-of-48 exam used to raise the estimate from 54% to 68% (blanks were not counted)
    while the domain lines still said "no answers yet"."""

    def estimate(text: str) -> int:
        m = re.search(r"Estimated exam score: (\d+)%", text)
        assert m is not None, text
        return int(m.group(1))

    answer_today(alice, content, right=True)
    before = estimate(alice.send("/study progress").plain_text())
    reply = alice.send("/study exam")
    for _ in range(5):
        reply = answer_exam_question(alice, content, reply, right=True)
    submit = alice.press("Review & submit", reply)
    alice.press("Submit", submit)
    text = alice.send("/study progress").plain_text()
    assert estimate(text) < before
    assert "from 49 answers" in text
    sections = text.split("By study domain")[0]
    assert "no answers yet" not in sections  # every section had exam questions
    total = sum(int(n) for n in re.findall(r"\d+% of (\d+) ·", sections))
    assert total == 49  # the lines count what the estimate counts
