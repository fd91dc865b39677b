"""The command grammar: parsing text and options into a command's arguments."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import registry as commands
from bot.errors import UserError
from bot.timeutil import parse_days, parse_time, parse_tz


def parse(line: str) -> tuple[str, dict[str, str]]:
    cmd, args = commands.parse(line)
    return cmd.name, args


def test_parsers_accept_the_documented_forms() -> None:
    assert parse_days("mon-fri") == "mon,tue,wed,thu,fri"
    assert parse_days("Friday, monday") == "mon,fri"
    assert parse_days("daily").count(",") == 6
    assert parse_time("7:05").strftime("%H:%M") == "07:05"
    assert parse_tz("Asia/Kolkata") == "Asia/Kolkata"
    for bad in ("fri-mon", "", "someday"):
        with pytest.raises(UserError):
            parse_days(bad)
    for bad in ("25:00", "0900", "9"):
        with pytest.raises(UserError):
            parse_time(bad)


def test_parse_grammar() -> None:
    assert parse("/study quiz model-training 10") == (
        "quiz",
        {"domain": "model-training", "n": "10"},
    )
    assert parse("/study setup tz=Europe/Berlin time=08:30") == (
        "setup",
        {"tz": "Europe/Berlin", "time": "08:30"},
    )
    assert parse("/study") == ("help", {})
    assert parse("study check P1-2".replace("study", "/study")) == (
        "check",
        {"item": "P1-2"},
    )
    with pytest.raises(UserError, match="Too many words for join"):
        commands.parse("/study join now")
    with pytest.raises(UserError, match="Unknown option 'zone' for setup"):
        commands.parse("/study setup zone=UTC")


def test_the_table_fits_platform_limits() -> None:
    import re

    for c in commands.COMMANDS.values():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", c.name)
        assert 1 <= len(c.summary) <= 100, c.name
        assert len(c.params) <= 25
        for p in c.params:
            assert re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", p.name)
            assert 1 <= len(p.help) <= 100


@given(st.text(alphabet=" \t\r\n\x0b\x0c\x1f\xa0'\"\\=abé/"))
def test_plain_lines_split_as_shlex_would(line: str) -> None:
    try:
        expected = shlex.split(line)
    except ValueError:  # an unbalanced quote: plain words
        expected = line.split()
    assert commands.split_words(line) == expected
