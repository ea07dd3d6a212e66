"""Starting against Slack: asked once, with a bounded retry; a refused token is a configuration error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import ConfigurationError, build_signoff
from bot.slack.emulator import SlackEmulator
from bot.slack.startup import SlackUnreachable, check_slack
from tests.e2e.conftest import free_port
from tests.slack.test_app import settings_for


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def test_bolt_does_not_warn_about_an_unused_token_on_start(
    tmp_path: Path, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")  # as an operator sets it; Bolt reads it too
    with caplog.at_level(logging.DEBUG):
        build_signoff(settings_for(tmp_path, slack)).engine.dispose()
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()]


def test_slack_is_asked_at_start_so_no_request_waits_on_auth_test(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = build_signoff(settings_for(tmp_path, slack))
    signoff.engine.dispose()
    assert len(slack.calls_to("auth.test")) >= 1


def test_a_refused_token_is_a_configuration_error(tmp_path: Path, slack: SlackEmulator) -> None:
    slack.fail("auth.test", error="invalid_auth")
    with pytest.raises(ConfigurationError, match=r"^SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)"):
        build_signoff(settings_for(tmp_path, slack))


def test_an_unreachable_slack_is_retried_with_log_lines_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    with caplog.at_level(logging.WARNING, logger="signoff.slack"), pytest.raises(SlackUnreachable) as raised:
        check_slack(token="xoxb-test", base_url=closed, within=1.0)
    assert str(raised.value).startswith(f"Slack does not answer at SIGNOFF_SLACK_API_URL={closed}")
    tries = [r for r in caplog.records if r.name == "signoff.slack"]
    assert tries and all(r.exc_info is None for r in tries)  # one line each, no traceback


def test_a_url_that_is_not_slacks_web_api_names_the_url_not_the_token(tmp_path: Path, slack: SlackEmulator) -> None:
    wrong = f"{slack.base_url}/"  # the emulator's root: `/api/` left out, as an operator might
    settings = settings_for(tmp_path, slack).model_copy(update={"slack_api_url": wrong})
    with pytest.raises(ConfigurationError) as raised:
        build_signoff(settings)
    message = str(raised.value)
    assert message.startswith(
        f"SIGNOFF_SLACK_API_URL={wrong} does not answer like Slack's Web API (auth.test gave HTTP"
    )
    assert message.endswith("it accepts the Web API's base URL, such as https://slack.com/api/")
    assert "SLACK_BOT_TOKEN" not in message
