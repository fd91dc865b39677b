"""The one place the Discord tests touch discord.py's private attributes (docs/testing.md).

`Harness` logs a real `discord.Client` in against `FakeDiscord` and delivers interactions
through discord.py's own payload parsing (`_connection.parse_interaction_create`), the way
the gateway would. Payload builders make command, autocomplete and button-press payloads;
a press is built from a message the fake recorded, so it carries the components the
adapter really sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import discord
from discord.gateway import DiscordWebSocket

from adapters.discord.cli import use_api
from adapters.discord.client import Core, StudyClient, make_client
from adapters.discord.tree import discord_name
from bot.content.models import Content
from bot.registry import COMMANDS
from tests.discord.fake import APP_ID, Call, FakeDiscord

GUILD = "700000000000000001"
CHANNEL = "700000000000000002"
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
MEMBER_PERMS = (1 << 10) | (1 << 11)  # view channel, send messages
_ids = itertools.count(800_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    perms: int = MEMBER_PERMS
    nick: str | None = None

    def payload(self) -> dict[str, Any]:
        user = {
            "id": self.id,
            "username": self.name.lower().replace(" ", "")[:32] or "x",
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
        }
        return {
            "user": user,
            "nick": self.nick,
            "roles": [],
            "joined_at": "2026-01-01T00:00:00Z",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(self.perms),
        }


LEAD = Member("600000000000000001", "Lee", MANAGE_GUILD)
ALICE = Member("600000000000000002", "Alice")
BOB = Member("600000000000000003", "Bob")


def channel_payload(channel: str = CHANNEL, guild: str = GUILD) -> dict[str, Any]:
    return {
        "id": channel,
        "type": 0,
        "guild_id": guild,
        "name": "study-group",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def _base(kind: int, member: Member, channel: str, guild: str) -> dict[str, Any]:
    return {
        "id": snowflake(),
        "application_id": APP_ID,
        "type": kind,
        "token": f"tok-{snowflake()}",
        "version": 1,
        "attachment_size_limit": 8_388_608,
        "channel": channel_payload(channel, guild),
        "channel_id": channel,
        "guild_id": guild,
        "member": member.payload(),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
        "app_permissions": "2248473465835073",
    }


def _options(options: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, value in options.items():
        if isinstance(value, dict):  # an attachment (FakeDiscord.attach)
            out.append({"name": name, "type": 11, "value": value["id"]})
        elif isinstance(value, tuple):  # (value, focused) for autocomplete
            out.append({"name": name, "type": 3, "value": value[0], "focused": value[1]})
        else:
            kind = 4 if isinstance(value, int) else 3
            out.append({"name": name, "type": kind, "value": value})
    return out


def command_payload(
    sub: str,
    options: dict[str, Any] | None = None,
    *,
    member: Member = ALICE,
    channel: str = CHANNEL,
    guild: str = GUILD,
    autocomplete: bool = False,
) -> dict[str, Any]:
    p = _base(4 if autocomplete else 2, member, channel, guild)
    chosen: dict[str, Any] = {"name": sub, "type": 1, "options": _options(options or {})}
    cmd = COMMANDS.get(sub)
    if cmd is not None and cmd.family:  # nested in its family's subcommand group
        chosen = {"name": cmd.family, "type": 2, "options": [{**chosen, "name": discord_name(cmd)}]}
    p["data"] = {
        "id": "500000000000000001",
        "name": "study",
        "type": 1,
        "guild_id": guild,
        "options": [chosen],
    }
    files = {v["id"]: v for v in (options or {}).values() if isinstance(v, dict)}
    if files:
        p["data"]["resolved"] = {"attachments": files}
    return p


def menu_payload(
    message: dict[str, Any],
    name: str,
    *,
    member: Member = ALICE,
    channel: str = CHANNEL,
    guild: str = GUILD,
) -> dict[str, Any]:
    """A message context menu command used on `message` (type 3, the message resolved)."""
    p = _base(2, member, channel, guild)
    target = {**message, "channel_id": channel}
    p["data"] = {
        "id": "500000000000000002",
        "name": name,
        "type": 3,
        "guild_id": guild,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: target}},
    }
    return p


def press_payload(
    message: dict[str, Any],
    custom_id: str,
    *,
    member: Member = ALICE,
    channel: str = CHANNEL,
    guild: str = GUILD,
) -> dict[str, Any]:
    p = _base(3, member, channel, guild)
    p["message"] = {**message, "channel_id": channel}
    p["data"] = {"custom_id": custom_id, "component_type": 2}
    return p


def modal_inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's text inputs by field name (`field:<name>`), each with its label, its
    label's description and the input itself."""
    out: dict[str, dict[str, Any]] = {}
    for row in modal.get("components") or []:
        box = row["component"] if row["type"] == 18 else row["components"][0]
        name = str(box["custom_id"]).removeprefix("field:")
        out[name] = {**box, "label": row.get("label"), "description": row.get("description")}
    return out


def submit_payload(
    modal: dict[str, Any],
    values: dict[str, str],
    *,
    member: Member = ALICE,
    channel: str = CHANNEL,
    guild: str = GUILD,
) -> dict[str, Any]:
    """A modal's submission as Discord sends it: every input's value, typed or as filled
    in (Label components, type 18, around text inputs, type 4)."""
    p = _base(5, member, channel, guild)
    rows = []
    for i, (name, box) in enumerate(modal_inputs(modal).items(), start=1):
        value = values.get(name, box.get("value") or "")
        rows.append(
            {
                "type": 18,
                "id": i * 2,
                "component": {
                    "type": 4,
                    "id": i * 2 + 1,
                    "custom_id": box["custom_id"],
                    "value": value,
                },
            }
        )
    p["data"] = {"custom_id": modal["custom_id"], "components": rows}
    return p


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row.get("components", [])]


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    found = [
        b
        for b in buttons_of(message)
        if b.get("label") == label or str(b.get("label", "")).startswith(label)
    ]
    assert found, f"no button {label!r} in {[b.get('label') for b in buttons_of(message)]}"
    return found[0]


def embed_text(message_or_data: dict[str, Any]) -> str:
    """Everything a member reads in a message: content, titles, descriptions, fields."""
    parts = [message_or_data.get("content") or ""]
    for e in message_or_data.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields") or []]
        parts.append((e.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


@dataclass
class Outcome:
    """What one interaction produced at the fake."""

    interaction_id: str
    token: str
    calls: list[Call]

    @property
    def callback(self) -> Call:
        found = [c for c in self.calls if c.path.endswith("/callback")]
        assert len(found) == 1, f"expected exactly one callback, got {len(found)}"
        return found[0]

    def messages(self) -> list[dict[str, Any]]:
        """The messages the member sees afterwards, last one last (callback, edits,
        follow-ups, DMs), as the fake answered them."""
        out: list[dict[str, Any]] = []
        for c in self.calls:
            if c.path.endswith("/callback") and c.kind in (4, 7):
                resource = (c.answered or {}).get("resource") or {}
                out.append(resource.get("message") or c.data)
            elif (c.method in ("POST", "PATCH") and "/messages" in c.path) or (
                c.method == "POST" and c.path.startswith("/webhooks/")
            ):
                out.append(c.answered if isinstance(c.answered, dict) else c.body)
        return out

    @property
    def last(self) -> dict[str, Any]:
        msgs = self.messages()
        assert msgs, f"no message in {[(c.method, c.path) for c in self.calls]}"
        return msgs[-1]

    def text(self) -> str:
        return embed_text(self.last)


class Harness:
    """A logged-in client, the fake it talks to, and interaction delivery."""

    def __init__(self, fake: FakeDiscord, client: StudyClient) -> None:
        self.fake = fake
        self.client = client

    @classmethod
    async def start(
        cls, fake: FakeDiscord, core: Core, content: Content, *, defer_after: float = 2.0
    ) -> Harness:
        use_api(fake.url)
        client = make_client(core, content, defer_after=defer_after)
        assert isinstance(client, StudyClient)
        await client.login("test-token")
        return cls(fake, client)

    async def close(self) -> None:
        await self.client.study.drain()
        await self.client.close()

    def deliver(self, payload: dict[str, Any]) -> None:
        self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    async def run(self, payload: dict[str, Any], *, bind: str | None = None) -> Outcome:
        """Deliver a payload and wait until it is answered and the handler has finished."""
        before = len(self.fake.calls)
        if bind is not None:
            self.fake.bind(payload["token"], bind)
        self.deliver(payload)
        await self.fake.wait_for(lambda: self.fake.callbacks(payload["id"]))
        await self.client.study.drain()
        calls = [
            c
            for c in self.fake.calls[before:]
            if payload["token"] in c.path
            or payload["id"] in c.path
            or c.path.startswith(("/channels", "/users"))
        ]
        return Outcome(payload["id"], payload["token"], calls)

    async def command(self, sub: str, member: Member = ALICE, **options: Any) -> Outcome:
        return await self.run(command_payload(sub, options, member=member))

    async def press(self, message: dict[str, Any], label: str, member: Member = ALICE) -> Outcome:
        cid = button(message, label)["custom_id"]
        return await self.run(press_payload(message, cid, member=member), bind=message["id"])

    async def menu(self, message: dict[str, Any], name: str, member: Member = ALICE) -> Outcome:
        return await self.run(menu_payload(message, name, member=member))

    async def submit(self, modal: dict[str, Any], member: Member = ALICE, **values: str) -> Outcome:
        """Submit a modal the bot opened (a callback of type 9's data), changing `values`."""
        return await self.run(submit_payload(modal, values, member=member))

    async def autocomplete(
        self, sub: str, option: str, current: str, member: Member = ALICE
    ) -> list[dict[str, Any]]:
        payload = command_payload(sub, {option: (current, True)}, member=member, autocomplete=True)
        out = await self.run(payload)
        assert out.callback.kind == 8
        return list(out.callback.data.get("choices") or [])


@contextmanager
def saved_discord_globals() -> Iterator[None]:
    """`use_api`/`use_gateway` set discord.py class attributes: put them back afterwards."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def private_view_store_size(client: discord.Client) -> int:
    """How many views discord.py keeps per message (0: presses use the dynamic item)."""
    return len(client._connection._view_store._views)  # type: ignore[attr-defined]
