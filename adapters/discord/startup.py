"""What goes wrong when the Discord adapter starts, as the operator's one line.

discord.py and aiohttp raise their own exceptions for a bad token, a missing intent or an
unreachable API; `operator_errors()` turns each into an `OperatorError` that names the
setting to fix (never its value). discord.py also warns at every client start that voice
support is missing, which this bot never uses, so that warning is filtered here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord

from bot.errors import OperatorError
from bot.settings import Settings

PORTAL = "discord.com/developers/applications → your app → Bot"


class _NoVoiceWarning(logging.Filter):
    """studybot sends no audio: 'PyNaCl/davey is not installed, voice will NOT be supported'
    says nothing an operator can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_NoVoiceWarning())


def token(settings: Settings) -> str:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise OperatorError(f"DISCORD_TOKEN is not set: copy the bot's token from {PORTAL}")
    return settings.discord_token.get_secret_value().strip()


@contextmanager
def operator_errors(settings: Settings) -> Iterator[None]:
    """Map a start-up failure to the line that says what to check."""
    try:
        yield
    except discord.LoginFailure as e:
        raise OperatorError(
            f"Discord rejected DISCORD_TOKEN ({e}): reset the token at {PORTAL} and set the new one"
        ) from e
    except discord.PrivilegedIntentsRequired as e:
        raise OperatorError(
            "Discord refused the bot's intents: studybot asks for no privileged intents, "
            f"so check that DISCORD_TOKEN belongs to this bot ({PORTAL})"
        ) from e
    except aiohttp.ClientConnectionError as e:
        raise OperatorError(
            f"could not reach Discord at {settings.discord_api_url} ({e}): check the network, "
            "or DISCORD_API_URL and DISCORD_GATEWAY_URL"
        ) from e
