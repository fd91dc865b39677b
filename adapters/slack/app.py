"""The slack-bolt `App`: `/study` and button clicks in, Block Kit out.

Acknowledging within Slack's 3 seconds: the app runs with `process_before_response=True`
(the listener finishes before the HTTP answer, so nothing depends on background threads in
the usual case), and each listener hands the core call to a thread pool and waits at most
`deadline` seconds for it. A command that finishes in time is answered in the ack itself
(no extra Web API call); one that does not is acked with "Working on it…" and its reply
goes out through `response_url` when it is ready. Button clicks always answer through
`response_url` (Slack ignores the body of their ack), bounded by the same deadline.

Retries and double clicks are safe because the core records answers under unique keys;
the adapter adds no state of its own besides a short cache of `users.info`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

from adapters.slack.messenger import (
    SlackMessenger,
    open_dm,
    post_rendered,
    upload_images,
)
from adapters.slack.render import ACTION_PATTERN, Rendered, decode_action_id, render
from bot.commands import SLASH
from bot.core import StudyBot
from bot.seam import Action, DeliveryError, Reply, Visibility, Who
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
ACK_DEADLINE = 2.0  # seconds of work before the ack; Slack allows 3 in all
PROFILE_TTL = 60.0  # users.info cache: admin rights change rarely, but do change
PROFILE_FAILURE_TTL = 10.0
WORKERS = 16
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read",
              "files:write")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
WORKING = "Working on it…"
FAILED = "Sorry, something went wrong on our side. Please try again in a minute."


# --------------------------------------------------------------------------- who is calling


@dataclass(frozen=True)
class Profile:
    name: str
    is_admin: bool


class Directory:
    """`users.info`, cached briefly: display names and workspace admin/owner flags.

    Workspace admins and owners may administer any group; the leads a group names are
    checked by the core. A failed lookup falls back to the name in the payload, without
    admin rights, and is retried after a few seconds.
    """

    def __init__(self, ttl: float = PROFILE_TTL, failure_ttl: float = PROFILE_FAILURE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.failure_ttl, self.clock = ttl, failure_ttl, clock
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._lock = threading.Lock()

    def lookup(self, client: WebClient, team_id: str, user_id: str, fallback: str) -> Profile:
        key = (team_id, user_id)
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            user = client.users_info(user=user_id)["user"]
            profile = user.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")
                    or user.get("real_name") or user.get("name") or fallback or user_id)
            found = Profile(str(name), bool(user.get("is_admin") or user.get("is_owner")
                                            or user.get("is_primary_owner")))
            expires = now + self.ttl
        except Exception as e:  # the command still works, without admin rights
            log.warning("users.info failed for %s/%s: %s", team_id, user_id, e)
            found = Profile(fallback or user_id, False)
            expires = now + self.failure_ttl
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (expires, found)
        return found


# --------------------------------------------------------------------------- inbound text

_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")


def command_text(raw: str) -> str:
    """Slash-command text as the user meant it.

    The manifest asks Slack to escape the command text, so mentions arrive as
    `<@U123|name>` (turned into the user id `setup leads=` expects), links as `<url|label>`,
    and `&`, `<`, `>` as entities, which are decoded last.
    """
    s = _USER_REF.sub(r"\1", raw)
    s = _CHANNEL_REF.sub(r"\1", s)
    s = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1).split('^')[0]}", s)
    s = _LINK.sub(r"\1", s)
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------- listeners


class SlackFrontEnd:
    """Translates Bolt payloads into core calls and delivers the replies."""

    def __init__(self, bot: StudyBot, *, deadline: float = ACK_DEADLINE,
                 directory: Directory | None = None, workers: int = WORKERS) -> None:
        self.bot = bot
        self.deadline = deadline
        self.directory = directory or Directory()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studybot-slack")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def attach(self, app: App) -> None:
        app.command(SLASH)(self.on_command)
        app.action(ACTION_PATTERN)(self.on_action)

    # ------------------------------------------------------------ bookkeeping

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut = self._pool.submit(fn, *args)
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(fut)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for work that outlived its ack (tests and benchmarks; shutdown)."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} Slack deliveries still running")
            wait(pending, timeout=left)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------ who

    def _who(self, client: WebClient, team_id: str, channel_id: str, user_id: str,
             fallback_name: str) -> Who:
        profile = self.directory.lookup(client, team_id, user_id, fallback_name)
        return Who(PLATFORM, team_id, channel_id, user_id, profile.name, profile.is_admin)

    # ------------------------------------------------------------ /study

    def on_command(self, ack: Ack, body: dict[str, Any], respond: Respond,
                   client: WebClient) -> None:
        fut = self._submit(self._command_reply, body, client)
        try:
            reply = fut.result(timeout=self.deadline)
        except FutureTimeout:
            ack(response_type="ephemeral", text=WORKING)
            fut.add_done_callback(lambda f: self._deliver_late(f, body, respond, client))
            return
        r = render(reply)
        if reply.visibility is Visibility.DM:
            ack(response_type="ephemeral", text="I sent you a direct message.")
            self._submit(self._dm, client, body["user_id"], r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        ack(response_type=kind, blocks=r.blocks, text=r.text)
        if r.images:
            self._submit(self._upload, client, body, reply.visibility, r)

    def _command_reply(self, body: Mapping[str, Any], client: WebClient) -> Reply:
        try:
            who = self._who(client, str(body["team_id"]), str(body["channel_id"]),
                            str(body["user_id"]), str(body.get("user_name") or ""))
            return self.bot.handle_text(who, f"{SLASH} {command_text(str(body.get('text', '')))}")
        except Exception:
            log.exception("/study failed")
            return Reply.message(FAILED)

    def _deliver_late(self, fut: Future[Reply], body: Mapping[str, Any], respond: Respond,
                      client: WebClient) -> None:
        reply = fut.result()
        r = render(reply)
        if reply.visibility is Visibility.DM:
            self._dm(client, str(body["user_id"]), r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        self._respond(respond, r, response_type=kind, replace_original=False)
        if r.images:
            self._upload(client, body, reply.visibility, r)

    # ------------------------------------------------------------ buttons

    def on_action(self, ack: Ack, body: dict[str, Any], respond: Respond,
                  client: WebClient) -> None:
        fut = self._submit(self._press_and_deliver, body, respond, client)
        try:
            fut.result(timeout=self.deadline)
        except FutureTimeout:
            log.info("button click still running after %.1fs; acking", self.deadline)
        finally:
            ack()

    def _press_and_deliver(self, body: Mapping[str, Any], respond: Respond,
                           client: WebClient) -> None:
        try:
            act = body["actions"][0]
            user = body.get("user") or {}
            team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
            channel_id = ((body.get("channel") or {}).get("id")
                          or (body.get("container") or {}).get("channel_id") or "")
            who = self._who(client, str(team_id), str(channel_id), str(user["id"]),
                            str(user.get("name") or user.get("username") or ""))
            reply = self.bot.press(Action(who, decode_action_id(str(act["action_id"])),
                                          str(act.get("value") or "")))
        except Exception:
            log.exception("button click failed")
            reply = Reply.message(FAILED)
        r = render(reply)
        if reply.visibility is Visibility.DM:
            self._dm(client, str((body.get("user") or {}).get("id")), r, respond)
        elif reply.replace:
            self._respond(respond, r, replace_original=True)
        else:
            kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
            self._respond(respond, r, response_type=kind, replace_original=False)
        if r.images and reply.visibility is not Visibility.DM:
            self._upload(client, body, reply.visibility, r)

    # ------------------------------------------------------------ delivery

    @staticmethod
    def _respond(respond: Respond, r: Rendered, **kwargs: Any) -> None:
        try:
            resp = respond(blocks=r.blocks, text=r.text, **kwargs)
            if resp.status_code != 200:
                log.warning("response_url answered %s: %s", resp.status_code, resp.body)
        except Exception:
            log.exception("response_url delivery failed")

    def _dm(self, client: WebClient, user_id: str, r: Rendered, respond: Respond) -> None:
        """A DM reply; if DMs cannot be opened, show it to the caller where they are."""
        try:
            post_rendered(client, open_dm(client, user_id), r)
        except DeliveryError as e:
            log.warning("DM to %s failed (%s); answering in place", user_id, e)
            self._respond(respond, r, response_type="ephemeral", replace_original=False)

    def _upload(self, client: WebClient, body: Mapping[str, Any], visibility: Visibility,
                r: Rendered) -> None:
        """Pictures: into the channel for channel posts, else into the caller's DMs."""
        user_id = str(body.get("user_id") or (body.get("user") or {}).get("id"))
        channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id"))
        try:
            target = channel if visibility is Visibility.CHANNEL else open_dm(client, user_id)
            upload_images(client, target, r.images)
        except DeliveryError as e:
            log.warning("picture upload failed: %s", e)


# --------------------------------------------------------------------------- the factory


@dataclass
class SlackApp:
    """What the factory builds: the Bolt app, its listeners and the clock's messenger."""

    app: App
    frontend: SlackFrontEnd
    messenger: SlackMessenger
    installation_store: InstallationStore | None = None

    def close(self) -> None:
        self.frontend.close()


def web_client(api_url: str, token: str | None = None, *, retry_rate_limits: bool) -> WebClient:
    handlers: list[Any] = [ConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    base = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(token=token, base_url=base, retry_handlers=handlers, timeout=10)


def oauth_mode(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def create_app(bot: StudyBot, settings: Settings, *, engine: Engine | None = None,
               deadline: float = ACK_DEADLINE, directory: Directory | None = None) -> SlackApp:
    """Build the Bolt app: single-token mode with SLACK_BOT_TOKEN, multi-workspace OAuth
    with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (installations in the study database)."""
    signing_secret = _secret(settings.slack_signing_secret)
    if not signing_secret and not settings.slack_app_token:
        raise ValueError("SLACK_SIGNING_SECRET is required for Slack's HTTP mode")
    frontend = SlackFrontEnd(bot, deadline=deadline, directory=directory)
    api_url = settings.slack_api_url
    common: dict[str, Any] = {
        "signing_secret": signing_secret or "",
        "process_before_response": True,
        "name": "studybot",
    }
    if oauth_mode(settings):
        # Imported here: slack_sdk's SQLAlchemy stores pull in sqlalchemy.ext.asyncio, which
        # needs greenlet; single-token mode does without.
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        engine = engine or bot.store.engine
        client_id = str(settings.slack_client_id)
        store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        state = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        store.create_tables()
        state.create_tables()
        app = App(
            client=web_client(api_url, retry_rate_limits=True),
            oauth_settings=OAuthSettings(
                client_id=client_id,
                client_secret=_secret(settings.slack_client_secret),
                scopes=list(BOT_SCOPES),
                installation_store=store,
                state_store=state,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
            ),
            **common,
        )

        def client_for(workspace_id: str) -> WebClient:
            bot_row = store.find_bot(enterprise_id=None, team_id=workspace_id)
            if bot_row is None or not bot_row.bot_token:
                raise LookupError(workspace_id)
            return web_client(api_url, bot_row.bot_token, retry_rate_limits=False)

        messenger = SlackMessenger(client_for)
        frontend.attach(app)
        return SlackApp(app, frontend, messenger, store)

    token = _secret(settings.slack_bot_token)
    if not token:
        raise ValueError("set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    app = App(client=web_client(api_url, token, retry_rate_limits=True), **common)
    plain = web_client(api_url, token, retry_rate_limits=False)
    messenger = SlackMessenger(lambda _workspace_id: plain)
    frontend.attach(app)
    return SlackApp(app, frontend, messenger)
