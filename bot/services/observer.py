"""What the use cases report for operations (metrics), as a port: the wiring plugs in an adapter.

Services call these after their transaction commits, with bounded labels only (a kind, a rule
id, an outcome; never a person or a request). ``NoObserver`` is the default: it records nothing.
"""

from __future__ import annotations

from typing import Literal, Protocol

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
