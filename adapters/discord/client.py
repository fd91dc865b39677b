"""The discord.py client: commands and presses in, the core called off the loop, replies out.

Answering rules (docs/platform-rules.md, "Discord interactions"):
- the first response must reach Discord within 3 seconds: when the core has not answered
  after `defer_after` seconds the interaction is deferred (type 5 ephemeral for commands,
  type 6 for buttons) and the reply goes out as an edit or a follow-up;
- an interaction is answered exactly once; everything after goes through the webhook;
- `Reply.replace` edits the pressed message (type 7) when only the presser sees it or the
  core says the reply is for the channel; a shared channel post is never rewritten for one
  member: they get an ephemeral copy instead;
- a DM reply is sent by DM; when the member's DMs are closed (50007) it is shown
  ephemerally with a note saying so.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, runtime_checkable

import discord
from discord import app_commands

from adapters.discord.autocomplete import OptionCompleter
from adapters.discord.buttons import StudyButton
from adapters.discord.caller import PLATFORM, normalise_args, who_of  # noqa: F401  (re-exported)
from adapters.discord.forms import FormModal, pages, refused_reply, submitted_args, try_again
from adapters.discord.menus import report_menu
from adapters.discord.render import render
from adapters.discord.tree import study_group
from adapters.discord.uploads import download
from bot.completions import Completions
from bot.content.models import Content
from bot.core import StudyBot
from bot.errors import OperatorError
from bot.forms import Form
from bot.seam import Action, Context, Invocation, Reply, Upload, Visibility, Who, text

log = logging.getLogger(__name__)

DEFER_AFTER = 1.5  # seconds; leaves room for the network inside Discord's 3 s
DMS_CLOSED = 50007
DM_SENT = "Sent to your direct messages."
DM_FALLBACK = (
    "Your direct messages are closed, so here it is, visible only to you. Allow "
    "direct messages from members of this server to get it by DM."
)
DM_FAILED = "I could not send you a direct message, so here it is, visible only to you."
POSTED = "Posted in the channel."
BROKEN = "Something went wrong on the study bot's side; please try again in a moment."


class Core(Protocol):
    """What the adapter needs of `bot.core.StudyBot` (the bench swaps in a no-op)."""

    def handle(self, inv: Invocation) -> Reply: ...

    def press(self, action: Action) -> Reply: ...


@runtime_checkable
class Reporter(Protocol):
    """A core that reads which question a message shows (`StudyBot.report_form`)."""

    def report_form(self, who: Who, message_text: str) -> Reply: ...


class StudyHandler:
    """Turns interactions into core calls and replies into interaction responses."""

    def __init__(self, core: Core, *, defer_after: float = DEFER_AFTER) -> None:
        self.core = core
        self.defer_after = defer_after
        self._active: set[asyncio.Task[Any]] = set()

    async def on_command(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        args: dict[str, str],
        attachments: list[discord.Attachment] | None = None,
    ) -> None:
        await self._tracked(self._command(interaction, name, args, attachments or []))

    async def _command(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        args: dict[str, str],
        attachments: list[discord.Attachment],
    ) -> None:
        """A command; attached files are downloaded first (after deferring: a download
        can outlast Discord's 3 seconds) and sent as the invocation's files."""
        files: tuple[Upload, ...] = ()
        if attachments:
            await self._defer(interaction, component=False)
            got = await download(attachments)
            if isinstance(got, Reply):
                await self._answer(interaction, lambda: got, component=False)
                return
            files = got
        inv = Invocation(who_of(interaction), name, normalise_args(args), files)
        await self._answer(interaction, lambda: self.core.handle(inv), component=False)

    async def on_press(
        self, interaction: discord.Interaction[Any], action_id: str, value: str
    ) -> None:
        action = Action(who_of(interaction), action_id, value)
        await self._tracked(
            self._answer(interaction, lambda: self.core.press(action), component=True)
        )

    async def on_form(
        self, interaction: discord.Interaction[Any], form: Form, values: dict[str, str]
    ) -> None:
        """A modal's submission: the form's command with what was typed, as if typed."""
        args = normalise_args(submitted_args(form, values))
        inv = Invocation(who_of(interaction), form.command, args)
        await self._tracked(
            self._answer(
                interaction, lambda: self.core.handle(inv), component=False, sent=(form, values)
            )
        )

    async def on_report(self, interaction: discord.Interaction[Any], message_text: str) -> None:
        """ "Report question" on a message: the core's reason form for the question it
        shows (opened as a modal), or a private answer that it shows none."""
        who = who_of(interaction)
        core = self.core
        if not isinstance(core, Reporter):
            raise RuntimeError("this core takes no reports")
        await self._tracked(
            self._answer(interaction, lambda: core.report_form(who, message_text), component=False)
        )

    async def drain(self) -> None:
        """Wait for the interactions being answered (a clean shutdown; tests)."""
        while self._active:
            await asyncio.gather(*list(self._active), return_exceptions=True)

    async def _tracked(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        try:
            await coro
        finally:
            if task is not None:
                self._active.discard(task)

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        work: Callable[[], Reply],
        *,
        component: bool,
        sent: tuple[Form, dict[str, str]] | None = None,
    ) -> None:
        task = asyncio.ensure_future(asyncio.to_thread(work))
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        deferred = interaction.response.is_done()  # deferred before the work (a download)
        if not done:
            try:
                await self._defer(interaction, component)
            except discord.HTTPException as e:  # expired or already answered: nothing to do
                log.warning(
                    "could not defer interaction %s: %s %s", interaction.id, e.status, e.code
                )
                await asyncio.wait({task})
                return
            deferred = True
        try:
            reply = await task
        except Exception:
            log.exception("core failed on %s", interaction.data)
            reply = Reply.message(BROKEN)
        try:
            await self._deliver(
                interaction, reply, component=component, deferred=deferred, sent=sent
            )
        except discord.HTTPException as e:
            log.warning("could not answer interaction %s: %s %s", interaction.id, e.status, e.code)
        except Exception:  # a reply we could not render: still answer, once
            log.exception("could not render the reply to %s", interaction.data)
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    ephemeral=True, **render(Reply.message(BROKEN)).send_kwargs()
                )
            else:
                await interaction.followup.send(
                    ephemeral=True, **render(Reply.message(BROKEN)).send_kwargs()
                )

    async def _defer(self, interaction: discord.Interaction[Any], component: bool) -> None:
        if interaction.response.is_done():
            return
        if component:
            await interaction.response.defer()  # type 6: nothing shown yet
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)  # type 5, flag 64

    async def _deliver(
        self,
        interaction: discord.Interaction[Any],
        reply: Reply,
        *,
        component: bool,
        deferred: bool,
        sent: tuple[Form, dict[str, str]] | None = None,
    ) -> None:
        if reply.form is not None and self._may_open_form(interaction, reply.form, deferred):
            await interaction.response.send_modal(FormModal(self, reply.form))
            return
        if sent is not None and reply.field_errors:
            await self._refused_form(interaction, reply, sent, deferred=deferred)
            return
        if reply.visibility is Visibility.DM:
            await self._deliver_dm(interaction, reply, component=component)
            return
        response = interaction.response
        if component:
            message = interaction.message
            own = message is not None and message.flags.ephemeral
            if reply.replace and (own or reply.visibility is Visibility.CHANNEL):
                r = render(reply)
                if deferred:
                    await interaction.edit_original_response(**r.edit_kwargs())
                else:
                    await response.edit_message(**r.edit_kwargs())  # type 7
                return
            ephemeral = reply.visibility is not Visibility.CHANNEL
            kw = render(reply).send_kwargs()
            if deferred:
                await interaction.followup.send(ephemeral=ephemeral, **kw)
            else:
                await response.send_message(ephemeral=ephemeral, **kw)
            return
        if not deferred:
            await response.send_message(
                ephemeral=reply.visibility is not Visibility.CHANNEL, **render(reply).send_kwargs()
            )
        elif reply.visibility is Visibility.CHANNEL:
            # The deferral was ephemeral: tell the caller, then post for everyone.
            await interaction.edit_original_response(**render(Reply.message(POSTED)).edit_kwargs())
            await interaction.followup.send(ephemeral=False, **render(reply).send_kwargs())
        else:
            await interaction.edit_original_response(**render(reply).edit_kwargs())

    @staticmethod
    def _may_open_form(interaction: discord.Interaction[Any], form: Form, deferred: bool) -> bool:
        """A modal must be the first response, and never answers a modal's submission:
        elsewhere the reply's blocks say how to do it in words."""
        submitted = interaction.type is discord.InteractionType.modal_submit
        fresh = not deferred and not submitted and not interaction.response.is_done()
        return fresh and bool(pages(form)[0])  # a form of files alone: attach instead

    async def _refused_form(
        self,
        interaction: discord.Interaction[Any],
        reply: Reply,
        sent: tuple[Form, dict[str, str]],
        *,
        deferred: bool,
    ) -> None:
        """Discord shows no error beside a field: the problems, privately, by field, with
        "Try again" to reopen the form as it was sent."""
        form, values = sent
        kw = render(refused_reply(form, reply)).send_kwargs()
        kw["view"] = try_again(self, form, values, reply)
        if deferred:
            await interaction.edit_original_response(**{k: kw[k] for k in ("embeds", "view")})
        else:
            await interaction.response.send_message(ephemeral=True, **kw)

    async def _deliver_dm(
        self, interaction: discord.Interaction[Any], reply: Reply, *, component: bool
    ) -> None:
        """DM first (deferring, since that is two REST calls), then say where it went."""
        await self._defer(interaction, component)
        try:
            await interaction.user.send(**render(reply).send_kwargs())
            note: Reply = Reply.message(DM_SENT)
        except discord.HTTPException as e:
            why = DM_FALLBACK if e.code == DMS_CLOSED else DM_FAILED
            if e.code != DMS_CLOSED:
                log.warning("DM to %s failed: %s %s", interaction.user.id, e.status, e.code)
            note = Reply((*reply.blocks, Context(text(why))), Visibility.EPHEMERAL)
        r = render(note)
        if component:
            await interaction.followup.send(ephemeral=True, **r.send_kwargs())
        else:
            await interaction.edit_original_response(**r.edit_kwargs())


class _StudyMixin:
    """Shared by the plain and the sharded client."""

    study: StudyHandler
    tree: app_commands.CommandTree[Any]

    def _install(self, core: Core, content: Content, defer_after: float) -> None:
        self.study = StudyHandler(core, defer_after=defer_after)
        self.tree = app_commands.CommandTree(self)
        completions = (
            Completions(content, core.store, core.clock)
            if isinstance(core, StudyBot)
            else Completions(content)  # a benchmark's or the sync's core has no store
        )
        self.tree.add_command(
            study_group(content, self.study.on_command, OptionCompleter(completions))
        )
        self.tree.add_command(report_menu())
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.add_dynamic_items(StudyButton)  # type: ignore[attr-defined]

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("command failed: %s", error, exc_info=error)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                ephemeral=True, **render(Reply.message(BROKEN)).send_kwargs()
            )


def client_options() -> dict[str, Any]:
    # No privileged intents: interactions arrive without any.
    intents = discord.Intents.none()
    intents.guilds = True  # not privileged; keeps guilds known and discord.py quiet
    return {
        "intents": intents,
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": 30.0,
    }


class StudyClient(_StudyMixin, discord.Client):
    def __init__(
        self, core: Core, content: Content, *, defer_after: float = DEFER_AFTER, **options: Any
    ) -> None:
        super().__init__(**{**client_options(), **options})
        self._install(core, content, defer_after)


class ShardedStudyClient(_StudyMixin, discord.AutoShardedClient):
    def __init__(
        self, core: Core, content: Content, *, defer_after: float = DEFER_AFTER, **options: Any
    ) -> None:
        super().__init__(**{**client_options(), **options})
        self._install(core, content, defer_after)


def shard_count_from_env(env: dict[str, str] | None = None) -> int | str | None:
    """DISCORD_SHARD_COUNT: a number, or `auto` to ask Discord; unset means one shard."""
    raw = (env if env is not None else dict(os.environ)).get("DISCORD_SHARD_COUNT", "").strip()
    if not raw:
        return None
    if raw.lower() == "auto":
        return "auto"
    if not raw.isdigit() or int(raw) < 1:
        raise OperatorError(
            f"DISCORD_SHARD_COUNT must be a whole number from 1, or auto (got {raw!r})"
        )
    return int(raw)


def make_client(
    core: Core,
    content: Content,
    *,
    shard_count: int | str | None = None,
    defer_after: float = DEFER_AFTER,
) -> StudyClient | ShardedStudyClient:
    """A plain client, or `AutoShardedClient` when a shard count (or `auto`) is given."""
    if shard_count is None:
        return StudyClient(core, content, defer_after=defer_after)
    count = None if shard_count == "auto" else int(shard_count)
    return ShardedStudyClient(core, content, defer_after=defer_after, shard_count=count)
