"""The slack-bolt `App`: `/study` and button clicks in, Block Kit out.

Acknowledging within Slack's 3 seconds is the transport's job (ack.py): a listener runs
the core on its own thread and answers in the ack when it can. A command's reply rides in
its ack (no extra Web API call); if the transport already answered "Working on it…" at the
deadline, the reply goes out through `response_url` when it is ready. A button click is
acked once the core has answered it (an answer is recorded by then); its reply goes out
through `response_url` after the ack (Slack ignores the body of a click's ack). DMs and
pictures also follow the ack, on the front end's thread pool.

Retries and double clicks are safe because the core records answers under unique keys;
the adapter adds no state of its own besides a cache of `users.info` and kept-alive HTTP
connections (transport.py).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

from adapters.slack.ack import WORKING, AckGuard, guard_of
from adapters.slack.bursts import Bursts
from adapters.slack.messenger import (
    SlackMessenger,
    open_dm,
    post_rendered,
    upload_images,
)
from adapters.slack.render import ACTION_PATTERN, Rendered, decode_action_id, render
from adapters.slack.transport import PooledWebClient, pooled
from adapters.slack.transport import respond as post_response
from bot.core import Recorded, StudyBot
from bot.registry import COMMANDS, SLASH, Audience
from bot.seam import Action, DeliveryError, Reply, Visibility, Who
from bot.settings import Settings
from bot.store.db import make_engine

log = logging.getLogger(__name__)

PLATFORM = "slack"
PROFILE_TTL = 60.0  # users.info cache: admin rights change rarely, but do change
PROFILE_FAILURE_TTL = 10.0
NAME_TTL = 3600.0  # display names: refreshed after an hour (after the reply), admins at once
NAME_SETTLE = 0.5  # seconds: name lookups queued after replies run together, after this
WORKERS = 16
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "files:write",
    "channels:history",  # find a post after a worker died mid-delivery (find_posted)
    "groups:history",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SENT_DM = "I sent you a direct message."
FAILED = "Sorry, something went wrong on our side. Please try again in a minute."


# --------------------------------------------------------------------------- who is calling


@dataclass(frozen=True)
class Profile:
    name: str
    is_admin: bool
    known: bool = True  # False: a stand-in (the payload's username) until users.info answers


class Directory:
    """`users.info`, cached per (team, user): admin rights for a minute, names longer.

    Workspace admins and owners may administer any group; the leads a group names are
    checked by the core. Commands the table reserves for group leads ask for a fresh
    admin flag (`need_admin`); everything else reuses a cached name and reports admin
    rights only while they are fresh, so a demoted admin loses them within a minute and a
    busy member is not looked up on every click. A failed lookup falls back to the name in
    the payload, without admin rights, and is retried after a few seconds.

    With `background` (the front end's thread pool), a name older than `name_ttl` is
    still used once more while a fresh one is fetched after the reply: a member who comes
    back the next day is answered without waiting for `users.info`, and a renamed member
    shows the new name from their next command on. A member never seen before is answered
    with the payload's username as a stand-in (`known=False`: the core names a new user
    with it but never renames anyone with it). After the reply the name the store holds
    (`stored`) is cached if there is one (the member was met before, by this process or
    another, and is refreshed after `name_ttl` as usual); otherwise `users.info` runs and
    `learned` stores the real name. Only lead commands wait for the lookup.
    """

    def __init__(
        self,
        ttl: float = PROFILE_TTL,
        failure_ttl: float = PROFILE_FAILURE_TTL,
        name_ttl: float = NAME_TTL,
        clock: Callable[[], float] = time.monotonic,
        background: Callable[[Callable[[], None]], object] | None = None,
        learned: Callable[[str, str, str], None] | None = None,
        stored: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.ttl, self.failure_ttl, self.name_ttl = ttl, failure_ttl, name_ttl
        self.clock = clock
        self.background = background
        self.learned = learned  # (team, user, name) after a lookup in the background
        self.stored = stored  # (team, user) -> the name the store holds, if it has one
        # (team, user) -> (fetched at, good for, profile)
        self._cache: dict[tuple[str, str], tuple[float, float, Profile]] = {}
        self._refreshing: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def lookup(
        self,
        client: WebClient,
        team_id: str,
        user_id: str,
        fallback: str,
        *,
        need_admin: bool = True,
    ) -> Profile:
        key = (team_id, user_id)
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            fetched, good_for, profile = hit
            age = now - fetched
            if age < min(good_for, self.ttl):
                return profile
            if not need_admin:
                if age < min(good_for, self.name_ttl):
                    return Profile(profile.name, False, profile.known)
                if good_for == self.name_ttl and self.background is not None:
                    self._refresh_later(self.background, client, key, fallback, profile)
                    return Profile(profile.name, False, profile.known)
        elif not need_admin and self.background is not None:
            stand_in = Profile(fallback or user_id, False, known=False)
            self._refresh_later(self.background, client, key, fallback, stand_in)
            return stand_in
        found = self._fetch(client, key, fallback)
        if found is None:
            found = Profile(fallback or user_id, False, known=False)
            self._store(key, (now, self.failure_ttl, found))
        return found

    def _fetch(self, client: WebClient, key: tuple[str, str], fallback: str) -> Profile | None:
        """users.info, cached on success; None when it failed."""
        team_id, user_id = key
        now = self.clock()
        try:
            user = client.users_info(user=user_id)["user"]
        except Exception as e:  # the command still works, without admin rights
            log.warning("users.info failed for %s/%s: %s", team_id, user_id, e)
            return None
        info = user.get("profile") or {}
        name = (
            info.get("display_name")
            or info.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or fallback
            or user_id
        )
        admin = user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
        found = Profile(str(name), bool(admin))
        self._store(key, (now, self.name_ttl, found))
        return found

    def _refresh_later(
        self,
        background: Callable[[Callable[[], None]], object],
        client: WebClient,
        key: tuple[str, str],
        fallback: str,
        old: Profile,
    ) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                if not old.known and self.stored is not None:
                    name = self.stored(*key)
                    # met before, by this process or another (not just now, named with
                    # this stand-in): no users.info yet
                    if name and name != old.name:
                        self._store(key, (self.clock(), self.name_ttl, Profile(name, False)))
                        return
                found = self._fetch(client, key, fallback)
                if found is None:
                    # keep the old name; try again after failure_ttl, not on every click
                    again = self.clock() - self.name_ttl + self.failure_ttl
                    self._store(key, (again, self.name_ttl, Profile(old.name, False, old.known)))
                elif self.learned is not None and (not old.known or found.name != old.name):
                    self.learned(key[0], key[1], found.name)
            except Exception:
                log.exception("could not store the name of %s/%s", *key)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        try:
            background(refresh)
        except Exception:  # shutting down: the next lookup tries again
            with self._lock:
                self._refreshing.discard(key)

    def _store(self, key: tuple[str, str], entry: tuple[float, float, Profile]) -> None:
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = entry


def needs_admin(text: str) -> bool:
    """Whether the command table reserves this command for group leads."""
    words = text.split()
    cmd = COMMANDS.get(words[0].lower()) if words else None
    return cmd is not None and cmd.audience is Audience.LEAD


# --------------------------------------------------------------------------- inbound text

_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")


def command_text(raw: str) -> str:
    """Slash-command text as the user meant it.

    The manifest asks Slack to escape the command text, so mentions arrive as
    `<@U123|name>` (turned into the user id `setup leads=` expects), links as `<url|label>`,
    and `&`, `<`, `>` as entities, which are decoded last. Text with neither (`today`,
    `leaderboard month`) is already what the user typed.
    """
    if "<" not in raw and "&" not in raw:
        return raw
    s = _USER_REF.sub(r"\1", raw)
    s = _CHANNEL_REF.sub(r"\1", s)
    s = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1).split('^')[0]}", s)
    s = _LINK.sub(r"\1", s)
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------- listeners


def _channel_of(body: Mapping[str, Any]) -> str:
    """The channel a button was clicked in (its message's channel)."""
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )


def safe_render(reply: Reply) -> Rendered:
    """Render, or say sorry: a reply Block Kit cannot carry must not become an HTTP 500."""
    try:
        return render(reply)
    except Exception:
        log.exception("could not render a reply for Slack")
        return render(Reply.message(FAILED))


class SlackFrontEnd:
    """Translates Bolt payloads into core calls and delivers the replies."""

    def __init__(
        self,
        bot: StudyBot,
        *,
        directory: Directory | None = None,
        workers: int = WORKERS,
    ) -> None:
        self.bot = bot
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studybot-slack")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self.directory = directory or Directory()
        self._local = threading.local()
        self._names = Bursts(NAME_SETTLE, name="studybot-slack-names")
        if self.directory.background is None:  # look names up on this front end's pool,
            self.directory.background = self._later  # after the reply, in bursts

        if self.directory.learned is None:
            self.directory.learned = self._learned
        if self.directory.stored is None:
            self.directory.stored = partial(self.bot.stored_name, PLATFORM)

    def _later(self, fn: Callable[[], None]) -> object:
        """Queue a name lookup: once the current reply has gone out (so a new member is
        stored before their name is, and the queue's thread is not woken while the reply
        is being made), and then with the others queued within `NAME_SETTLE`, in one burst
        on one thread. Lookups never compete with the replies being sent."""
        queue: list[Callable[[], None]] | None = getattr(self._local, "queue", None)
        if queue is None:
            self._names.add([fn])
        else:
            queue.append(fn)
        return None

    @contextmanager
    def _replying(self, guard: AckGuard) -> Iterator[None]:
        self._local.queue = []
        try:
            yield
        finally:
            queue, self._local.queue = self._local.queue, None
            if queue:
                self._after_ack(guard, self._names.add, queue, on_pool=False)

    def _learned(self, team_id: str, user_id: str, name: str) -> None:
        self.bot.remember_name(Who(PLATFORM, team_id, "", user_id, name))

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

    def _after_ack(
        self, guard: AckGuard, fn: Callable[..., Any], *args: Any, on_pool: bool = True
    ) -> None:
        """Run `fn(*args)` once the ack has gone out, on the pool (or, for something as
        quick as queueing name lookups, where the ack was sent), counted as pending work
        from now on (so `drain` waits for it even before the transport releases it)."""
        marker: Future[None] = Future()
        with self._lock:
            self._pending.add(marker)
        marker.add_done_callback(self._forget)

        def start() -> None:
            try:
                if on_pool:
                    self._submit(fn, *args)
                else:
                    fn(*args)
            finally:
                marker.set_result(None)

        guard.after(start)

    def _forget(self, fut: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(fut)
        error = None if fut.cancelled() else fut.exception()
        if error is not None:  # a pool task's error would otherwise vanish with its future
            log.error("Slack work after an ack failed", exc_info=error)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for work that outlived its ack, queued name lookups included (tests and
        benchmarks; shutdown). Pending work may queue lookups, so both are waited for
        until neither has any left."""
        end = time.monotonic() + timeout
        while True:
            self._names.flush(max(0.0, end - time.monotonic()))
            with self._lock:
                pending = list(self._pending)
            if not pending and self._names.idle:
                return
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} Slack deliveries still running")
            wait(pending, timeout=left)

    def close(self) -> None:
        self._names.close()
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------ who

    def _who(
        self,
        client: WebClient,
        team_id: str,
        channel_id: str,
        user_id: str,
        fallback_name: str,
        *,
        need_admin: bool = False,
    ) -> Who:
        profile = self.directory.lookup(
            client, team_id, user_id, fallback_name, need_admin=need_admin
        )
        return Who(
            PLATFORM,
            team_id,
            channel_id,
            user_id,
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
        client = pooled(client)
        reply = self._command_reply(body, client, guard)
        if not guard.claim():  # the transport answered "Working on it…" at the deadline
            ack(response_type="ephemeral", text=WORKING)  # not sent; Bolt expects an ack
            self._after_ack(guard, self._deliver_late, reply, body, respond, client)
            return
        r = safe_render(reply)
        if reply.visibility is Visibility.DM:
            ack(response_type="ephemeral", text=SENT_DM)
            self._after_ack(guard, self._dm, client, str(body["user_id"]), r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        ack(response_type=kind, blocks=r.blocks, text=r.text)
        if r.images:
            self._after_ack(guard, self._upload, client, body, reply.visibility, r)

    def _command_reply(self, body: Mapping[str, Any], client: WebClient, guard: AckGuard) -> Reply:
        try:
            text = command_text(str(body.get("text", "")))
            with self._replying(guard):
                who = self._who(
                    client,
                    str(body["team_id"]),
                    str(body["channel_id"]),
                    str(body["user_id"]),
                    str(body.get("user_name") or ""),
                    need_admin=needs_admin(text),
                )
                return self.bot.handle_text(who, text)
        except Exception:
            log.exception("/study failed")
            return Reply.message(FAILED)

    def _deliver_late(
        self, reply: Reply, body: Mapping[str, Any], respond: Respond, client: WebClient
    ) -> None:
        r = safe_render(reply)
        if reply.visibility is Visibility.DM:
            self._dm(client, str(body["user_id"]), r, respond)
            return
        kind = "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral"
        self._respond(respond, r, response_type=kind, replace_original=False)
        if r.images:
            self._upload(client, body, reply.visibility, r)

    # ------------------------------------------------------------ buttons

    def on_action(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Ack once the core has recorded the click (an answer is committed by then); make
        the reply and post it to `response_url` after the ack: the button stops spinning
        without waiting for the streak the reply shows or for that round trip."""
        guard = guard_of(context)
        client = pooled(client)
        recorded = self._press(body, client, guard)
        guard.claim()  # a click's ack carries nothing: the reply always follows it
        ack()
        self._after_ack(guard, self._deliver_press, recorded, body, respond, client)

    def _press(
        self, body: Mapping[str, Any], client: WebClient, guard: AckGuard
    ) -> Recorded | Reply:
        user = body.get("user") or {}
        try:
            act = body["actions"][0]
            team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
            with self._replying(guard):
                who = self._who(
                    client,
                    str(team_id),
                    _channel_of(body),
                    str(user["id"]),
                    str(user.get("name") or user.get("username") or ""),
                )
                action_id = decode_action_id(str(act["action_id"]))
                return self.bot.record(Action(who, action_id, str(act.get("value") or "")))
        except Exception:
            log.exception("button click failed")
            return Reply.message(FAILED)

    def _deliver_press(
        self,
        recorded: Recorded | Reply,
        body: Mapping[str, Any],
        respond: Respond,
        client: WebClient,
    ) -> None:
        try:
            reply = recorded if isinstance(recorded, Reply) else recorded.reply()
        except Exception:
            log.exception("button click failed after it was recorded")
            reply = Reply.message(FAILED)
        r = safe_render(reply)
        in_dm = _channel_of(body).startswith("D")  # a button on a direct message (mock exams)
        if reply.replace:
            self._respond(respond, r, replace_original=True)
        elif reply.visibility is Visibility.DM and not in_dm:
            self._dm(client, str((body.get("user") or {}).get("id")), r, respond)
        else:
            kind = "ephemeral" if reply.visibility is Visibility.EPHEMERAL else "in_channel"
            self._respond(respond, r, response_type=kind, replace_original=False)
        if r.images:
            self._upload(client, body, reply.visibility, r)

    # ------------------------------------------------------------ delivery

    @staticmethod
    def _respond(respond: Respond, r: Rendered, **kwargs: Any) -> None:
        """Post to the request's `response_url` (what Bolt's `respond` does, but over a
        kept-alive connection: see transport.py)."""
        try:
            if respond.response_url is None:
                raise ValueError("no response_url in this request")
            message: dict[str, Any] = {"text": r.text, **kwargs}
            if r.blocks:
                message["blocks"] = r.blocks
            resp = post_response(
                respond.response_url, message, ssl=respond.ssl, proxy=respond.proxy
            )
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

    def _upload(
        self, client: WebClient, body: Mapping[str, Any], visibility: Visibility, r: Rendered
    ) -> None:
        """Pictures: into the channel for channel posts, else into the caller's DMs."""
        user_id = str(body.get("user_id") or (body.get("user") or {}).get("id"))
        channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id"))
        try:
            target = channel if visibility is Visibility.CHANNEL else open_dm(client, user_id)
            upload_images(client, target, r.images)
        except DeliveryError as e:
            log.warning("picture upload failed: %s", e)


# --------------------------------------------------------------------------- the factory

UNINSTALL_EVENTS = ("app_uninstalled", "tokens_revoked")


def _token_gone(event: dict[str, Any], context: BoltContext) -> None:
    """Single-token mode: nothing to delete, but the operator should know."""
    log.warning(
        "Slack says %s for workspace %s: SLACK_BOT_TOKEN no longer works there",
        event.get("type"),
        context.team_id,
    )


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
    return PooledWebClient(token=token, base_url=base, retry_handlers=handlers, timeout=10)


def oauth_mode(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def installation_store(settings: Settings, engine: Engine) -> InstallationStore:
    """slack_sdk's SQLAlchemy installation store on the study database, tables ensured.

    Imported here: slack_sdk's SQLAlchemy stores pull in sqlalchemy.ext.asyncio, which needs
    greenlet; single-token mode does without.
    """
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    store = SQLAlchemyInstallationStore(client_id=str(settings.slack_client_id), engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]
    return store


def installed_clients(store: InstallationStore, api_url: str) -> Callable[[str], WebClient]:
    """A client with the bot token installed in a workspace; LookupError when there is none."""

    def client_for(workspace_id: str) -> WebClient:
        found = store.find_bot(enterprise_id=None, team_id=workspace_id)
        if found is None or not found.bot_token:
            raise LookupError(workspace_id)
        return web_client(api_url, found.bot_token, retry_rate_limits=False)

    return client_for


def make_messenger(settings: Settings) -> SlackMessenger | None:
    """The `studybot.messenger` entry point: the clock's Slack messenger when Slack is
    configured (a bot token, or OAuth installations in the database), else None."""
    if oauth_mode(settings):
        store = installation_store(settings, make_engine(settings.database_url))
        return SlackMessenger(installed_clients(store, settings.slack_api_url))
    token = _secret(settings.slack_bot_token)
    if not token:
        return None
    plain = web_client(settings.slack_api_url, token, retry_rate_limits=False)
    return SlackMessenger(lambda _workspace_id: plain)


def create_app(
    bot: StudyBot,
    settings: Settings,
    *,
    engine: Engine | None = None,
    directory: Directory | None = None,
) -> SlackApp:
    """Build the Bolt app: single-token mode with SLACK_BOT_TOKEN, multi-workspace OAuth
    with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (installations in the study database)."""
    signing_secret = _secret(settings.slack_signing_secret)
    if not signing_secret and not settings.slack_app_token:
        raise ValueError("SLACK_SIGNING_SECRET is required for Slack's HTTP mode")
    frontend = SlackFrontEnd(bot, directory=directory)
    api_url = settings.slack_api_url
    common: dict[str, Any] = {
        "signing_secret": signing_secret or "",
        "process_before_response": True,
        "name": "studybot",
    }
    if oauth_mode(settings):
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        engine = engine or bot.store.engine
        store = installation_store(settings, engine)
        state = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        state.create_tables()  # type: ignore[no-untyped-call]
        app = App(
            client=web_client(api_url, retry_rate_limits=True),
            oauth_settings=OAuthSettings(
                client_id=str(settings.slack_client_id),
                client_secret=_secret(settings.slack_client_secret),
                scopes=list(BOT_SCOPES),
                installation_store=store,
                state_store=state,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
            ),
            **common,
        )
        frontend.attach(app)
        # app_uninstalled / tokens_revoked: slack_sdk's store deletes the installation, so
        # the clock's messenger finds no token for the workspace (TargetGone) and the
        # delivery worker pauses each of its groups at their next post.
        app.enable_token_revocation_listeners()
        return SlackApp(app, frontend, SlackMessenger(installed_clients(store, api_url)), store)

    token = _secret(settings.slack_bot_token)
    if not token:
        raise ValueError("set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    app = App(client=web_client(api_url, token, retry_rate_limits=True), **common)
    plain = web_client(api_url, token, retry_rate_limits=False)
    frontend.attach(app)
    for event in UNINSTALL_EVENTS:  # subscribed in the manifest: answer, do not 404
        app.event(event)(_token_gone)
    return SlackApp(app, frontend, SlackMessenger(lambda _workspace_id: plain))
