"""Exceptions shorter than a day (DESIGN §3.5): a 4-hour emergency exception, a 40-second one in a test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from bot.services.sweeps import lapse_due
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import Tables

SHORT = """
version: 1
timezone: Europe/Berlin
working_hours: {{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}}
groups:
  oncall: {{members: [U0OPS1, U0OPS2]}}
kinds:
  bypass:
    title: Change-freeze bypass
    category: exception
    owner: U0OPSLEAD
    fields: {{change: {{type: text, required: true}}}}
    approvers: oncall
    max_duration: {duration}
"""

#: Wednesday 2026-03-04, 10:00 in Berlin: inside working hours.
MORNING = datetime.fromisoformat("2026-03-04T10:00:00+01:00")


@pytest.fixture
def make(engine: Engine, clock: FixedClock) -> Callable[[str], Runtime]:
    def build(duration: str) -> Runtime:
        return make_runtime(engine, governance_from(SHORT.format(duration=duration)), clock)

    return build


def approved(runtime: Runtime, clock: FixedClock, submitted: datetime, wait: timedelta) -> int:
    clock.set(submitted)
    request_id = submit_request(runtime=runtime, kind="bypass", requester="U0DEV", text="change=hotfix").request_id
    clock.advance(wait)
    decide_request(runtime=runtime, request_id=request_id, voter="U0OPS1", verdict=Verdict.APPROVE)
    return request_id


def state_of(runtime: Runtime, request_id: int) -> State:
    return request_status(runtime=runtime, request_id=request_id, viewer="U0DEV").state


@pytest.mark.parametrize(
    ("duration", "length"),
    [("4h", timedelta(hours=4)), ("40s", timedelta(seconds=40))],
)
def test_a_short_exception_lapses_when_its_duration_is_over_and_is_warned_halfway(
    make: Callable[[str], Runtime], clock: FixedClock, tables: Tables, duration: str, length: timedelta
) -> None:
    runtime = make(duration)
    request_id = approved(runtime, clock, MORNING, timedelta(minutes=30))
    approved_at = clock.now()
    status = request_status(runtime=runtime, request_id=request_id, viewer="U0DEV")
    assert status.lapses_at == approved_at + length  # counted from approval, not from submission

    # The default warn_before (3 days) is longer than the whole validity: the warning comes halfway.
    clock.set(approved_at + length / 2 - timedelta(seconds=1))
    assert lapse_due(runtime=runtime) == 0
    assert not [k for k in tables.outbox_keys() if ":lapse-warning:" in k]
    clock.set(approved_at + length / 2)
    assert lapse_due(runtime=runtime) == 1
    warned = sorted(k.split(":")[3] for k in tables.outbox_keys() if ":lapse-warning:" in k)
    assert warned == ["U0DEV", "U0OPSLEAD"]

    clock.set(approved_at + length - timedelta(seconds=1))
    assert lapse_due(runtime=runtime) == 0
    assert state_of(runtime, request_id) is State.APPROVED
    clock.set(approved_at + length)
    assert lapse_due(runtime=runtime) == 1
    assert state_of(runtime, request_id) is State.LAPSED
    assert tables.audit_actions()[-2:] == ["lapse_warned", "lapsed"]


def test_no_warning_before_approval_even_when_approval_takes_longer_than_the_exception(
    make: Callable[[str], Runtime], clock: FixedClock, tables: Tables
) -> None:
    runtime = make("40s")
    request_id = approved(runtime, clock, MORNING, timedelta(hours=3))
    approved_at = clock.now()
    for offset in (timedelta(0), timedelta(seconds=19)):
        clock.set(approved_at + offset)
        assert lapse_due(runtime=runtime) == 0
    assert not [k for k in tables.outbox_keys() if ":lapse-warning:" in k]
    assert state_of(runtime, request_id) is State.APPROVED


def test_a_sweep_that_comes_late_lapses_without_a_warning_after_the_end(
    make: Callable[[str], Runtime], clock: FixedClock, tables: Tables
) -> None:
    runtime = make("40s")
    request_id = approved(runtime, clock, MORNING, timedelta(seconds=5))
    clock.advance(timedelta(minutes=5))  # the worker was down: warning and lapse are both due
    assert lapse_due(runtime=runtime) == 1
    assert state_of(runtime, request_id) is State.LAPSED
    assert not [k for k in tables.outbox_keys() if ":lapse-warning:" in k]
    assert lapse_due(runtime=runtime) == 0


def test_a_warning_held_for_working_hours_past_the_end_is_not_sent(
    make: Callable[[str], Runtime], clock: FixedClock, tables: Tables
) -> None:
    runtime = make("4h")
    evening = datetime.fromisoformat("2026-03-04T17:00:00+01:00")
    request_id = approved(runtime, clock, evening, timedelta(minutes=1))
    clock.set(clock.now() + timedelta(hours=2))  # 19:01 in Berlin: the warning would wait until 08:00
    lapse_due(runtime=runtime)
    assert not [k for k in tables.outbox_keys() if ":lapse-warning:" in k]
    assert "lapse_warned" not in tables.audit_actions()
    clock.set(clock.now() + timedelta(hours=2))
    assert lapse_due(runtime=runtime) == 1
    assert state_of(runtime, request_id) is State.LAPSED
    assert sorted(k.split(":")[3] for k in tables.outbox_keys() if ":lapsed:" in k) == ["U0DEV", "U0OPSLEAD"]
