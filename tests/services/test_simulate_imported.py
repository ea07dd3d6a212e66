"""Imported history replayed (`signoff history import`, then `signoff simulate --json`), on SQLite and
PostgreSQL: every figure checked against a replay written out below, from the rows themselves.

The rows come from ``tests.history_quarter`` (people decided all of them); the candidate is the
DESIGN example file (``small-discount``: ≤ 10 % approved, at most 5 per requester in 30 days;
``big-deal``: 100k and more needs people; nothing above 40 % in the data).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.conftest import DESIGN_EXAMPLE
from tests.history_quarter import quarter_rows, write_jsonl

ROWS = 1200


def naive_replay(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Row id → ``approve`` or ``route`` under the DESIGN example, scanning every earlier approval."""
    approvals: dict[str, list[datetime]] = defaultdict(list)
    answers: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: datetime.fromisoformat(r["submitted_at"].replace("Z", "+00:00"))):
        at = datetime.fromisoformat(row["submitted_at"].replace("Z", "+00:00"))
        fields = row["fields"]
        answer = "route"
        if row["kind"] == "discount" and fields.get("deal_value", 0) < 100000 and fields["amount_pct"] <= 10:
            used = sum(1 for earlier in approvals[row["requester"]] if earlier >= at - timedelta(days=30))
            if used < 5:
                answer = "approve"
                approvals[row["requester"]].append(at)
        answers[row["id"]] = answer
    return answers


def expected(rows: list[dict[str, Any]], answers: dict[str, str], month: str | None) -> dict[str, int]:
    chosen = [r for r in rows if month is None or r["submitted_at"][:7] == month]
    approved = [r for r in chosen if answers[r["id"]] == "approve"]
    undecided = [r for r in chosen if answers[r["id"]] == "route" and r["outcome"] == "cancelled"]
    return {
        "requests": len(chosen),
        "auto_approved": len(approved),
        "saved": sum(r["outcome"] == "approved" for r in approved),
        "contradicted": sum(r["outcome"] == "rejected" for r in approved),
        "divisor": len(chosen) - len(undecided),
    }


@pytest.fixture
def configured(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Path:
    caplog.set_level(logging.WARNING, logger="alembic")
    monkeypatch.setenv("SIGNOFF_CONFIG", str(DESIGN_EXAMPLE))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    return tmp_path


@pytest.mark.parametrize(
    ("month", "window"),
    [
        (None, ("--since", "2025-10-01", "--until", "2026-01-01")),
        ("2025-11", ("--since", "2025-11-01", "--until", "2025-12-01")),
    ],
    ids=["quarter", "november-with-its-lead-in"],
)
def test_imported_history_is_replayed_as_the_rows_say(
    configured: Path, capsys: pytest.CaptureFixture[str], month: str | None, window: tuple[str, ...]
) -> None:
    rows = list(quarter_rows(rows=ROWS, seed=5))
    write_jsonl(configured / "quarter.jsonl", rows)
    assert main(["history", "import", str(configured / "quarter.jsonl")]) == 0
    capsys.readouterr()
    assert main(["simulate", str(DESIGN_EXAMPLE), "--json", *window]) == 0
    data = json.loads(capsys.readouterr().out)
    want = expected(rows, naive_replay(rows), month)
    assert (data["requests"], data["replayed"], data["skipped_invalid"]) == (want["requests"], want["requests"], 0)
    assert data["candidate"]["auto_approved"] == want["auto_approved"] > 0
    assert data["candidate"]["auto_rejected"] == 0
    assert data["human_decisions_saved"] == want["saved"] > 0
    assert data["contradictions"]["approved_where_humans_rejected"] == want["contradicted"]
    assert data["candidate"]["share_divisor"] == want["divisor"]
    assert data["candidate"] == data["current"]
    assert data["current_vs_stored"]["live_automatic"] == data["current_vs_stored"]["live_routed"] == 0
    small = next(rule for rule in data["by_rule"] if rule["rule"] == "small-discount")
    assert (small["would_decide"], small["agreed_with_humans"], small["contradicted"]) == (
        want["auto_approved"],
        want["saved"],
        want["contradicted"],
    )
