"""Every use case moves a request through one path: the domain's ``apply``, then ``publish``.

A request's whole life (submission included) is watched at that one place: each audit event
in the log and each outbox row a transition queued came from a transition published there,
in order, and the metrics are told from the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

import bot.services.transitions as transitions
from bot.domain.clock import FixedClock
from bot.domain.effects import Audience, intents_of
from bot.domain.events import DomainEvent
from bot.domain.governance import Governance
from bot.domain.lifecycle import Event
from bot.domain.requests import Request
from bot.domain.routing import Verdict
from bot.domain.transitions import Transition
from bot.services.amend import amend_request
from bot.services.cancel import cancel_request
from bot.services.decide import decide_request
from bot.services.ports import UnitOfWork
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import escalate_due, expire_due, lapse_due
from storage.uow import SqlUnitOfWorkFactory
from tests.services.conftest import Tables


@dataclass
class Published:
    """What went through ``bot.services.transitions.publish``: each transition and the keys it queued."""

    transitions: list[Transition] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class Metrics:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def request_filed(self, **labels: Any) -> None:
        self.calls.append(("filed", labels))

    def decided(self, **labels: Any) -> None:
        self.calls.append(("decided", labels))

    def delivered(self, **labels: Any) -> None:
        pass

    def job_ran(self, **labels: Any) -> None:
        pass


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    seen = Published()
    real = transitions.publish

    def watched(uow: UnitOfWork, request: Request, moved: Transition, audience: Audience) -> tuple[DomainEvent, ...]:
        events = real(uow, request, moved, audience)
        seen.transitions.append(moved)
        seen.keys += [intent.key for intent in intents_of(events, audience)]
        return events

    monkeypatch.setattr(transitions, "publish", watched)
    return seen


@pytest.fixture
def observed(engine: Engine, governance: Governance, clock: FixedClock) -> tuple[Runtime, Metrics]:
    metrics = Metrics()
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock, observer=metrics)
    return runtime, metrics


def test_every_audit_event_and_transition_message_comes_from_the_one_path(
    observed: tuple[Runtime, Metrics], published: Published, tables: Tables, clock: FixedClock
) -> None:
    runtime, _ = observed
    discount = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=B amount_pct=5")
    decide_request(
        runtime=runtime, request_id=discount.request_id, voter="U0FIN1", verdict=Verdict.CHANGES, reason="less"
    )
    amend_request(runtime=runtime, request_id=discount.request_id, requester="U0SAM", fields={"amount_pct": 20})
    clock.advance(timedelta(hours=8))
    assert escalate_due(runtime=runtime) == 1
    decide_request(runtime=runtime, request_id=discount.request_id, voter="U0CMO", verdict=Verdict.APPROVE)
    cancelled = submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "X"})
    cancel_request(runtime=runtime, request_id=cancelled.request_id, requester="U0SAM")
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=C amount_pct=30")
    brand = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
    )
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=brand.request_id, voter=voter, verdict=Verdict.APPROVE)
    clock.advance(timedelta(days=14))
    assert expire_due(runtime=runtime) == 1  # the third discount
    clock.set(datetime.fromisoformat("2026-03-21T12:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1

    assert [t.event for t in published.transitions] == [
        Event.SUBMIT_ROUTED,
        Event.SUBMIT_APPROVED,
        Event.REQUEST_CHANGES,
        Event.AMEND_ROUTED,
        Event.ESCALATE,
        Event.APPROVE,
        Event.SUBMIT_ROUTED,
        Event.CANCEL,
        Event.SUBMIT_ROUTED,
        Event.SUBMIT_ROUTED,
        Event.VOTE,
        Event.APPROVE,
        Event.EXPIRE,
        Event.LAPSE,
    ]
    assert tables.audit_actions() == [str(t.action) for t in published.transitions]
    assert tables.outbox_keys() == published.keys  # no relay ran: every row is a transition's


def test_metrics_are_told_from_the_events(observed: tuple[Runtime, Metrics]) -> None:
    runtime, metrics = observed
    routed = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=B amount_pct=50")
    amend_request(runtime=runtime, request_id=routed.request_id, requester="U0SAM", fields={"amount_pct": 5})
    brand = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
    )
    decide_request(runtime=runtime, request_id=brand.request_id, voter="U0BR1", verdict=Verdict.APPROVE)
    decide_request(runtime=runtime, request_id=brand.request_id, voter="U0BR2", verdict=Verdict.REJECT, reason="no")

    def decided(kind: str, by: str, rule: str | None, verdict: str) -> tuple[str, dict[str, Any]]:
        return ("decided", {"kind": kind, "by": by, "rule": rule, "verdict": verdict})

    assert metrics.calls == [
        ("filed", {"kind": "discount", "outcome": "route"}),
        ("filed", {"kind": "discount", "outcome": "reject"}),
        decided("discount", "rule", "over-limit", "reject"),
        decided("discount", "rule", "small", "approve"),
        ("filed", {"kind": "brand", "outcome": "route"}),
        decided("brand", "person", None, "approve"),
        decided("brand", "person", None, "reject"),
    ]
