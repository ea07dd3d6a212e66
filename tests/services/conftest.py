"""A governance for lifecycle tests and a runtime on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.services.runtime import Runtime
from storage.records import AuditEventRecord, OutboxRecord, RequestRecord, VoteRecord
from tests.conftest import governance_from, make_runtime

LIFECYCLE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  cmo-office: {members: [U0CMO]}
  legal: {members: [U0LAW1, U0LAW2], channel: C0LEGAL}
  brand-council: {members: [U0BR1, U0BR2, U0BR3]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      deal_value: {type: money}
    approvers: finance
    sla: 8h
    escalate: [cmo-office]
    expire_after: 14d
    rules:
      - {id: small, when: {amount_pct: {lte: 10}}, decide: approve, reason: Small is fine., limit: {count: 2, per: requester, window: 30d}}
      - {id: over-limit, when: {amount_pct: {gt: 40}}, decide: reject, reason: Too much.}
      - {id: big-deal, when: {deal_value: {gte: 100000}}, require: cmo-office, reason: Big deals need the CMO.}
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {counterparty: {type: text, required: true}}
    approvers: legal
  brand:
    title: Brand exception
    category: exception
    owner: U0BRANDLEAD
    fields:
      asset: {type: url, required: true}
      until: {type: date, required: true}
    approvers: {group: brand-council, approvals: 2}
    valid_until: until
    max_duration: 30d
    warn_before: 3d
"""


@pytest.fixture
def governance() -> Governance:
    return governance_from(LIFECYCLE)


@pytest.fixture
def runtime(engine: Engine, governance: Governance, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance, clock)


class Tables:
    """Row counts, to assert that a refused action changed nothing."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def count(self, record: type) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(record)).scalar_one())

    def snapshot(self) -> tuple[int, int, int, int]:
        return tuple(self.count(r) for r in (RequestRecord, VoteRecord, AuditEventRecord, OutboxRecord))  # type: ignore[return-value]

    def outbox_keys(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(OutboxRecord.idempotency_key).order_by(OutboxRecord.id)).scalars())

    def audit_actions(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(AuditEventRecord.action).order_by(AuditEventRecord.seq)).scalars())


@pytest.fixture
def tables(engine: Engine) -> Tables:
    return Tables(engine)
