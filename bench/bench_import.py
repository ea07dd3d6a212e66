"""``signoff history import`` of N generated rows, beside one bare executemany of the same rows.

Run:  python -m bench.bench_import [N] [POSTGRESQL_URL]   (default 10000; SQLite, and PostgreSQL
      from the argument, else $SIGNOFF_TEST_DATABASE_URL, else the local test server, when reachable)

The rows are a generated quarter of history (``tests.history_quarter``) for the DESIGN example
governance, written as JSON Lines. The import side is the command's own path (``bot.cli_history``
minus argument parsing): the file streamed row by row, every row checked against its kind's
contract as of its submission, stored in batches with a vote and a chained audit event each, one
transaction. The bare side inserts the same requests, already built, with one ``executemany`` of
the requests table and nothing else: what storing the rows costs at the least. It prints seconds
for each, the ratio import / bare, and the import's peak memory (tracemalloc) for N/4 and N rows,
which should be about the same: the import holds a batch, not the file. Target: N = 10,000 in
under 10 s on SQLite.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.history_files import jsonl_rows
from bot.domain.requests import fields_hash
from bot.governance_file import load_governance_text
from bot.services.history_import import import_history
from bot.services.runtime import Runtime
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.tables import REQUESTS
from storage.uow import SqlUnitOfWorkFactory
from tests.history_quarter import quarter_rows, write_jsonl

DESIGN = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "design.yaml"
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def fresh(url: str, schema: str | None) -> Engine:
    """A migrated, empty database (a PostgreSQL schema dropped and created again)."""
    if schema is not None:
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        admin.dispose()
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    upgrade(engine)
    return engine


def imported(engine: Engine, governance: Governance, path: Path) -> float:
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(NOW))
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as stream:
        report = import_history(runtime=runtime, rows=jsonl_rows(stream), source=path.name)
    took = time.perf_counter() - start
    assert report.stored, report.problems[:3]
    assert report.invalid == 0, report.problems[:3]
    return took


def bare(engine: Engine, governance: Governance, path: Path) -> float:
    """The same requests, built before the clock starts, stored with one executemany."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            at = datetime.fromisoformat(row["submitted_at"].replace("Z", "+00:00"))
            decided = row["decided_at"] and datetime.fromisoformat(row["decided_at"].replace("Z", "+00:00"))
            rows.append(
                {
                    "kind": row["kind"],
                    "category": "approval",
                    "fields": row["fields"],
                    "fields_hash": fields_hash(row["fields"]),
                    "requester": row["requester"],
                    "state": row["outcome"],
                    "governance": governance.version,
                    "steps": [],
                    "rule_ids": [],
                    "reason": "",
                    "decided_at": decided or None,
                    "decided_by": row["decided_by"],
                    "decision_note": row["reason"],
                    "created_at": at,
                    "updated_at": decided or at,
                    "imported_id": row["id"],
                }
            )
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(NOW))
    with runtime.uow() as uow:  # the governance version the rows refer to
        uow.governance_versions.ensure(governance.version, governance.source, now=NOW)
        uow.commit()
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(REQUESTS), rows)
    return time.perf_counter() - start


def peak_memory(make: Any, governance: Governance, path: Path) -> float:
    """The import's peak traced memory, in MiB."""
    engine = make()
    tracemalloc.start()
    try:
        imported(engine, governance, path)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        engine.dispose()


def backends(folder: Path, explicit: str | None) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = [("SQLite", f"sqlite:///{folder / 'bench.db'}", None)]
    url = explicit or os.environ.get("SIGNOFF_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    try:
        probe = create_engine(url)
        with probe.connect():
            pass
        probe.dispose()
        found.append(("PostgreSQL", url, "bench_import"))
    except Exception as exc:
        print(f"PostgreSQL skipped: {url} is not reachable ({exc.__class__.__name__})")
    return found


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    governance = load_governance_text(DESIGN.read_bytes())
    heads = f"{'bare s':>8} {'import s':>9} {'import/bare':>12} {'peak MiB N/4':>13} {'peak MiB N':>11}"
    print(f"{'backend':<11} {'N':>6} {heads}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path, quarter = folder / "history.jsonl", folder / "quarter.jsonl"
        write_jsonl(path, quarter_rows(rows=count, seed=7))
        write_jsonl(quarter, quarter_rows(rows=max(count // 4, 1), seed=7))
        for label, url, schema in backends(folder, sys.argv[2] if len(sys.argv) > 2 else None):

            def make(url: str = url, schema: str | None = schema) -> Engine:
                if schema is None:
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                return fresh(url, schema)

            engine = make()
            baseline = bare(engine, governance, path)
            engine.dispose()
            engine = make()
            took = imported(engine, governance, path)
            engine.dispose()
            small, large = peak_memory(make, governance, quarter), peak_memory(make, governance, path)
            print(
                f"{label:<11} {count:>6} {baseline:>8.2f} {took:>9.2f} {took / baseline:>11.1f}× "
                f"{small:>13.1f} {large:>11.1f}"
            )
    print(f"target: {count} rows in under 10 s on SQLite; peak memory about the same for N/4 and N rows")


if __name__ == "__main__":
    main()
