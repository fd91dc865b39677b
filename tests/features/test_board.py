"""The leaderboard and streaks."""

from __future__ import annotations

from bot.content.models import Content
from bot.core import StudyBot
from tests.helpers import Chat, FakeClock, answer_today


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


def test_going_away_never_takes_back_a_day_already_answered(
    alice: Chat, content: Content, clock: FakeClock
) -> None:
    """`away 3` after answering today used to drop the streak from 1 to 0."""
    clock.set(2026, 3, 2, 12)
    answer_today(alice, content)
    assert "streak 1" in alice.send("/study leaderboard").plain_text()
    alice.send("/study away 3")
    assert "streak 1" in alice.send("/study leaderboard").plain_text()
    clock.set(2026, 3, 4, 12)  # still away: the answered Monday stands
    assert "streak 1" in alice.send("/study leaderboard").plain_text()
    alice.send("/study away 0")
    assert "streak 1" in alice.send("/study leaderboard").plain_text()


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
