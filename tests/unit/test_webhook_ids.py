"""The ``webhook-id`` of a delivery (Standard Webhooks): the same on every retry, never shared by two
different events — not even REQ-1's ``submitted`` of two deployments posting to one receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.events import DomainEvent, EventType
from bot.domain.governance_spec import Category
from bot.domain.lifecycle import State
from bot.domain.requests import Request
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import webhook_deliveries

CRM = Subscription("crm", "https://crm.example.com/h", "CRM_SECRET", frozenset({"request.submitted"}), None, "U0OPS")
AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def submitted(created: datetime) -> str:
    request = Request("discount", Category.APPROVAL, {"amount_pct": 5}, "U0SAM", State.PENDING, "g", created, id=1)
    event = DomainEvent(EventType.SUBMITTED, 1, created, "U0SAM", State.PENDING, 1)
    (intent,) = webhook_deliveries([CRM], request, [event], receipt=lambda: None)
    return str(intent.payload["message_id"])


def test_the_same_event_has_the_same_id_and_another_deployments_req_1_another() -> None:
    assert submitted(AT) == submitted(AT)  # built again (a retry reads it from the row anyway)
    assert submitted(AT) != submitted(AT + timedelta(days=3))  # REQ-1 of a rebuilt database
    assert submitted(AT).startswith("msg_")
