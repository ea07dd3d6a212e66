"""Runtime settings from the environment (DESIGN §5). Built once by the CLI and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    config: Path = Field(default=Path("signoff.yaml"), alias="SIGNOFF_CONFIG")
    database_url: str = Field(default="sqlite:///signoff.db", alias="SIGNOFF_DATABASE_URL")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SIGNOFF_SLACK_API_URL")
    port: int = Field(default=3000, alias="SIGNOFF_PORT", ge=1, le=65535)
    #: The relay's first wait after a failed delivery; each further failure doubles it (at most 15 min).
    #: How often workers look for digests that are due (each digest still goes once per period).
    digest_check_seconds: float = Field(default=60.0, alias="SIGNOFF_DIGEST_CHECK_SECONDS", gt=0, le=3600)
    retry_backoff_seconds: float = Field(default=5.0, alias="SIGNOFF_RETRY_BACKOFF", gt=0, le=900)
