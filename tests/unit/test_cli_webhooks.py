"""`signoff webhooks test | list | enable | redeliver` against a real local receiver and a SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.outbox import Intent, IntentKind
from bot.domain.webhooks import delivery_key
from bot.governance_file import load_governance_file
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.unit.test_check_errors import BASE
from tests.webhook_receiver import SECRET, Receiver, Reply, receiving


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with receiving() as receiver:
        config = tmp_path / "signoff.yaml"
        config.write_text(
            BASE + "webhooks:\n"
            f"  - {{id: crm, url: '{receiver.url('/crm')}', secret_env: SIGNOFF_CLI_SECRET}}\n"
            f"  - {{id: ads, url: '{receiver.url('/ads')}', secret_env: SIGNOFF_CLI_SECRET}}\n"
        )
        monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
        monkeypatch.setenv("SIGNOFF_CLI_SECRET", SECRET)
        monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
        monkeypatch.chdir(tmp_path)
        yield receiver


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_test_sends_a_signed_ping_and_prints_the_answer(receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    receiver.script = [Reply(200, "pong " * 100)]
    code, out, err = run(capsys, "webhooks", "test", "crm")
    assert (code, err) == (0, "")
    assert out.startswith("HTTP 200: pong pong") and len(out) < 220  # a bounded bit of the body
    (ping,) = receiver.of("/crm")
    assert ping.verified and ping.message_id.startswith("msg_")
    assert ping.body["type"] == "ping" and ping.body["data"] == {"subscription": "crm"}

    receiver.script = [Reply(503, "maintenance")]
    code, out, err = run(capsys, "webhooks", "test", "crm")
    assert (code, out) == (1, "HTTP 503: maintenance\n")
    assert err == "signoff webhooks test: crm answered HTTP 503, not 2xx\n"


def test_test_names_an_unknown_subscription_a_missing_secret_and_no_answer(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "webhooks", "test", "crn")[1:] == (
        "",
        "signoff webhooks test: there is no webhook “crn” (webhooks: crm, ads)\n",
    )
    monkeypatch.delenv("SIGNOFF_CLI_SECRET")
    code, _, err = run(capsys, "webhooks", "test", "crm")
    assert code == 1 and err.startswith("signoff webhooks test: SIGNOFF_CLI_SECRET is not set;")
    assert len(err.splitlines()) == 1


def test_list_shows_each_subscription_and_enable_brings_a_disabled_one_back(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    upgrade(engine)
    governance = load_governance_file(tmp_path / "signoff.yaml")
    with SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)() as uow:
        uow.webhooks.disable("ads", now=datetime.now(UTC), reason="HTTP 410: gone")
        uow.commit()
    engine.dispose()
    code, out, _ = run(capsys, "webhooks", "list")
    assert code == 0
    assert [line.split("\t")[:4] for line in out.splitlines()] == [
        ["crm", "enabled", "pending 0", "dead 0"],
        ["ads", "disabled (HTTP 410: gone)", "pending 0", "dead 0"],
    ]
    assert run(capsys, "webhooks", "enable", "ads")[:2] == (0, "webhook ads enabled\n")
    assert run(capsys, "webhooks", "enable", "ads")[:2] == (0, "webhook ads was already enabled\n")
    assert "ads\tenabled" in run(capsys, "webhooks", "list")[1]
    assert run(capsys, "webhooks", "enable", "nope")[0] == 1


def test_redeliver_queues_dead_deliveries_again_and_enable_says_how_many_wait(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    upgrade(engine)
    governance = load_governance_file(tmp_path / "signoff.yaml")
    early, late = datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    with SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)() as uow:
        uow.webhooks.disable("ads", now=early, reason="HTTP 410: gone")
        for n, at in ((1, early), (2, late)):
            key = delivery_key("ads", n, "request.decided", 1)
            uow.outbox.add(Intent(IntentKind.WEBHOOK, key, {"subscription": "ads"}, n), now=at)
        for item in uow.outbox.claim_due(now=late, limit=10, lease=timedelta(seconds=15)):
            uow.outbox.mark_dead(item.id, now=late, error="webhook ads is disabled")
        uow.commit()
    engine.dispose()
    capsys.readouterr()  # what setting up the database logged (after other tests configured logging)

    code, out, err = run(capsys, "webhooks", "redeliver", "ads")
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == (  # (lines before it: logging other tests configured)
        "signoff webhooks redeliver: webhook “ads” is disabled; run `signoff webhooks enable ads` first"
    )
    assert run(capsys, "webhooks", "enable", "ads")[:2] == (
        0,
        "webhook ads enabled\n2 dead deliveries wait to be sent again: signoff webhooks redeliver ads\n",
    )
    with pytest.raises(SystemExit) as refused:  # argparse's usage error, exit status 2
        main(["webhooks", "redeliver", "ads", "--since", "yesterday"])
    assert refused.value.code == 2
    assert "“yesterday” is not an ISO 8601 time (e.g. 2026-12-01T10:00Z)" in capsys.readouterr().err
    assert run(capsys, "webhooks", "redeliver", "ads", "--since", "2026-12-01T10:00Z")[:2] == (
        0,
        "1 dead deliveries of ads queued again (with their original webhook-id)\n",
    )
    assert "ads\tenabled\tpending 1\tdead 1" in run(capsys, "webhooks", "list")[1]
    assert run(capsys, "webhooks", "redeliver", "ads")[1].startswith("1 dead deliveries of ads queued again")
    assert "ads\tenabled\tpending 2\tdead 0" in run(capsys, "webhooks", "list")[1]
    assert run(capsys, "webhooks", "redeliver", "nope")[0] == 1
