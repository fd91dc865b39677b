"""Persistent buttons: the custom_id carries the core's action, so no state lives in memory.

A button's custom_id is `sb:<action_id>:<value>` (at most 100 characters). `StudyButton` is a
discord.py `DynamicItem` whose template matches any such id, so a press on a message posted
days ago, before a restart, routes to the same handler as a fresh one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from adapters.discord.client import StudyHandler

PREFIX = "sb"
CUSTOM_ID_MAX = 100
TEMPLATE = r"sb:(?P<action>[A-Za-z0-9_.-]+):(?P<value>[\s\S]*)"


def custom_id(action_id: str, value: str) -> str:
    return f"{PREFIX}:{action_id}:{value}"


def fits(cid: str) -> bool:
    return 1 <= len(cid) <= CUSTOM_ID_MAX and re.fullmatch(TEMPLATE, cid) is not None


def decode(cid: str) -> tuple[str, str] | None:
    m = re.fullmatch(TEMPLATE, cid)
    return (m["action"], m["value"]) if m else None


@dataclass(frozen=True)
class ButtonSpec:
    label: str
    action_id: str
    value: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary

    @property
    def custom_id(self) -> str:
        return custom_id(self.action_id, self.value)


class StudyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """Any `sb:` button; the press goes to the client's `StudyHandler`."""

    def __init__(
        self,
        action_id: str,
        value: str,
        *,
        label: str = "·",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=custom_id(action_id, value), row=row
            )
        )
        self.action_id = action_id
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StudyButton:
        label = getattr(item, "label", None) or "·"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["action"], match["value"], label=label, style=style)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler: StudyHandler = interaction.client.study
        await handler.on_press(interaction, self.action_id, self.value)
