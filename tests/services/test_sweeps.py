"""Time-driven transitions with a controlled clock: escalation, expiry, exception lapse."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from bot.services.sweeps import escalate_due, expire_due, lapse_due
from storage.records import OutboxRecord
from tests.services.conftest import Tables


def routed(runtime: Runtime) -> int:
    return submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25"
    ).request_id


def test_sla_breaches_remind_then_add_the_next_stop_then_the_owner(
    runtime: Runtime, tables: Tables, clock: FixedClock
) -> None:
    request_id = routed(runtime)
    clock.advance(timedelta(hours=8) - timedelta(seconds=1))
    assert escalate_due(runtime=runtime) == 0
    clock.advance(timedelta(seconds=1))
    assert escalate_due(runtime=runtime) == 1
    assert escalate_due(runtime=runtime) == 0  # each breach once
    keys = tables.outbox_keys()
    assert f"req:{request_id}:reminder-1:U0FIN1:2" in keys and f"req:{request_id}:reminder-1:U0FIN2:2" in keys
    assert f"req:{request_id}:card:U0CMO:2" in keys
    clock.advance(timedelta(hours=8))
    assert escalate_due(runtime=runtime) == 1
    assert f"req:{request_id}:card:U0FINLEAD:3" in tables.outbox_keys()
    clock.advance(timedelta(hours=8))
    assert escalate_due(runtime=runtime) == 0  # the chain ends with the owner
    decision = decide_request(runtime=runtime, request_id=request_id, voter="U0FINLEAD", verdict=Verdict.APPROVE)
    assert decision.state is State.APPROVED
    assert tables.audit_actions() == ["submitted", "escalated", "escalated", "approved"]


def test_expiry_closes_open_requests_and_tells_the_requester(
    runtime: Runtime, tables: Tables, clock: FixedClock
) -> None:
    request_id = routed(runtime)
    decided = routed(runtime)
    decide_request(runtime=runtime, request_id=decided, voter="U0FIN1", verdict=Verdict.APPROVE)
    clock.advance(timedelta(days=14))
    assert expire_due(runtime=runtime) == 1
    assert expire_due(runtime=runtime) == 0
    assert request_status(runtime=runtime, request_id=request_id, viewer="U0SAM").state is State.EXPIRED
    assert request_status(runtime=runtime, request_id=decided, viewer="U0SAM").state is State.APPROVED
    assert f"req:{request_id}:expired:U0SAM:2" in tables.outbox_keys()


def test_an_exception_warns_before_it_lapses_and_then_lapses(
    runtime: Runtime, tables: Tables, clock: FixedClock
) -> None:
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    request_id = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-10"
    ).request_id
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=Verdict.APPROVE)
    # Ends at the end of 2026-03-10 in Berlin = 23:00 UTC; warned three days before.
    clock.set(datetime.fromisoformat("2026-03-07T22:59:00+00:00"))
    assert lapse_due(runtime=runtime) == 0
    clock.set(datetime.fromisoformat("2026-03-07T23:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1
    assert lapse_due(runtime=runtime) == 0
    warned = [k for k in tables.outbox_keys() if ":lapse-warning:" in k]
    assert sorted(k.split(":")[3] for k in warned) == ["U0BRANDLEAD", "U0SAM"]
    clock.set(datetime.fromisoformat("2026-03-10T23:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1
    assert request_status(runtime=runtime, request_id=request_id, viewer="U0SAM").state is State.LAPSED
    assert tables.audit_actions()[-2:] == ["lapse_warned", "lapsed"]


def test_max_duration_caps_validity_and_warnings_never_precede_approval(runtime: Runtime, clock: FixedClock) -> None:
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    request_id = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-12-31"
    ).request_id
    clock.advance(timedelta(days=1))
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=Verdict.APPROVE)
    status = request_status(runtime=runtime, request_id=request_id, viewer="U0SAM")
    assert status.lapses_at == clock.now() + timedelta(days=30)


def test_escalation_takes_effect_at_once_but_its_messages_wait_for_working_hours(
    runtime: Runtime, engine: Engine, clock: FixedClock
) -> None:
    clock.set(datetime.fromisoformat("2026-03-06T12:00:00+01:00"))  # Friday noon in Berlin
    request_id = routed(runtime)
    clock.set(datetime.fromisoformat("2026-03-06T20:00:00+01:00"))  # SLA passed, after hours
    assert escalate_due(runtime=runtime, timezone_of={"U0FIN2": "Asia/Tokyo"}.get) == 1
    with engine.connect() as connection:
        due = dict(connection.execute(select(OutboxRecord.idempotency_key, OutboxRecord.next_attempt_at)).all())
    monday_berlin = datetime.fromisoformat("2026-03-09T08:00:00+01:00")
    assert due[f"req:{request_id}:reminder-1:U0FIN1:2"] == monday_berlin
    assert due[f"req:{request_id}:reminder-1:U0FIN2:2"] == datetime.fromisoformat(
        "2026-03-09T08:00:00+09:00"
    )  # Saturday 4:00 there
    assert due[f"req:{request_id}:card:U0CMO:2"] == monday_berlin
    assert due[f"req:{request_id}:update:2"] == clock.now()  # the cards show the escalation now
    decision = decide_request(runtime=runtime, request_id=request_id, voter="U0CMO", verdict=Verdict.APPROVE)
    assert decision.state is State.APPROVED  # eligible at once
