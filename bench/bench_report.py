"""``signoff report`` over 10,000 and 100,000 stored requests, beside reading the same rows with one query.

Run:  python -m bench.bench_report [N …]   (default 10000 100000; SQLite, and PostgreSQL when reachable)

Rows are generated with bulk inserts: requests spread over 90 days, a third approved by a rule,
the rest decided by people (one vote each; a tenth with an earlier approval too), cancelled,
expired or still pending, a fifth with a shadow verdict. The report side is
``bot.services.report.surface_report`` (the streamed join of requests and votes, tallied in one
pass); the baseline runs the same SELECT once and keeps its rows (``.all()``), doing nothing
with them. Each side runs three times timed (the median counts), then once under ``tracemalloc``
for its peak memory (Python allocations only). It prints both sides and the ratios report / baseline.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from bench.databases import postgres_in_schema
from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.surface import Window
from bot.governance_file import load_governance_text
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.surface_store import FACTS
from storage.tables import GOVERNANCE_VERSIONS, REQUESTS, VOTES
from storage.uow import SqlUnitOfWorkFactory

GOVERNANCE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2, U0FIN3, U0FIN4]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields: {amount_pct: {type: number, required: true}}
    approvers: finance
    sla: 8h
    rules:
      - {id: small, when: {amount_pct: {lte: 10}}, decide: approve, reason: Small is fine.}
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {counterparty: {type: text, required: true}}
    approvers: finance
"""
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=91), NOW)
PEOPLE = ("U0FIN1", "U0FIN2", "U0FIN3", "U0FIN4")
BATCH = 5000
ROUNDS = 3


def _row(n: int, rnd: random.Random, version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    submitted = NOW - timedelta(days=90) + timedelta(seconds=rnd.uniform(0, 90 * 86400))
    kind = "discount" if n % 3 else "contract"
    state, decided_by, decided_at = (
        rnd.choice(["approved", "approved", "rejected", "cancelled", "expired", "pending"]),
        None,
        None,
    )
    votes: list[dict[str, Any]] = []
    if kind == "discount" and n % 3 == 1:
        state, decided_by, decided_at = "approved", "rule:small", submitted
    elif state in ("approved", "rejected"):
        decided_by, decided_at = rnd.choice(PEOPLE), submitted + timedelta(hours=rnd.expovariate(1 / 6))
        verdict = "approve" if state == "approved" else "reject"
        votes.append({"voter": decided_by, "verdict": verdict, "created_at": decided_at})
        if n % 10 == 0:
            votes.insert(0, {"voter": "U0FIN9", "verdict": "approve", "created_at": submitted + timedelta(minutes=5)})
    elif state != "pending":
        decided_by, decided_at = ("U0SAM" if state == "cancelled" else "system"), submitted + timedelta(days=2)
    request = {
        "id": n,
        "kind": kind,
        "category": "approval",
        "fields": {"amount_pct": n % 40},
        "fields_hash": "0" * 64,
        "requester": "U0SAM",
        "state": state,
        "governance": version,
        "steps": [],
        "rule_ids": [],
        "reason": "",
        "escalation_level": 1 if n % 17 == 0 else 0,
        "decided_at": decided_at,
        "decided_by": decided_by,
        "auto_rule": "small" if decided_by == "rule:small" else None,
        "created_at": submitted,
        "updated_at": decided_at or submitted,
        "version": 1,
        "shadow": [{"rule": "trial", "decide": "approve"}] if n % 5 == 0 else None,
    }
    for vote in votes:
        vote.update(request_id=n, on_behalf_of=None, reason=None, fields_hash="0" * 64)
    return request, votes


def fill(engine: Engine, count: int, version: str) -> None:
    """``count`` requests and their votes, inserted in batches of ``BATCH`` rows."""
    rnd = random.Random(count)
    with engine.begin() as connection:
        connection.execute(insert(GOVERNANCE_VERSIONS).values(hash=version, content="", first_seen_at=NOW))
        for start in range(1, count + 1, BATCH):
            rows = [_row(n, rnd, version) for n in range(start, min(start + BATCH, count + 1))]
            connection.execute(insert(REQUESTS), [request for request, _ in rows])
            votes = [vote for _, request_votes in rows for vote in request_votes]
            if votes:
                connection.execute(insert(VOTES), votes)


def measure(work: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, peak MiB of Python allocations, result): the median of ``ROUNDS`` timed runs, one traced run."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def run(name: str, url: str, count: int, governance: Governance) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    fill(engine, count, governance.version)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(NOW))

    def baseline() -> int:
        with engine.connect() as connection:
            rows = connection.execute(FACTS.where(REQUESTS.c.created_at >= WINDOW.start)).all()
        return len(rows)

    def report() -> int:
        return surface_report(runtime, window=WINDOW).totals.requests

    base_s, base_mib, rows = measure(baseline)
    report_s, report_mib, requests = measure(report)
    assert requests == count, (requests, count)
    print(
        f"{name:<11} {count:>7} {rows:>7} {base_s:>8.2f} {base_mib:>9.1f} {report_s:>9.2f} {report_mib:>10.1f}"
        f" {report_s / base_s:>7.2f}× {report_mib / base_mib:>7.2f}×"
    )
    engine.dispose()


def backends(folder: str, count: int) -> list[tuple[str, str]]:
    found = [("SQLite", f"sqlite:///{Path(folder) / f'bench{count}.db'}")]
    postgres = postgres_in_schema("bench_report")
    return found + ([("PostgreSQL", postgres)] if postgres else [])


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    governance = load_governance_text(GOVERNANCE)
    print(
        f"{'backend':<11} {'N':>7} {'rows':>7} {'query s':>8} {'query MiB':>9} {'report s':>9} {'report MiB':>10}"
        f" {'time':>8} {'memory':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            for name, url in backends(folder, count):
                run(name, url, count, governance)
    print("rows: requests joined with their votes; time and memory: report / one query")


if __name__ == "__main__":
    main()
