"""The audit log on a real database: tampering with rows is caught and named by `audit verify`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Engine, delete, select, update

from bot.cli import main
from bot.domain.routing import Verdict
from bot.services.audit import verify_audit
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import AuditEventRecord
from storage.uow import SqlUnitOfWorkFactory


@pytest.fixture
def busy(runtime: Runtime) -> Runtime:
    """Five events: two submissions, a vote, an approval, an automatic approval."""
    first = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25"
    ).request_id
    decide_request(runtime=runtime, request_id=first, voter="U0FIN1", verdict=Verdict.APPROVE)
    second = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io until=2026-03-20"
    ).request_id
    decide_request(runtime=runtime, request_id=second, voter="U0BR1", verdict=Verdict.APPROVE)
    submit_request(runtime=runtime, kind="discount", requester="U0KIM", text="account=B amount_pct=5")
    return runtime


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", url)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_untouched_log_verifies(
    busy: Runtime, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert verify_audit(uow=busy.uow) is None
    code, out, _ = cli(capsys, monkeypatch, database_url, "audit", "verify")
    assert (code, out.split(",")[0]) == (0, "audit log intact: 5 events")


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("modify", 2, "its content does not match its hash (modified)"),
        ("delete", 3, "event 3 is missing"),
        ("insert", 6, "it comes after the log's recorded head (inserted)"),
        ("truncate", 5, "events 5–5 are missing"),
    ],
)
def test_tampering_is_named_by_the_first_broken_event(
    busy: Runtime,
    engine: Engine,
    database_url: str,
    tamper: str,
    seq: int,
    problem: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with engine.begin() as connection:
        if tamper == "modify":
            data = json.loads(
                connection.execute(select(AuditEventRecord.data).where(AuditEventRecord.seq == 2)).scalar_one()
            )
            data["verdict"] = "reject"
            connection.execute(update(AuditEventRecord).where(AuditEventRecord.seq == 2).values(data=json.dumps(data)))
        elif tamper == "delete":
            connection.execute(delete(AuditEventRecord).where(AuditEventRecord.seq == 3))
        elif tamper == "insert":
            last = connection.execute(select(AuditEventRecord).where(AuditEventRecord.seq == 5)).one()
            connection.execute(
                AuditEventRecord.__table__.insert().values(
                    seq=6,
                    request_id=1,
                    at=last.at,
                    actor="U0EVIL",
                    action="approved",
                    data="{}",
                    prev_hash=last.hash,
                    hash="f" * 64,
                )
            )
        else:
            connection.execute(delete(AuditEventRecord).where(AuditEventRecord.seq == 5))
    broken = verify_audit(uow=busy.uow)
    assert broken is not None
    assert (broken.seq, broken.problem) == (seq, problem)
    code, _, err = cli(capsys, monkeypatch, database_url, "audit", "verify")
    assert code == 1
    assert f"audit log is NOT intact: audit event {seq}: {problem}" in err


def test_export_as_json_lines_and_csv_with_filters(
    busy: Runtime, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, database_url, "audit", "export")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["request_id"] == "REQ-1" and events[0]["action"] == "submitted"
    assert set(events[0]) == {"seq", "request_id", "at", "actor", "action", "data", "prev_hash", "hash"}
    assert events[1]["prev_hash"] == events[0]["hash"]
    code, out, _ = cli(capsys, monkeypatch, database_url, "audit", "export", "--format", "csv", "--kind", "brand")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["seq"], r["action"]) for r in rows] == [("3", "submitted"), ("4", "voted")]
    assert json.loads(rows[1]["data"])["verdict"] == "approve"
    code, out, _ = cli(capsys, monkeypatch, database_url, "audit", "export", "--since", "2100-01-01T00:00:00+00:00")
    assert (code, out) == (0, "")


def test_db_upgrade_is_idempotent_and_audit_needs_a_migrated_database(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    code, _, err = cli(capsys, monkeypatch, url, "audit", "verify")
    assert (code, "run `signoff db upgrade`" in err) == (1, True)
    code, out, _ = cli(capsys, monkeypatch, url, "db", "upgrade")
    assert (code, out.strip()) == (0, "database at revision 0002_relay (was empty)")
    code, out, _ = cli(capsys, monkeypatch, url, "db", "upgrade")
    assert out.strip() == "database at revision 0002_relay (already up to date)"
    code, out, _ = cli(capsys, monkeypatch, url, "audit", "verify")
    assert (code, out.split(",")[0]) == (0, "audit log intact: 0 events")


def test_processes_appending_in_turn_keep_one_chain(engine: Engine, runtime: Runtime) -> None:
    """Each process remembers the head it last wrote; another process's appends make it stale."""
    other = SqlUnitOfWorkFactory(engine)  # a second process: its own remembered head
    for n in range(6):
        factory = runtime.uow if n % 2 == 0 else other
        with factory() as uow:
            uow.audit.append(request_id=None, at=runtime.clock.now(), actor="system", action="escalated", data={"n": n})
            uow.commit()
    with runtime.uow() as uow:  # rolled back: nothing of it is written, nor remembered
        uow.audit.append(
            request_id=None, at=runtime.clock.now(), actor="system", action="escalated", data={"n": "lost"}
        )
    with runtime.uow() as uow:
        event = uow.audit.append(
            request_id=None, at=runtime.clock.now(), actor="system", action="escalated", data={"n": 6}
        )
        uow.commit()
    assert event.seq == 7
    assert verify_audit(uow=runtime.uow) is None
    with runtime.uow() as uow:
        assert [e.data["n"] for e in uow.audit.events()] == [0, 1, 2, 3, 4, 5, 6]
