"""Log and retention settings, log records one line each, and one metrics registry per app."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.cli import main
from bot.log_context import log_context
from bot.logs import configure_logging
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from tests.services.conftest import LIFECYCLE


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("SIGNOFF_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR"),
        ("SIGNOFF_LOG_FORMAT", "yaml", "one of text, json"),
        ("SIGNOFF_RETENTION_DAYS", "0", "a whole number from 1 to 36500"),
        ("SIGNOFF_RETENTION_DAYS", "99999999", "a whole number from 1 to 36500"),
    ],
)
@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_bad_operations_setting_is_one_line_naming_it_and_exit_2(
    command: str,
    variable: str,
    value: str,
    accepted: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == f"signoff: {variable}='{value}' is not valid; it accepts {accepted}\n"
    assert "Traceback" not in err


def test_log_settings_accept_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_LOG_LEVEL", "debug")
    monkeypatch.setenv("SIGNOFF_LOG_FORMAT", "JSON")
    settings = Settings()
    assert (settings.log_level, settings.log_format, settings.retention_days) == ("DEBUG", "json", 90)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_record_is_one_line_with_its_context_and_no_token(fmt: str) -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt=fmt, stream=stream)  # type: ignore[arg-type]
    log = logging.getLogger("signoff.test")
    with log_context(request_id="REQ-7", user_id="U0SAM"):
        try:
            raise ValueError("first\nsecond")
        except ValueError:
            log.exception("failed with xoxb-1234-secret\nacross lines")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "xoxb-1234-secret" not in lines[0]
    if fmt == "json":
        record = json.loads(lines[0])
        assert record["request_id"] == "REQ-7" and record["user_id"] == "U0SAM"
        assert record["level"] == "ERROR" and record["logger"] == "signoff.test"
        assert "ValueError: first\nsecond" in record["exc_info"]
    else:
        assert "request_id=REQ-7 user_id=U0SAM" in lines[0] and "ValueError" in lines[0]


def test_each_app_has_its_own_metrics_registry(tmp_path: Path) -> None:
    (tmp_path / "signoff.yaml").write_text(LIFECYCLE)
    with SlackEmulator() as slack:
        both = _two_apps(tmp_path, slack.api_url)
    first, second = both
    try:
        first.runtime.observer.request_filed(kind="discount", outcome="route")
        assert b'signoff_requests_total{kind="discount",outcome="route"} 1.0' in first.metrics.exposition()[0]
        assert b"signoff_requests_total{" not in second.metrics.exposition()[0]
        assert first.readiness() is None
    finally:
        first.engine.dispose()
        second.engine.dispose()


def _two_apps(tmp_path: Path, api_url: str) -> tuple[Signoff, Signoff]:
    settings = Settings(
        SIGNOFF_SLACK_API_URL=api_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SIGNOFF_CONFIG=tmp_path / "signoff.yaml",
        SIGNOFF_DATABASE_URL=f"sqlite:///{tmp_path / 'signoff.db'}",
    )
    return build_signoff(settings), build_signoff(settings)
