"""`studybot content import` and `studybot content export`: a group's own questions to and
from files, for an operator (a lead does the same in chat with `/study import`).

The work is in bot/features/own_files.py; these only read the file, name the group and
print. `register` adds them to the `content` group (bot/cli.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.content import load_content
from bot.errors import OperatorError
from bot.features.own_files import ImportRefused, export_yaml, group_named, import_file
from bot.settings import Settings
from bot.store.db import Store
from bot.timeutil import utcnow

GROUP_HELP = "the study group, as PLATFORM:WORKSPACE:CHANNEL (e.g. console:console:study-group)"
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def register(content_app: typer.Typer) -> None:
    content_app.command("import")(content_import)
    content_app.command("export")(content_export)


def content_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a CSV or YAML file of questions")],
    group: Annotated[
        str, typer.Option("--group", metavar="PLATFORM:WORKSPACE:CHANNEL", help=GROUP_HELP)
    ],
) -> None:
    """Add questions of a group's own from a file: CSV with the header
    prompt,a,b,c,d,answer,explanation,domain,difficulty,ref, or YAML in the bank's schema.
    All or nothing: every problem is listed as FILE:LINE: problem."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        raise OperatorError(f"cannot read {file}: {e.strerror or e}") from None
    settings = Settings()
    content = load_content(settings.content_dir)
    store = Store.from_url(settings.database_url)
    try:
        with store.transaction() as s:
            g = group_named(s, group)
            result = import_file(s, content, g, str(file), raw, "", utcnow())
    except ImportRefused as e:
        for problem in e.problems:
            err.print(problem, markup=False)
        err.print(f"{len(e.problems)} problem(s) in {file}: nothing was imported", markup=False)
        raise typer.Exit(1) from None
    finally:
        store.dispose()
    out.print(f"{group}: {result.summary()}.", markup=False)


def content_export(
    group: Annotated[
        str, typer.Option("--group", metavar="PLATFORM:WORKSPACE:CHANNEL", help=GROUP_HELP)
    ],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="write here (default: standard output)"),
    ] = None,
) -> None:
    """Write a group's own questions in the bank's YAML (retired ones left out)."""
    settings = Settings()
    content = load_content(settings.content_dir)
    store = Store.from_url(settings.database_url)
    try:
        with store.transaction(read_only=True) as s:
            text, n = export_yaml(s, content, group_named(s, group), group)
    finally:
        store.dispose()
    if out_path is None:
        sys.stdout.write(text)
        return
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise OperatorError(f"cannot write {out_path}: {e.strerror or e}") from None
    out.print(f"Wrote {n} question(s) of {group} to {out_path}.", markup=False)
