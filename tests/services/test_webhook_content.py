"""What a webhook says about a decision agrees with what the API says (DESIGN §9): ``rule`` names the
deciding rule for every outcome, an approval and a rejection alike, and is null when people decided."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.domain.actors import rule_of
from bot.domain.clock import FixedClock
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import lapse_due
from bot.webhooks.sender import WebhookSender
from handlers.api import file_request, read_request
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.fakes import FakeGateway
from tests.services.conftest import LIFECYCLE
from tests.webhook_receiver import SECRET, Receiver, receiving

SECRET_ENV = "SIGNOFF_TEST_WEBHOOK_SECRET"


@pytest.fixture
def setup(engine: Engine, clock: FixedClock) -> Iterator[tuple[Runtime, ApiClientSpec, Receiver]]:
    with receiving() as receiver:
        governance = governance_from(
            LIFECYCLE
            + f"""
webhooks:
  - {{id: crm, url: "{receiver.url("/crm")}", secret_env: {SECRET_ENV}, events: [request.decided]}}
  - {{id: brand, url: "{receiver.url("/brand")}", secret_env: {SECRET_ENV}, events: [exception.lapsing]}}
api_clients:
  - {{id: crm, token_sha256: {"0" * 64}, kinds: [discount]}}
"""
        )
        units = SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)
        runtime = Runtime(uow=units, governance=lambda: governance, clock=clock)
        yield runtime, governance.spec.api_clients[0], receiver


@pytest.mark.parametrize(
    ("amount", "verdict", "decided_by", "rule"),
    [
        (5, None, "rule:small", "small"),  # a rule approves
        (50, None, "rule:over-limit", "over-limit"),  # a rule rejects: ``rule`` was null here
        (25, Verdict.APPROVE, "U0FIN1", None),  # a person approves
        (25, Verdict.REJECT, "U0FIN1", None),  # a person rejects
    ],
)
def test_the_webhook_and_the_api_name_the_deciding_rule_for_every_outcome(
    setup: tuple[Runtime, ApiClientSpec, Receiver],
    clock: FixedClock,
    amount: int,
    verdict: Verdict | None,
    decided_by: str,
    rule: str | None,
) -> None:
    runtime, client, receiver = setup
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    body = {"kind": "discount", "requester": "U0SAM", "fields": {"account": "Acme", "amount_pct": amount}}
    filed = file_request(runtime, client, body, None).body
    if verdict is not None:
        assert filed["rule"] is None
        request_id = int(filed["request"].removeprefix("REQ-"))
        decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=verdict, reason="Checked.")
    else:
        assert filed["rule"] == rule
    sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=5)
    while relay_outbox(runtime=runtime, gateway=FakeGateway(), webhooks=sender).handled:
        pass

    (arrival,) = receiver.of("/crm")
    data = arrival.body["data"]
    shown = read_request(runtime, client, filed["request"]).body
    assert (data["decided_by"], data["rule"]) == (decided_by, rule)
    assert (shown["decided_by"], shown["rule"]) == (decided_by, rule)
    assert rule_of(data["decided_by"]) == data["rule"]
    if rule is not None:
        assert data["receipt"]["rule"] == rule == shown["receipt"]["rule"]


def test_a_decision_without_a_note_does_not_borrow_the_routing_reason_and_a_lapse_says_when(
    setup: tuple[Runtime, ApiClientSpec, Receiver], clock: FixedClock
) -> None:
    runtime, client, receiver = setup
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    body = {"kind": "discount", "requester": "U0SAM", "fields": {"account": "Acme", "amount_pct": 25}}
    filed = file_request(runtime, client, body, None).body
    request_id = int(filed["request"].removeprefix("REQ-"))
    decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=5)
    while relay_outbox(runtime=runtime, gateway=FakeGateway(), webhooks=sender).handled:
        pass
    (arrival,) = receiver.of("/crm")
    assert (arrival.body["data"]["decided_by"], arrival.body["data"]["reason"]) == ("U0FIN1", None)
    assert filed["reason"] and arrival.body["data"]["lapses_at"] is None


def test_a_lapsing_warning_says_when_the_exception_lapses(
    setup: tuple[Runtime, ApiClientSpec, Receiver], clock: FixedClock
) -> None:
    runtime, _, receiver = setup
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    filed = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x until=2026-03-10"
    )
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=filed.request_id, voter=voter, verdict=Verdict.APPROVE)
    clock.set(datetime.fromisoformat("2026-03-07T23:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1
    sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=5)
    while relay_outbox(runtime=runtime, gateway=FakeGateway(), webhooks=sender).handled:
        pass
    (warning,) = receiver.of("/brand")
    lapses_at = datetime.fromisoformat(warning.body["data"]["lapses_at"])
    assert warning.type == "exception.lapsing" and lapses_at > clock.now()
