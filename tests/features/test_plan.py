"""The study plan and its checklist."""

from __future__ import annotations

from tests.helpers import Chat, FakeClock


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


def test_the_plan_says_whose_pace_it_shows(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    """`plan` said "about 16 days behind" and `progress` "11 days behind", unlabelled."""
    lead.send("/study setup exam=2026-06-30")
    alice.send("/study join")
    clock.set(2026, 3, 20, 12)
    plan = alice.send("/study plan").plain_text()
    assert "Group pace, from every member's checklists" in plan
    assert "Your own pace is in `/study progress`." in plan
    assert "Your pace: " in alice.send("/study progress").plain_text()
