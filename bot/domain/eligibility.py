"""Who may decide a stored request right now, who gets its card, and what waits on whom (DESIGN §3.4).

Pure: a service reads the votes, delegations and deactivated people (``bot.services.routing``)
and these rules decide with them. An approved exception's end is ``bot.domain.lapse``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.cards import Card, card_fields
from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import StepSpec
from bot.domain.outbox import MessageRef
from bot.domain.requests import Request, Vote
from bot.domain.routing import (
    Approvers,
    Delegation,
    StepRoute,
    StepTally,
    eligible_approvers,
    escalation_chain,
    route_of,
    tally,
)


@dataclass(frozen=True)
class Eligibility:
    """Per step of a request: who may approve it, and how far it got."""

    approvers: dict[str, Approvers]
    progress: tuple[StepTally, ...]
    #: The deactivated people left out (so followers of this result need not read them again).
    inactive: frozenset[str] = frozenset()

    @property
    def all_met(self) -> bool:
        return all(step.met for step in self.progress)

    def principals_for(self, voter: str) -> tuple[str, ...]:
        found: list[str] = []
        for approvers in self.approvers.values():
            for principal in approvers.principals_for(voter):
                if principal not in found:
                    found.append(principal)
        return tuple(found)

    def acts_in_own_right(self, voter: str) -> bool:
        return any(voter in approvers.direct for approvers in self.approvers.values())

    def everyone(self) -> frozenset[str]:
        return frozenset().union(*(a.everyone for a in self.approvers.values())) if self.approvers else frozenset()


def eligibility(
    governance: Governance,
    kind: Kind,
    request: Request,
    votes: Iterable[Vote],
    delegations: Sequence[Delegation],
    today: date,
    *,
    inactive: frozenset[str],
) -> Eligibility:
    """Who may approve each step of ``request`` now, and how far it got.

    ``inactive`` is the people directory's deactivated user ids (``uow.people.deactivated()``):
    they are eligible nowhere.
    """
    approvers = {
        step.group: eligible_approvers(
            governance,
            kind,
            step,
            requester=request.requester,
            escalation_level=request.escalation_level,
            delegations=delegations,
            today=today,
            inactive=inactive,
        )
        for step in request.steps
    }
    progress = tally(request.steps, [v.ballot for v in votes], approvers, fields_hash=request.fields_hash)
    return Eligibility(approvers, progress, inactive)


def step_routes(
    governance: Governance,
    kind: Kind,
    steps: Iterable[StepSpec],
    *,
    requester: str,
    delegations: Sequence[Delegation],
    today: date,
    inactive: frozenset[str],
) -> tuple[StepRoute, ...]:
    """Where each of ``steps`` of a new request by ``requester`` really goes (``route_of``), by the
    same rules as ``eligibility``: what the preview and the acknowledgement say."""
    return tuple(
        route_of(
            step,
            eligible_approvers(
                governance, kind, step, requester=requester, delegations=delegations, today=today, inactive=inactive
            ),
        )
        for step in steps
    )


def card_recipients(governance: Governance, request: Request, who: Eligibility) -> list[str]:
    """Where the cards go: a step's group channel when it has one, else a DM to each eligible person.

    People eligible for a channel's step without being in its group (borrowed from the
    escalation chain because the group is short, or escalated to) get a DM as well.
    """
    recipients: list[str] = []
    for step in request.steps:
        group = governance.groups.get(step.group)
        channel = group.channel if group is not None else None
        everyone = sorted(who.approvers[step.group].everyone)
        if channel and group is not None:
            everyone = [channel] + [p for p in everyone if p not in group.members]
        for recipient in everyone:
            if recipient not in recipients:
                recipients.append(recipient)
    return recipients


def escalation_recipients(
    governance: Governance, kind: Kind, level: int, requester: str, *, inactive: frozenset[str]
) -> list[str]:
    """Who joins at escalation ``level`` (1 = the first stop): a channel, or the stop's members."""
    chain = escalation_chain(governance, kind)
    if not 1 <= level <= len(chain):
        return []
    stop = chain[level - 1]
    group = governance.groups.get(stop.name) if not stop.is_owner else None
    if group is not None and group.channel:
        return [group.channel]
    return sorted(stop.members - {requester} - inactive)


def card_audience(governance: Governance, kind: Kind, request: Request, who: Eligibility) -> list[str]:
    """Every channel and person who should hold a card of ``request`` now: its routing
    (``card_recipients``) and the escalation stops it reached (their channel, or their members)."""
    wanted = card_recipients(governance, request, who)
    for level in range(1, request.escalation_level + 1):
        for recipient in escalation_recipients(governance, kind, level, request.requester, inactive=who.inactive):
            if recipient not in wanted:
                wanted.append(recipient)
    return wanted


def live_copies(governance: Governance, kind: Kind, request: Request, who: Eligibility) -> frozenset[str]:
    """Whose copies of the card show buttons: people who may decide now, and the channels of the audience."""
    channels = {r for r in card_audience(governance, kind, request, who) if not is_person(r)}
    return who.everyone() | frozenset(channels)


def is_person(recipient: str) -> bool:
    """A user id (a DM) rather than a channel id."""
    return recipient.startswith(("U", "W"))


def build_card(governance: Governance, request: Request, who: Eligibility | None) -> Card:
    kind = governance.kinds.get(request.kind)
    specs = dict(kind.contract.fields) if kind is not None else {}
    progress = tuple(step.progress() for step in who.progress) if who is not None else ()
    return Card(
        request_id=request.require_id(),
        ref=request.ref,
        kind=request.kind,
        title=kind.title if kind is not None else request.kind,
        requester=request.requester,
        state=request.state,
        fields=card_fields(specs, request.fields),
        reason=request.reason,
        progress=progress,
        due_at=request.next_escalation_at,
        fields_hash=request.fields_hash,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        escalation_level=request.escalation_level,
        created_at=request.created_at,
    )


def waiting_by_person(
    governance: Governance,
    requests: list[Request],
    votes: Mapping[int, list[Vote]],
    delegations: list[Delegation],
    today: date,
    *,
    inactive: frozenset[str],
) -> dict[str, list[Request]]:
    """Who may decide which pending request and has not voted on its current fields."""
    waiting: dict[str, list[Request]] = {}
    for request in requests:
        kind = governance.kinds.get(request.kind)
        if kind is None:
            continue
        request_votes = votes.get(request.require_id(), [])
        who = eligibility(governance, kind, request, request_votes, delegations, today, inactive=inactive)
        voted = {v.ballot.voter for v in request_votes if v.ballot.fields_hash == request.fields_hash}
        for person in who.everyone() - voted - {request.requester}:
            waiting.setdefault(person, []).append(request)
    return waiting


def most_urgent_first(requests: Iterable[Request], now: datetime) -> list[Request]:
    """Overdue first (past their SLA), then the oldest: the order people see what waits on them."""
    return sorted(requests, key=lambda r: (not _overdue(r, now), r.created_at))


def _overdue(request: Request, now: datetime) -> bool:
    """Past its SLA: escalated already, or due now."""
    due = request.next_escalation_at
    return request.escalation_level > 0 or (due is not None and due <= now)


def people_behind_channel(
    governance: Governance, kind: Kind, request: Request, who: Eligibility, channel: str
) -> set[str]:
    """Who may decide ``request`` for the group(s) whose channel is ``channel``, delegates included."""
    people: set[str] = set()
    for step in request.steps:
        group = governance.groups.get(step.group)
        if group is not None and group.channel == channel and step.group in who.approvers:
            people |= who.approvers[step.group].everyone
    for stop in escalation_chain(governance, kind)[: max(request.escalation_level, 0)]:
        group = governance.groups.get(stop.name) if not stop.is_owner else None
        if group is not None and group.channel == channel:
            for approvers in who.approvers.values():
                people |= _standing_for(approvers, stop.members)
    return people - {request.requester}


def _standing_for(approvers: Approvers, principals: frozenset[str]) -> set[str]:
    """The eligible among ``principals``, and the delegates standing in for them."""
    own = principals & approvers.direct
    return set(own) | {delegate for delegate, behalf in approvers.stand_ins.items() if behalf & own}


def missing_cards(
    governance: Governance, kind: Kind, request: Request, who: Eligibility, copies: list[MessageRef], queued: set[str]
) -> list[str]:
    """Who should hold a card and neither holds nor awaits one (a channel's card covers its members)."""
    held = {ref.recipient for ref in copies} | queued
    covered = set(held)
    for group in governance.groups.values():
        if group.channel and group.channel in held:
            covered |= set(group.members)
    return [r for r in card_audience(governance, kind, request, who) if r not in covered]


def stale_copies(
    governance: Governance, kind: Kind, request: Request, who: Eligibility, copies: list[MessageRef]
) -> str:
    """The copies that show buttons to someone who may no longer decide (``-U…``), or hide them from
    someone who may (``+U…``); empty when every copy is right."""
    live = live_copies(governance, kind, request, who)
    wrong = [ref for ref in copies if ref.recipient and ref.live != (ref.recipient in live)]
    return ",".join(sorted(f"{'+' if not ref.live else '-'}{ref.recipient}" for ref in wrong))
