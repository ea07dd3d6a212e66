"""``suggest_defaults`` (DESIGN §8) on a real database (SQLite, and PostgreSQL when configured):
imported history and live requests a rule decided, one read-only unit of work, the bars and kind names."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.governance import UnknownKind
from bot.domain.history_files import jsonl_rows
from bot.domain.surface import Window
from bot.services.history_import import import_history
from bot.services.submit import submit_request
from bot.services.suggest import suggest_defaults
from tests.conftest import governance_from, make_runtime
from tests.latent_history import LATENT_GOVERNANCE, month_rows

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def test_imported_decisions_are_mined_and_rule_decisions_are_not(engine: Engine) -> None:
    governance = governance_from(LATENT_GOVERNANCE)
    runtime = make_runtime(engine, governance, FixedClock(datetime(2026, 6, 1, 9, tzinfo=UTC)))
    rows = [row for row, _ in month_rows(start=date(2026, 2, 1), count=1500, seed=4)]
    report = import_history(runtime=runtime, rows=jsonl_rows(json.dumps(r) + "\n" for r in rows), source="t.jsonl")
    assert report.imported == 1500
    for _ in range(3):  # over 60 %: rejected by the file's own rule, never a human decision
        submit_request(
            runtime=runtime, kind="discount", requester="U0REQ01", text="account=A amount_pct=70 tier=standard"
        )

    found = suggest_defaults(runtime, window=WINDOW, kinds=[" Discount"])
    assert [k.kind for k in found.kinds] == ["discount"]
    assert found.requests == sum(1 for r in rows if r["kind"] == "discount") + 3
    discount = found.kinds[0]
    assert discount.human_decisions == sum(
        1 for r in rows if r["kind"] == "discount" and r["outcome"] in ("approved", "rejected")
    )
    small = [s.when["amount_pct"]["lte"] for s in found.suggestions if "lte" in s.when.get("amount_pct", {})]
    assert small and small[0] <= 10  # the latent policy approves up to 10 %: never a threshold past it
    assert all(s.kind == "discount" for s in found.suggestions)


def test_bars_and_kind_names_are_checked(engine: Engine) -> None:
    runtime = make_runtime(engine, governance_from(LATENT_GOVERNANCE), FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
    with pytest.raises(ValueError, match="min_support"):
        suggest_defaults(runtime, window=WINDOW, min_support=0)
    with pytest.raises(ValueError, match="min_approval"):
        suggest_defaults(runtime, window=WINDOW, min_approval=0.5)
    with pytest.raises(UnknownKind):
        suggest_defaults(runtime, window=WINDOW, kinds=["refund"])
    empty = suggest_defaults(runtime, window=WINDOW)
    assert empty.suggestions == () and [k.human_decisions for k in empty.kinds] == [0, 0, 0]
    assert empty.kinds[0].note == "0 human decisions in the window, fewer than --min-support 30"
