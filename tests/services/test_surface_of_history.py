"""A generated quarter imported with `signoff history import`, then `signoff report --format json`:
every figure checked against counts the test computes from the rows themselves (DESIGN §8).

The rows come from ``tests.history_quarter`` (thousands of requests, two kinds, a realistic mix
of outcomes, several approvers); the expectations here are recomputed from the same rows, by
rules written out below, never read back from Signoff.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.governance_file import load_governance_file
from tests.conftest import DESIGN_EXAMPLE
from tests.history_quarter import quarter_rows, write_csv, write_jsonl

ROWS = 2400
WINDOW = ("--since", "2025-10-01", "--until", "2026-01-01")


def nearest_rank(values: list[float], share: float) -> float:
    """The report's percentile (nearest rank), written out again: ``sorted[ceil(share·n) − 1]``."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else 0.0


def validity_ended(row: dict[str, Any], now: datetime) -> bool:
    """An approved exception whose validity ended by ``now``: the end of its ``valid_until`` day in
    the file's timezone or ``max_duration`` after approval, whichever comes first (DESIGN §3.5)."""
    governance = load_governance_file(DESIGN_EXAMPLE)
    spec = governance.kinds[row["kind"]].spec
    if row["outcome"] != "approved" or spec.valid_until is None:
        return False
    last_day = datetime.fromisoformat(row["fields"][spec.valid_until]).date()
    ends = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=governance.tz)
    if spec.max_duration is not None:
        ends = min(ends, datetime.fromisoformat(row["decided_at"]) + spec.max_duration)
    return ends <= now


def expected_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind: the §8 counters, time to decision, SLA breaches and per-approver figures."""
    governance = load_governance_file(DESIGN_EXAMPLE)
    now = datetime.now(UTC)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    hours: dict[str, list[float]] = defaultdict(list)
    people: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    breaches: Counter[str] = Counter()
    for row in rows:
        kind = row["kind"]
        counts[kind]["requests"] += 1
        counts[kind][row["outcome"]] += 1
        counts[kind]["lapsed"] += validity_ended(row, now)
        if row["outcome"] not in ("approved", "rejected"):
            continue
        took = datetime.fromisoformat(row["decided_at"]) - datetime.fromisoformat(row["submitted_at"])
        hours[kind].append(took.total_seconds() / 3600)
        people[(kind, row["decided_by"])].append((row["outcome"], took.total_seconds() / 3600))
        sla = governance.kinds[kind].spec.sla
        if sla is not None and took > sla:
            breaches[kind] += 1
    figures: dict[str, Any] = {}
    for kind, counted in counts.items():
        approvers = {
            user: {
                "decisions": len(made),
                "approved": sum(1 for outcome, _ in made if outcome == "approved"),
                "rejected": sum(1 for outcome, _ in made if outcome == "rejected"),
                "median_hours": round(statistics.median(h for _, h in made), 2),
            }
            for (of_kind, user), made in people.items()
            if of_kind == kind
        }
        figures[kind] = {
            "requests": counted["requests"],
            "human_approved": counted["approved"],
            "human_rejected": counted["rejected"],
            "cancelled": counted["cancelled"],
            "expired": counted["expired"],
            "lapsed": counted["lapsed"],
            "p50": round(nearest_rank(hours[kind], 0.5), 2),
            "p90": round(nearest_rank(hours[kind], 0.9), 2),
            "sla_breaches": breaches[kind],
            "approvers": approvers,
        }
    return figures


@pytest.fixture
def configured(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Path:
    caplog.set_level(logging.WARNING, logger="alembic")
    monkeypatch.setenv("SIGNOFF_CONFIG", str(DESIGN_EXAMPLE))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    return tmp_path


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_a_quarter_imported_is_reported_as_the_rows_say(
    configured: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(quarter_rows(rows=ROWS, seed=23))
    path = configured / f"quarter.{form}"
    (write_jsonl if form == "jsonl" else write_csv)(path, rows)
    assert main(["history", "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"imported {ROWS}, skipped 0 already present, 0 invalid"

    assert main(["report", "--format", "json", *WINDOW]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = expected_figures(rows)
    assert sorted(k["kind"] for k in report["kinds"]) == sorted(expected)
    for shown in report["kinds"]:
        want = expected[shown["kind"]]
        for counter in ("requests", "human_approved", "human_rejected", "cancelled", "expired", "lapsed"):
            assert shown[counter] == want[counter], (shown["kind"], counter)
        assert shown["sla_breaches"] == want["sla_breaches"]
        assert (shown["auto_approved"], shown["auto_rejected"], shown["pending"]) == (0, 0, 0)
        assert shown["resolved_by_default_share"] == 0.0  # people made every imported decision
        assert shown["time_to_decision_hours"] == {"p50": want["p50"], "p90": want["p90"]}
        approvers = {
            a["user"]: {k: a[k] for k in ("decisions", "approved", "rejected", "median_hours")}
            for a in shown["approvers"]
        }
        assert approvers == want["approvers"]
    totals = report["totals"]
    assert totals["requests"] == ROWS == sum(f["requests"] for f in expected.values())
    assert totals["human_approved"] == sum(f["human_approved"] for f in expected.values())
    assert totals["lapsed"] == expected["brand-exception"]["lapsed"] > 0  # the quarter's exceptions have ended

    # the window filters on submission time: November alone holds only November's rows
    assert main(["report", "--format", "json", "--since", "2025-11-01", "--until", "2025-12-01"]) == 0
    november = json.loads(capsys.readouterr().out)
    in_november = sum(1 for r in rows if r["submitted_at"][:7] == "2025-11")
    assert november["totals"]["requests"] == in_november and 0 < in_november < ROWS
