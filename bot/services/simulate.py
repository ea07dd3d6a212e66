"""``signoff simulate CANDIDATE`` (DESIGN §8): a backtest read in one streamed pass; stores nothing."""

from __future__ import annotations

from collections.abc import Callable, Collection

from bot.domain.governance import Governance, UnknownKind
from bot.domain.simulate import Replayed, Simulation, lead_in, simulate
from bot.domain.surface import Window
from bot.services.runtime import Runtime


def kind_names(candidate: Governance, current: Governance, names: Collection[str]) -> list[str]:
    """``--kind`` names read as everywhere (ends stripped, any case), each a kind of the file in
    force or of the candidate; ``UnknownKind`` (naming both files' kinds) for any other."""
    found: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key not in current.kinds and key not in candidate.kinds:
            raise UnknownKind(name, sorted(set(current.kinds) | set(candidate.kinds)))
        found.append(key)
    return found


def simulate_candidate(
    runtime: Runtime,
    candidate: Governance,
    *,
    window: Window,
    kinds: Collection[str] | None = None,
    on_request: Callable[[Replayed], None] | None = None,
) -> Simulation:
    """Replay the requests (live and imported) submitted in ``window``, of ``kinds`` (None: all),
    through ``candidate`` and the governance in force (``bot.domain.simulate``), passing each one
    to ``on_request`` as it is replayed. Raises ``UnknownKind`` for a name neither file has.

    Reads from ``window.start − lead_in`` (the longest limit window of either file), so limits
    early in the window see the approvals replayed just before it; in one read-only unit of work,
    streamed (memory holds one batch of rows and the limits' approval times).
    """
    current = runtime.governance()
    if kinds is not None:
        kinds = kind_names(candidate, current, kinds)
    reading = Window(window.start - lead_in((candidate, current), kinds), window.end)
    with runtime.uow(read_only=True) as uow:
        facts = uow.surface.facts(reading, kinds, contents=True)
        result = simulate(facts, candidate, current, window, kinds=kinds, on_request=on_request)
        if result.requests == 0:  # say where the stored history lies: a window is easily mis-set
            result.stored_span = uow.surface.span(kinds)
        return result
