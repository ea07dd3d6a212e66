"""What the use cases report for operations (metrics), as a port: the wiring plugs in an adapter.

Services call these after their transaction commits, with bounded labels only (a kind, a rule
id, an outcome; never a person or a request). ``NoObserver`` is the default: it records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from bot.domain.actors import rule_of
from bot.domain.events import DomainEvent, EventType
from bot.domain.lifecycle import State

DecidedBy = Literal["rule", "person"]


class Observer(Protocol):
    def request_filed(self, *, kind: str, outcome: str) -> None:
        """A new request was stored; ``outcome`` is ``approve``, ``reject`` (by a rule) or ``route``."""
        ...

    def decided(self, *, kind: str, by: DecidedBy, rule: str | None, verdict: str) -> None:
        """A decision: by a rule (``rule`` is its id) or by a person (``verdict``: approve, reject, …)."""
        ...

    def delivered(self, *, effect: str, waited_seconds: float) -> None:
        """An outbox row of kind ``effect`` was sent, ``waited_seconds`` after it was queued."""
        ...

    def job_ran(self, *, job: str, result: str) -> None:
        """A scheduled job's run ended: ``ok``, ``skipped`` (another worker claimed it) or ``error``."""
        ...

    def webhook_delivery(self, *, subscription: str, outcome: str) -> None:
        """An attempt to deliver to webhook ``subscription`` ended: ``sent``, ``retried``,
        ``rate_limited``, ``dead`` or ``disabled`` (a 410 disabled the subscription)."""
        ...


class NoObserver:
    def request_filed(self, *, kind: str, outcome: str) -> None:
        pass

    def decided(self, *, kind: str, by: DecidedBy, rule: str | None, verdict: str) -> None:
        pass

    def delivered(self, *, effect: str, waited_seconds: float) -> None:
        pass

    def job_ran(self, *, job: str, result: str) -> None:
        pass

    def webhook_delivery(self, *, subscription: str, outcome: str) -> None:
        pass


#: A decision's verdict as the metrics label it (``bot.domain.routing.Verdict`` values).
_VERDICTS = {State.APPROVED: "approve", State.REJECTED: "reject", State.CHANGES_REQUESTED: "changes"}


def observe(observer: Observer, events: Sequence[DomainEvent]) -> None:
    """Tell ``observer`` what one committed transition's ``events`` mean for the metrics.

    A submission is a request filed (``approve``/``reject`` when a rule decided it, else
    ``route``); a decision counts by rule (its id) or by person, with its verdict; a person's
    approval short of the quorum counts as a person's ``approve``.
    """
    decided = next((e for e in events if e.type is EventType.DECIDED), None)
    for event in events:
        if event.type is EventType.SUBMITTED:
            outcome = _VERDICTS[decided.state] if decided is not None else "route"
            observer.request_filed(kind=event.kind, outcome=outcome)
        elif event.type is EventType.VOTED:
            observer.decided(kind=event.kind, by="person", rule=None, verdict="approve")
        elif event.type in (EventType.DECIDED, EventType.CHANGES_REQUESTED):
            rule = rule_of(event.actor)
            verdict = _VERDICTS[event.state]
            observer.decided(kind=event.kind, by="rule" if rule else "person", rule=rule, verdict=verdict)
