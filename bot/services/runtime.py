"""What every use case is given: units of work, the governance in force, a clock, an observer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.clock import Clock
from bot.domain.governance import Governance
from bot.services.observer import NoObserver, Observer
from bot.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class Runtime:
    uow: UnitOfWorkFactory
    #: The governance in force; a callable because a SIGHUP may replace it between requests.
    governance: Callable[[], Governance]
    clock: Clock
    #: Where use cases report what happened, for metrics; records nothing unless the wiring plugs one in.
    observer: Observer = field(default_factory=NoObserver)
