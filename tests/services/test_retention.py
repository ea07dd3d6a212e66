"""Retention: sent outbox rows and run records older than the period go; everything else stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from bot.domain.clock import FixedClock
from bot.domain.notices import Notice
from bot.domain.outbox import DeliveryError, notify
from bot.jobs import RETENTION_JOB, run_retention
from bot.services.audit import verify_audit
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import AuditEventRecord, JobRunRecord, MessageRecord, OutboxRecord, RequestRecord
from tests.fakes import FakeGateway, drain


def outbox(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxRecord.idempotency_key, OutboxRecord.status)).all()
    return dict(rows)  # type: ignore[arg-type]


def job_runs(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(JobRunRecord.key)).scalars())


def count(engine: Engine, record: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(record)).scalar_one())


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def job_ran(self, *, job: str, result: str) -> None:
        self.runs.append((job, result))


def test_sent_rows_and_run_records_older_than_the_period_are_deleted_and_nothing_else(
    runtime: Runtime, engine: Engine, clock: FixedClock
) -> None:
    gateway = FakeGateway()
    old = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Old amount_pct=25")
    drain(runtime, gateway)  # its fan-out and two cards: sent now, 100 days before the run
    with runtime.uow() as uow:
        uow.job_runs.claim("digests:long-ago", owner="w", now=clock.now())
        uow.outbox.add(notify(old.request_id, "U0GONE", notice=Notice.EXPIRED, event="x", version=1), now=clock.now())
        uow.commit()
    gateway.fail_next.append(DeliveryError("user_not_found", permanent=True))
    drain(runtime, gateway)  # that DM is dead: kept, someone may need to see why
    with runtime.uow() as uow:  # and one that waits for working hours, far away
        later = clock.now() + timedelta(days=200)
        uow.outbox.add(
            notify(old.request_id, "U0SAM", notice=Notice.EXPIRED, event="y", version=1, not_before=later), now=later
        )
        uow.commit()

    clock.advance(timedelta(days=20))
    recent = submit_request(runtime=runtime, kind="contract", requester="U0SAM", text="counterparty=Acme")
    drain(runtime, gateway)  # sent 80 days before the run: within the period
    with runtime.uow() as uow:
        uow.job_runs.claim("digests:recently", owner="w", now=clock.now())
        uow.commit()
    before = outbox(engine)
    requests, audit, messages = (count(engine, r) for r in (RequestRecord, AuditEventRecord, MessageRecord))

    clock.advance(timedelta(days=80))
    assert run_retention(runtime, 90) is True

    old_sent = {k for k, status in before.items() if k.startswith(f"req:{old.request_id}:") and status == "sent"}
    assert len(old_sent) == 3  # the fan-out and both cards
    assert outbox(engine) == {k: v for k, v in before.items() if k not in old_sent}
    assert any(k.startswith(f"req:{recent.request_id}:") for k in outbox(engine))
    assert sorted(outbox(engine).values()).count("dead") == 1
    assert job_runs(engine) == {"digests:recently", next(k for k in job_runs(engine) if k.startswith("retention:"))}
    assert (count(engine, RequestRecord), count(engine, AuditEventRecord)) == (requests, audit)
    assert count(engine, MessageRecord) == messages  # the open request's cards can still be updated
    assert verify_audit(uow=runtime.uow) is None


def test_one_worker_prunes_per_hour_and_each_run_is_reported(engine: Engine, runtime: Runtime) -> None:
    recorder = Recorder()
    observed = Runtime(uow=runtime.uow, governance=runtime.governance, clock=runtime.clock, observer=recorder)  # type: ignore[arg-type]
    assert run_retention(observed, 90) is True
    assert run_retention(observed, 90) is False  # another worker's run, same hour
    assert recorder.runs == [(RETENTION_JOB, "ok"), (RETENTION_JOB, "skipped")]
