"""`studybot db backup|restore` and `studybot data export|forget`: an operator's copies of
the database and of one member's data, and a member's erasure on request.

The work is in bot/store/backup.py and bot/features/personal_data.py; these functions only
parse, confirm and print one line. `register` adds them to the root app and its `db` group
(bot/cli.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from bot.features.personal_data import (
    Member,
    counts,
    erase,
    export_json,
    find_member,
    summary,
)
from bot.settings import Settings
from bot.store.backup import BackupError, backup, restore
from bot.store.db import Store
from bot.timeutil import utcnow

PLATFORMS = ("slack", "discord", "console")

data_app = typer.Typer(
    rich_markup_mode=None,
    help="One member's data: export it, or erase it on their request.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    db_app.command("backup")(db_backup)
    db_app.command("restore")(db_restore)
    app.add_typer(data_app, name="data")


def _fail(message: str) -> typer.Exit:
    err.print(f"studybot: {message}", markup=False)
    return typer.Exit(1)


def db_backup(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="file to write, or a directory for a dated file")
    ],
) -> None:
    """Copy the SQLite database consistently, while the bot runs (PostgreSQL: pg_dump)."""
    try:
        written = backup(Settings().database_url, path)
    except BackupError as e:
        raise _fail(str(e)) from None
    out.print(f"Backed up the database to {written}", markup=False)


def db_restore(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="a file `db backup` wrote")],
    force: Annotated[
        bool, typer.Option("--force", help="replace a database that already holds data")
    ] = False,
) -> None:
    """Restore a backup into STUDYBOT_DATABASE_URL and migrate it (stop the bot first)."""
    try:
        done = restore(Settings().database_url, path, force=force)
    except BackupError as e:
        raise _fail(str(e)) from None
    out.print(
        f"Restored {path} (schema {done.revision}) into {done.into}; migrated to the current "
        "schema.",
        markup=False,
    )


PlatformOption = Annotated[
    str, typer.Option("--platform", metavar="PLATFORM", help="slack, discord or console")
]
WorkspaceOption = Annotated[
    str,
    typer.Option(
        "--workspace",
        metavar="ID",
        help="Slack team id, Discord server id, or console (`studybot status` lists them)",
    ),
]
UserOption = Annotated[
    str, typer.Option("--user", metavar="ID", help="the member's Slack or Discord user id")
]


def _member(store: Store, platform: str, workspace: str, user: str) -> Member:
    if platform not in PLATFORMS:
        raise _fail(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    with store.transaction(read_only=True) as s:
        m = find_member(s, platform, workspace, user)
    if m is None:
        raise _fail(
            f"no member {user} in {platform}:{workspace}: nothing is stored about them "
            "(`studybot status` lists the workspaces)"
        )
    return m


@data_app.command("export")
def data_export(
    platform: PlatformOption,
    workspace: WorkspaceOption,
    user: UserOption,
    out_file: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="write here, not to stdout")
    ] = None,
) -> None:
    """Everything stored about one member, as the JSON file /study mydata sends them."""
    store = Store.from_url(Settings().database_url)
    try:
        m = _member(store, platform, workspace, user)
        with store.transaction(read_only=True) as s:
            data = export_json(s, m, utcnow())
    finally:
        store.dispose()
    if out_file is None:
        sys.stdout.write(data)
        return
    try:
        out_file.write_text(data, encoding="utf-8")
    except OSError as e:
        raise _fail(f"could not write {out_file}: {e.strerror or e}") from None
    out.print(f"Wrote the data of {m.label} to {out_file}", markup=False)


@data_app.command("forget")
def data_forget(
    platform: PlatformOption,
    workspace: WorkspaceOption,
    user: UserOption,
    yes: Annotated[bool, typer.Option("--yes", help="erase without asking")] = False,
) -> None:
    """Erase everything stored about one member, in one transaction (asks first)."""
    store = Store.from_url(Settings().database_url)
    try:
        m = _member(store, platform, workspace, user)
        if not yes:
            with store.transaction(read_only=True) as s:
                what = summary(counts(s, m))
            try:
                sure = typer.confirm(f"Erase {m.label}: {what}?", err=True)
            except typer.Abort:  # no answer (end of input)
                sure = False
            if not sure:
                raise _fail("nothing was erased")
        with store.transaction() as s:
            m = _member_again(s, m)
            done = erase(s, m)
    finally:
        store.dispose()
    line = f"Erased {m.label}: {summary(done.rows)}."
    if done.leaderless:
        line += f" Now without a named lead: {', '.join(done.leaderless)}."
    out.print(line, markup=False)


def _member_again(s: Session, m: Member) -> Member:
    """The member as the erasing transaction sees them (they may have gone meanwhile)."""
    again = find_member(s, m.workspace.platform, m.workspace.external_id, m.user.external_id)
    if again is None:
        raise _fail(f"{m.label} was erased meanwhile")
    return again
