"""The HTTP API's tests: a governance with two API clients, and their tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.domain.api_clients import token_sha256
from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.governance_spec import ApiClientSpec
from bot.services.runtime import Runtime
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
