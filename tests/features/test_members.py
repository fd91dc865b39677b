"""A member's own settings: timezone, away days, DMs, a passed exam."""

from __future__ import annotations

from tests.helpers import Chat, FakeClock


def test_member_timezone_moves_today(lead: Chat, alice: Chat, clock: FakeClock) -> None:
    clock.set(2026, 3, 2, 23, 30)  # Mon 23:30 UTC = Tue in Auckland
    assert "Mon 02 Mar 2026" in alice.send("/study today").plain_text()
    assert "Pacific/Auckland" in alice.send("/study tz Pacific/Auckland").plain_text()
    assert "Tue 03 Mar 2026" in alice.send("/study today").plain_text()
    assert "Unknown timezone" in alice.send("/study tz Pacific/Atlantis").plain_text()
    alice.send("/study tz group")
    assert "Mon 02 Mar 2026" in alice.send("/study today").plain_text()


def test_away_validates_days(alice: Chat) -> None:
    assert "from 0 to 60" in alice.send("/study away 99").plain_text()
    assert "Use a whole number" in alice.send("/study away soon").plain_text()
    assert "pause has ended" in alice.send("/study away 0").plain_text()


def test_dm_on_off(alice: Chat) -> None:
    assert "is on" in alice.send("/study dm").plain_text()
    assert "DMs are off" in alice.send("/study dm off").plain_text()
    assert "is off" in alice.send("/study dm").plain_text()
    assert "DMs are on" in alice.send("/study dm on").plain_text()


def test_passed_records_and_names_the_recert_date(alice: Chat) -> None:
    text = alice.send("/study passed 2026-02-27").plain_text()
    assert "Databricks Certified Machine Learning Associate" in text
    assert "recertify by Sun 27 Feb 2028" in text
    assert "in the future" in alice.send("/study passed 2026-12-01").plain_text()
    assert "Use YYYY-MM-DD" in alice.send("/study passed yesterday").plain_text()
    leap = alice.send("/study passed 2024-02-29 professional").plain_text()
    assert "Professional" in leap and "recertify by Sat 28 Feb 2026" in leap
