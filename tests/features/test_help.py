"""`/study help` and unknown commands."""

from __future__ import annotations

from tests.helpers import Chat


def test_unknown_command_suggests_the_closest(alice: Chat) -> None:
    text = alice.send("/study todya").plain_text()
    assert "Unknown command 'todya'" in text
    assert "/study today" in text
    assert "/study help" in text


def test_help_lists_every_command_and_one_in_detail(alice: Chat) -> None:
    from bot.registry import COMMANDS

    text = alice.send("/study help").plain_text()
    for c in COMMANDS.values():
        assert f"/study {c.name}" in text
    detail = alice.send("/study help setup").plain_text()
    assert "Usage: /study setup [track=associate|professional]" in detail
    assert "Who: group lead" in detail
