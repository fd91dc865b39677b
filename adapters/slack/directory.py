"""Who a Slack member is: their name and whether they are a workspace admin (`users.info`).

Workspace admins and owners may administer any group (the leads a group names are checked
by the core), so a lead command needs a fresh admin flag; everything else is answered with
a cached name, and a member met for the first time with the payload's username, while the
real name is looked up after the reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

log = logging.getLogger(__name__)

PROFILE_TTL = 60.0  # users.info cache: admin rights change rarely, but do change
PROFILE_FAILURE_TTL = 10.0
NAME_TTL = 3600.0  # display names: refreshed after an hour (after the reply), admins at once


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
                if not old.known:
                    if self._known(key):  # the core told us the stored name meanwhile
                        return
                    name = self.stored(*key) if self.stored is not None else None
                    # met before, by this process or another (not just now, named with
                    # this stand-in): no users.info yet
                    if name and name != old.name:
                        self.met(*key, name)
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

    def met(self, team_id: str, user_id: str, name: str) -> None:
        """The store holds `name` for a member this process knew only by a stand-in (the
        core says so after answering them): use it from now on, so the look-up after the
        reply needs neither the store nor users.info. Admin rights are not known from the
        store: a lead command still looks them up."""
        key = (team_id, user_id)
        if self._known(key):
            return  # users.info (or the store, earlier) already named them
        # fetched a `ttl` ago: the name is good for `name_ttl`, the admin flag is stale
        self._store(key, (self.clock() - self.ttl, self.name_ttl, Profile(name, False)))

    def _known(self, key: tuple[str, str]) -> bool:
        with self._lock:
            hit = self._cache.get(key)
        return hit is not None and hit[2].known

    def _store(self, key: tuple[str, str], entry: tuple[float, float, Profile]) -> None:
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = entry
