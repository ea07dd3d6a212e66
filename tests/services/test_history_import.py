"""``history import`` on a real database (SQLite and PostgreSQL): a generated quarter of history,
all or nothing, re-imports, racing imports, and imported requests left alone by every sweep."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.history import RawRow, RowProblem
from bot.domain.history_files import csv_rows, jsonl_rows
from bot.governance_file import load_governance_text
from bot.services.audit import verify_audit
from bot.services.digests import queue_digests
from bot.services.history_import import ImportReport, import_history
from bot.services.reconcile import cards_follow_eligibility
from bot.services.runtime import Runtime
from bot.services.sweeps import escalate_due, expire_due, lapse_due
from storage.records import AuditEventRecord, OutboxRecord, RequestRecord, VoteRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import DESIGN_EXAMPLE
from tests.history_quarter import Quarter, write_jsonl, write_quarter
from tests.services.conftest import Tables

ROWS = 400


@pytest.fixture
def governance() -> Governance:
    return load_governance_text(DESIGN_EXAMPLE.read_bytes())


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Quarter:
    return write_quarter(tmp_path_factory.mktemp("quarter"), rows=ROWS, seed=11)


def rows_of(path: Path, governance: Governance) -> Iterator[RawRow | RowProblem]:
    with path.open(encoding="utf-8", newline="") as stream:
        if path.suffix == ".csv":
            names = {name for kind in governance.kinds.values() for name in kind.contract.fields}
            yield from csv_rows(stream, names)
        else:
            yield from jsonl_rows(stream)


def run(runtime: Runtime, path: Path, *, skip_invalid: bool = False) -> ImportReport:
    rows = rows_of(path, runtime.governance())
    return import_history(runtime=runtime, rows=rows, source=path.name, skip_invalid=skip_invalid)


def stored(engine: Engine) -> list[RequestRecord]:
    with engine.connect() as connection:
        return list(connection.execute(select(RequestRecord.__table__)).all())  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_generated_quarter_is_stored_as_it_happened(
    runtime: Runtime, engine: Engine, tables: Tables, quarter: Quarter, fmt: str
) -> None:
    report = run(runtime, quarter.jsonl if fmt == "jsonl" else quarter.csv)

    expected = quarter.expected
    assert (report.imported, report.skipped, report.invalid, report.stored) == (expected.rows, 0, 0, True)
    requests = stored(engine)
    by_kind: dict[str, Counter[str]] = {}
    for r in requests:
        by_kind.setdefault(r.kind, Counter({"requests": 0}))
        by_kind[r.kind]["requests"] += 1
        by_kind[r.kind][r.state] += 1
    assert by_kind == expected.kinds
    assert {r.governance for r in requests} == {runtime.governance().version}
    assert all(r.imported_id and r.imported_id.startswith("HIST-") for r in requests)
    clocks = [(r.next_escalation_at, r.expires_at, r.lapse_warn_at) for r in requests]
    assert set(clocks) == {(None, None, None)}
    # lapses_at: only an approved exception's validity end, which the report reads (no sweep does)
    ends = {r.kind for r in requests if r.lapses_at is not None}
    assert ends == {"brand-exception"}
    assert all((r.lapses_at is not None) == (r.state == "approved") for r in requests if r.kind in ends)
    first = min(requests, key=lambda r: r.imported_id)
    assert first.created_at == datetime(2025, 10, 1, 13, 55, 35, tzinfo=UTC)  # 15:55:35+02:00 in the file

    with engine.connect() as connection:
        votes = connection.execute(select(VoteRecord.voter, VoteRecord.verdict)).all()
        audit = connection.execute(select(AuditEventRecord.actor, AuditEventRecord.action)).all()
    per_voter = Counter((voter, verdict) for voter, verdict in votes)
    for user, entry in expected.approvers.items():
        assert (per_voter[(user, "approve")], per_voter[(user, "reject")]) == (entry["approved"], entry["rejected"])
    assert sum(per_voter.values()) == expected.outcomes["approved"] + expected.outcomes["rejected"]
    assert Counter(audit) == Counter({("import", "imported"): expected.rows})
    assert tables.count(OutboxRecord) == 0
    assert verify_audit(uow=runtime.uow) is None


def test_the_audit_event_says_where_the_request_came_from(runtime: Runtime, tables: Tables, tmp_path: Path) -> None:
    row = {
        "id": "JIRA-7",
        "kind": "discount",
        "requester": "U0REQ01",
        "submitted_at": "2025-11-03T09:30:00+01:00",
        "outcome": "rejected",
        "decided_by": "U0FIN1",
        "decided_at": "2025-11-03T11:00:00+01:00",
        "reason": "Too much.",
        "fields": {"account": "Acme", "amount_pct": 30, "region": "emea"},
    }
    write_jsonl(tmp_path / "one.jsonl", [row])
    run(runtime, tmp_path / "one.jsonl")

    with runtime.uow(read_only=True) as uow:
        (event,) = list(uow.audit.events())
        request = uow.requests.get(event.request_id or 0)
        votes = uow.votes.for_request(event.request_id or 0)
    assert (event.actor, event.action) == ("import", "imported")
    assert event.data["source_id"] == "JIRA-7" and event.data["source"] == "one.jsonl" and event.data["line"] == 1
    assert event.data["outcome"] == "rejected" and event.data["decided_by"] == "U0FIN1"
    assert event.data["fields"] == {"account": "Acme", "amount_pct": 30, "region": "emea"}
    assert request is not None and request.imported_id == "JIRA-7" and str(request.state) == "rejected"
    assert (request.decided_by, request.decision_note) == ("U0FIN1", "Too much.")
    assert request.decided_at == datetime(2025, 11, 3, 10, 0, tzinfo=UTC)
    (vote,) = votes
    assert (vote.ballot.voter, str(vote.ballot.verdict), vote.ballot.fields_hash) == (
        "U0FIN1",
        "reject",
        request.fields_hash,
    )
    assert vote.at == request.decided_at


def test_importing_the_same_file_again_changes_nothing(runtime: Runtime, tables: Tables, quarter: Quarter) -> None:
    run(runtime, quarter.jsonl)
    before = tables.snapshot()
    with runtime.uow(read_only=True) as uow:
        head = uow.audit.head()

    again = run(runtime, quarter.csv)  # the same rows, the other format

    assert (again.imported, again.skipped, again.invalid) == (0, quarter.expected.rows, 0)
    assert tables.snapshot() == before
    with runtime.uow(read_only=True) as uow:
        assert uow.audit.head() == head


def _bad_last(quarter: Quarter, folder: Path) -> Path:
    """The quarter's JSONL with one invalid row appended."""
    path = folder / "bad.jsonl"
    text = quarter.jsonl.read_text(encoding="utf-8")
    bad = '{"id": "X-1", "kind": "discount", "requester": "U0REQ01", "submitted_at": "2025-10-02T10:00:00+02:00", '
    bad += '"outcome": "approved", "decided_by": "U0FIN1", "decided_at": "2025-10-02T11:00:00+02:00", '
    bad += '"fields": {"account": "Acme", "amount_pct": 101, "region": "emea"}}\n'
    path.write_text(text + bad, encoding="utf-8")
    return path


def test_one_invalid_row_stores_nothing(runtime: Runtime, tables: Tables, quarter: Quarter, tmp_path: Path) -> None:
    report = run(runtime, _bad_last(quarter, tmp_path))

    assert (report.stored, report.imported, report.invalid) == (False, 0, 1)
    assert report.problems == (RowProblem(ROWS + 1, "fields.amount_pct", "must be at most 100 (got 101)"),)
    assert tables.snapshot() == (0, 0, 0, 0)


def test_skip_invalid_stores_the_valid_rows(runtime: Runtime, tables: Tables, quarter: Quarter, tmp_path: Path) -> None:
    report = run(runtime, _bad_last(quarter, tmp_path), skip_invalid=True)

    assert (report.stored, report.imported, report.invalid) == (True, ROWS, 1)
    assert tables.count(RequestRecord) == ROWS
    assert verify_audit(uow=runtime.uow) is None


def test_sweeps_leave_imported_requests_alone(
    runtime: Runtime, engine: Engine, tables: Tables, quarter: Quarter, clock: FixedClock
) -> None:
    run(runtime, quarter.jsonl)
    exceptions = [r for r in stored(engine) if r.kind == "brand-exception" and r.state == "approved"]
    assert exceptions and all(r.fields["until"] < "2026-03-04" for r in exceptions)  # long past their end
    assert all(r.lapses_at is not None and r.lapse_warn_at is None for r in exceptions)  # for the report only
    before, states = tables.snapshot(), {r.id: r.state for r in stored(engine)}

    for later in (timedelta(0), timedelta(days=30), timedelta(days=400)):
        clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC) + later)
        assert escalate_due(runtime=runtime) == 0
        assert expire_due(runtime=runtime) == 0
        assert lapse_due(runtime=runtime) == 0
        assert cards_follow_eligibility(runtime=runtime).posted == 0
        assert queue_digests(runtime=runtime, timezone_of=lambda person: None, operator_run=True).queued == 0

    assert tables.snapshot() == before
    assert {r.id: r.state for r in stored(engine)} == states


def test_two_imports_racing_store_each_row_once(
    runtime: Runtime, engine: Engine, governance: Governance, clock: FixedClock, quarter: Quarter
) -> None:
    # Two processes: two factories (no shared writer queue, no shared audit head).
    runtimes = [Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock) for _ in "ab"]
    start = threading.Barrier(2)
    reports: list[ImportReport] = []

    def importing(racer: Runtime, path: Path) -> None:
        start.wait(timeout=10)
        reports.append(run(racer, path))

    threads = [
        threading.Thread(target=importing, args=(r, p))
        for r, p in zip(runtimes, [quarter.jsonl, quarter.csv], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted((r.imported, r.skipped) for r in reports) == [(0, ROWS), (ROWS, 0)]
    assert len(stored(engine)) == ROWS
    assert verify_audit(uow=runtime.uow) is None
