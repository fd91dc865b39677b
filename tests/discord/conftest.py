from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.content.models import Content
from bot.core import StudyBot
from tests.discord.fake import FakeDiscord
from tests.discord.harness import Harness, saved_discord_globals


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _restore_discord_globals() -> Iterator[None]:
    with saved_discord_globals():
        yield


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    f = FakeDiscord()
    await f.start()
    yield f
    await f.stop()


@pytest.fixture
async def h(fake: FakeDiscord, bot: StudyBot, content: Content) -> AsyncIterator[Harness]:
    harness = await Harness.start(fake, bot, content)
    yield harness
    await harness.close()
