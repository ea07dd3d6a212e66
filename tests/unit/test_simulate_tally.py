"""The replay's limit tally answers as storage's ``limit_usage`` would over the same approvals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.outcome import LimitUsage
from bot.domain.simulate_tally import ReplayTally

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

approvals = st.lists(
    st.tuples(
        st.integers(0, 500),  # minutes after T0 (sorted below: a replay adds in submission order)
        st.sampled_from(["U1", "U2", None]),
        st.sampled_from([0.0, 0.1, 0.2, 1.5, 1000.0, 1e-3]),
    ),
    max_size=60,
)


@given(approvals, st.integers(-10, 520), st.sampled_from(["U1", "U2", None]))
def test_a_lookup_counts_and_sums_what_a_scan_would(
    added: list[tuple[int, str | None, float]], since_minutes: int, requester: str | None
) -> None:
    tally = ReplayTally()
    added = sorted(added, key=lambda item: item[0])
    for minutes, who, amount in added:
        tally.add(kind="discount", rule="small", requester=who, at=T0 + timedelta(minutes=minutes), amount=amount)
    since = T0 + timedelta(minutes=since_minutes)
    counted = [amount for minutes, who, amount in added if who == requester and minutes >= since_minutes]
    used = tally(kind="discount", rule="small", requester=requester, since=since, sum_field="deal_value")
    assert used.count == len(counted)
    assert used.total == pytest.approx(sum(counted), rel=1e-12, abs=1e-12)
    assert tally(kind="discount", rule="other", requester=requester, since=since, sum_field=None) == LimitUsage()


def test_an_approval_at_since_counts_and_sums_stay_exact() -> None:
    tally = ReplayTally()
    for n in range(10):
        tally.add(kind="k", rule="r", requester=None, at=T0 + timedelta(hours=n), amount=0.1)
    used = tally(kind="k", rule="r", requester=None, since=T0 + timedelta(hours=7), sum_field="v")
    assert used == LimitUsage(count=3, total=float(Fraction(0.1) * 3))  # the exact sum, rounded once
    assert tally(kind="k", rule="r", requester=None, since=T0, sum_field=None) == LimitUsage(count=10, total=0.0)


def test_approvals_out_of_submission_order_are_refused() -> None:
    tally = ReplayTally()
    tally.add(kind="k", rule="r", requester="U1", at=T0, amount=0)
    with pytest.raises(ValueError, match="submission order"):
        tally.add(kind="k", rule="r", requester="U1", at=T0 - timedelta(seconds=1), amount=0)
