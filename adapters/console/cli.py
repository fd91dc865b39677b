"""`studybot console`: the whole bot in a terminal, on a local SQLite file."""

from __future__ import annotations

import getpass
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TextIO

import typer
from platformdirs import user_data_dir
from rich.console import Console
from rich.prompt import Prompt

from adapters.console.messenger import ConsoleMessenger
from adapters.console.render import print_reply
from adapters.console.session import CHANNEL, ConsoleSession, default_setup
from bot import logs
from bot.bootstrap import build
from bot.errors import UserError
from bot.logs import ConsoleLogLevel
from bot.registry import SLASH
from bot.seam import Reply
from bot.settings import Settings
from bot.timeutil import local_today, parse_date, parse_time, parse_tz
from scheduler.clock import Clock
from scheduler.worker import DeliveryConfig, Worker

CLOCK_INTERVAL = 5.0  # seconds: the terminal's clock is cheap, so it looks often
PROMPT = "study> "

BANNER = (
    "studybot console: a local study group. Type {slash} help for the commands, "
    "{slash} today for today's question; a letter picks a choice, a number presses another "
    "button, `report` reports the question; Ctrl-D or 'quit' leaves."
)


def register(app: typer.Typer) -> None:
    app.command("console")(console)


def console(
    as_name: Annotated[
        str | None,
        typer.Option("--as", metavar="NAME", help="act as another member of the same local group"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="database URL (default: STUDYBOT_DATABASE_URL or a file in your data directory)",
        ),
    ] = None,
    log_level: ConsoleLogLevel = None,
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            metavar="NAME",
            help="open another local study group, in a channel of that name",
        ),
    ] = CHANNEL,
) -> None:
    """Run the study bot in this terminal: no tokens, no network."""
    out = Console(highlight=False)
    settings = Settings()
    if database_url:
        settings.database_url = database_url
    logs.configure(log_level, settings, quiet=True)  # log lines would break into the session
    if log_level is None:
        logging.getLogger("scheduler").setLevel(logging.ERROR)  # skipped catch-ups: not news
    bot = build(settings)  # a mistake in the settings or content is main()'s one line
    owner = getpass.getuser() or "me"
    name = as_name or owner
    session = ConsoleSession(bot, name, is_admin=as_name is None, channel=channel)
    interactive = sys.stdin.isatty()
    image_dir = Path(user_data_dir("studybot")) / "pictures"
    file_dir = image_dir.parent / "files"  # a member's data export (/study mydata)

    if not session.has_group() and as_name is not None:
        Console(stderr=True).print(
            f"No study group in this terminal yet. Its lead is you, {owner}: run "
            f"`studybot console{_in(channel)}` (without --as) to set it up, then "
            f"`--as {as_name}` joins it.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if not session.has_group():
        values = default_setup(local_today("UTC", bot.clock()))
        if interactive:
            values = _guided_setup(out, values, tracks=[t.id for t in bot.content.tracks])
        print_reply(out, session.setup(values), image_dir)

    # The clock and delivery run here too: due posts appear in this terminal.
    def shown(reply: Reply) -> None:
        session.remember(reply)
        if interactive:  # the post printed over the prompt: show it again
            out.print(PROMPT, end="", markup=False, highlight=False)

    messenger = ConsoleMessenger(out, image_dir, session.who.user_id, shown, channel=channel)
    clock = Clock(bot.store, bot.content, flag_threshold=settings.flag_threshold)
    worker = Worker(
        bot.store,
        bot.content,
        {"console": messenger},
        config=DeliveryConfig(channel_gap=0),
        flag_threshold=settings.flag_threshold,
    )
    stop = threading.Event()
    _deliver_due(clock, worker)
    background = threading.Thread(target=_clock_loop, args=(clock, worker, stop), daemon=True)
    background.start()

    if interactive:
        out.print(BANNER.format(slash=SLASH), style="dim")
    try:
        for line in _lines(interactive):
            if line.strip().lower() in ("quit", "exit", ":q"):
                break
            reply = session.send(line)
            if reply is not None:
                print_reply(out, reply, image_dir, file_dir)
                if reply.refused and session.buttons:
                    out.print("(The buttons above still work.)", style="dim")
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        background.join(10)
        bot.store.dispose()


def _in(channel: str) -> str:
    return "" if channel == CHANNEL else f" --channel {channel}"


def _deliver_due(clock: Clock, worker: Worker) -> None:
    clock.tick()
    while worker.run_once():
        pass


def _clock_loop(clock: Clock, worker: Worker, stop: threading.Event) -> None:
    while not stop.wait(CLOCK_INTERVAL):
        try:
            _deliver_due(clock, worker)
        except Exception:  # the terminal session goes on; the next round retries
            logging.getLogger(__name__).exception("console clock round failed")


def _lines(interactive: bool):  # type: ignore[no-untyped-def]
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input(PROMPT)
        except EOFError:
            return


def _ask(
    out: Console,
    label: str,
    default: str,
    check: Callable[[str], object],
    stream: TextIO | None = None,
) -> str:
    """Ask until the answer passes `check` (the core's own parser), saying what is wrong."""
    while True:
        answer = Prompt.ask(label, default=default, console=out, stream=stream).strip()
        try:
            check(answer)
        except UserError as e:
            out.print(f"{e} Try again.", style="red", markup=False, highlight=False)
            continue
        return answer


def _guided_setup(
    out: Console,
    values: dict[str, str],
    stream: TextIO | None = None,
    *,
    tracks: list[str],
) -> dict[str, str]:
    """The first run's questions, each checked where it is asked with the rules `setup`
    applies; nothing is saved until the end, and a typo loses only that one answer. The
    tracks offered are the content's."""
    out.print("First run: let's set up your study group (Enter keeps the default).", style="bold")
    values["track"] = Prompt.ask(
        "Track",
        choices=tracks,
        default=values.get("track", tracks[0]),
        console=out,
        stream=stream,
    )
    values["start"] = _ask(
        out,
        "Cohort start date (YYYY-MM-DD)",
        values["start"],
        lambda v: parse_date(v, "start date"),
        stream,
    )
    values["tz"] = _ask(out, "Timezone (Area/City)", values["tz"], parse_tz, stream)
    values["time"] = _ask(out, "Daily question time (HH:MM)", values["time"], parse_time, stream)
    start = parse_date(values["start"], "start date")

    def exam_after_start(v: str) -> None:
        if v and parse_date(v, "exam date") <= start:
            raise UserError(f"The exam date must come after the start date {start}.")

    exam = _ask(out, "Exam date (YYYY-MM-DD, blank for none)", "", exam_after_start, stream)
    if exam:
        values["exam"] = exam
    return values
