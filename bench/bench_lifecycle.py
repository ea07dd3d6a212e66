"""Throughput of governed submit and decide, against a bare insert+commit on the same backend.

Run:  python -m bench.bench_lifecycle            (SQLite, and PostgreSQL when reachable)
      SIGNOFF_BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.bench_lifecycle

A "bare insert+commit" is one row into a two-column table in its own transaction, through
the same engine (so SQLite runs with WAL and BEGIN IMMEDIATE, as Signoff does). A governed
submit validates the contract, resolves the rules, and writes the request, its audit event
and its card outbox rows in one transaction; a decide locks the request, records the vote,
approves it and queues the card update and the requester's DM. Target: submit ≤ 3× bare.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from bot.domain.clock import SystemClock
from bot.domain.routing import Verdict
from bot.governance_file import load_governance_text
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.engine import create_db_engine, session_factory
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

GOVERNANCE = """
version: 1
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  cmo-office: {members: [U0CMO]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true, max_length: 80}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      deal_value: {type: money, currency: EUR}
      region: {type: choice, options: [emea, amer, apac], required: true}
    approvers: finance
    sla: 8h
    escalate: [cmo-office]
    expire_after: 14d
    rules:
      - id: small
        when: {amount_pct: {lte: 10}}
        decide: approve
        reason: Small is fine.
        limit: {count: 5, per: requester, window: 30d}
      - {id: over-limit, when: {amount_pct: {gt: 40}}, decide: reject, reason: Too much.}
      - {id: big-deal, when: {deal_value: {gte: 100000}}, require: cmo-office, reason: Big deals need the CMO.}
"""
ROUNDS, PER_ROUND = 5, 40


def timed(operation: Callable[[int], object]) -> float:
    """Median operations per second over ROUNDS rounds of PER_ROUND operations."""
    rates, counter = [], 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            operation(counter)
            counter += 1
        rates.append(PER_ROUND / (time.perf_counter() - start))
    return statistics.median(rates)


def bench(name: str, engine: Engine) -> None:
    upgrade(engine)
    rows = Table("bench_rows", MetaData(), Column("id", Integer, primary_key=True), Column("payload", String(200)))
    rows.create(engine, checkfirst=True)

    def bare(n: int) -> None:
        with engine.begin() as connection:
            connection.execute(insert(rows).values(payload=f"row {n}"))

    governance = load_governance_text(GOVERNANCE)
    runtime = Runtime(
        uow=SqlUnitOfWorkFactory(session_factory(engine)), governance=lambda: governance, clock=SystemClock()
    )
    pending: list[int] = []

    def submit(n: int) -> None:
        submission = submit_request(
            runtime=runtime, kind="discount", requester=f"U0R{n}", text=f"account=Acme{n} amount_pct=25 region=emea"
        )
        pending.append(submission.request_id)

    def decide(n: int) -> None:
        decide_request(runtime=runtime, request_id=pending[n], voter="U0FIN1", verdict=Verdict.APPROVE)

    bare(-1), submit(10**6), pending.pop()  # warm up connections and caches
    base = timed(bare)
    submits = timed(submit)
    decides = timed(decide)
    print(f"{name:<11} bare insert+commit {base:8.0f}/s")
    print(f"{'':<11} governed submit    {submits:8.0f}/s   costs {base / submits:4.2f}x a bare insert+commit (≤ 3x)")
    print(f"{'':<11} governed decide    {decides:8.0f}/s   costs {base / decides:4.2f}x a bare insert+commit")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        bench("SQLite", engine)
        engine.dispose()
    url = os.environ.get("SIGNOFF_BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL  skipped: {url} is not reachable ({exc.__class__.__name__})")
        return
    try:
        scoped = (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        engine = create_db_engine(scoped)
        bench("PostgreSQL", engine)
        engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
