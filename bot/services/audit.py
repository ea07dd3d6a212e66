"""Reading the audit log: verify its chain, export it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

from bot.domain.audit import AuditEvent, ChainBreak, verify_chain
from bot.services.ports import UnitOfWorkFactory


def verify_audit(*, uow: UnitOfWorkFactory) -> ChainBreak | None:
    """Recompute the whole chain; the first broken event, or None when it is intact."""
    with uow(read_only=True) as unit, closing(unit.audit.events()) as events:
        return verify_chain(events, head=unit.audit.head())


def export_audit(
    *, uow: UnitOfWorkFactory, since: datetime | None = None, kind: str | None = None
) -> Iterator[AuditEvent]:
    """Every event (optionally from ``since``, or of one kind's requests), in order."""
    with uow(read_only=True) as unit:
        yield from unit.audit.events(since=since, kind=kind)


def stored_kinds(*, uow: UnitOfWorkFactory) -> list[str]:
    """The kinds of the stored requests (live and imported), sorted: what ``export --kind`` can select."""
    with uow(read_only=True) as unit:
        return unit.audit.kinds()
