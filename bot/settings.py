"""Settings from the environment (or a `.env` file).

The names are a contract with self-hosters (README, "Configuration"): never rename one.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"
# Where `pip install` puts the content that ships with the package (pyproject's data-files).
INSTALLED_CONTENT = Path(sysconfig.get_paths()["data"]) / "share" / "studybot" / "content"


def default_content_dir() -> Path:
    """content/ of a checkout (where authors edit it), else the installed copy."""
    if (REPO_CONTENT / "curriculum.yaml").is_file():
        return REPO_CONTENT
    return INSTALLED_CONTENT


def default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir('studybot')) / 'studybot.db'}"


class Settings(BaseSettings):
    """Secrets are `SecretStr`: their repr and logs show `**********`, never the value."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default_factory=default_database_url, alias="STUDYBOT_DATABASE_URL")
    flag_threshold: int = Field(default=3, ge=1, alias="STUDYBOT_FLAG_THRESHOLD")
    content_dir: Path = Field(default_factory=default_content_dir, alias="STUDYBOT_CONTENT_DIR")
    log_format: Literal["text", "json"] = Field(default="text", alias="STUDYBOT_LOG_FORMAT")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_url: str = Field(default="https://discord.com/api/v10", alias="DISCORD_API_URL")
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    discord_shard_count: str | None = Field(default=None, alias="DISCORD_SHARD_COUNT")

    port: int = Field(default=3000, alias="PORT")
