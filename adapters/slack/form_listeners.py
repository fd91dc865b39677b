"""Forms on Slack: a command's form opened as a modal, its submission, the timezone
search, and the "Report this question" message shortcut.

- A command whose reply carries a form (`setup` or `add` alone from a lead) is acked
  empty and the modal opened after the ack with the command's `trigger_id` (`views.open`;
  a trigger lasts three seconds). If Slack will not open it, the reply's blocks are the
  answer, as the text form's.
- A submission is the form's command invoked with its values (modals.py), run before the
  ack like a command: refused, its problems stand beside their fields
  (`response_action: errors`); done, the modal closes and the reply is posted where the
  command's would be (the channel, or to the member alone with `chat.postEphemeral`, or
  their DMs). If the transport answered at the deadline, the modal has closed and the
  reply, refused or not, is posted.
- A form with a file (`/study import`) cannot be read within the ack: the modal turns to
  "Reading…" (`response_action: update`), the file is downloaded with the bot token after
  the ack, and the modal is updated with the reply (the problems, or what was imported).
- The shortcut reads the text of the message it was used on, and the core says which
  question it shows (`StudyBot.report_form`): the reason's modal opens, or the member is
  told, under the message, that it shows no question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse
from urllib.request import BaseHandler, HTTPSHandler, ProxyHandler, Request, build_opener

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from adapters.slack.ack import AckGuard, guard_of
from adapters.slack.followups import FollowUps
from adapters.slack.inbound import Caller
from adapters.slack.messenger import call, open_dm, post_rendered, upload_files
from adapters.slack.modals import (
    FORM_CALLBACK,
    TZ_ACTION,
    Opened,
    SlackFile,
    block_id,
    errors_of,
    form_view,
    message_text,
    result_view,
    timezone_options,
    values_of,
    working_view,
)
from adapters.slack.render import Rendered, render
from bot.core import StudyBot
from bot.features.report_message import ACTION_NAME
from bot.forms import FieldKind, Form
from bot.registry import COMMANDS, Audience
from bot.seam import DeliveryError, Invocation, Reply, Upload, Visibility, Who

log = logging.getLogger(__name__)

SHORTCUT = "report_question"  # the message shortcut's callback id (manifest.py)
SHORTCUT_NAME = ACTION_NAME  # the core's name for it
FAILED = "Sorry, something went wrong on our side. Please try again in a minute."
DOWNLOAD_LIMIT = 5_000_000  # read no further: the core refuses a file this big anyway
NO_FILE = "Attach the file to send."
UNREADABLE = (
    "I could not download {name} from Slack ({why}). Try attaching it again; if it "
    "keeps failing, the app may need its files:read scope (reinstall it)."
)

WhoOf = Callable[[WebClient, Caller, bool], Who]
Responder = Callable[..., None]  # SlackFrontEnd._respond(respond, rendered, **kwargs)


def safe_render(reply: Reply) -> Rendered:
    try:
        return render(reply)
    except Exception:
        log.exception("could not render a form's reply for Slack")
        return render(Reply.message(FAILED))


class FormFlow:
    """The listeners of forms, and the opening of a command's form."""

    def __init__(
        self, bot: StudyBot, followups: FollowUps, who_of: WhoOf, respond: Responder
    ) -> None:
        self.bot, self.followups, self._who_of, self._respond = bot, followups, who_of, respond

    def attach(self, app: App) -> None:
        app.view(FORM_CALLBACK)(self.on_submit)
        app.options(TZ_ACTION)(self.on_options)
        app.shortcut(SHORTCUT)(self.on_shortcut)

    # ------------------------------------------------------------ opening

    def open_later(
        self,
        guard: AckGuard,
        client: WebClient,
        trigger_id: str,
        channel_id: str,
        reply: Reply,
        respond: Respond,
    ) -> None:
        """After the ack: the reply's form in a modal, or its blocks if Slack refuses."""
        self.followups.after_ack(guard, self.open, client, trigger_id, channel_id, reply, respond)

    def open(
        self,
        client: WebClient,
        trigger_id: str,
        channel_id: str,
        reply: Reply,
        respond: Respond,
    ) -> None:
        assert reply.form is not None
        try:
            call(client.views_open, trigger_id=trigger_id, view=form_view(reply.form, channel_id))
        except (DeliveryError, ValueError) as e:
            log.warning(
                "views.open of the %s form failed (%s); answering in words", reply.form.command, e
            )
            self._respond(
                respond, safe_render(reply), response_type="ephemeral", replace_original=False
            )

    # ------------------------------------------------------------ submission

    def on_submit(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        guard = guard_of(context)
        view = body.get("view") or {}
        opened = Opened.decode(str(view.get("private_metadata") or ""))
        if opened is None or opened.command not in COMMANDS:
            guard.claim()
            ack()
            return
        caller = _caller(body, opened.channel_id)
        values, files = values_of(opened, (view.get("state") or {}).get("values") or {})
        if opened.has_file:
            if not files:
                guard.claim()
                name = next(n for n, k in opened.kinds if k is FieldKind.FILE)
                ack(response_action="errors", errors={block_id(name): NO_FILE})
                return
            title = str((view.get("title") or {}).get("text") or "studybot")
            guard.claim()
            ack(response_action="update", view=working_view(title, f"Reading {files[0].name}…"))
            self.followups.after_ack(
                guard,
                self._submit_file,
                client,
                caller,
                opened,
                values,
                files,
                (str(view.get("id")), title),
            )
            return
        with self.followups.replying(guard):
            reply = self._invoke(client, caller, opened, values, ())
        errors = errors_of(reply, opened)
        if guard.claim() and errors:
            ack(response_action="errors", errors=errors)
            return
        ack()  # the modal closes; the reply goes where the command's would
        self.followups.after_ack(guard, self._post, client, caller, reply)

    def _invoke(
        self,
        client: WebClient,
        caller: Caller,
        opened: Opened,
        values: Mapping[str, str],
        files: tuple[Upload, ...],
    ) -> Reply:
        try:
            lead = COMMANDS[opened.command].audience is Audience.LEAD
            who = self._who_of(client, caller, lead)
            args = Form(opened.command, "", "", (), opened.fixed).args(values)
            return self.bot.handle(Invocation(who, opened.command, args, files))
        except Exception:
            log.exception("a %s form's submission failed", opened.command)
            return Reply.message(FAILED)

    def _submit_file(
        self,
        client: WebClient,
        caller: Caller,
        opened: Opened,
        values: Mapping[str, str],
        files: list[SlackFile],
        shown: tuple[str, str],  # the modal's view id and title
    ) -> None:
        try:
            uploads = tuple(Upload(f.name, download(client, f)) for f in files[:1])
        except DeliveryError as e:
            log.warning("could not download %s: %s", files[0].name, e)
            reply = Reply.refusal(UNREADABLE.format(name=files[0].name, why=e))
        else:
            reply = self._invoke(client, caller, opened, values, uploads)
        try:
            view = result_view(shown[1], reply, opened.channel_id)
            call(client.views_update, view_id=shown[0], view=view)
        except (DeliveryError, ValueError) as e:
            log.warning("views.update after a file form failed (%s); posting the reply", e)
            self._post(client, caller, reply)
            return
        if reply.visibility is Visibility.CHANNEL:
            self._post(client, caller, reply)

    def _post(self, client: WebClient, caller: Caller, reply: Reply) -> None:
        """A submission's reply where the command's would be; without a channel (or one
        the bot is not in, for an ephemeral), in the member's DMs."""
        r = safe_render(reply)
        channel = caller.channel_id
        try:
            if channel and reply.visibility is Visibility.CHANNEL:
                post_rendered(client, channel, r)
                if r.uploads:
                    upload_files(client, channel, r.uploads)
                return
            if channel and reply.visibility is Visibility.EPHEMERAL and not r.uploads:
                try:
                    call(
                        client.chat_postEphemeral,
                        channel=channel,
                        user=caller.user_id,
                        text=r.text,
                        blocks=r.blocks,
                    )
                    return
                except DeliveryError as e:
                    log.warning("chat.postEphemeral in %s failed (%s); sending a DM", channel, e)
            dm = open_dm(client, caller.user_id)
            post_rendered(client, dm, r)
            if r.uploads:
                upload_files(client, dm, r.uploads)
        except DeliveryError as e:
            log.warning("a form's reply to %s could not be delivered: %s", caller.user_id, e)

    # ------------------------------------------------------------ timezones

    def on_options(self, ack: Ack, body: dict[str, Any]) -> None:
        """The timezone select's search: the IANA names matching what was typed."""
        ack(options=timezone_options(str(body.get("value") or "")))

    # ------------------------------------------------------------ the shortcut

    def on_shortcut(
        self,
        ack: Ack,
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        guard = guard_of(context)
        channel = str((body.get("channel") or {}).get("id") or "")
        caller = _caller(body, channel)
        try:
            with self.followups.replying(guard):
                who = self._who_of(client, caller, False)
                reply = self.bot.report_form(who, message_text(body.get("message") or {}))
        except Exception:
            log.exception("the report shortcut failed")
            reply = Reply.message(FAILED)
        guard.claim()
        ack()
        trigger = str(body.get("trigger_id") or "")
        if reply.form is not None and trigger:
            self.open_later(guard, client, trigger, channel, reply, respond)
            return
        self.followups.after_ack(guard, self._answer, respond, reply)

    def _answer(self, respond: Respond, reply: Reply) -> None:
        """Under the message the shortcut was used on, to the member alone."""
        r = safe_render(reply)
        self._respond(respond, r, response_type="ephemeral", replace_original=False)


def _caller(body: Mapping[str, Any], channel_id: str) -> Caller:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    name = user.get("name") or user.get("username") or ""
    return Caller(str(team), channel_id, str(user.get("id") or ""), str(name))


def download(client: WebClient, f: SlackFile) -> bytes:
    """A file a member gave a modal, downloaded with the bot token: only from Slack's
    own hosts (or the API's, a test's fake), so the token goes nowhere else."""
    host = (urlparse(f.url).hostname or "").lower()
    api_host = (urlparse(client.base_url).hostname or "").lower()
    if not (host == api_host or host == "slack.com" or host.endswith(".slack.com")):
        raise DeliveryError(f"the file is not on Slack ({host or 'no host'})")
    handlers: list[BaseHandler] = []
    if client.proxy:
        handlers.append(ProxyHandler({"http": client.proxy, "https": client.proxy}))
    if client.ssl is not None:
        handlers.append(HTTPSHandler(context=client.ssl))
    opener = build_opener(*handlers)
    request = Request(f.url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with opener.open(request, timeout=client.timeout) as resp:
            kind = str(resp.headers.get("Content-Type") or "")
            data: bytes = resp.read(DOWNLOAD_LIMIT + 1)
    except OSError as e:
        raise DeliveryError(str(e)) from e
    if kind.startswith("text/html"):  # Slack's sign-in page: the token may not read files
        raise DeliveryError("Slack answered with a web page instead of the file")
    return data
