"""The limit usage of a backtest (DESIGN §8 ``signoff simulate``): a governance's own replayed approvals.

Live, a rule's ``limit`` counts the automatic approvals stored by that rule in a rolling window
(``storage.repositories.SqlRequests.limit_usage``: requests of the kind with ``auto_rule`` = the
rule, submitted at or after ``since``, of one requester or of everyone, each counting
``budget_amount`` of its ``sum`` field). A replay asks the same question of the approvals it has
replayed so far, in submission order: ``ReplayTally`` is a ``bot.domain.outcome.UsageLookup`` over
them, so that ``resolve`` decides on the replayed history exactly as it decided on the stored one.

Per tally (kind, rule, requester or None for ``per: kind``) it keeps the approvals' submission
times in order and the running sums of their amounts, so a lookup is one bisection: O(log n),
never a scan. Sums are kept exactly (``Fraction`` of each float amount) so that "how much since"
is the exact difference of two running sums, with no rounding drift over a long replay.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from bot.domain.outcome import LimitUsage

_NONE = LimitUsage()


@dataclass(slots=True)
class _Series:
    """One tally's approvals: submission times (non-decreasing) and running sums (``sums[i]`` = the
    amounts of the first ``i`` approvals; ``sums[0]`` = 0)."""

    times: list[datetime] = field(default_factory=list)
    sums: list[Fraction] = field(default_factory=lambda: [Fraction(0)])


class ReplayTally:
    """A ``UsageLookup`` over approvals recorded with ``add``, in submission order.

    ``add(kind=, rule=, requester=, at=, amount=)`` records one automatic approval (``requester``
    None for a ``per: kind`` limit; ``amount`` what it counts against a ``sum`` budget, 0 for a
    count limit); calling it is ``limit_usage``: the count and total of those recorded at or after
    ``since``. Approvals must be added in non-decreasing ``at`` (``ValueError`` otherwise: a
    replay out of order would answer wrongly).
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str | None], _Series] = {}

    def add(self, *, kind: str, rule: str, requester: str | None, at: datetime, amount: float) -> None:
        key = (kind, rule, requester)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        if series.times and at < series.times[-1]:
            raise ValueError(f"approvals must be replayed in submission order: {at} after {series.times[-1]}")
        series.times.append(at)
        series.sums.append(series.sums[-1] + Fraction(amount) if amount else series.sums[-1])

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        series = self._series.get((kind, rule, requester))
        if series is None:
            return _NONE
        first = bisect_left(series.times, since)
        count = len(series.times) - first
        if not count:
            return _NONE
        total = float(series.sums[-1] - series.sums[first]) if sum_field else 0.0
        return LimitUsage(count=count, total=total)
