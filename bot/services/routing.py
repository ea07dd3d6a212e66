"""Reading what eligibility needs: a request's votes, active delegations and deactivated people.

The rules themselves are ``bot.domain.eligibility``'s; this is the one place that loads their
inputs in a unit of work, so every use case sees eligibility the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.eligibility import Eligibility, eligibility, step_routes, waiting_by_person
from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import StepSpec
from bot.domain.requests import Request, Vote
from bot.domain.routing import Delegation, StepRoute
from bot.services.ports import UnitOfWork

#: How many pending requests a "what waits on whom" pass reads at most.
PENDING_SCAN = 100_000


@dataclass(frozen=True)
class Directory:
    """Who stands in for whom and who is gone, on ``today`` (governance timezone)."""

    governance: Governance
    today: date
    delegations: list[Delegation]
    #: The people directory's deactivated user ids: eligible nowhere.
    inactive: frozenset[str]

    def eligibility(self, kind: Kind, request: Request, votes: Iterable[Vote]) -> Eligibility:
        """Who may approve each step of ``request`` now, given its ``votes`` (``bot.domain.eligibility``)."""
        return eligibility(self.governance, kind, request, votes, self.delegations, self.today, inactive=self.inactive)

    def routes(self, kind: Kind, steps: Iterable[StepSpec], requester: str) -> tuple[StepRoute, ...]:
        """Where each step of a new request by ``requester`` really goes (``bot.domain.eligibility.step_routes``)."""
        return step_routes(
            self.governance,
            kind,
            steps,
            requester=requester,
            delegations=self.delegations,
            today=self.today,
            inactive=self.inactive,
        )

    def waiting(self, pending: list[Request], votes: dict[int, list[Vote]]) -> dict[str, list[Request]]:
        """Who may decide which of ``pending`` and has not voted on its current fields."""
        return waiting_by_person(self.governance, pending, votes, self.delegations, self.today, inactive=self.inactive)


def directory(uow: UnitOfWork, governance: Governance, today: date) -> Directory:
    """Read the active delegations and the deactivated people once, for any number of requests."""
    return Directory(governance, today, uow.delegations.active(today=today), uow.people.deactivated())


@dataclass(frozen=True)
class Deciders:
    """One request's votes, what eligibility needs besides, and who may decide it now."""

    votes: list[Vote]
    directory: Directory
    who: Eligibility


def deciders(uow: UnitOfWork, governance: Governance, kind: Kind, request: Request, today: date) -> Deciders:
    """Load ``request``'s votes and the directory, and say who may decide it (``bot.domain.eligibility``)."""
    votes = uow.votes.for_request(request.require_id())
    people = directory(uow, governance, today)
    return Deciders(votes, people, people.eligibility(kind, request, votes))


def pending_with_votes(uow: UnitOfWork) -> tuple[list[Request], dict[int, list[Vote]]]:
    """The pending requests (at most ``PENDING_SCAN``) and each one's votes."""
    pending = uow.requests.open_requests(limit=PENDING_SCAN)
    return pending, uow.votes.for_requests([r.require_id() for r in pending])
