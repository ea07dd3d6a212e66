"""Eligibility: quorum, no self-approval, escalation order, delegation (DESIGN §3.4)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.governance import Governance
from bot.domain.governance_spec import StepSpec
from bot.domain.routing import Ballot, Delegation, Verdict, eligible_approvers, escalation_chain, tally
from tests.conftest import governance_from

TODAY = date(2026, 3, 4)


@pytest.fixture
def governance() -> Governance:
    return governance_from("""
        version: 1
        groups:
          brand-council: {members: [U0B1, U0B2, U0B3]}
          solo: {members: [U0SOLO]}
          cmo-office: {members: [U0CMO]}
          vp: {members: [U0VP]}
        kinds:
          brand:
            title: Brand exception
            category: exception
            owner: U0OWNER
            fields: {until: {type: date, required: true}}
            approvers: {group: brand-council, approvals: 2}
            escalate: [cmo-office, vp]
            valid_until: until
          solo-kind:
            title: Solo
            owner: U0OWNER
            fields: {x: {type: text}}
            approvers: solo
            escalate: [cmo-office]
        """)


def approvers(governance: Governance, kind: str, requester: str, **kwargs: object) -> frozenset[str]:
    k = governance.kind(kind)
    return eligible_approvers(governance, k, k.default_steps[0], requester=requester, today=TODAY, **kwargs).everyone  # type: ignore[arg-type]


def test_escalation_chain_is_the_escalate_groups_in_order_then_the_owner(governance: Governance) -> None:
    chain = escalation_chain(governance, governance.kind("brand"))
    assert [(stop.name, sorted(stop.members), stop.is_owner) for stop in chain] == [
        ("cmo-office", ["U0CMO"], False),
        ("vp", ["U0VP"], False),
        ("owner", ["U0OWNER"], True),
    ]


def test_each_sla_breach_adds_the_next_stop(governance: Governance) -> None:
    council = {"U0B1", "U0B2", "U0B3"}
    assert approvers(governance, "brand", "U0SAM") == council
    assert approvers(governance, "brand", "U0SAM", escalation_level=1) == council | {"U0CMO"}
    assert approvers(governance, "brand", "U0SAM", escalation_level=2) == council | {"U0CMO", "U0VP"}
    assert approvers(governance, "brand", "U0SAM", escalation_level=3) == council | {"U0CMO", "U0VP", "U0OWNER"}
    assert approvers(governance, "brand", "U0SAM", escalation_level=9) == council | {"U0CMO", "U0VP", "U0OWNER"}


def test_the_requester_is_never_eligible_for_their_own_request(governance: Governance) -> None:
    assert "U0B1" not in approvers(governance, "brand", "U0B1", escalation_level=3)
    assert "U0OWNER" not in approvers(governance, "brand", "U0OWNER", escalation_level=3)


def test_a_group_without_an_eligible_member_goes_straight_to_the_next_stop(governance: Governance) -> None:
    assert approvers(governance, "solo-kind", "U0SOLO") == {"U0CMO"}


def test_a_group_too_small_for_its_quorum_borrows_from_the_chain(governance: Governance) -> None:
    # Two of the council approve; when one of the three files the request, only two remain: enough.
    assert approvers(governance, "brand", "U0B1") == {"U0B2", "U0B3"}
    lonely = governance_from("""
        version: 1
        groups: {pair: {members: [U0P1, U0P2]}, cmo: {members: [U0CMO]}}
        kinds:
          k:
            title: K
            owner: U0OWNER
            fields: {x: {type: text}}
            approvers: {group: pair, approvals: 2}
            escalate: [cmo]
        """)
    assert approvers(lonely, "k", "U0P1") == {"U0P2", "U0CMO"}


def test_when_everyone_is_the_requester_the_owner_is_the_last_stop(governance: Governance) -> None:
    only_owner = governance_from("""
        version: 1
        groups: {solo: {members: [U0SOLO]}}
        kinds:
          k: {title: K, owner: U0OWNER, fields: {x: {type: text}}, approvers: solo}
        """)
    assert approvers(only_owner, "k", "U0SOLO") == {"U0OWNER"}


def test_delegates_are_eligible_while_active_and_never_for_their_own_request(governance: Governance) -> None:
    dana_for_b1 = Delegation(delegator="U0B1", delegate="U0DANA", until=date(2026, 3, 4))
    assert "U0DANA" in approvers(governance, "brand", "U0SAM", delegations=[dana_for_b1])
    expired = Delegation(delegator="U0B1", delegate="U0DANA", until=date(2026, 3, 3))
    assert "U0DANA" not in approvers(governance, "brand", "U0SAM", delegations=[expired])
    assert "U0DANA" not in approvers(governance, "brand", "U0DANA", delegations=[dana_for_b1])
    stranger = Delegation(delegator="U0NOBODY", delegate="U0DANA", until=date(2026, 12, 31))
    assert "U0DANA" not in approvers(governance, "brand", "U0SAM", delegations=[stranger])


def brand_tally(
    governance: Governance,
    ballots: list[Ballot],
    *,
    fields_hash: str = "h1",
    requester: str = "U0SAM",
    delegations: list[Delegation] | None = None,
) -> tuple[int, bool]:
    kind = governance.kind("brand")
    step = kind.default_steps[0]
    who = eligible_approvers(governance, kind, step, requester=requester, today=TODAY, delegations=delegations or [])
    (progress,) = tally([step], ballots, {step.group: who}, fields_hash=fields_hash)
    return len(progress.approved_by), progress.met


def approve(voter: str, fields_hash: str = "h1", on_behalf_of: str | None = None) -> Ballot:
    return Ballot(voter=voter, verdict=Verdict.APPROVE, fields_hash=fields_hash, on_behalf_of=on_behalf_of)


def test_quorum_needs_distinct_eligible_approvers(governance: Governance) -> None:
    assert brand_tally(governance, [approve("U0B1")]) == (1, False)
    assert brand_tally(governance, [approve("U0B1"), approve("U0B1")]) == (1, False)
    assert brand_tally(governance, [approve("U0B1"), approve("U0OUTSIDER")]) == (1, False)
    assert brand_tally(governance, [approve("U0B1"), approve("U0B2")]) == (2, True)


def test_self_approval_never_counts(governance: Governance) -> None:
    assert brand_tally(governance, [approve("U0B1"), approve("U0B2")], requester="U0B1") == (1, False)


def test_approvals_of_other_fields_stop_counting_after_an_amend(governance: Governance) -> None:
    ballots = [approve("U0B1", fields_hash="before"), approve("U0B2", fields_hash="after")]
    assert brand_tally(governance, ballots, fields_hash="after") == (1, False)


def test_a_delegate_counts_as_the_delegator_and_never_twice(governance: Governance) -> None:
    dana = [Delegation(delegator="U0B1", delegate="U0DANA", until=date(2026, 12, 31))]
    on_behalf = approve("U0DANA", on_behalf_of="U0B1")
    assert brand_tally(governance, [on_behalf], delegations=dana) == (1, False)
    assert brand_tally(governance, [on_behalf, approve("U0B1")], delegations=dana) == (1, False)
    assert brand_tally(governance, [on_behalf, approve("U0B2")], delegations=dana) == (2, True)
    forged = approve("U0DANA", on_behalf_of="U0B2")
    assert brand_tally(governance, [forged], delegations=dana) == (0, False)


def test_rejections_and_requests_for_changes_do_not_count_as_approvals(governance: Governance) -> None:
    ballots = [Ballot("U0B1", Verdict.REJECT, "h1"), Ballot("U0B2", Verdict.CHANGES, "h1")]
    assert brand_tally(governance, ballots) == (0, False)


def test_one_approval_counts_for_every_step_its_voter_may_approve(governance: Governance) -> None:
    kind = governance.kind("brand")
    steps = [StepSpec(group="brand-council", approvals=1), StepSpec(group="cmo-office", approvals=1)]
    who = {s.group: eligible_approvers(governance, kind, s, requester="U0SAM", today=TODAY) for s in steps}
    progress = tally(steps, [approve("U0CMO")], who, fields_hash="h1")
    assert [p.progress() for p in progress] == ["brand-council 0/1", "cmo-office 1/1"]
