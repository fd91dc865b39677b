"""The App Home: the member's home screen (bot/features/home.py) in the app's Home tab.

- `app_home_opened` for the Home tab (the Messages tab's is ignored) is acked at once; the
  Home is read (`StudyBot.home`) and published with `views.publish` after the ack, on the
  follow-up pool. A retried event of a Home this process has shown is ignored.
- The group a Home shows travels in its `private_metadata` (`inbound.view_metadata`: the
  channel, and when the member chose it with the switch), so a press on the Home is taken
  as a press in that group's channel (inbound.py). A Home has no `response_url`: a press
  whose reply is a new screen (`HomeScreen`: an answer, a toggled letter, another group)
  is published in its place; a mock exam's screen goes to the member's DMs, where the exam
  runs; anything else (a lead's cohort report, a refusal) opens in a modal
  (`views.open` with the press's trigger), whose own buttons (the report's pages) update
  it (`views.update`). A modal is what Slack users expect from a button on a Home; the
  report's chart stays with `/study cohort`, since a modal cannot carry an upload.
- After a member answers or changes anything (a command, a press), their Home is
  published again, debounced and within Slack's rate limits (refresh.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.models.blocks import PlainTextObject
from slack_sdk.models.views import View

from adapters.slack.ack import guard_of
from adapters.slack.followups import FollowUps
from adapters.slack.inbound import Caller, ViewRef, metadata_of, press_of, view_metadata, view_of
from adapters.slack.messenger import call, open_dm, post_rendered, upload_files
from adapters.slack.refresh import INTERVAL, QUIET, WATCHED, Key, Refresher
from adapters.slack.render import Rendered, render, truncate
from bot.core import StudyBot
from bot.features.home import HomeScreen
from bot.seam import DeliveryError, Heading, RateLimited, Reply, Visibility, Who

log = logging.getLogger(__name__)

HOME_EVENT = "app_home_opened"  # subscribed in the manifest (manifest.py)
HOME_CALLBACK = "studybot_home"
PANEL_CALLBACK = "studybot_panel"
MODAL_TITLE = 24
SORRY = "Sorry, this could not be shown. Please try again in a minute."
CLIENTS = 1000  # Web API clients kept for publishing (one per workspace token)

WhoOf = Callable[[WebClient, Caller], Who]


def home_view(reply: Reply, channel_id: str, chosen_at: datetime | None = None) -> dict[str, Any]:
    """A Home view of a reply: the blocks a message would have (a one-button row beside
    the line before it), validated by slack_sdk's View model (100 blocks at most)."""
    r = _render(reply)
    return View(
        type="home",
        callback_id=HOME_CALLBACK,
        private_metadata=view_metadata(channel_id, chosen_at),
        blocks=beside(r.blocks),
    ).to_dict()


def modal_view(reply: Reply, channel_id: str) -> dict[str, Any]:
    """A modal of a reply, titled by its first heading's first part ("Cohort report")."""
    r = _render(reply)
    heading = next((b.text for b in reply.blocks if isinstance(b, Heading)), "") or "studybot"
    title = truncate(heading.split(" · ")[0].strip() or "studybot", MODAL_TITLE)
    return View(
        type="modal",
        callback_id=PANEL_CALLBACK,
        title=PlainTextObject(text=title),
        close=PlainTextObject(text="Close"),
        private_metadata=view_metadata(channel_id),
        blocks=r.blocks,
    ).to_dict()


def beside(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A section followed by a row of one button becomes the section with that button at
    its side (Slack's accessory): "#channel · track [Show]". New dicts: rendered ones are
    shared between messages."""
    out: list[dict[str, Any]] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and b["type"] == "actions"
            and len(b["elements"]) == 1
            and b["elements"][0]["type"] == "button"
            and prev["type"] == "section"
            and "text" in prev
            and "accessory" not in prev
        ):
            out[-1] = {**prev, "accessory": b["elements"][0]}
            continue
        out.append(b)
    return out


def _render(reply: Reply) -> Rendered:
    try:
        return render(reply)
    except Exception:
        log.exception("could not render a Home view")
        return render(Reply.message(SORRY))


class HomeTab:
    """The Home tab's listener, its presses, and its publishing."""

    def __init__(
        self,
        bot: StudyBot,
        followups: FollowUps,
        who_of: WhoOf,
        *,
        quiet: float = QUIET,
        interval: float = INTERVAL,
    ) -> None:
        self.bot, self.followups, self._who_of = bot, followups, who_of
        self.refresher = Refresher(
            self._publish, self.followups.submit, quiet=quiet, interval=interval
        )
        self._lock = threading.Lock()
        self._clients: dict[Key, WebClient] = {}  # the latest request's client per member
        self._shown: dict[Key, tuple[str, datetime | None]] = {}  # group, when chosen
        self._quiet_clients: dict[tuple[str | None, str], WebClient] = {}

    def attach(self, app: App) -> None:
        app.event(HOME_EVENT)(self.on_opened)

    def close(self) -> None:
        self.refresher.close()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for the publishes under way and the refreshes due (tests)."""
        end = time.monotonic() + timeout
        while True:
            self.followups.drain(max(0.0, end - time.monotonic()))
            if self.refresher.idle():
                return
            if time.monotonic() > end:
                raise TimeoutError("Home refreshes still pending")
            time.sleep(0.01)

    # ------------------------------------------------------------ in

    def on_opened(
        self,
        ack: Ack,
        event: dict[str, Any],
        body: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        request: BoltRequest,
    ) -> None:
        ack()
        if event.get("tab") != "home":
            return
        team = str(context.team_id or body.get("team_id") or "")
        user = str(event.get("user") or "")
        if not team or not user:
            return
        channel, chosen = metadata_of(event.get("view"))
        retry = bool(request.headers.get("x-slack-retry-num"))
        guard = guard_of(context)
        self.followups.after_ack(guard, self._opened, client, (team, user), channel, chosen, retry)

    def _opened(
        self, client: WebClient, key: Key, channel: str, chosen: datetime | None, retry: bool
    ) -> None:
        if retry and self.refresher.watched(key):
            return  # Slack sent it again: this process has shown that Home already
        # the group chosen on the Home stays, until the member studies in another one;
        # without a choice the Home shows the group used last
        self._remember(key, client, (channel if chosen else "", chosen))
        self.refresher.show(key)

    def changed(self, client: WebClient, team: str, user: str) -> None:
        """The member did something: refresh their Home soon, if this process shows it."""
        key = (team, user)
        if self.refresher.watched(key):
            self._remember(key, client)
            self.refresher.changed(key)

    def deliver_press(self, reply: Reply, body: Mapping[str, Any], client: WebClient) -> None:
        """After the ack of a press on a Home or a modal: its reply where it belongs."""
        view = view_of(body)
        assert view is not None
        press = press_of(body)
        key = (press.caller.team_id, press.caller.user_id)
        if isinstance(reply, HomeScreen):
            same = reply.channel_id == view.channel_id
            chosen = reply.chosen_at or (view.chosen_at if same else None)
            self._remember(key, client, (reply.channel_id, chosen))
            self.refresher.show(key, reply)
            return
        if view.kind == "modal":
            self._update_modal(client, view, reply, key)
        elif reply.visibility is Visibility.DM:
            self._dm(client, key, _render(reply))
        else:
            self._open_modal(client, str(body.get("trigger_id") or ""), view, reply, key)
        if view.kind == "home":
            self.changed(client, *key)

    # ------------------------------------------------------------ out

    def _remember(
        self, key: Key, client: WebClient, shown: tuple[str, datetime | None] | None = None
    ) -> None:
        with self._lock:
            self._clients[key] = client
            if shown is not None:
                self._shown[key] = shown
            if len(self._clients) > 2 * WATCHED:  # most are no longer watched: start afresh
                self._clients, self._shown = {key: client}, {key: self._shown.get(key, ("", None))}

    def _publish(self, key: Key, reply: Reply | None) -> None:
        """views.publish of the member's Home (read now when `reply` is None); raises
        RateLimited for the refresher to back off."""
        with self._lock:
            client = self._clients.get(key)
            channel, chosen = self._shown.get(key, ("", None))
        if client is None:  # forgotten among thousands: their next action shows it again
            return
        if reply is None:
            who = self._who_of(client, Caller(key[0], "", key[1], ""))
            reply = self.bot.home(who, channel if chosen else None, chosen)
        if isinstance(reply, HomeScreen):
            if reply.channel_id != channel:
                chosen = reply.chosen_at
            channel = reply.channel_id
        view = home_view(reply, channel, chosen)
        try:
            call(self._quiet(client).views_publish, user_id=key[1], view=view)
        except RateLimited:
            raise  # the refresher backs the workspace off and publishes again then
        except DeliveryError as e:
            log.warning("views.publish failed for %s/%s: %s", key[0], key[1], e)
            return
        with self._lock:
            self._shown[key] = (channel, chosen)

    def _quiet(self, client: WebClient) -> WebClient:
        """The request's client without the rate-limit retry that sleeps on its thread:
        a `ratelimited` answer reaches the refresher, which backs off without waiting."""
        k = (client.token, client.base_url)
        with self._lock:
            found = self._quiet_clients.get(k)
            if found is None:
                if len(self._quiet_clients) >= CLIENTS:
                    self._quiet_clients.clear()
                found = WebClient(
                    token=client.token,
                    base_url=client.base_url,
                    timeout=client.timeout,
                    retry_handlers=[ConnectionErrorRetryHandler()],
                )
                self._quiet_clients[k] = found
            return found

    def _open_modal(
        self, client: WebClient, trigger: str, view: ViewRef, reply: Reply, key: Key
    ) -> None:
        """A press's reply in a modal over the Home (or the member's DMs if Slack will not
        open one: the trigger lasts three seconds)."""
        try:
            view_dict = modal_view(reply, view.channel_id)
            call(self._quiet(client).views_open, trigger_id=trigger, view=view_dict)
        except (DeliveryError, ValueError) as e:
            log.warning("views.open failed (%s); sending it as a DM", e)
            self._dm(client, key, _render(reply))
            return
        self._upload(client, key, _render(reply))

    def _update_modal(self, client: WebClient, view: ViewRef, reply: Reply, key: Key) -> None:
        try:
            view_dict = modal_view(reply, view.channel_id)
            call(self._quiet(client).views_update, view_id=view.view_id, view=view_dict)
        except (DeliveryError, ValueError) as e:
            log.warning("views.update failed (%s); sending it as a DM", e)
            self._dm(client, key, _render(reply))
            return
        self._upload(client, key, _render(reply))

    def _dm(self, client: WebClient, key: Key, r: Rendered) -> None:
        try:
            post_rendered(client, open_dm(client, key[1]), r)
        except DeliveryError as e:
            log.warning("DM to %s from the Home failed: %s", key[1], e)

    def _upload(self, client: WebClient, key: Key, r: Rendered) -> None:
        """Pictures and files of a reply shown in a modal go to the member's DMs."""
        if not r.uploads:
            return
        try:
            upload_files(client, open_dm(client, key[1]), r.uploads)
        except DeliveryError as e:
            log.warning("upload to %s from the Home failed: %s", key[1], e)
