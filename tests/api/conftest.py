"""The HTTP API's tests: a governance with two API clients, and their tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from bot.app import Signoff, build_signoff
from bot.domain.api_clients import token_sha256
from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.governance_spec import ApiClientSpec
from bot.services.runtime import Runtime
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import LIFECYCLE, Tables

#: The CRM files discounts and brand exceptions; the legal bot files contracts.
CRM_TOKEN = "sgf_crm-test-token-0000000000000000000000000"
LEGAL_TOKEN = "sgf_legal-test-token-000000000000000000000000"

API_GOVERNANCE = (
    LIFECYCLE
    + f"""
api_clients:
  - {{id: crm, token_sha256: {token_sha256(CRM_TOKEN)}, kinds: [discount, brand]}}
  - {{id: legal-bot, token_sha256: {token_sha256(LEGAL_TOKEN)}, kinds: [contract]}}
"""
)


@pytest.fixture
def governance() -> Governance:
    return governance_from(API_GOVERNANCE)


@pytest.fixture
def runtime(engine: Engine, governance: Governance, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance, clock)


@pytest.fixture
def tables(engine: Engine) -> Tables:
    return Tables(engine)


@pytest.fixture
def crm(governance: Governance) -> ApiClientSpec:
    return next(c for c in governance.spec.api_clients if c.id == "crm")


@pytest.fixture
def legal(governance: Governance) -> ApiClientSpec:
    return next(c for c in governance.spec.api_clients if c.id == "legal-bot")


def settings_for(folder: Path, slack: SlackEmulator) -> Settings:
    config = folder / "signoff.yaml"
    config.write_text(API_GOVERNANCE)
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": SecretStr("xoxb-test"),
        "SLACK_SIGNING_SECRET": SecretStr("secret"),
        "SIGNOFF_CONFIG": config,
        "SIGNOFF_DATABASE_URL": f"sqlite:///{folder / 'api.db'}",
        "SIGNOFF_SLACK_API_URL": slack.api_url,
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="module")
def signoff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signoff]:
    with SlackEmulator() as slack:
        built = build_signoff(settings_for(tmp_path_factory.mktemp("api"), slack))
        yield built
        built.engine.dispose()


@pytest.fixture(scope="module")
def app(signoff: Signoff) -> Any:
    return signoff.wsgi()
