"""Who is calling, from any interaction: a command, an autocomplete, a press, a modal or
a context menu (shared by the client, the autocomplete and the modals)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.seam import Who

PLATFORM = "discord"
_MENTION = re.compile(r"<@!?(\d+)>")


def who_of(interaction: discord.Interaction[Any]) -> Who:
    """The caller. Admin means Manage Server (or Administrator) in this channel, checked
    here because `default_member_permissions` is only a default server admins can change;
    the core adds the leads a group names."""
    perms = interaction.permissions
    in_guild = interaction.guild_id is not None
    return Who(
        platform=PLATFORM,
        workspace_id=str(interaction.guild_id) if in_guild else f"dm-{interaction.user.id}",
        channel_id=str(interaction.channel_id),
        user_id=str(interaction.user.id),
        display_name=interaction.user.display_name,
        is_admin=in_guild and (perms.manage_guild or perms.administrator),
    )


def normalise_args(args: dict[str, str]) -> dict[str, str]:
    """Discord users type `<@123>` for a person: the core wants the id."""
    if "leads" in args:
        args = {**args, "leads": _MENTION.sub(r"\1", args["leads"]).replace(" ", ",")}
        args["leads"] = ",".join(x for x in args["leads"].split(",") if x)
    return args
