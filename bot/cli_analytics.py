"""`studybot content analytics`: every question's first-attempt statistics, flagged first,
and the likely wrong keys `studybot content flags` shows beside members' reports.

The statistics are `bot/features/question_stats.py`'s; this module parses, reads the store
once and prints a table, JSON or CSV. `register` adds the command to the `content` group
(bot/cli.py).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bot.content import load_content
from bot.content.models import Content
from bot.features.question_stats import FLAGS, MIN_ATTEMPTS, QuestionStats, question_stats
from bot.settings import Settings
from bot.store.db import Store

CSV_COLUMNS = (
    "id",
    "track",
    "key",
    "attempts",
    "facility",
    "discrimination",
    "choices",
    "strongest_third",
    "strong_choices",
    "flags",
    "min_attempts",
)

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def register(content_app: typer.Typer) -> None:
    content_app.command("analytics")(content_analytics)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"studybot: {message}", markup=False)
    return typer.Exit(code)


def content_analytics(
    track: Annotated[
        str | None,
        typer.Option("--track", metavar="TRACK", help="only this track's questions"),
    ] = None,
    min_attempts: Annotated[
        int,
        typer.Option(
            "--min-attempts",
            metavar="N",
            help=f"first attempts a flag needs, 1 to {MIN_ATTEMPTS} (default {MIN_ATTEMPTS})",
        ),
    ] = MIN_ATTEMPTS,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    as_csv: Annotated[
        bool,
        typer.Option(
            "--csv",
            help=(
                "one row per question: id, track, key, attempts, facility, discrimination, "
                "choices and strong_choices as A=3;B=1;..., strongest_third, flags joined by "
                "';', min_attempts (the minimum the flags needed)"
            ),
        ),
    ] = False,
) -> None:
    """Each question's statistics from members' first attempts (daily, quiz, review and
    mock exams, all groups): attempts, facility (share right), discrimination
    (point-biserial), choices picked overall and by the strongest third, and flags
    (likely_wrong_key, too_easy, too_hard, not_discriminating); flagged questions first."""
    if as_json and as_csv:
        raise _fail("choose one of --json and --csv")
    if not 1 <= min_attempts <= MIN_ATTEMPTS:
        raise _fail(
            f"--min-attempts must be 1 to {MIN_ATTEMPTS} (a flag never needs more than "
            f"{MIN_ATTEMPTS} first attempts); got {min_attempts}"
        )
    settings = Settings()
    content = load_content(settings.content_dir)
    known = [t.id for t in content.tracks]
    if track is not None and track not in known:
        raise _fail(f"unknown track {track!r}; use one of {', '.join(known)}")
    store = Store.from_url(settings.database_url)
    try:
        with store.transaction(read_only=True) as s:
            rows = question_stats(s, content, track=track, min_attempts=min_attempts)
    finally:
        store.dispose()
    if as_json:
        data = {
            "min_attempts": min_attempts,
            "track": track,
            "flagged": sum(1 for r in rows if r.flags),
            "questions": [r.as_record() for r in rows],
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif as_csv:
        _write_csv(rows, min_attempts)
    else:
        _print_table(rows, content, min_attempts)


def letter_counts(counts: Mapping[str, int]) -> str:
    """`A=3;B=1;C=0;D=0`."""
    return ";".join(f"{k}={v}" for k, v in counts.items())


def _write_csv(rows: Sequence[QuestionStats], min_attempts: int) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        rec = r.as_record()
        w.writerow(
            [
                rec["id"],
                rec["track"],
                rec["key"],
                rec["attempts"],
                rec["facility"],
                "" if rec["discrimination"] is None else rec["discrimination"],
                letter_counts(r.choices),
                rec["strongest_third"],
                letter_counts(r.strong_choices),
                ";".join(r.flags),
                min_attempts,
            ]
        )


def _print_table(rows: Sequence[QuestionStats], content: Content, min_attempts: int) -> None:
    if not rows:
        out.print("No first attempts yet: members have answered no question of the bank.")
        out.print(_minimum_line(min_attempts))
        return
    n_flagged = sum(1 for r in rows if r.flags)
    table = Table(title=f"{len(rows)} questions answered, {n_flagged} flagged")
    for col in ("id", "key", "attempts", "facility", "discrimination", "choices"):
        table.add_column(col, justify="right" if col in ("attempts", "facility") else "left")
    table.add_column("strongest third")
    table.add_column("flags")
    for r in rows:
        disc = "–" if r.discrimination is None else f"{r.discrimination:+.2f}"
        table.add_row(
            r.question_id,
            r.key,
            str(r.attempts),
            f"{r.facility:.0%}",
            disc,
            letter_counts(r.choices),
            f"{letter_counts(r.strong_choices)} (of {r.strong})",
            ", ".join(r.flags),
        )
    out.print(table)
    out.print(_minimum_line(min_attempts))


def _minimum_line(min_attempts: int) -> str:
    return (
        f"Flags ({', '.join(FLAGS)}) need at least {min_attempts} first attempts "
        f"(--min-attempts N, 1 to {MIN_ATTEMPTS})."
    )


def wrong_key_line(r: QuestionStats) -> str:
    """How `studybot content flags` names a likely wrong key."""
    picked = r.strong_selections.get(r.strong_top, 0)
    keyed = r.strong_selections.get(r.key, 0)
    return (
        f"likely wrong key from the answer statistics: the strongest third ({r.strong} "
        f"members) picked {r.strong_top} {picked} time(s), the key {r.key} {keyed} "
        f"time(s); {r.attempts} first attempts, {r.facility:.0%} right"
    )


def likely_wrong_keys(s: Session, content: Content) -> list[QuestionStats]:
    """The likely wrong keys across all groups (at the default minimum of attempts), for
    `studybot content flags`."""
    return [r for r in question_stats(s, content) if r.likely_wrong_key]
