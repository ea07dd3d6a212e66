"""``signoff simulate`` over 10,000 and 100,000 stored requests, beside ``signoff report`` over the same rows.

Run:  python -m bench.bench_simulate [N …]   (default 10000 100000; SQLite, and PostgreSQL when reachable)

Rows are generated with bulk inserts (as ``bench.bench_report`` does), with a requester (one of
40) and fields: requests spread over 90 days, about a third approved by a rule, the rest decided
by people, cancelled, expired or pending. The file in force has a count limit per requester, a
``sum`` budget per kind, a weekday/hour rule with a per-kind limit and a reject rule; the
candidate is the same file plus one approve rule, so both replays do the full work (validation,
``resolve`` with limit lookups, tallies). The simulate side is
``bot.services.simulate.simulate_candidate`` (one streamed pass, both files); the baseline is
``bot.services.report.surface_report`` over the same window. Each runs three times timed (the
median counts), then once under ``tracemalloc`` for its peak memory (Python allocations only,
which is what grows with the rows; the interpreter and libraries are left out). Printed: both
sides and the ratios simulate / report. Target: 10,000 requests in under 10 s.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from bench.bench_report import BATCH, measure
from bench.databases import postgres_in_schema
from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.surface import Window
from bot.governance_file import load_governance_text
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from storage.engine import create_db_engine
from storage.migrate import upgrade
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
    fields:
      account: {type: text, required: true, max_length: 80}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      deal_value: {type: money}
      region: {type: choice, options: [emea, amer, apac]}
    approvers: finance
    rules:
      - id: small
        when: {amount_pct: {lte: 10}}
        decide: approve
        reason: Small.
        limit: {count: 5, per: requester, window: 30d}
      - id: budget
        when: {all: [{amount_pct: {gt: 10}}, {amount_pct: {lte: 20}}]}
        decide: approve
        reason: Within budget.
        limit: {sum: deal_value, max: 200000, per: kind, window: 7d}
      - id: office
        when: {all: [{amount_pct: {lte: 25}}, {hour: {between: [9, 11]}}, {weekday: {in: [mon, tue, wed]}}]}
        decide: approve
        reason: Office hours.
        limit: {count: 20, per: kind, window: 1d}
      - {id: over, when: {amount_pct: {gt: 40}}, decide: reject, reason: Too much.}
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {counterparty: {type: text, required: true}, value: {type: money}}
    approvers: finance
    rules:
      - {id: tiny, when: {value: {lt: 1000}}, decide: approve, reason: Tiny.}
"""
CANDIDATE_RULE = "      - {id: mid, when: {amount_pct: {between: [25, 30]}}, decide: approve, reason: Mid.}\n"
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=91), NOW)
PEOPLE = ("U0FIN1", "U0FIN2", "U0FIN3", "U0FIN4")
REQUESTERS = tuple(f"U0REQ{n:02d}" for n in range(40))


def _fields(n: int, kind: str, rnd: random.Random) -> dict[str, Any]:
    if kind == "contract":
        return {"counterparty": f"Initech {n % 97}", "value": rnd.choice([500, 5000, 50000])}
    pct = rnd.choice([5, 8, 12, 15, 20, 25, 28, 35, 45])
    fields: dict[str, Any] = {"account": f"Acme {n % 400}", "amount_pct": pct}
    if n % 3:
        fields["deal_value"] = rnd.randint(1, 400) * 100
    if n % 4:
        fields["region"] = rnd.choice(["emea", "amer", "apac"])
    return fields


def _row(n: int, rnd: random.Random, version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    submitted = NOW - timedelta(days=90) + timedelta(seconds=90 * 86400 * (n - 1) / ROWS[0])
    kind = "discount" if n % 4 else "contract"
    requester = REQUESTERS[n % len(REQUESTERS)]
    state = rnd.choice(["approved", "approved", "rejected", "cancelled", "expired", "pending"])
    decided_by: str | None = None
    decided_at: datetime | None = None
    votes: list[dict[str, Any]] = []
    auto_rule = None
    if n % 3 == 1:
        auto_rule = "small" if kind == "discount" else "tiny"
        state, decided_by, decided_at = "approved", f"rule:{auto_rule}", submitted
    elif state in ("approved", "rejected"):
        decided_by, decided_at = rnd.choice(PEOPLE), submitted + timedelta(hours=rnd.expovariate(1 / 6))
        verdict = "approve" if state == "approved" else "reject"
        votes.append({"voter": decided_by, "verdict": verdict, "created_at": decided_at})
    elif state != "pending":
        decided_by, decided_at = (requester if state == "cancelled" else "system"), submitted + timedelta(days=2)
    request = {
        "id": n,
        "kind": kind,
        "category": "approval",
        "fields": _fields(n, kind, rnd),
        "fields_hash": "0" * 64,
        "requester": requester,
        "state": state,
        "governance": version,
        "steps": [],
        "rule_ids": [],
        "reason": "",
        "escalation_level": 0,
        "decided_at": decided_at,
        "decided_by": decided_by,
        "auto_rule": auto_rule,
        "created_at": submitted,
        "updated_at": decided_at or submitted,
        "version": 1,
        "shadow": None,
    }
    for vote in votes:
        vote.update(request_id=n, on_behalf_of=None, reason=None, fields_hash="0" * 64)
    return request, votes


#: The count being filled (submission times are spread evenly over 90 days whatever it is).
ROWS = [1]


def fill(engine: Engine, count: int, version: str) -> None:
    """``count`` requests and their votes, inserted in batches of ``BATCH`` rows."""
    ROWS[0] = count
    rnd = random.Random(count)
    with engine.begin() as connection:
        connection.execute(insert(GOVERNANCE_VERSIONS).values(hash=version, content="", first_seen_at=NOW))
        for start in range(1, count + 1, BATCH):
            rows = [_row(n, rnd, version) for n in range(start, min(start + BATCH, count + 1))]
            connection.execute(insert(REQUESTS), [request for request, _ in rows])
            votes = [vote for _, request_votes in rows for vote in request_votes]
            if votes:
                connection.execute(insert(VOTES), votes)


def run(name: str, url: str, count: int, current: Governance, candidate: Governance) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    fill(engine, count, current.version)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: current, clock=FixedClock(NOW))

    def report() -> int:
        return surface_report(runtime, window=WINDOW).totals.requests

    def simulate() -> int:
        return simulate_candidate(runtime, candidate, window=WINDOW).requests

    base_s, base_mib, rows = measure(report)
    sim_s, sim_mib, requests = measure(simulate)
    assert requests == rows == count, (requests, rows, count)
    result = simulate_candidate(runtime, candidate, window=WINDOW)
    automatic = result.candidate.auto_approved + result.candidate.auto_rejected
    figures = f"auto {automatic}, saved {result.human_decisions_saved}"
    print(
        f"{name:<11} {count:>7} {base_s:>9.2f} {base_mib:>10.1f} {sim_s:>10.2f} {sim_mib:>11.1f}"
        f" {sim_s / base_s:>7.2f}× {sim_mib / base_mib:>7.2f}×   {count / sim_s:>8.0f}/s  ({figures})"
    )
    engine.dispose()


def backends(folder: str, count: int) -> list[tuple[str, str]]:
    found = [("SQLite", f"sqlite:///{Path(folder) / f'bench{count}.db'}")]
    postgres = postgres_in_schema("bench_simulate")
    return found + ([("PostgreSQL", postgres)] if postgres else [])


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    current = load_governance_text(GOVERNANCE)
    candidate = load_governance_text(GOVERNANCE.replace("      - {id: over,", CANDIDATE_RULE + "      - {id: over,"))
    print(
        f"{'backend':<11} {'N':>7} {'report s':>9} {'report MiB':>10} {'simulate s':>10} {'simulate MiB':>11}"
        f" {'time':>8} {'memory':>8}   {'requests':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            for name, url in backends(folder, count):
                run(name, url, count, current, candidate)
    print("time and memory: simulate (candidate and file in force, one pass) / report over the same rows")


if __name__ == "__main__":
    main()
