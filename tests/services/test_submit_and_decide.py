"""Submit, decide, amend, cancel: state, audit and outbox written together, or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.clock import FixedClock
from bot.domain.contracts import ContractError
from bot.domain.errors import AlreadyDecided, AlreadyVoted, NotAllowed, RequestNotFound, WrongCategory
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import Category
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.cancel import cancel_request
from bot.services.decide import check_may_decide, decide_request
from bot.services.delegate import end_delegation, start_delegation
from bot.services.runtime import Runtime
from bot.services.status import request_status, summary_for
from bot.services.submit import submit_request
from tests.fakes import FakeGateway, drain
from tests.services.conftest import Tables


def routed(runtime: Runtime, text: str = "account=Acme amount_pct=25", requester: str = "U0SAM") -> int:
    submission = submit_request(runtime=runtime, kind="discount", requester=requester, text=text)
    assert submission.state is State.PENDING
    return submission.request_id


def test_a_routine_request_is_approved_by_its_rule_with_a_receipt(runtime: Runtime, tables: Tables) -> None:
    submission = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=5")
    assert (submission.state, submission.rule, submission.reason) == (State.APPROVED, "small", "Small is fine.")
    assert submission.ref == f"REQ-{submission.request_id}"
    status = request_status(runtime=runtime, request_id=submission.request_id, viewer="U0SAM")
    assert status.receipt["rule"] == "small"
    assert status.receipt["governance"] == runtime.governance().version
    assert tables.audit_actions() == ["auto_approved"]
    assert tables.outbox_keys() == []  # the acknowledgement tells the requester; no cards


def test_a_routed_request_sends_a_card_per_approver_or_one_per_channel(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    assert tables.outbox_keys() == [f"req:{request_id}:route:1"]  # fanned out when delivered
    contract = submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    gateway = FakeGateway()
    drain(runtime, gateway)
    assert [(d.action, d.target, d.card.request_id) for d in gateway.delivered if d.card] == [
        ("post", "U0FIN1", request_id),
        ("post", "U0FIN2", request_id),
        ("post", "C0LEGAL", contract.request_id),
    ]
    assert tables.audit_actions() == ["submitted", "submitted"]


def test_a_rule_rejection_names_the_rule(runtime: Runtime) -> None:
    submission = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=50")
    assert (submission.state, submission.rule, submission.reason) == (State.REJECTED, "over-limit", "Too much.")


def test_due_and_expiry_follow_the_kind(runtime: Runtime, clock: FixedClock) -> None:
    submission = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25")
    assert submission.due_at == clock.now() + timedelta(hours=8)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kind": "refund", "text": "x=1"}, UnknownKind),
        ({"kind": "discount", "text": "amount_pct=500"}, ContractError),
        ({"kind": "discount", "text": 'account="Acme'}, ContractError),
        ({"kind": "discount", "fields": {"account": "A", "amount_pct": 5, "colour": "red"}}, ContractError),
        ({"kind": "discount", "text": "account=A amount_pct=5", "category": Category.EXCEPTION}, WrongCategory),
        ({"kind": "brand", "text": "asset=https://a.io until=2026-03-01"}, ContractError),  # already over
    ],
)
def test_bad_input_stores_nothing(
    runtime: Runtime, tables: Tables, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        submit_request(runtime=runtime, requester="U0SAM", **kwargs)  # type: ignore[arg-type]
    assert tables.snapshot() == (0, 0, 0, 0)


def test_the_same_delivery_twice_stores_one_request_and_answers_the_same(runtime: Runtime, tables: Tables) -> None:
    first = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25", idempotency_key="trigger-1"
    )
    again = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25", idempotency_key="trigger-1"
    )
    assert (again.request_id, again.state, again.replayed) == (first.request_id, first.state, True)
    assert tables.snapshot()[0] == 1


def test_an_approval_completes_the_step_and_tells_the_requester(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    decision = decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    assert (decision.state, decision.progress) == (State.APPROVED, ("finance 1/1",))
    assert tables.audit_actions() == ["submitted", "approved"]
    assert tables.outbox_keys()[-2:] == [f"req:{request_id}:update:2", f"req:{request_id}:approve:U0SAM:2"]
    with pytest.raises(AlreadyDecided, match=f"REQ-{request_id} was already approved by <@U0FIN1>"):
        decide_request(runtime=runtime, request_id=request_id, voter="U0FIN2", verdict=Verdict.APPROVE)


def test_required_steps_all_need_their_approvals(runtime: Runtime) -> None:
    request_id = routed(runtime, "account=Acme amount_pct=25 deal_value=200000")
    first = decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    assert (first.state, first.progress) == (State.PENDING, ("finance 1/1", "cmo-office 0/1"))
    second = decide_request(runtime=runtime, request_id=request_id, voter="U0CMO", verdict=Verdict.APPROVE)
    assert second.state is State.APPROVED


@pytest.mark.parametrize(
    ("voter", "verdict", "reason", "error", "message"),
    [
        ("U0SAM", Verdict.APPROVE, None, NotAllowed, "you filed REQ-1, so someone else has to decide it"),
        ("U0NOBODY", Verdict.APPROVE, None, NotAllowed, r"you are not an approver of REQ-1 \(finance decide it\)"),
        ("U0FIN1", Verdict.REJECT, None, NotAllowed, "a reason is required to reject"),
        ("U0FIN1", Verdict.REJECT, "   ", NotAllowed, "a reason is required to reject"),
        ("U0FIN1", Verdict.CHANGES, None, NotAllowed, "a reason is required to ask for changes"),
    ],
)
def test_refused_votes_change_nothing(
    runtime: Runtime,
    tables: Tables,
    voter: str,
    verdict: Verdict,
    reason: str | None,
    error: type[Exception],
    message: str,
) -> None:
    request_id = routed(runtime)
    assert request_id == 1
    before = tables.snapshot()
    with pytest.raises(error, match=message):
        decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=verdict, reason=reason)
    assert tables.snapshot() == before


def test_unknown_request(runtime: Runtime) -> None:
    with pytest.raises(RequestNotFound, match="there is no request REQ-99"):
        decide_request(runtime=runtime, request_id=99, voter="U0FIN1", verdict=Verdict.APPROVE)


def test_quorum_of_two_and_no_double_vote(runtime: Runtime, clock: FixedClock) -> None:
    submission = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
    )
    request_id = submission.request_id
    first = decide_request(runtime=runtime, request_id=request_id, voter="U0BR1", verdict=Verdict.APPROVE)
    assert (first.state, first.progress) == (State.PENDING, ("brand-council 1/2",))
    with pytest.raises(AlreadyVoted):
        decide_request(runtime=runtime, request_id=request_id, voter="U0BR1", verdict=Verdict.APPROVE)
    second = decide_request(runtime=runtime, request_id=request_id, voter="U0BR2", verdict=Verdict.APPROVE)
    assert second.state is State.APPROVED
    status = request_status(runtime=runtime, request_id=request_id, viewer="U0SAM")
    # Valid through the end of 2026-03-20 in Berlin (max_duration 30d would be later).
    assert status.lapses_at is not None and status.lapses_at.isoformat() == "2026-03-20T23:00:00+00:00"


def test_reject_with_reason_closes_and_tells_the_requester_why(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    decision = decide_request(
        runtime=runtime, request_id=request_id, voter="U0FIN2", verdict=Verdict.REJECT, reason="Margin too thin"
    )
    assert decision.state is State.REJECTED
    status = request_status(runtime=runtime, request_id=request_id, viewer="U0SAM")
    assert status.card is not None and status.card.decision_note == "Margin too thin"
    assert tables.outbox_keys()[-1] == f"req:{request_id}:reject:U0SAM:2"


def test_changes_then_amend_evaluates_again_and_old_approvals_stop_counting(runtime: Runtime, tables: Tables) -> None:
    submission = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
    )
    request_id = submission.request_id
    decide_request(runtime=runtime, request_id=request_id, voter="U0BR1", verdict=Verdict.APPROVE)
    changes = decide_request(
        runtime=runtime, request_id=request_id, voter="U0BR2", verdict=Verdict.CHANGES, reason="Use the new logo"
    )
    assert changes.state is State.CHANGES_REQUESTED
    with pytest.raises(AlreadyDecided, match="sent back for changes"):
        decide_request(runtime=runtime, request_id=request_id, voter="U0BR3", verdict=Verdict.APPROVE)
    amended = amend_request(
        runtime=runtime, request_id=request_id, requester="U0SAM", text="asset=<https://a.io/y.png|a.io/y.png>"
    )
    assert amended.state is State.PENDING
    status = request_status(runtime=runtime, request_id=request_id, viewer="U0BR1")
    assert status.card is not None
    assert status.card.progress == ("brand-council 0/2",)  # U0BR1's approval saw the old asset
    assert {f.label: f.value for f in status.card.fields}["Asset"] == "https://a.io/y.png"
    assert status.receipt["inputs"]["fields"]["asset"] == "https://a.io/y.png"  # the receipt of the latest evaluation
    decide_request(
        runtime=runtime, request_id=request_id, voter="U0BR1", verdict=Verdict.APPROVE
    )  # may vote again on new fields
    done = decide_request(runtime=runtime, request_id=request_id, voter="U0BR3", verdict=Verdict.APPROVE)
    assert done.state is State.APPROVED
    assert tables.audit_actions() == ["submitted", "voted", "changes_requested", "amended", "voted", "approved"]


def test_a_click_on_a_stale_card_is_refused(runtime: Runtime) -> None:
    request_id = routed(runtime)
    stale = request_status(runtime=runtime, request_id=request_id, viewer="U0FIN1").card
    assert stale is not None
    amend_request(runtime=runtime, request_id=request_id, requester="U0SAM", text="amount_pct=30")
    with pytest.raises(NotAllowed, match="was amended after this card was shown"):
        decide_request(
            runtime=runtime,
            request_id=request_id,
            voter="U0FIN1",
            verdict=Verdict.APPROVE,
            seen_fields_hash=stale.fields_hash,
        )


def test_an_amend_can_let_a_rule_decide(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    amended = amend_request(runtime=runtime, request_id=request_id, requester="U0SAM", text="amount_pct=8")
    assert (amended.state, amended.rule) == (State.APPROVED, "small")
    assert tables.outbox_keys()[-1] == f"req:{request_id}:update:2"


def test_only_the_requester_amends_or_cancels(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    before = tables.snapshot()
    with pytest.raises(NotAllowed, match="only <@U0SAM>, who filed REQ-1, can amend it"):
        amend_request(runtime=runtime, request_id=request_id, requester="U0FIN1", text="amount_pct=8")
    with pytest.raises(NotAllowed, match="can cancel it"):
        cancel_request(runtime=runtime, request_id=request_id, requester="U0FIN1")
    assert tables.snapshot() == before
    with pytest.raises(ContractError, match="amount_pct: must be at most 100"):
        amend_request(runtime=runtime, request_id=request_id, requester="U0SAM", text="amount_pct=800")
    assert tables.snapshot() == before
    assert cancel_request(runtime=runtime, request_id=request_id, requester="U0SAM") is State.CANCELLED
    with pytest.raises(AlreadyDecided, match="already cancelled"):
        cancel_request(runtime=runtime, request_id=request_id, requester="U0SAM")


def test_a_delegate_approves_on_behalf_and_the_audit_says_so(
    runtime: Runtime, tables: Tables, clock: FixedClock
) -> None:
    start_delegation(runtime=runtime, delegator="U0FIN1", delegate="U0DANA", until=clock.now().date())
    request_id = routed(runtime)
    gateway = FakeGateway()
    drain(runtime, gateway)
    assert [d.target for d in gateway.of("post")] == ["U0DANA", "U0FIN1", "U0FIN2"]  # the delegate gets the card
    decision = decide_request(runtime=runtime, request_id=request_id, voter="U0DANA", verdict=Verdict.APPROVE)
    assert (decision.state, decision.on_behalf_of) == (State.APPROVED, "U0FIN1")
    assert end_delegation(runtime=runtime, delegator="U0FIN1") is not None
    with pytest.raises(NotAllowed):
        decide_request(runtime=runtime, request_id=routed(runtime), voter="U0DANA", verdict=Verdict.APPROVE)
    with pytest.raises(NotAllowed, match="yourself"):
        start_delegation(runtime=runtime, delegator="U0FIN1", delegate="U0FIN1", until=clock.now().date())


def test_limits_count_the_rules_own_approvals_in_storage(runtime: Runtime, clock: FixedClock) -> None:
    states = []
    for _ in range(3):
        states.append(
            submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=5").state
        )
    assert states == [State.APPROVED, State.APPROVED, State.PENDING]
    other = submit_request(runtime=runtime, kind="discount", requester="U0KIM", text="account=A amount_pct=5")
    assert other.state is State.APPROVED  # per requester
    clock.advance(timedelta(days=31))
    assert (
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=5").state
        is State.APPROVED
    )


def test_who_sees_what(runtime: Runtime) -> None:
    request_id = routed(runtime)
    for insider in ("U0SAM", "U0FIN1", "U0FINLEAD"):
        assert request_status(runtime=runtime, request_id=request_id, viewer=insider).visible
    outsider = request_status(runtime=runtime, request_id=request_id, viewer="U0STRANGER")
    assert (outsider.visible, outsider.ref, outsider.state, outsider.receipt) == (False, "REQ-1", State.PENDING, {})


def test_summary_lists_what_waits_on_me_and_my_open_requests(runtime: Runtime) -> None:
    first, second = routed(runtime), routed(runtime, "account=Globex amount_pct=30")
    decide_request(runtime=runtime, request_id=first, voter="U0FIN1", verdict=Verdict.APPROVE)
    waiting = summary_for(runtime=runtime, user="U0FIN2")
    assert [c.request_id for c in waiting.waiting_on_me] == [second]
    mine = summary_for(runtime=runtime, user="U0SAM")
    assert [c.request_id for c in mine.my_requests] == [second]


def test_who_may_decide_is_known_before_anyone_types_a_reason(runtime: Runtime, tables: Tables) -> None:
    request_id = routed(runtime)
    before = tables.snapshot()
    check_may_decide(runtime=runtime, request_id=request_id, voter="U0FIN1")
    with pytest.raises(NotAllowed, match="you are not an approver"):
        check_may_decide(runtime=runtime, request_id=request_id, voter="U0NOBODY")
    with pytest.raises(NotAllowed, match="someone else has to decide it"):
        check_may_decide(runtime=runtime, request_id=request_id, voter="U0SAM")
    assert tables.snapshot() == before
