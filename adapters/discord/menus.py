"""The message context menu "Report question" (right-click a message › Apps).

It reads the text of the message it was used on, as a member reads it (the content and
every embed's title, description, fields and footer), and the core says which question
that text shows (`StudyBot.report_form`): the reason's modal opens, its submission filing
the same report as `/study flag`, or the member is told privately that the message shows
no question. The menu is part of the command tree, so `studybot discord sync` sends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from adapters.discord.client import StudyHandler

REPORT = "Report question"


def message_text(message: discord.Message) -> str:
    """Everything a member reads in a message, line by line."""
    parts = [message.content or ""]
    for e in message.embeds:
        parts += [e.title or "", e.description or ""]
        parts += [f"{f.name}: {f.value}" for f in e.fields]
        parts.append(e.footer.text or "")
    return "\n".join(p for p in parts if p)


@app_commands.guild_only()
async def report_question(interaction: discord.Interaction[Any], message: discord.Message) -> None:
    handler: StudyHandler = interaction.client.study
    await handler.on_report(interaction, message_text(message))


def report_menu() -> app_commands.ContextMenu:
    return app_commands.ContextMenu(name=REPORT, callback=report_question)
