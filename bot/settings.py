"""Runtime settings from the environment and ``./.env`` (DESIGN §5, §10). Built once by the CLI and passed down.

The environment wins over ``.env``. ``load_settings`` turns an invalid value into ``SettingsError``,
whose lines each name the variable and what it accepts (never a secret's value).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Database URL schemes Signoff runs on; a bare ``postgresql`` means the psycopg 3 driver it ships with.
DATABASE_SCHEMES = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite", "postgresql": "postgresql+psycopg"}
DATABASE_SCHEMES["postgresql+psycopg"] = "postgresql+psycopg"
DATABASE_ACCEPTS = "a sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/db URL"

#: Numbers in settings: ASCII digits only (``int``/``float`` would take ``5_0``, ``1e3``, ``٥``).
_WHOLE = re.compile(r"[0-9]{1,9}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?", re.ASCII)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_file=".env", env_file_encoding="utf-8")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    config: Path = Field(default=Path("signoff.yaml"), alias="SIGNOFF_CONFIG")
    database_url: str = Field(default="sqlite:///signoff.db", alias="SIGNOFF_DATABASE_URL")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SIGNOFF_SLACK_API_URL")
    port: int = Field(default=3000, alias="SIGNOFF_PORT", ge=1, le=65535)
    #: How long `serve`, `worker` and `digest --now` wait for Slack to answer at start before giving up.
    slack_startup_seconds: float = Field(default=30.0, alias="SIGNOFF_SLACK_STARTUP_SECONDS", ge=0, le=600)
    #: The relay's first wait after a failed delivery; each further failure doubles it (at most 15 min).
    #: How often workers look for digests that are due (each digest still goes once per period).
    digest_check_seconds: float = Field(default=60.0, alias="SIGNOFF_DIGEST_CHECK_SECONDS", gt=0, le=3600)
    retry_backoff_seconds: float = Field(default=5.0, alias="SIGNOFF_RETRY_BACKOFF", gt=0, le=900)
    #: Signoff's own log level; third-party libraries log at INFO at most (their DEBUG shows payloads).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="SIGNOFF_LOG_LEVEL")
    #: ``text``: one human-readable line per event; ``json``: one JSON object per line.
    log_format: Literal["text", "json"] = Field(default="text", alias="SIGNOFF_LOG_FORMAT")
    #: Sent outbox rows and scheduler run records older than this many days are deleted by workers.
    retention_days: int = Field(default=90, alias="SIGNOFF_RETENTION_DAYS", ge=1, le=36500)

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SLACK_SIGNING_SECRET=` in a .env or a compose file means "not set", never an empty secret.
        return None if isinstance(value, str) and not value.strip() else value

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

    @field_validator("port", "retention_days", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        # int() and Pydantic also take "5_0" (50), " +5" and other scripts' digits ("٥"): never guess.
        if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
            raise PydanticCustomError("int_parsing", "not a whole number in digits 0-9")
        return value.strip() if isinstance(value, str) else value

    @field_validator("slack_startup_seconds", "digest_check_seconds", "retry_backoff_seconds", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Any:
        if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
            raise PydanticCustomError("float_parsing", "not a number in digits 0-9 with “.” as the decimal mark")
        return value.strip() if isinstance(value, str) else value

    @field_validator("config")
    @classmethod
    def _a_file(cls, value: Path) -> Path:
        if not str(value).strip() or str(value) == ".":
            raise ValueError("empty")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _web_api_url(cls, value: str) -> str:
        """An http(s) URL; a missing trailing slash is added (the Web API client joins method names to it)."""
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """Refuse schemes Signoff does not run on; ``postgresql://`` becomes ``postgresql+psycopg://``."""
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL") from None
        driver = DATABASE_SCHEMES.get(url.drivername)
        if driver is None:
            raise ValueError(f"unsupported scheme {url.drivername}://")
        return url.set(drivername=driver).render_as_string(hide_password=False)


class SettingsError(Exception):
    """Settings that cannot be used; ``lines`` has one line per setting, naming it and what it accepts."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**overrides: Any) -> Settings:
    """Read the settings (environment first, then ``./.env``). Raises ``SettingsError`` on a bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_explain(error) for error in exc.errors()]) from None
    except UnicodeDecodeError:
        raise SettingsError([".env is not UTF-8 text; save it as UTF-8 (one NAME=value per line)"]) from None
    except OSError as exc:
        raise SettingsError([f".env cannot be read ({exc.strerror or exc}); it accepts a UTF-8 text file"]) from None


def _explain(error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else "a setting"
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    accepts = accepted_values(field) if field is not None else "see .env.example"
    if field is None or _is_secret(field) or name == "SIGNOFF_DATABASE_URL":
        shown = ""  # never echo a secret, nor a URL that may carry a password
    else:
        shown = f"={error.get('input')!r}"
    message = str(error.get("msg", ""))
    reason = f" ({message.removeprefix('Value error, ')})" if message.startswith("Value error, ") else ""
    return f"{name}{shown} is not valid{reason}; it accepts {accepts}"


def accepted_values(field: FieldInfo) -> str:
    """What a setting accepts, in words: its type and bounds, or its choices."""
    if field.alias == "SIGNOFF_DATABASE_URL":
        return DATABASE_ACCEPTS
    if field.alias == "SIGNOFF_SLACK_API_URL":
        return "an http(s) URL such as https://slack.com/api/"
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    words = {int: "a whole number", float: "a number", Path: "a file path", bool: "true or false"}
    kind = words.get(annotation, "text") if isinstance(annotation, type) else "text"
    limits = {attr: getattr(c, attr) for c in field.metadata for attr in ("ge", "gt", "le", "lt") if hasattr(c, attr)}
    if "ge" in limits and "le" in limits:
        return f"{kind} from {limits['ge']} to {limits['le']}"
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return " ".join([kind, " and ".join(f"{signs[attr]} {value}" for attr, value in limits.items())]).strip()


def _is_secret(field: FieldInfo) -> bool:
    return SecretStr in (field.annotation, *get_args(field.annotation))


def environment_value(name: str) -> str | None:
    """A variable named by the governance file (a webhook's ``secret_env``): the environment, then ``./.env``."""
    value = os.environ.get(name)
    if value is not None:
        return value
    try:
        return dotenv_values(".env", encoding="utf-8").get(name)
    except (OSError, UnicodeDecodeError):
        return None  # load_settings already said what is wrong with .env
