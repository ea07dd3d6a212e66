"""Throughput of governed submit and decide, against a bare insert+commit on the same backend.

Run:  python -m bench.bench_lifecycle            (SQLite, and PostgreSQL when reachable)
      SIGNOFF_BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.bench_lifecycle

A "bare insert+commit" is one row into a two-column table in its own transaction, through
the same engine (so SQLite runs with WAL and BEGIN IMMEDIATE, as Signoff does): with Core
(the stricter baseline, which the target is measured against) and with an ORM session. A governed
submit validates the contract, resolves the rules, and writes the request, its audit event
and its card outbox rows in one transaction; a decide locks the request, records the vote,
approves it and queues the card update and the requester's DM. Targets: submit ≤ 3×, decide
≤ 4× bare.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from bot.domain.clock import SystemClock
from bot.domain.routing import Verdict
from bot.governance_file import load_governance_text
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.engine import create_db_engine
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
ROUNDS, PER_ROUND = 7, 30


def _next_of(items: Iterator[int], operation: Callable[[int], None]) -> None:
    operation(next(items))


def per_second(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(PER_ROUND):
        operation()
    return PER_ROUND / (time.perf_counter() - start)


def bench(name: str, engine: Engine) -> None:
    upgrade(engine)
    rows = Table("bench_rows", MetaData(), Column("id", Integer, primary_key=True), Column("payload", String(200)))
    rows.create(engine, checkfirst=True)

    def bare(n: int) -> None:
        with engine.begin() as connection:
            connection.execute(insert(rows).values(payload=f"row {n}"))

    class Base(DeclarativeBase):
        pass

    class Row(Base):
        __table__ = rows

    sessions = sessionmaker(engine)

    def bare_orm(n: int) -> None:
        with sessions() as session:
            session.add(Row(payload=f"row {n}"))
            session.commit()

    governance = load_governance_text(GOVERNANCE)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=SystemClock())
    pending: list[int] = []

    def submit(n: int) -> None:
        submission = submit_request(
            runtime=runtime, kind="discount", requester=f"U0R{n}", text=f"account=Acme{n} amount_pct=25 region=emea"
        )
        pending.append(submission.request_id)

    def decide(request_id: int) -> None:
        decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)

    counter = iter(range(10**9))
    bare(-1), submit(10**6), pending.pop()  # warm up connections and caches
    # The three are measured in turns within each round, so drifting machine load hits all
    # of them alike; each round yields its own ratios, and the medians are reported.
    rounds = []
    for _ in range(ROUNDS):
        base = per_second(lambda: bare(next(counter)))
        orm = per_second(lambda: bare_orm(next(counter)))
        start = len(pending)
        submits = per_second(lambda: submit(next(counter)))
        decides = per_second(partial(_next_of, iter(pending[start:]), decide))
        rounds.append((base, orm, submits, decides))
    base, orm, submits, decides = (statistics.median(r[i] for r in rounds) for i in range(4))
    submit_ratio = statistics.median(r[0] / r[2] for r in rounds)
    decide_ratio = statistics.median(r[0] / r[3] for r in rounds)
    print(f"{name:<11} bare insert+commit {base:8.0f}/s   (ORM session: {orm:.0f}/s)")
    print(f"{'':<11} governed submit    {submits:8.0f}/s   costs {submit_ratio:4.2f}x a bare insert+commit (≤ 3x)")
    print(f"{'':<11} governed decide    {decides:8.0f}/s   costs {decide_ratio:4.2f}x a bare insert+commit (≤ 4x)")


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
