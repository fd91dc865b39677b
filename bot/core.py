"""The core's front door: an `Invocation` or an `Action` in, a `Reply` out.

Each call is one transaction: a `UserError` rolls it back and becomes the reply, so a
refused or invalid action leaves nothing half-written. A button press can also be taken in
two steps (`record`, then `Recorded.reply`): an adapter can confirm the press to its
platform once its writes are committed, and only then read what the reply shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import bot.features  # noqa: F401  (registers every command and button)
from bot import metrics, registry
from bot.content.models import Content
from bot.context import AfterWrites, Ctx
from bot.errors import FieldError, UserError
from bot.features.home import screen as home_screen
from bot.features.report_message import report_form
from bot.seam import Action, Invocation, Reply, Who
from bot.store.db import Store, reason, trouble
from bot.store.models import User, Workspace
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

BUSY = "The study bot's database is busy; please try again."
ATTEMPTS = {"conflict": 3, "down": 2, "busy": 1}  # tries per trouble: a lock timeout waited

Work = Callable[[Ctx], "Reply | AfterWrites"]


def _the_user(platform: str, workspace_id: str, user_id: str) -> ColumnElement[bool]:
    """Where-clause for one user found by the platform's ids."""
    ws = select(Workspace.id).where(
        Workspace.platform == platform, Workspace.external_id == workspace_id
    )
    return and_(User.workspace_id == ws.scalar_subquery(), User.external_id == user_id)


class StudyBot:
    """Wires the store, the content and the clock; adapters call `handle` and `press`."""

    def __init__(
        self,
        store: Store,
        content: Content,
        clock: Callable[[], datetime] = utcnow,
        flag_threshold: int = 3,
    ) -> None:
        self.store = store
        self.content = content
        self.clock = clock
        self.flag_threshold = flag_threshold
        # Told the name the store holds for a caller whose name the adapter did not know
        # (`Who.name_known` False), once the action is committed: Slack's directory takes
        # it instead of a look-up of its own after the reply (adapters/slack/directory.py).
        self.name_watchers: list[Callable[[Who, str], None]] = []

    def has_group(self, who: Who) -> bool:
        """Whether the caller's channel is a study group (the console's first-run check)."""
        with self.store.transaction(read_only=True) as s:
            return Ctx(s, content=self.content, now=self.clock(), who=who).group is not None

    def stored_name(self, platform: str, workspace_id: str, user_id: str) -> str | None:
        """The display name the store holds for a user, or None for a user it has not met
        or while the database is unavailable (an adapter that learns names slowly asks
        before asking the platform)."""
        try:
            with self.store.transaction(read_only=True) as s:
                return s.scalar(
                    select(User.display_name).where(_the_user(platform, workspace_id, user_id))
                )
        except DBAPIError as e:
            if trouble(e) is None:
                raise
            return None  # the store has logged the outage; the name is asked again later

    def remember_name(self, who: Who) -> None:
        """Store a display name the adapter learned after replying (Slack's `users.info`):
        the leaderboard shows it even if the member sends nothing more. Read first: the
        name is usually stored already, and a read does not queue behind writers."""
        name = who.display_name[:200]
        stored = self.stored_name(who.platform, who.workspace_id, who.user_id)
        if not name or stored is None or stored == name:
            return
        mine = _the_user(who.platform, who.workspace_id, who.user_id)
        try:
            with self.store.transaction() as s:
                s.execute(update(User).where(mine).values(display_name=name))
        except DBAPIError as e:
            if trouble(e) is None:
                raise  # unavailable: the name is stored with the member's next action

    def handle(self, inv: Invocation) -> Reply:
        try:
            cmd = registry.get(inv.command)
        except UserError as e:
            metrics.count_command(metrics.UNKNOWN, "refused")
            return Reply.refusal(str(e))

        def work(ctx: Ctx) -> Reply | AfterWrites:
            ctx.files = inv.files
            return cmd.handler(ctx, inv.args)

        return self._counted(metrics.count_command, cmd.name, inv.who, work).reply

    def handle_text(self, who: Who, line: str) -> Reply:
        """Parse `[/study] <command> ...` (text platforms) and handle it."""
        try:
            cmd, args = registry.parse(line)
        except UserError as e:
            metrics.count_command(_command_named(line), "refused")
            return Reply.refusal(str(e))
        return self._counted(
            metrics.count_command, cmd.name, who, lambda ctx: cmd.handler(ctx, args)
        ).reply

    def home(
        self, who: Who, channel_id: str | None = None, chosen_at: datetime | None = None
    ) -> Reply:
        """The caller's home screen (Slack's App Home; `bot/features/home.py`), in a
        read-only transaction and counted as the command `home`: the group of
        `channel_id` if they belong to it (chosen on the home at `chosen_at`: until they
        study in another group), else the one they used last."""

        def work(ctx: Ctx) -> Reply:
            return home_screen(
                ctx.s,
                self.content,
                ctx.now,
                who,
                channel_id,
                self.flag_threshold,
                chosen_at=chosen_at,
            )

        return self._counted(metrics.count_command, "home", who, work, read_only=True).reply

    def report_form(self, who: Who, message_text: str) -> Reply:
        """ "Report this question" on a message (Slack's shortcut, Discord's context
        menu): the form reporting the question the message's text shows, or a refusal
        saying it shows none (`bot/features/report_message.py`). Its submission is the
        command `flag`."""

        def work(ctx: Ctx) -> Reply:
            return report_form(ctx, message_text)

        return self._counted(metrics.count_command, "report", who, work, read_only=True).reply

    def press(self, action: Action) -> Reply:
        """A button press and its reply, in one transaction: when this returns, an answer
        is recorded and the reply shows what it changed (a streak, say)."""
        name = _action_named(action.action_id)
        return self._counted(metrics.count_press, name, action.who, self._pressed(action)).reply

    def _counted(
        self,
        count: Callable[[str, str], None],
        name: str,
        who: Who,
        work: Work,
        *,
        read_only: bool = False,
    ) -> Done:
        """`_run`, counted by name and outcome (one counter increment: the hot path
        stays cheap)."""
        try:
            done = self._run(who, work, read_only=read_only)
        except Exception:
            count(name, "error")
            raise
        count(name, done.outcome)
        return done

    @staticmethod
    def _pressed(action: Action) -> Work:
        def run(ctx: Ctx) -> Reply | AfterWrites:
            handler, value = registry.route(action.action_id, action.value)
            return handler(ctx, value)

        return run

    def _ctx(self, s: Session, who: Who, now: datetime) -> Ctx:
        return Ctx(s, content=self.content, now=now, who=who, flag_threshold=self.flag_threshold)

    def _run(self, who: Who, work: Work, *, read_only: bool = False) -> Done:
        """Run `work` and make its reply in one transaction (`read_only` for work that
        only reads)."""
        for attempt in range(3):
            try:
                now = self.clock()
                with self.store.transaction(read_only=read_only) as s:
                    ctx = self._ctx(s, who, now)
                    reply = _reply_of(ctx, work(ctx))
                if ctx.stored_name is not None and not who.name_known:
                    self._tell_name(who, ctx.stored_name)
                return Done(reply, "refused" if reply.refused else "ok")
            except UserError as e:
                refusal = Reply.refusal(str(e))
                if isinstance(e, FieldError):
                    refusal = replace(refusal, field_errors=e.errors)
                return Done(refusal, "refused")
            except DBAPIError as e:
                # The database's weather, not a bug: a conflict or a connection a restart
                # closed is tried again; an outage (the store logs it once) is "busy".
                kind = trouble(e)
                if kind is None:
                    raise
                if attempt + 1 < ATTEMPTS[kind]:
                    log.debug("retrying after a %s database: %s", kind, reason(e))
                    continue
                if kind == "conflict":
                    log.warning("gave up after %d conflicts: %s", attempt + 1, reason(e))
                return Done(Reply.message(BUSY), "busy")
        raise AssertionError("unreachable")

    def _tell_name(self, who: Who, name: str) -> None:
        for watcher in self.name_watchers:
            try:
                watcher(who, name)
            except Exception:  # the action is committed: a watcher's trouble is its own
                log.exception("a name watcher failed")


def _reply_of(ctx: Ctx, after: Reply | AfterWrites) -> Reply:
    """The reply, read after the action's writes in its transaction. A bug in making it
    does not undo the action: the reply is made without what it could not read. A
    database error does (the transaction is spoilt): the action is tried again or
    refused as a whole, never half-written."""
    if isinstance(after, Reply):
        return after
    try:
        return after.reply(ctx)
    except DBAPIError:
        raise
    except Exception:
        log.exception("could not make the reply of an action; replying without its reads")
        return after.reply(None)


def _command_named(line: str) -> str:
    """The declared command a refused line names, for counting (else `unknown`)."""
    words = line.split()
    if words and words[0].lower() == registry.SLASH:
        words = words[1:]
    name = words[0].lower() if words else "help"
    return name if name in registry.COMMANDS else metrics.UNKNOWN


def _action_named(action_id: str) -> str:
    return action_id if action_id in registry.ROUTES else metrics.UNKNOWN


class Done(NamedTuple):
    """An action's reply, and how it went for the metrics: ok, refused or busy."""

    reply: Reply
    outcome: str
