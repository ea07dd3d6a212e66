"""What every use case is given: a way to open units of work, the governance in force, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.governance import Governance
from bot.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class Runtime:
    uow: UnitOfWorkFactory
    #: The governance in force; a callable because a SIGHUP may replace it between requests.
    governance: Callable[[], Governance]
    clock: Clock
