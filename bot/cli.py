"""The `studybot` command line.

The core's own commands live here (content, db). Process commands that need an adapter or
the clock (console, run, serve, clock, deliver) are contributed by those packages through
the `studybot.cli` entry-point group, so imports keep pointing into `bot/`.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import entry_points
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from bot import cli_analytics, cli_data, cli_questions, logs, metrics
from bot.content import ContentError, check_content, load_content, stats
from bot.content.models import Content
from bot.logs import LogLevel
from bot.metrics import MetricsPort
from bot.operator_errors import describe
from bot.settings import Settings
from bot.store.db import Store, make_engine, upgrade

app = typer.Typer(
    rich_markup_mode=None,  # plain click help: options as --rate POSTS, no <bool> column
    help="studybot: a study group for the Databricks ML certifications.",
    no_args_is_help=True,
    add_completion=False,
)
content_app = typer.Typer(
    rich_markup_mode=None,
    help="Check and describe the content (questions, curriculum).",
    no_args_is_help=True,
)
db_app = typer.Typer(
    rich_markup_mode=None,
    help="Database migrations, backups and restores.",
    no_args_is_help=True,
)
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
cli_data.register(app, db_app)  # db backup|restore, data export|forget
cli_questions.register(content_app)  # content import|export: a group's own questions
cli_analytics.register(content_app)  # content analytics

out = Console(soft_wrap=True)  # one line per problem, however narrow the terminal
err = Console(stderr=True, soft_wrap=True)


@content_app.command("check")
def content_check(
    directory: Annotated[
        Path | None, typer.Argument(metavar="DIRECTORY", help="content directory")
    ] = None,
) -> None:
    """Validate content; list every problem as file:line: id: problem."""
    root = directory or Settings().content_dir
    content, problems = check_content(root)
    if len(problems) == 1 and not problems[0].file:
        raise ContentError(problems)  # no folder to check: main()'s one line says where
    if problems or content is None:
        for p in problems:
            err.print(str(p), markup=False, highlight=False)
        err.print(f"{len(problems)} problem(s) in {root}", style="bold red")
        raise typer.Exit(1)
    table = Table(title=f"Content OK: {len(content.questions)} questions")
    table.add_column("track")
    table.add_column("domain")
    table.add_column("questions", justify="right")
    table.add_column("share", justify="right")
    table.add_column("exam weight", justify="right")
    for t in content.tracks:
        qs = content.by_track.get(t.id, ())
        for d in t.domains:
            n = sum(1 for q in qs if q.domain == d.id)
            share = f"{n / len(qs):.0%}" if qs else "–"
            table.add_row(t.id, d.id, str(n), share, d.weight_label)
        table.add_row(t.id, "[b]total[/b]", f"[b]{len(qs)}[/b]", "", "")
    out.print(table)
    _print_sections(content)
    for label, ids in (
        ("written for an older exam guide", content.stale),
        (f"outdated by the platform's runtime ({_runtime(content)})", content.outdated),
    ):
        if ids:
            out.print(f"{len(ids)} question(s) {label}, never drawn: {', '.join(sorted(ids))}")


def _runtime(content: Content) -> str:
    return content.platform.runtime if content.platform else "not set"


def _print_sections(content: Content) -> None:
    """Questions per exam-guide section against the bank's target (mocks' worth)."""
    table = Table(title="By exam-guide section (mocks draw by these weights)")
    for col in ("track", "section", "weight", "questions", "target", ""):
        table.add_column(col, justify="right" if col in ("questions", "target") else "left")
    for t in content.tracks:
        qs = [q for q in content.by_track.get(t.id, ()) if q.id not in content.retired]
        for sec in t.guide_sections:
            n = sum(1 for q in qs if q.guide_section == sec.id)
            target = t.bank_target(sec)
            mark = "ok" if n >= target else f"[red]{target - n} short[/red]"
            table.add_row(t.id, sec.id, sec.weight_label, str(n), str(target), mark)
        table.add_row(t.id, f"[dim]target: {t.exam.bank_mocks} mocks of {t.exam.questions}[/dim]")
    out.print(table)


@content_app.command("stats")
def content_stats(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    directory: Annotated[
        Path | None, typer.Option("--dir", metavar="DIRECTORY", help="content directory")
    ] = None,
) -> None:
    """Distribution by track, domain, area, phase, difficulty and answer position."""
    root = directory or Settings().content_dir
    content, problems = check_content(root)
    if problems or content is None:
        raise ContentError(problems)
    data = stats(content)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return
    for track_id, t in data["tracks"].items():
        table = Table(
            title=f"{track_id}: {t['total']} questions ({t['multi_answer']} multi-answer)"
        )
        table.add_column("by")
        table.add_column("counts")
        for key in ("domain", "area", "phase", "difficulty", "answer_position"):
            table.add_row(key, ", ".join(f"{k} {v}" for k, v in t[key].items()))
        table.add_row("stale", ", ".join(t["stale"]) or "none (all on the current guide)")
        table.add_row("outdated", ", ".join(t["outdated"]) or "none (all hold on the runtime)")
        out.print(table)
    _print_sections(content)


@content_app.command("flags")
def content_flags(
    review: Annotated[
        str | None,
        typer.Option("--review", metavar="QUESTION_ID", help="mark a question's reports reviewed"),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="include reviewed reports")] = False,
) -> None:
    """Questions members reported, with every report; pulled ones are out of rotation."""
    from bot.features.flags import mark_reviewed, report
    from bot.timeutil import utcnow

    settings = Settings()
    store = Store.from_url(settings.database_url)
    try:
        with store.transaction() as s:
            if review:
                n = mark_reviewed(s, review, utcnow())
                if n == 0:
                    err.print(
                        f"{review}: no open reports on this question; "
                        "`studybot content flags` lists the reported ones",
                        markup=False,
                        highlight=False,
                    )
                    raise typer.Exit(1)
                out.print(f"{review}: {n} report(s) marked reviewed; it is back in rotation.")
                return
            rows = report(s, settings.flag_threshold, include_reviewed=show_all)
            content = load_content(settings.content_dir)
            wrong = {w.question_id: w for w in cli_analytics.likely_wrong_keys(s, content)}
    finally:
        store.dispose()
    if not rows and not wrong:
        out.print("No open reports.")
        return
    for r in rows:
        state = "PULLED from daily posts and quizzes" if r.pulled else "in rotation"
        out.print(
            f"[b]{r.question_id}[/b]: {r.reports} report(s) from {r.members} member(s), {state}",
            highlight=False,
        )
        for reason, where, chosen, when in r.reasons:
            picked = f", answered {chosen}" if chosen else ""
            out.print(f"  - {when:%Y-%m-%d} ({where}{picked}): ", end="", highlight=False)
            out.print(reason, markup=False, highlight=False)
        if r.question_id in wrong:
            out.print(f"  - {cli_analytics.wrong_key_line(wrong.pop(r.question_id))}", markup=False)
    for w in wrong.values():  # no member reported these, but their answers point at the key
        out.print(f"{w.question_id}: no reports; {cli_analytics.wrong_key_line(w)}", markup=False)
    out.print(
        f"Questions are pulled at {settings.flag_threshold} reports "
        "(STUDYBOT_FLAG_THRESHOLD); `studybot content flags --review ID` returns one."
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to STUDYBOT_DATABASE_URL (also done on every start)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    out.print(f"Database at {engine.url.render_as_string(hide_password=True)} is up to date.")


@app.command("serve")
def serve(
    platform: Annotated[str, typer.Argument(metavar="PLATFORM", help="slack or discord")],
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="HTTP port (Slack's HTTP mode)")
    ] = None,
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Run one platform adapter on its own (the `web` and `discord` processes); Slack's
    HTTP mode also serves /metrics on its own port."""
    found = {ep.name: ep for ep in entry_points(group="studybot.serve")}
    if platform not in found:
        known = ", ".join(sorted(found)) or "none installed"
        err.print(f"Unknown platform {platform!r}; available: {known}.")
        raise typer.Exit(2)
    settings = Settings()
    logs.configure(log_level, settings)
    metrics.serve(metrics_port)
    found[platform].load()(settings, port)


def _load_plugins() -> None:
    for ep in entry_points(group="studybot.cli"):
        ep.load()(app)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks (also STUDYBOT_DEBUG=1)")
    ] = False,
) -> None:
    if version:
        out.print(f"studybot {package_version('studybot')}", highlight=False)
        raise typer.Exit()
    if debug:
        os.environ["STUDYBOT_DEBUG"] = "1"
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help(), highlight=False, markup=False)


def main() -> None:
    """Every process's entry: an operator's mistake is one line on stderr and exit 1."""
    logs.configure()  # the process commands configure again with their --log-level
    _load_plugins()
    try:
        code = app(standalone_mode=False)  # an Exit comes back as its code
    except (click.exceptions.Exit, typer.Exit) as e:
        raise SystemExit(e.exit_code) from None
    except (click.exceptions.Abort, typer.Abort):  # Typer ships its own: catch both
        err.print("studybot: cancelled", markup=False, highlight=False)
        raise SystemExit(130) from None
    except click.ClickException as e:
        e.show()
        raise SystemExit(e.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as e:
        if os.environ.get("STUDYBOT_DEBUG") == "1":
            raise
        err.print(f"studybot: {describe(e)}", markup=False, highlight=False)
        raise SystemExit(1) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
