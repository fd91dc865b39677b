"""Bolt listeners: `/study` and button clicks to the core, replies back to Slack.

A command's reply rides in its ack (no extra Web API call); if the transport already
answered "Working on it…" at the deadline (ack.py), the reply goes out through
`response_url` when it is ready. A click is acked once the core has recorded it and
made its reply (one transaction); the reply follows the ack through `response_url`. DMs and
pictures follow the ack too (followups.py). Retries and double clicks are safe because
the core records answers under unique keys. The App Home's listener and the clicks on a
Home or a modal are home.py's; every command and click asks it to refresh the caller's
Home. A reply with a form (`setup` or `add` alone from a lead) opens it as a modal, and
the modal's submission, the timezone search and the "Report this question" shortcut are
form_listeners.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from adapters.slack.ack import WORKING, AckGuard, guard_of
from adapters.slack.directory import Directory
from adapters.slack.followups import WORKERS, FollowUps, ResponseUrls
from adapters.slack.form_listeners import FormFlow
from adapters.slack.home import HomeTab
from adapters.slack.inbound import (
    Caller,
    channel_id,
    channel_of,
    command_of,
    press_of,
    user_of,
    view_of,
)
from adapters.slack.messenger import open_dm, post_rendered, upload_files
from adapters.slack.render import ACTION_PATTERN, Rendered, render
from bot.core import StudyBot
from bot.registry import SLASH
from bot.seam import Action, DeliveryError, Reply, Visibility, Who

log = logging.getLogger(__name__)

PLATFORM = "slack"
SENT_DM = "I sent you a direct message."
FAILED = "Sorry, something went wrong on our side. Please try again in a minute."
FILE_FAILED = (
    "I could not send you {names} ({error}). Allow direct messages from the app and "
    "run the command again."
)


def safe_render(reply: Reply) -> Rendered:
    """Render, or say sorry: a reply Block Kit cannot carry must not become an HTTP 500."""
    try:
        return render(reply)
    except Exception:
        log.exception("could not render a reply for Slack")
        return render(Reply.message(FAILED))


class SlackFrontEnd:
    """The listeners Bolt calls, and the delivery of their replies."""

    def __init__(
        self, bot: StudyBot, *, directory: Directory | None = None, workers: int = WORKERS
    ) -> None:
        self.bot = bot
        self.followups = FollowUps(workers)
        self.responses = ResponseUrls()
        self.directory = directory or Directory()
        if self.directory.background is None:  # names are looked up after the reply
            self.directory.background = self.followups.look_up_later
        if self.directory.learned is None:
            self.directory.learned = self._learned
        if self.directory.stored is None:
            self.directory.stored = partial(self.bot.stored_name, PLATFORM)
        bot.name_watchers.append(self._name_stored)
        self.home = HomeTab(bot, self.followups, partial(self._who, need_admin=True))
        self.forms = FormFlow(
            bot,
            self.followups,
            lambda client, caller, lead: self._who(client, caller, need_admin=lead),
            self._respond,
        )

    def attach(self, app: App) -> None:
        app.command(SLASH)(self.on_command)
        app.action(ACTION_PATTERN)(self.on_action)
        self.home.attach(app)
        self.forms.attach(app)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work that outlived its ack (tests, benchmarks, shutdown)."""
        self.followups.drain(timeout)

    def close(self) -> None:
        if self._name_stored in self.bot.name_watchers:
            self.bot.name_watchers.remove(self._name_stored)
        self.home.close()
        self.followups.close()
        self.responses.close()

    def _learned(self, team_id: str, user_id: str, name: str) -> None:
        self.bot.remember_name(Who(PLATFORM, team_id, "", user_id, name))

    def _name_stored(self, who: Who, name: str) -> None:
        if who.platform == PLATFORM:
            self.directory.met(who.workspace_id, who.user_id, name)

    def _who(self, client: WebClient, caller: Caller, *, need_admin: bool = False) -> Who:
        profile = self.directory.lookup(
            client, caller.team_id, caller.user_id, caller.name, need_admin=need_admin
        )
        return Who(
            PLATFORM,
            caller.team_id,
            caller.channel_id,
            caller.user_id,
            profile.name,
            profile.is_admin,
            name_known=profile.known,
        )

    # ------------------------------------------------------------ /study

    def on_command(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        guard = guard_of(context)
        reply = self._command_reply(body, client, guard)
        if not reply.refused:  # once acked: marking it costs a dict look-up, no pool task
            guard.after(partial(self._home_changed, body, client))
        if not guard.claim():  # the transport answered "Working on it…" at the deadline
            ack(response_type="ephemeral", text=WORKING)  # not sent; Bolt expects an ack
            self.followups.after_ack(guard, self._deliver_late, reply, body, respond, client)
            return
        trigger = str(body.get("trigger_id") or "")
        if reply.form is not None and trigger:  # a modal in place of the reply's blocks
            ack()
            self.forms.open_later(guard, client, trigger, channel_id(body), reply, respond)
            return
        r = safe_render(reply)
        if reply.visibility is Visibility.DM:
            ack(response_type="ephemeral", text=SENT_DM)
            self.followups.after_ack(guard, self._dm, client, user_of(body), r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        ack(response_type=kind, blocks=r.blocks, text=r.text)
        if r.uploads:
            self.followups.after_ack(
                guard, self._upload, client, body, reply.visibility, r, respond
            )

    def _command_reply(self, body: Mapping[str, Any], client: WebClient, guard: AckGuard) -> Reply:
        try:
            command = command_of(body)
            with self.followups.replying(guard):
                who = self._who(client, command.caller, need_admin=command.needs_admin)
                return self.bot.handle_text(who, command.text)
        except Exception:
            log.exception("/study failed")
            return Reply.message(FAILED)

    def _deliver_late(
        self, reply: Reply, body: Mapping[str, Any], respond: Respond, client: WebClient
    ) -> None:
        trigger = str(body.get("trigger_id") or "")
        if reply.form is not None and trigger:  # the trigger may still be good: try
            self.forms.open(client, trigger, channel_id(body), reply, respond)
            return
        r = safe_render(reply)
        if reply.visibility is Visibility.DM:
            self._dm(client, user_of(body), r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        self._respond(respond, r, response_type=kind, replace_original=False)
        if r.uploads:
            self._upload(client, body, reply.visibility, r, respond)

    # ------------------------------------------------------------ buttons

    def on_action(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Ack once the core has recorded the click and made its reply; the reply is
        rendered and posted after the ack."""
        guard = guard_of(context)
        reply = self._press(body, client, guard)
        guard.claim()  # a click's ack carries nothing: the reply always follows it
        ack()
        if view_of(body) is not None:  # on the App Home or a modal: no response_url
            self.followups.after_ack(guard, self.home.deliver_press, reply, body, client)
            return
        self.followups.after_ack(guard, self._deliver_press, reply, body, respond, client)
        guard.after(partial(self._home_changed, body, client))

    def _press(self, body: Mapping[str, Any], client: WebClient, guard: AckGuard) -> Reply:
        try:
            press = press_of(body)
            with self.followups.replying(guard):
                who = self._who(client, press.caller)
                return self.bot.press(Action(who, press.action_id, press.value))
        except Exception:
            log.exception("button click failed")
            return Reply.message(FAILED)

    def _deliver_press(
        self,
        reply: Reply,
        body: Mapping[str, Any],
        respond: Respond,
        client: WebClient,
    ) -> None:
        r = safe_render(reply)
        in_dm = channel_of(body).startswith("D")  # a button on a direct message (mock exams)
        if reply.replace:
            self._respond(respond, r, replace_original=True)
        elif reply.visibility is Visibility.DM and not in_dm:
            self._dm(client, user_of(body), r, respond)
        else:
            kind = "ephemeral" if reply.visibility is Visibility.EPHEMERAL else "in_channel"
            self._respond(respond, r, response_type=kind, replace_original=False)
        if r.uploads:
            self._upload(client, body, reply.visibility, r, respond)

    def _home_changed(self, body: Mapping[str, Any], client: WebClient) -> None:
        """The caller's Home, if this process shows it, is published again soon."""
        team = str(body.get("team_id") or (body.get("team") or {}).get("id") or "")
        self.home.changed(client, team, user_of(body))

    # ------------------------------------------------------------ delivery

    def _respond(self, respond: Respond, r: Rendered, **kwargs: Any) -> None:
        """Post to the request's `response_url`, as Bolt's `respond` would."""
        try:
            if respond.response_url is None:
                raise ValueError("no response_url in this request")
            message: dict[str, Any] = {"text": r.text, **kwargs}
            if r.blocks:
                message["blocks"] = r.blocks
            resp = self.responses.post(
                respond.response_url, message, ssl=respond.ssl, proxy=respond.proxy
            )
            if resp.status != 200:
                log.warning("response_url answered %s: %s", resp.status, resp.data[:200])
        except Exception:
            log.exception("response_url delivery failed")

    def _dm(self, client: WebClient, user_id: str, r: Rendered, respond: Respond) -> None:
        """A DM reply; if DMs cannot be opened, show it to the caller where they are."""
        try:
            post_rendered(client, open_dm(client, user_id), r)
        except DeliveryError as e:
            log.warning("DM to %s failed (%s); answering in place", user_id, e)
            self._respond(respond, r, response_type="ephemeral", replace_original=False)

    def _upload(
        self,
        client: WebClient,
        body: Mapping[str, Any],
        visibility: Visibility,
        r: Rendered,
        respond: Respond,
    ) -> None:
        """Pictures and files: into the channel for channel posts, else into the caller's
        DMs. A file that cannot reach them (a data export) is not silently lost: the
        caller is told where it went wrong."""
        try:
            if visibility is Visibility.CHANNEL:
                target = channel_id(body)
            else:
                target = open_dm(client, user_of(body))
            upload_files(client, target, r.uploads)
        except DeliveryError as e:
            log.warning("upload failed: %s", e)
            if r.files:
                names = ", ".join(f.filename for f in r.files)
                note = render(Reply.message(FILE_FAILED.format(names=names, error=e)))
                self._respond(respond, note, response_type="ephemeral", replace_original=False)
