"""Runtime settings from the environment (DESIGN §5). Built once by the CLI and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


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
    #: Signoff's own log level; third-party libraries log at INFO at most (their DEBUG shows payloads).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="SIGNOFF_LOG_LEVEL")
    #: ``text``: one human-readable line per event; ``json``: one JSON object per line.
    log_format: Literal["text", "json"] = Field(default="text", alias="SIGNOFF_LOG_FORMAT")
    #: Sent outbox rows and scheduler run records older than this many days are deleted by workers.
    retention_days: int = Field(default=90, alias="SIGNOFF_RETENTION_DAYS", ge=1)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        # Any case is fine; a value that is no level stays as typed, so the error shows it unchanged.
        if isinstance(value, str) and value.strip().upper() in LOG_LEVELS:
            return value.strip().upper()
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in LOG_FORMATS:
            return value.strip().lower()
        return value


def settings_problems(error: ValidationError) -> list[str]:
    """One line per unusable setting: its variable, the value given, and what is accepted."""
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        given = problem.get("input")
        shown = "" if isinstance(given, dict) or _secret(name) else f"={given}"
        lines.append(f"{name}{shown} is not accepted: {problem['msg']}")
    return lines


def _secret(name: str) -> bool:
    return name.endswith(("TOKEN", "SECRET")) or "DATABASE_URL" in name
