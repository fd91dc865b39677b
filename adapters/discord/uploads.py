"""Files attached to a command (Discord's attachment option, `/study questions import
file:`), downloaded for the core as `Upload`s.

The size Discord reports is checked before anything is downloaded, against the core's
limit for a file of questions, so a lead who attaches something far too big hears so at
once and nothing is fetched; a download Discord refuses is answered with what to do.
"""

from __future__ import annotations

import logging

import discord

from bot.features.own_files import MAX_BYTES
from bot.seam import Reply, Upload

log = logging.getLogger(__name__)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def too_big(attachments: list[discord.Attachment]) -> Reply | None:
    """A refusal naming the first file over the limit, or None."""
    for a in attachments:
        if a.size > MAX_BYTES:
            return Reply.refusal(
                f"{a.filename} is {_mb(a.size)}; a file sent with a command may be at most "
                f"{MAX_BYTES // 1_000_000} MB. Nothing was imported: split it into smaller "
                "files and send each."
            )
    return None


async def download(attachments: list[discord.Attachment]) -> tuple[Upload, ...] | Reply:
    """The attached files' bytes, or a refusal saying which could not be fetched."""
    refused = too_big(attachments)
    if refused is not None:
        return refused
    out: list[Upload] = []
    for a in attachments:
        try:
            data = await a.read()
        except discord.HTTPException as e:
            log.warning("could not download attachment %s: %s %s", a.id, e.status, e.code)
            return Reply.refusal(
                f"Discord did not let me download {a.filename}; nothing was imported. "
                "Attach it to the command again."
            )
        if len(data) > MAX_BYTES:  # the size Discord reported was wrong
            return Reply.refusal(f"{a.filename} is over {MAX_BYTES // 1_000_000} MB.")
        out.append(Upload(a.filename, data))
    return tuple(out)
