"""``signoff report`` (DESIGN §8): the decision surface over a window, read in one streamed pass."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from bot.domain.surface import SurfaceReport, Window, tally
from bot.services.runtime import Runtime


def surface_report(runtime: Runtime, *, window: Window, kinds: Collection[str] | None = None) -> SurfaceReport:
    """The report of requests (live and imported) submitted in ``window``, of ``kinds`` (None: all).

    Kinds are those of the governance in force (plus, when ``kinds`` is None, any kind only stored
    requests still have), named as everywhere (ends stripped, any case: ``Discount`` is
    ``discount``). Raises ``UnknownKind`` for a name the file does not have. Reads in one
    read-only unit of work; stores nothing.
    """
    governance = runtime.governance()
    if kinds is not None:  # read as /request and the history import read a kind (``Governance.kind``)
        kinds = [governance.kind(name).name for name in kinds]
    with runtime.uow(read_only=True) as uow:
        facts = uow.surface.facts(window, kinds)
        report = tally(facts, governance, window, kinds=kinds, now=runtime.clock.now())
        if report.totals.requests == 0:  # say where the stored history lies: a window is easily mis-set
            report = replace(report, stored_span=uow.surface.span(kinds))
        return report
