"""Who may decide a pending request: steps, quorum, escalation and delegation.

This module is the one place that knows eligibility. Its rules (DESIGN §3.4):
- the requester is never eligible for their own request, not even as someone's delegate;
- people Slack reports as deactivated (``inactive``) are eligible nowhere: not in their group,
  not as an escalation stop or owner, not as anyone's delegate;
- a step whose group has too few eligible people to reach its quorum borrows from the
  escalation chain (the kind's ``escalate`` groups in order, finally its owner);
- each SLA breach makes the next stop of that chain eligible as well;
- an active delegate may approve wherever the delegator may, and their vote counts as the
  delegator's, so one person's approval is never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import StepSpec


@dataclass(frozen=True)
class EscalationStop:
    """One stop of a kind's escalation chain: a group, or (last) the owner."""

    name: str
    members: frozenset[str]
    is_owner: bool = False


def escalation_chain(governance: Governance, kind: Kind) -> tuple[EscalationStop, ...]:
    """The kind's escalation stops in order: its ``escalate`` groups, then its owner."""
    stops = [EscalationStop(group, frozenset(governance.members(group))) for group in kind.spec.escalate]
    stops.append(EscalationStop("owner", frozenset({kind.owner}), is_owner=True))
    return tuple(stops)


@dataclass(frozen=True)
class Delegation:
    """``delegator``'s approvals also go to ``delegate`` until ``until`` (inclusive, governance timezone)."""

    delegator: str
    delegate: str
    until: date

    def active_on(self, day: date) -> bool:
        return day <= self.until


@dataclass(frozen=True)
class Approvers:
    """Who may approve one step: people in their own right, and delegates standing in for them."""

    direct: frozenset[str]
    stand_ins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """delegate → the principals (in ``direct``) they stand in for."""
    #: Whether someone of the step's own group may approve it.
    own: bool = True
    #: The escalation stops borrowed from because the group alone cannot reach the quorum (those
    #: that added someone, in chain order; not the stops an SLA breach made eligible).
    borrowed: tuple[EscalationStop, ...] = ()

    @property
    def everyone(self) -> frozenset[str]:
        return self.direct | frozenset(self.stand_ins)

    def principals_for(self, voter: str) -> tuple[str, ...]:
        """Whose approval a vote by ``voter`` can count as; empty when not eligible."""
        own = (voter,) if voter in self.direct else ()
        return own + tuple(sorted(self.stand_ins.get(voter, frozenset()) - {voter}))


def eligible_approvers(
    governance: Governance,
    kind: Kind,
    step: StepSpec,
    *,
    requester: str,
    escalation_level: int = 0,
    delegations: Iterable[Delegation] = (),
    today: date,
    inactive: frozenset[str] = frozenset(),
) -> Approvers:
    """Everyone who may approve ``step`` of a request by ``requester`` right now.

    ``inactive``: user ids deactivated in Slack; they count nowhere, so a group they leave
    short borrows from the escalation chain like a group short of anyone else.
    """
    chain = escalation_chain(governance, kind)
    unavailable = inactive | {requester}
    direct = set(governance.members(step.group)) - unavailable
    own = bool(direct)
    borrowed: list[EscalationStop] = []
    next_stop = 0
    while len(direct) < step.approvals and next_stop < len(chain):
        stop = chain[next_stop]
        if stop.members - unavailable - direct:
            borrowed.append(stop)
        direct |= stop.members - unavailable
        next_stop += 1
    for stop in chain[: max(escalation_level, 0)]:
        direct |= stop.members - unavailable
    stand_ins: dict[str, set[str]] = {}
    for delegation in delegations:
        if delegation.delegator in direct and delegation.delegate not in unavailable and delegation.active_on(today):
            stand_ins.setdefault(delegation.delegate, set()).add(delegation.delegator)
    return Approvers(frozenset(direct), {d: frozenset(p) for d, p in stand_ins.items()}, own, tuple(borrowed))


@dataclass(frozen=True)
class StepRoute:
    """Where one step of a new request really goes (DESIGN §3.4 "a step whose group has no eligible
    member goes straight to the next escalation stop, finally the owner"): ``groups`` whose members
    may approve it (the step's own group first, when someone there may), and ``owner`` the kind's
    owner's user id when the chain's last stop is borrowed. Both empty: no one may approve it now."""

    step: StepSpec
    groups: tuple[str, ...]
    owner: str | None = None

    @property
    def moved(self) -> bool:
        """It does not go (only) to the step's own group."""
        return self.groups != (self.step.group,) or self.owner is not None


def route_of(step: StepSpec, approvers: Approvers) -> StepRoute:
    """``step``'s route from its ``eligible_approvers`` (the one place that borrows)."""
    groups = ((step.group,) if approvers.own else ()) + tuple(s.name for s in approvers.borrowed if not s.is_owner)
    owner = next((min(s.members) for s in approvers.borrowed if s.is_owner), None)
    return StepRoute(step, groups, owner)


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"


@dataclass(frozen=True)
class Ballot:
    """A person's vote on a request, bound to the fields they saw."""

    voter: str
    verdict: Verdict
    fields_hash: str
    on_behalf_of: str | None = None

    @property
    def principal(self) -> str:
        return self.on_behalf_of or self.voter


@dataclass(frozen=True)
class StepTally:
    step: StepSpec
    approved_by: tuple[str, ...]
    #: How many distinct people may approve the step at all (None: not computed).
    possible: int | None = None

    @property
    def met(self) -> bool:
        return len(self.approved_by) >= self.step.approvals

    @property
    def stuck(self) -> bool:
        """Not met, and fewer people may approve it than its quorum needs, even with the escalation chain."""
        return not self.met and self.possible is not None and self.possible < self.step.approvals

    def progress(self) -> str:
        shown = f"{self.step.group} {min(len(self.approved_by), self.step.approvals)}/{self.step.approvals}"
        if self.stuck:
            shown += " (no eligible approver)" if not self.possible else f" (only {self.possible} eligible)"
        return shown


def tally(
    steps: Iterable[StepSpec],
    ballots: Iterable[Ballot],
    approvers: Mapping[str, Approvers],
    *,
    fields_hash: str,
) -> tuple[StepTally, ...]:
    """Progress of each step: the distinct principals whose approval of these fields counts there.

    ``approvers`` maps a step's group to who may approve it. Ballots cast on other fields
    (before an amend) do not count. One ballot counts towards every step its voter may approve.
    """
    current = [b for b in ballots if b.verdict is Verdict.APPROVE and b.fields_hash == fields_hash]
    result = []
    for step in steps:
        eligible = approvers[step.group]
        counted: list[str] = []
        for ballot in current:
            if ballot.on_behalf_of is not None:
                ok = ballot.on_behalf_of in eligible.principals_for(ballot.voter)
            else:
                ok = ballot.voter in eligible.direct
            if ok and ballot.principal not in counted:
                counted.append(ballot.principal)
        result.append(StepTally(step, tuple(counted), len(eligible.direct)))
    return tuple(result)
