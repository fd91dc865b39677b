"""Wire the pieces together: settings -> content -> store -> core."""

from __future__ import annotations

from bot.content import load_content
from bot.core import StudyBot
from bot.settings import Settings
from bot.store.db import Store


def build(settings: Settings | None = None) -> StudyBot:
    """Load and validate content first (invalid content stops here, listing every problem),
    then open the store and apply migrations."""
    settings = settings or Settings()
    content = load_content(settings.content_dir)
    store = Store.from_url(settings.database_url)
    return StudyBot(store, content, flag_threshold=settings.flag_threshold)
