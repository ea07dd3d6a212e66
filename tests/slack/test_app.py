"""The assembled app: configuration errors are clear, and unexpected errors are logged with an id the user sees."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from slack_bolt import Ack
from slack_bolt.request import BoltRequest

from bot.app import ConfigurationError, Signoff, build_signoff
from bot.cli import main
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from tests.services.conftest import LIFECYCLE


def settings_for(tmp_path: Path, slack: SlackEmulator, **overrides: object) -> Settings:
    config = tmp_path / "signoff.yaml"
    config.write_text(LIFECYCLE)
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": SecretStr("xoxb-test"),
        "SLACK_SIGNING_SECRET": SecretStr("secret"),
        "SIGNOFF_CONFIG": config,
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SIGNOFF_SLACK_API_URL": slack.api_url,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    built = build_signoff(settings_for(tmp_path, slack))
    yield built
    built.engine.dispose()


def dispatch(signoff: Signoff, form: dict[str, str]) -> str:
    body = urlencode(form)
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(b"secret", f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }
    response = signoff.bolt.dispatch(BoltRequest(body=body, headers=headers))  # type: ignore[arg-type]
    assert response.status == 200
    return str(response.body)


def test_an_unexpected_error_is_logged_with_an_id_the_user_is_given(
    signoff: Signoff, caplog: pytest.LogCaptureFixture
) -> None:
    @signoff.bolt.command("/boom")
    def boom(ack: Ack) -> None:
        raise RuntimeError("kaboom")

    with caplog.at_level(logging.ERROR, logger="signoff.errors"):
        reply = dispatch(
            signoff, {"command": "/boom", "text": "", "user_id": "U0SAM", "trigger_id": "t", "channel_id": "C1"}
        )
    match = re.search(r"error `([0-9a-f]{8})`", reply)
    assert match is not None, reply
    assert "Something went wrong on our side" in reply and "kaboom" not in reply and "Traceback" not in reply
    assert f"error {match.group(1)} while handling /boom" in caplog.text
    assert "RuntimeError: kaboom" in caplog.text


def test_help_lists_every_kind_with_its_fields(signoff: Signoff) -> None:
    reply = dispatch(
        signoff, {"command": "/request", "text": "help", "user_id": "U0SAM", "trigger_id": "t2", "channel_id": "C1"}
    )
    assert "`discount` (approval) — Discount approval: `account`, `amount_pct`, `deal_value`?" in reply
    assert "`brand` (exception)" in reply


def test_configuration_errors_name_what_is_missing(tmp_path: Path, slack: SlackEmulator) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_BOT_TOKEN is required"):
        build_signoff(settings_for(tmp_path, slack, SLACK_BOT_TOKEN=None))
    with pytest.raises(ConfigurationError, match="SLACK_SIGNING_SECRET is required in HTTP mode"):
        build_signoff(settings_for(tmp_path, slack, SLACK_SIGNING_SECRET=None))


def test_serve_without_a_token_exits_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["serve"]) == 2  # a configuration mistake
    assert "SLACK_BOT_TOKEN is required" in capsys.readouterr().err


@pytest.mark.parametrize("secret", [None, SecretStr(""), SecretStr("   "), SecretStr("\t\n")])
def test_http_mode_refuses_an_unset_empty_or_blank_signing_secret(
    tmp_path: Path, slack: SlackEmulator, secret: SecretStr | None
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        build_signoff(settings_for(tmp_path, slack, SLACK_SIGNING_SECRET=secret))
    assert str(refused.value) == (
        "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
    )


def test_a_refusal_that_reaches_the_error_handler_is_said_as_it_is(
    signoff: Signoff, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.domain.errors import StorageBusy

    @signoff.bolt.command("/busy")
    def busy(ack: Ack) -> None:
        raise StorageBusy(2.0)

    with caplog.at_level(logging.ERROR, logger="signoff.errors"):
        reply = dispatch(
            signoff, {"command": "/busy", "text": "", "user_id": "U0SAM", "trigger_id": "t", "channel_id": "C1"}
        )
    assert reply == ":no_entry: Signoff is busy right now and nothing was saved; please try again in a moment"
    assert caplog.records == []
