"""Deactivated people are eligible nowhere, and cards follow eligibility (DESIGN §2, §3.4, §5).

A step short of eligible people borrows from the escalation chain, then the owner; after a
governance reload or a change in the people directory, pending requests' cards follow: the
newly eligible get one card (once), and those who may no longer decide lose their buttons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.errors import NotAllowed
from bot.domain.governance import Governance
from bot.domain.lifecycle import State
from bot.domain.outbox import DeliveryError, PersonInfo
from bot.domain.routing import Verdict
from bot.jobs import run_people
from bot.services.decide import check_may_decide, decide_request
from bot.services.delegate import start_delegation
from bot.services.people import refresh_people
from bot.services.reconcile import cards_follow_eligibility
from bot.services.runtime import Runtime
from bot.services.status import request_status, summary_for
from bot.services.submit import submit_request
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.fakes import FakeGateway, drain

COUNCIL = """
version: 1
timezone: Europe/Berlin
groups:
  council: {{members: [{council}]}}
  backup: {{members: [U0BAK]}}
  legal: {{members: [{legal}], channel: C0LEGAL}}
kinds:
  brand:
    title: Brand exception
    owner: U0OWNER
    fields: {{asset: {{type: text, required: true}}}}
    approvers: {{group: council, approvals: 2}}
    escalate: [backup]
  logo:
    title: Logo change
    owner: U0LOGOLEAD
    fields: {{asset: {{type: text, required: true}}}}
    approvers: {{group: council, approvals: 2}}
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {{counterparty: {{type: text, required: true}}}}
    approvers: legal
"""


OWNERS = {"U0OWNER", "U0LOGOLEAD", "U0LAWLEAD"}


def council(members: str = "U0A, U0B, U0C", legal: str = "U0LAW1, U0LAW2") -> Governance:
    return governance_from(COUNCIL.format(council=members, legal=legal))


@dataclass
class Workspace:
    """Slack's users.info as the tests want it: everyone active unless deactivated here."""

    deactivated: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    def person(self, user: str) -> PersonInfo | None:
        self.asked.append(user)
        return PersonInfo(user, deleted=user in self.deactivated, tz="Europe/Berlin")


@dataclass
class Reloadable:
    """A runtime whose governance can be swapped, as a SIGHUP reload does."""

    runtime: Runtime
    current: list[Governance]

    def reload(self, governance: Governance) -> None:
        self.current[0] = governance


@pytest.fixture
def signoff(engine: Engine, clock: FixedClock) -> Reloadable:
    current = [council()]
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: current[0], clock=clock)
    return Reloadable(runtime, current)


def file(runtime: Runtime, kind: str = "brand", requester: str = "U0A") -> int:
    fields = {"counterparty": "Initech"} if kind == "contract" else {"asset": "banner"}
    submission = submit_request(runtime=runtime, kind=kind, requester=requester, fields=fields)
    assert submission.state is State.PENDING
    return submission.request_id


def approve(runtime: Runtime, request_id: int, voter: str) -> State:
    return decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=Verdict.APPROVE).state


def deactivate(runtime: Runtime, workspace: Workspace, *people: str) -> None:
    workspace.deactivated |= set(people)
    report = refresh_people(runtime=runtime, source=workspace)
    assert sorted(report.deactivated) == sorted(people)


def posts_to(gateway: FakeGateway, recipient: str) -> int:
    return sum(1 for d in gateway.of("post") if d.target == recipient)


def copy_of(gateway: FakeGateway, recipient: str) -> str:
    """The channel/ts of the card posted to ``recipient`` (as update targets name it)."""
    channel = recipient if recipient.startswith("C") else "D" + recipient[1:]
    return next(f"{channel}/" for d in gateway.of("post") if d.target == recipient)


def last_update_of(gateway: FakeGateway, recipient: str) -> bool:
    """Whether the latest update of ``recipient``'s copy shows the buttons."""
    prefix = copy_of(gateway, recipient)
    updates = [d for d in gateway.of("update") if d.target.startswith(prefix)]
    assert updates, f"{recipient}'s copy was never updated"
    return updates[-1].buttons


def test_a_two_approval_step_short_of_active_members_completes_through_the_escalation_stop(
    signoff: Reloadable,
) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    deactivate(runtime, workspace, "U0C")
    request_id = file(runtime)  # U0A filed it: of the council only U0B may decide, U0C is deactivated
    drain(runtime, gateway)
    assert {d.target for d in gateway.of("post")} == {"U0B", "U0BAK"}
    assert approve(runtime, request_id, "U0BAK") is State.PENDING
    assert approve(runtime, request_id, "U0B") is State.APPROVED


def test_without_an_escalation_chain_the_owner_is_the_last_stop(signoff: Reloadable) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    deactivate(runtime, workspace, "U0C")
    request_id = file(runtime, kind="logo")
    drain(runtime, gateway)
    assert {d.target for d in gateway.of("post")} == {"U0B", "U0LOGOLEAD"}
    assert approve(runtime, request_id, "U0LOGOLEAD") is State.PENDING
    assert approve(runtime, request_id, "U0B") is State.APPROVED


def test_a_deactivated_persons_click_is_refused_and_nothing_waits_on_them(signoff: Reloadable) -> None:
    runtime, workspace = signoff.runtime, Workspace()
    request_id = file(runtime, requester="U0SAM")
    deactivate(runtime, workspace, "U0C")
    with pytest.raises(NotAllowed):
        check_may_decide(runtime=runtime, request_id=request_id, voter="U0C")
    with pytest.raises(NotAllowed):
        decide_request(runtime=runtime, request_id=request_id, voter="U0C", verdict=Verdict.APPROVE)
    assert summary_for(runtime=runtime, user="U0C").waiting_on_me == ()
    assert [c.ref for c in summary_for(runtime=runtime, user="U0B").waiting_on_me] == [f"REQ-{request_id}"]


def test_when_the_owner_is_deactivated_too_the_status_says_no_one_can_approve(signoff: Reloadable) -> None:
    runtime, workspace = signoff.runtime, Workspace()
    deactivate(runtime, workspace, "U0B", "U0C", "U0LOGOLEAD")
    request_id = file(runtime, kind="logo")
    card = request_status(runtime=runtime, request_id=request_id, viewer="U0A").card
    assert card is not None and card.progress == ("council 0/2 (no eligible approver)",)
    assert cards_follow_eligibility(runtime=runtime).stuck == (f"REQ-{request_id}",)


def test_nobody_delegates_to_a_deactivated_person_and_their_delegation_counts_nowhere(
    signoff: Reloadable, clock: FixedClock
) -> None:
    runtime, workspace = signoff.runtime, Workspace()
    start_delegation(runtime=runtime, delegator="U0B", delegate="U0DEL", until=date(2026, 3, 31))
    request_id = file(runtime, requester="U0SAM")
    deactivate(runtime, workspace, "U0DEL")
    with pytest.raises(NotAllowed):
        check_may_decide(runtime=runtime, request_id=request_id, voter="U0DEL")
    with pytest.raises(NotAllowed, match="deactivated"):
        start_delegation(runtime=runtime, delegator="U0C", delegate="U0DEL", until=date(2026, 3, 31))


def test_when_someone_is_deactivated_pending_requests_reroute_and_their_card_loses_its_buttons(
    signoff: Reloadable,
) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    request_id = file(runtime)  # U0A filed it: U0B and U0C decide
    drain(runtime, gateway)
    assert {d.target for d in gateway.of("post")} == {"U0B", "U0C"}
    deactivate(runtime, workspace, "U0C")
    cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    assert posts_to(gateway, "U0BAK") == 1
    assert last_update_of(gateway, "U0C") is False
    assert last_update_of(gateway, "U0B") is True
    assert cards_follow_eligibility(runtime=runtime).posted == 0  # settled: nothing more to do
    drain(runtime, gateway)
    assert posts_to(gateway, "U0BAK") == 1
    assert approve(runtime, request_id, "U0BAK") is State.PENDING
    assert approve(runtime, request_id, "U0B") is State.APPROVED


def test_a_member_added_by_a_reload_gets_the_card_of_pending_requests_once(signoff: Reloadable) -> None:
    runtime, gateway = signoff.runtime, FakeGateway()
    request_id = file(runtime, requester="U0SAM")
    drain(runtime, gateway)
    signoff.reload(council("U0A, U0B, U0C, U0D"))
    for _ in range(2):  # two workers, or two passes: still one card
        cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    assert posts_to(gateway, "U0D") == 1
    assert [d.card.request_id for d in gateway.of("post") if d.target == "U0D" and d.card] == [request_id]
    assert approve(runtime, request_id, "U0D") is State.PENDING


def test_a_member_removed_by_a_reload_loses_the_buttons_and_their_click_is_refused(signoff: Reloadable) -> None:
    runtime, gateway = signoff.runtime, FakeGateway()
    request_id = file(runtime, requester="U0SAM")
    drain(runtime, gateway)
    signoff.reload(council("U0A, U0B"))
    cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    assert last_update_of(gateway, "U0C") is False
    assert last_update_of(gateway, "U0A") is True
    with pytest.raises(NotAllowed):
        decide_request(runtime=runtime, request_id=request_id, voter="U0C", verdict=Verdict.APPROVE)
    # A later update (a vote) keeps the removed copy without buttons; putting them back restores them.
    assert approve(runtime, request_id, "U0A") is State.PENDING
    drain(runtime, gateway)
    assert last_update_of(gateway, "U0C") is False
    signoff.reload(council("U0A, U0B, U0C"))
    cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    assert last_update_of(gateway, "U0C") is True
    assert posts_to(gateway, "U0C") == 1


def test_a_group_channel_holds_the_one_card_whatever_its_membership(signoff: Reloadable) -> None:
    runtime, gateway = signoff.runtime, FakeGateway()
    file(runtime, kind="contract", requester="U0SAM")
    drain(runtime, gateway)
    signoff.reload(council(legal="U0LAW1, U0LAW2, U0LAW3"))
    cards_follow_eligibility(runtime=runtime)
    drain(runtime, gateway)
    assert [d.target for d in gateway.of("post")] == ["C0LEGAL"]


def test_a_copy_of_someone_who_left_slack_does_not_hold_up_the_others(signoff: Reloadable) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    request_id = file(runtime, requester="U0SAM")
    drain(runtime, gateway)
    gateway.fail_next.append(DeliveryError("chat.update: account_inactive", permanent=True, code="account_inactive"))
    assert approve(runtime, request_id, "U0B") is State.PENDING
    drain(runtime, gateway)
    assert len(gateway.of("update")) == 2  # the first copy's update failed; the other two went out
    workspace.deactivated.add("U0A")
    report = refresh_people(runtime=runtime, source=workspace)
    assert report.deactivated == ["U0A"]  # the failed delivery made the directory check them first


def test_a_card_queued_for_someone_deactivated_before_it_went_out_is_not_posted(signoff: Reloadable) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    file(runtime, requester="U0SAM")
    drain(runtime, gateway)  # nobody deactivated yet: three cards
    file(runtime, requester="U0SAM")
    from bot.services.relay import relay_outbox

    relay_outbox(runtime=runtime, gateway=gateway)  # the fan-out queues the second request's cards
    deactivate(runtime, workspace, "U0C")
    drain(runtime, gateway)
    assert posts_to(gateway, "U0C") == 1  # only the first request's


def test_a_channel_group_short_of_active_members_borrows_and_the_borrowed_get_a_dm(signoff: Reloadable) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    deactivate(runtime, workspace, "U0LAW1", "U0LAW2")
    request_id = file(runtime, kind="contract", requester="U0SAM")
    drain(runtime, gateway)
    assert sorted(d.target for d in gateway.of("post")) == ["C0LEGAL", "U0LAWLEAD"]
    assert approve(runtime, request_id, "U0LAWLEAD") is State.APPROVED


def test_the_people_job_asks_slack_hourly_and_cards_follow_a_deactivation(
    signoff: Reloadable, clock: FixedClock
) -> None:
    runtime, workspace, gateway = signoff.runtime, Workspace(), FakeGateway()
    file(runtime)
    drain(runtime, gateway)
    run_people(runtime, workspace)  # everyone named is new to the directory: all asked once
    assert sorted(workspace.asked) == sorted({"U0A", "U0B", "U0C", "U0BAK", "U0LAW1", "U0LAW2"} | OWNERS)
    workspace.asked.clear()
    workspace.deactivated.add("U0C")
    run_people(runtime, workspace)
    assert workspace.asked == []  # checked less than an hour ago
    clock.advance(timedelta(hours=1))
    run_people(runtime, workspace)
    drain(runtime, gateway)
    assert "U0C" in workspace.asked
    assert posts_to(gateway, "U0BAK") == 1
    assert last_update_of(gateway, "U0C") is False
