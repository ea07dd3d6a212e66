"""Scheduled work across processes: two `signoff worker`s on PostgreSQL send each digest exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.cli import main
from bot.domain.clock import SystemClock
from bot.governance_file import load_governance_text
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.slack.emulator import SlackEmulator
from bot.slack.emulator_spec import Call
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.records import OutboxRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import ROOT, database_url_for
from tests.e2e.conftest import free_port, stop
from tests.services.conftest import LIFECYCLE

# Every minute is a digest period, nothing waits for working hours, and the SLA is one second,
# so the sweeps escalate (and remind) as soon as the workers start.
EVERY_MINUTE = LIFECYCLE.replace(
    "timezone: Europe/Berlin\n", 'timezone: Europe/Berlin\ndigest: "* * * * *"\nworking_hours: always\n'
).replace("    sla: 8h\n", "    sla: 1s\n")


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    yield from database_url_for("postgresql", tmp_path)


def file_requests(url: str, config: Path, count: int) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    governance = load_governance_text(config.read_text())
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=SystemClock())
    for n in range(count):
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=Acme{n} amount_pct=25")
    engine.dispose()


def digest_keys(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        query = select(OutboxRecord.idempotency_key).where(OutboxRecord.kind == "digest", OutboxRecord.status == "sent")
        keys = list(connection.execute(query).scalars())
    engine.dispose()
    return keys


def reminder_calls_in(slack: SlackEmulator) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if str(c.args.get("text", "")).startswith("Reminder:")]


def test_two_workers_send_every_digest_exactly_once_over_several_periods(tmp_path: Path, postgres_url: str) -> None:
    config = tmp_path / "signoff.yaml"
    config.write_text(EVERY_MINUTE)
    file_requests(postgres_url, config, 3)
    with SlackEmulator() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"},
            "SLACK_BOT_TOKEN": "xoxb-workers",
            "SIGNOFF_SLACK_API_URL": slack.api_url,
            "SIGNOFF_DATABASE_URL": postgres_url,
            "SIGNOFF_CONFIG": str(config),
            "SIGNOFF_DIGEST_CHECK_SECONDS": "2",
        }
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "worker", "--host", "127.0.0.1"],
                cwd=ROOT,
                env={**env, "SIGNOFF_PORT": str(free_port())},  # each answers /healthz on a port of its own
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 150
            while len({key.rsplit(":", 3)[-3] for key in digest_keys(postgres_url)}) < 2:  # two periods seen
                assert time.monotonic() < deadline, digest_keys(postgres_url)
                assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers if w.stderr]
                time.sleep(0.5)  # polling the database that two other processes write: no event to wait on
            assert slack.wait_for(lambda s: len(digests_sent(s)) >= len(digest_keys(postgres_url)), timeout=30)
            # The SLA sweep runs on its own period: wait for its reminders too before stopping the workers.
            reminded = {"D0FIN1", "D0FIN2"}
            assert slack.wait_for(lambda s: {c.args["channel"] for c in reminder_calls_in(s)} >= reminded, timeout=45)
        finally:
            for worker in workers:
                stop(worker)
        keys = digest_keys(postgres_url)
        sent = digests_sent(slack)
        reminder_calls = reminder_calls_in(slack)
    reminders = Counter((c.args["channel"], c.args["text"]) for c in reminder_calls)
    assert reminders and set(reminders.values()) == {1}  # every reminder once, however many workers
    assert {channel for channel, _ in reminders} >= {"D0FIN1", "D0FIN2"}
    per_recipient = Counter(channel for channel in sent)
    periods = Counter(key.split(":")[1] for key in keys)  # digest:<person>:<period>
    assert periods["U0FIN1"] >= 2 and periods["U0FIN2"] >= 2
    assert {"D" + person[1:]: count for person, count in periods.items()} == dict(per_recipient)  # one per period


def digests_sent(slack: SlackEmulator) -> list[str]:
    return [
        c.args["channel"]
        for c in slack.calls_to("chat.postMessage")
        if "wait on your decision" in c.args.get("text", "")
    ]


def test_digest_now_sends_this_periods_digests_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "signoff.yaml"
    config.write_text(LIFECYCLE)  # weekday mornings, working hours: an operator's run ignores them
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    file_requests(url, config, 2)
    with SlackEmulator() as slack:
        for name, value in {
            "SLACK_BOT_TOKEN": "xoxb-cli",
            "SIGNOFF_SLACK_API_URL": slack.api_url,
            "SIGNOFF_DATABASE_URL": url,
            "SIGNOFF_CONFIG": str(config),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
        assert main(["digest", "--now"]) == 0
        assert "digests: 2 sent now, 0 had been sent already" in capsys.readouterr().out
        assert sorted(digests_sent(slack)) == ["D0FIN1", "D0FIN2"]
        assert main(["digest", "--now"]) == 0
        assert "digests: 0 sent now, 2 had been sent already" in capsys.readouterr().out
        assert main(["digest", "--now", "--group", "nobody"]) == 1
    assert len(digests_sent(slack)) == 2
