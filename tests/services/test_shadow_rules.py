"""Shadow rules on a real database (DESIGN §3.7): recorded with the request, its audit event and its
receipt, never acted on, and replaced when the request is amended."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.domain.governance import Governance
from bot.domain.governance_spec import Decision
from bot.domain.lifecycle import State
from bot.domain.shadow import ShadowVerdict
from bot.services.amend import amend_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from storage.records import AuditEventRecord, RequestRecord
from tests.conftest import governance_from
from tests.services.conftest import LIFECYCLE

#: Two shadow rules on discount, written first. Live, ``trial-approve`` would approve 5–30 %
#: (once per requester: its limit), and ``trial-reject`` would reject over 25 %.
SHADOWS = """\
      - {id: trial-approve, when: {amount_pct: {lte: 30}}, decide: approve, reason: Trial., mode: shadow,
         limit: {count: 1, per: requester, window: 30d}}
      - {id: trial-reject, when: {amount_pct: {gt: 25}}, decide: reject, reason: Trial no., mode: shadow}
"""
TRIAL_APPROVE = {"rule": "trial-approve", "decide": "approve"}
TRIAL_REJECT = {"rule": "trial-reject", "decide": "reject"}


@pytest.fixture
def governance() -> Governance:
    marker = "    rules:\n"
    at = LIFECYCLE.index(marker) + len(marker)
    return governance_from(LIFECYCLE[:at] + SHADOWS + LIFECYCLE[at:])


def stored_shadow(engine: Engine, request_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(RequestRecord.shadow).where(RequestRecord.id == request_id)).scalar_one()


def audit_data(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEventRecord.action, AuditEventRecord.data).order_by(AuditEventRecord.seq))
        return [(action, data if isinstance(data, dict) else json.loads(data)) for action, data in rows]


def test_a_submission_records_its_shadow_verdicts_and_is_decided_by_live_rules_only(
    runtime: Runtime, engine: Engine
) -> None:
    filed = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=28")
    assert (filed.state, filed.rule, [s.group for s in filed.steps]) == (State.PENDING, None, ["finance"])
    assert stored_shadow(engine, filed.request_id) == [TRIAL_APPROVE, TRIAL_REJECT]
    [(action, data)] = audit_data(engine)
    assert action == "submitted"
    assert data["shadow"] == [TRIAL_APPROVE, TRIAL_REJECT]
    assert data["receipt"]["shadow"] == [TRIAL_APPROVE, TRIAL_REJECT]
    assert data["receipt"]["rule"] is None
    status = request_status(runtime=runtime, request_id=filed.request_id, viewer="U0FINLEAD")  # the owner
    assert status.shadow == (
        ShadowVerdict("trial-approve", Decision.APPROVE),
        ShadowVerdict("trial-reject", Decision.REJECT),
    )


def test_a_request_no_shadow_rule_matches_records_an_empty_list(runtime: Runtime, engine: Engine) -> None:
    filed = submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    assert stored_shadow(engine, filed.request_id) == []
    assert audit_data(engine)[0][1]["shadow"] == []


def test_a_shadow_rule_uses_no_limit_and_live_limits_count_as_before(runtime: Runtime, engine: Engine) -> None:
    # trial-approve matches all four, with a limit of 1 per requester; it takes none of it, and
    # the live "small" (2 per requester) approves exactly twice, as without shadow rules.
    states = [
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=A{i} amount_pct=5")
        for i in range(4)
    ]
    assert [(s.state, s.rule) for s in states] == [(State.APPROVED, "small")] * 2 + [(State.PENDING, None)] * 2
    assert all(stored_shadow(engine, s.request_id) == [TRIAL_APPROVE] for s in states)
    now = runtime.clock.now()
    with runtime.uow(read_only=True) as uow:
        usage = uow.requests.limit_usage
        trial = usage(
            kind="discount", rule="trial-approve", requester="U0SAM", since=now - timedelta(days=30), sum_field=None
        )
        small = usage(kind="discount", rule="small", requester="U0SAM", since=now - timedelta(days=30), sum_field=None)
    assert (trial.count, small.count) == (0, 2)
    assert [action for action, _ in audit_data(engine)] == ["auto_approved", "auto_approved", "submitted", "submitted"]
    assert [data["shadow"] for _, data in audit_data(engine)] == [[TRIAL_APPROVE]] * 4


def test_an_amend_evaluates_the_shadow_rules_again_and_replaces_their_verdicts(
    runtime: Runtime, engine: Engine
) -> None:
    filed = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=20")
    assert stored_shadow(engine, filed.request_id) == [TRIAL_APPROVE]
    amended = amend_request(runtime=runtime, request_id=filed.request_id, requester="U0SAM", fields={"amount_pct": 35})
    assert amended.state is State.PENDING
    assert stored_shadow(engine, filed.request_id) == [TRIAL_REJECT]
    again = amend_request(runtime=runtime, request_id=filed.request_id, requester="U0SAM", fields={"amount_pct": 15})
    assert (again.state, again.rule) == (State.PENDING, None)  # 15 % is beyond "small": people decide
    assert stored_shadow(engine, filed.request_id) == [TRIAL_APPROVE]
    events = audit_data(engine)
    assert [(action, data["shadow"]) for action, data in events] == [
        ("submitted", [TRIAL_APPROVE]),
        ("amended", [TRIAL_REJECT]),
        ("amended", [TRIAL_APPROVE]),
    ]
    assert events[1][1]["receipt"]["shadow"] == [TRIAL_REJECT]
    status = request_status(runtime=runtime, request_id=filed.request_id, viewer="U0FINLEAD")  # the owner
    assert status.shadow == (ShadowVerdict("trial-approve", Decision.APPROVE),)
    assert status.receipt["shadow"] == [TRIAL_APPROVE]


def test_audit_export_shows_the_shadow_verdicts_of_each_evaluation(
    runtime: Runtime,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filed = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=28")
    amend_request(runtime=runtime, request_id=filed.request_id, requester="U0SAM", fields={"amount_pct": 50})
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", database_url)
    assert main(["audit", "export"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["action"], e["actor"], e["data"]["shadow"]) for e in events] == [
        ("submitted", "U0SAM", [TRIAL_APPROVE, TRIAL_REJECT]),
        ("amended", "U0SAM", [TRIAL_REJECT]),
    ]
    assert main(["audit", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [json.loads(row["data"])["shadow"] for row in rows] == [[TRIAL_APPROVE, TRIAL_REJECT], [TRIAL_REJECT]]
    assert main(["audit", "verify"]) == 0
