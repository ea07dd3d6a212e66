"""Slack-edge tests: the emulator, and the lifecycle fixtures of the service tests."""

from collections.abc import Iterator

import pytest

from bot.slack.emulator import SlackEmulator
from tests.services.conftest import governance, runtime, tables  # noqa: F401  (fixtures)


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator
