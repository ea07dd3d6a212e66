"""A quarter of made-up decision history, for ``signoff history import`` and the reports that read it.

Deterministic: the same ``seed`` and ``rows`` give the same files, byte for byte. The rows fit
the DESIGN example governance (``tests/fixtures/design.yaml``, ``tests.conftest.DESIGN_EXAMPLE``):
kinds ``discount`` (text, percent number, EUR money, choice, multiline text) and
``brand-exception`` (url, choice, date; an exception whose ``until`` is often long past), submitted
in Q4 2025 (2025-10-01 to 2025-12-31, Europe/Berlin working hours, with their UTC offset). The
mix is realistic: about 70 % approved, 15 % rejected, 8 % cancelled (by the requester), 7 %
expired; approvers are the kinds' group members (U0FIN1, U0FIN2, U0CMO for discounts;
U0BRAND1-3 for brand exceptions), requesters U0REQ01-U0REQ24.

API::

    quarter = write_quarter(folder, rows=3000, seed=11)
    quarter.jsonl, quarter.csv          # Path: the same rows as JSON Lines and as CSV
    quarter.expected                    # Expected: counts computed while generating, not read back

    for row in quarter_rows(rows=3000, seed=11): ...   # the rows themselves, lazily (dicts)
    write_jsonl(path, rows) / write_csv(path, rows)     # any iterable of such dicts

A row is ``{"id", "kind", "requester", "submitted_at", "outcome", "decided_by", "decided_at",
"reason", "fields": {…}}`` (``decided_by`` / ``decided_at`` / ``reason`` may be None). In CSV,
None is an empty cell and each field is a column; some justifications hold line breaks, so CSV
records and physical lines differ. ``Expected``:

- ``rows``: how many; ``outcomes``: Counter outcome → rows;
- ``kinds``: kind → Counter with ``requests`` and each outcome;
- ``approvers``: user → ``{"decisions", "approved", "rejected", "median_hours"}``, over approved
  and rejected rows only (cancelled and expired are not decisions), hours from submission to
  decision, wall-clock; ``kind_approvers``: the same per kind (kind → user → …).
"""

from __future__ import annotations

import csv
import json
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
START = date(2025, 10, 1)
DAYS = 92  # 2025-10-01 .. 2025-12-31
COLUMNS = ("id", "kind", "requester", "submitted_at", "outcome", "decided_by", "decided_at", "reason")
FIELDS = ("account", "amount_pct", "deal_value", "region", "justification", "asset", "guideline", "until")
APPROVERS = {"discount": ("U0FIN1", "U0FIN2", "U0CMO"), "brand-exception": ("U0BRAND1", "U0BRAND2", "U0BRAND3")}
REQUESTERS = tuple(f"U0REQ{n:02d}" for n in range(1, 25))
OUTCOMES = (("approved", 70), ("rejected", 15), ("cancelled", 8), ("expired", 7))


@dataclass
class Expected:
    """What a quarter holds, counted as it was generated (see the module docstring)."""

    rows: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    approvers: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind_approvers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Quarter:
    jsonl: Path
    csv: Path
    expected: Expected


def quarter_rows(*, rows: int = 3000, seed: int = 11, prefix: str = "HIST") -> Iterator[dict[str, Any]]:
    """``rows`` rows in submission order, ids ``{prefix}-00001`` on; the same for the same arguments."""
    rng = random.Random(seed)
    step = DAYS * 86400 / max(rows, 1)
    for n in range(rows):
        moment = _working_moment(rng, START, n * step)
        kind = "discount" if rng.random() < 0.75 else "brand-exception"
        outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
        requester = rng.choice(REQUESTERS)
        decided_by, decided_at = _decision(rng, kind, outcome, requester, moment)
        reason = _reason(rng, outcome)
        fields = _discount(rng) if kind == "discount" else _brand(rng, moment)
        yield {
            "id": f"{prefix}-{n + 1:05d}",
            "kind": kind,
            "requester": requester,
            "submitted_at": _iso(rng, moment),
            "outcome": outcome,
            "decided_by": decided_by,
            "decided_at": _iso(rng, decided_at) if decided_at else None,
            "reason": reason,
            "fields": fields,
        }


def _working_moment(rng: random.Random, start: date, offset_seconds: float) -> datetime:
    """A moment near ``offset_seconds`` into the quarter, moved into Berlin working hours on a weekday."""
    day = start + timedelta(seconds=offset_seconds)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    local = datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
    return local.replace(tzinfo=BERLIN)


def _iso(rng: random.Random, moment: datetime) -> str:
    """ISO 8601 with an offset: Berlin's own (+01:00 / +02:00) mostly, sometimes UTC written ``Z``."""
    if rng.random() < 0.2:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def _decision(
    rng: random.Random, kind: str, outcome: str, requester: str, submitted: datetime
) -> tuple[str | None, datetime | None]:
    if outcome == "expired":
        # discount expires after 14 d; brand-exception has no expiry of its own: the source system's
        return None, submitted + timedelta(days=14) if rng.random() < 0.5 else None
    hours = round(min(rng.expovariate(1 / 10), 300), 2) + 0.05
    at = submitted + timedelta(hours=hours)
    if outcome == "cancelled":
        return requester, at
    weights = (5, 4, 1) if kind == "discount" else (3, 3, 2)
    return rng.choices(APPROVERS[kind], weights=weights)[0], at


def _reason(rng: random.Random, outcome: str) -> str | None:
    if outcome == "rejected":
        return rng.choice(["Margin too thin.", "Not on brand.", "Ask again next quarter, please."])
    if outcome == "approved" and rng.random() < 0.3:
        return rng.choice(["OK", "Fine for a strategic account.", "Approved, keep it under 25%."])
    return None


def _discount(rng: random.Random) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "account": f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'])} {rng.randint(1, 400)}",
        "amount_pct": rng.choice([5, 8, 10, 12, 15, 18, 20, 22.5, 25, 30, 35, 40]),
        "region": rng.choice(["emea", "amer", "apac"]),
    }
    if rng.random() < 0.6:
        fields["deal_value"] = rng.choice([rng.randint(1, 400) * 500, rng.randint(100, 9999) + 0.5])
    if rng.random() < 0.2:
        fields["justification"] = "Renewal at risk.\nCompetitor offered 20% off."
    return fields


def _brand(rng: random.Random, submitted: datetime) -> dict[str, Any]:
    until = submitted.date() + timedelta(days=rng.randint(0, 60))
    return {
        "asset": f"https://cdn.example.com/assets/{rng.randint(1, 99999)}.png",
        "guideline": rng.choice(["logo", "color", "typography", "tone"]),
        "until": until.isoformat(),
    }


def expected_of(rows: Iterable[dict[str, Any]]) -> Expected:
    """The counts of ``rows`` (``Expected``), from the rows' own values."""
    expected = Expected()
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        expected.rows += 1
        expected.outcomes[row["outcome"]] += 1
        expected.kinds[row["kind"]]["requests"] += 1
        expected.kinds[row["kind"]][row["outcome"]] += 1
        if row["outcome"] in ("approved", "rejected"):
            took = _parse(row["decided_at"]) - _parse(row["submitted_at"])
            hours[(row["kind"], row["decided_by"])].append(took.total_seconds() / 3600)
            for scope in (expected.approvers, expected.kind_approvers.setdefault(row["kind"], {})):
                entry = scope.setdefault(row["decided_by"], {"decisions": 0, "approved": 0, "rejected": 0})
                entry["decisions"] += 1
                entry[row["outcome"]] += 1
    for user, entry in expected.approvers.items():
        entry["median_hours"] = statistics.median(h for (_, u), hs in hours.items() if u == user for h in hs)
    for kind, users in expected.kind_approvers.items():
        for user, entry in users.items():
            entry["median_hours"] = statistics.median(hours[(kind, user)])
    return expected


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*COLUMNS, *FIELDS])
        for row in rows:
            cells = [row[c] for c in COLUMNS] + [row["fields"].get(f) for f in FIELDS]
            writer.writerow(["" if c is None else str(c) for c in cells])


def write_quarter(folder: Path | str, *, rows: int = 3000, seed: int = 11) -> Quarter:
    """Write ``quarter.jsonl`` and ``quarter.csv`` (the same rows) into ``folder``; their ``Expected``."""
    jsonl, csv_path = Path(folder) / "quarter.jsonl", Path(folder) / "quarter.csv"
    write_jsonl(jsonl, quarter_rows(rows=rows, seed=seed))
    write_csv(csv_path, quarter_rows(rows=rows, seed=seed))
    return Quarter(jsonl, csv_path, expected_of(quarter_rows(rows=rows, seed=seed)))
