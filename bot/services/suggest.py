"""``signoff suggest`` (DESIGN §8): governed defaults mined from the stored human decisions of a window."""

from __future__ import annotations

from collections.abc import Collection

from bot.domain.suggest import SuggestionReport, mine
from bot.domain.suggest_regions import Bar
from bot.domain.surface_window import Window
from bot.services.runtime import Runtime


def suggest_defaults(
    runtime: Runtime,
    *,
    window: Window,
    kinds: Collection[str] | None = None,
    min_support: int = 30,
    min_approval: float = 0.99,
) -> SuggestionReport:
    """The suggestions for requests (live and imported) submitted in ``window``, of ``kinds`` (None: all).

    ``min_support``: the fewest human decisions a region needs (≥ 1); ``min_approval``: the share
    (0.5, 1] of them that must agree (approvals for ``decide: approve``, rejections for ``reject``).
    Kinds are named as everywhere (``Governance.kind``: ends stripped, any case); raises
    ``UnknownKind`` for a name the file does not have, ``ValueError`` for a bar out of range.
    Reads in one read-only unit of work (streamed in submission order); stores nothing.
    """
    if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 1:
        raise ValueError(f"min_support takes a whole number ≥ 1, got {min_support!r}")
    if not 0.5 < min_approval <= 1:
        raise ValueError(f"min_approval takes a share in (0.5, 1], got {min_approval!r}")
    governance = runtime.governance()
    names = None if kinds is None else [governance.kind(name).name for name in kinds]
    with runtime.uow(read_only=True) as uow:
        facts = uow.surface.facts(window, names, contents=True)
        return mine(facts, governance, window=window, kinds=names, bar=Bar(min_support, min_approval))
