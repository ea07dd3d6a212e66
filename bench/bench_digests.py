"""Time to build and queue digests for 1,000 and 10,000 pending requests across 500 approvers.

Run:  python -m bench.bench_digests   (SQLite, and PostgreSQL when reachable)

The pending requests are written straight into the tables (filing 10,000 through the use
case would time the wrong thing); the digest pass is the real one. It prints the seconds per
pass and how the time grows from 1,000 to 10,000 requests, against a baseline measured in
the same run: reading the same pending requests and their votes, which every way of building
digests must do. Target: about linear, and under 5 s for 10,000 on this 2-core machine.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from bot.domain.clock import FixedClock
from bot.domain.requests import fields_hash
from bot.governance_file import load_governance_text
from bot.services.digests import queue_digests
from bot.services.runtime import Runtime
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.tables import GOVERNANCE_VERSIONS, REQUESTS
from storage.uow import SqlUnitOfWorkFactory

GROUPS, MEMBERS = 100, 5  # 500 approvers
NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def governance_text() -> str:
    groups = "\n".join(
        f"  g{g}: {{members: [{', '.join(f'U0G{g}M{m}' for m in range(MEMBERS))}]}}" for g in range(GROUPS)
    )
    return f"""
version: 1
working_hours: always
groups:
{groups}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields: {{account: {{type: text, required: true}}}}
    approvers: g0
    sla: 8h
"""


def fill(engine: Engine, version: str, content: str, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(insert(GOVERNANCE_VERSIONS).values(hash=version, content=content, first_seen_at=NOW))
        rows = []
        for n in range(count):
            fields = {"account": f"Account {n}"}
            rows.append(
                {
                    "kind": "deal",
                    "category": "approval",
                    "fields": fields,
                    "fields_hash": fields_hash(fields),
                    "requester": f"U0REQ{n % 50}",
                    "state": "pending",
                    "governance": version,
                    "steps": [{"group": f"g{n % GROUPS}", "approvals": 1}],
                    "rule_ids": [],
                    "reason": "No default.",
                    "escalation_level": 0,
                    "next_escalation_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                    "lapse_warn_at": None,
                }
            )
        connection.execute(insert(REQUESTS), rows)


def time_pass(url: str, count: int) -> tuple[float, float]:
    engine = create_db_engine(url)
    upgrade(engine)
    content = governance_text()
    governance = load_governance_text(content)
    fill(engine, governance.version, content, count)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(NOW))
    start = time.perf_counter()
    with runtime.uow() as uow:  # the baseline: read what any digest must read
        pending = uow.requests.open_requests(limit=100_000)
        uow.votes.for_requests([r.require_id() for r in pending])
    read = time.perf_counter() - start
    start = time.perf_counter()
    report = queue_digests(runtime=runtime, timezone_of=lambda user: None)
    full = time.perf_counter() - start
    assert report.queued == GROUPS * MEMBERS, report
    engine.dispose()
    return read, full


def backends() -> list[tuple[str, str, object]]:
    found: list[tuple[str, str, object]] = []
    url = os.environ.get("SIGNOFF_BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    try:
        create_engine(url).connect().close()
        found.append(("PostgreSQL", url, None))
    except Exception as exc:
        print(f"PostgreSQL skipped: {url} is not reachable ({exc.__class__.__name__})")
    return found


def main() -> None:
    print(f"{'backend':<11} {'requests':>9} {'read s':>8} {'digests s':>10} {'vs read':>8}")
    results: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in (1_000, 10_000):
            read, full = time_pass(f"sqlite:///{Path(folder) / f'd{count}.db'}", count)
            results.setdefault("SQLite", {})[count] = full
            print(f"{'SQLite':<11} {count:>9} {read:>8.2f} {full:>10.2f} {full / read:>7.1f}x")
    for name, url, _ in backends():
        admin = create_engine(url)
        for count in (1_000, 10_000):
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                scoped = (
                    make_url(url)
                    .update_query_dict({"options": f"-csearch_path={schema}"})
                    .render_as_string(hide_password=False)
                )
                read, full = time_pass(scoped, count)
                results.setdefault(name, {})[count] = full
                print(f"{name:<11} {count:>9} {read:>8.2f} {full:>10.2f} {full / read:>7.1f}x")
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    for name, timings in results.items():
        growth = timings[10_000] / timings[1_000]
        total = timings[10_000]
        print(
            f"{name}: 10x the requests took {growth:.1f}x the time (linear: 10x); "
            f"10,000 in {total:.2f} s (target < 5 s)"
        )


if __name__ == "__main__":
    main()
