"""Operations (DESIGN §10) against real processes: /readyz, /metrics, JSON logs, on serve and worker."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.slack.blocks import APPROVE
from bot.slack.emulator import SlackEmulator
from bot.slack.socket_mode_emulator import SocketModeEmulator
from tests.conftest import ROOT
from tests.e2e.conftest import (
    SECRET,
    WAIT_SECONDS,
    SignoffProcess,
    free_port,
    start_serve,
    stop,
    wait_until_healthy,
)
from tests.e2e.test_serve import wait_cards
from tests.services.conftest import LIFECYCLE

#: A field value no log line may ever show.
DISTINCTIVE = "Zebracorn4471"
TOKEN = "xoxb-e2e-ops-token"


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by (name, labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape_until(
    url: str, wanted: dict[str, dict[str, str]], timeout: float = WAIT_SECONDS, least: float = 1
) -> Samples:
    """/metrics once every sample in ``wanted`` (name → labels) is at ``least``, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = get(f"{url}/metrics")
        assert status == 200
        found = samples(body)
        if all((value(found, name, **labels) or 0) >= least for name, labels in wanted.items()):
            return found
        assert time.monotonic() < deadline, f"not all of {sorted(wanted)} in:\n{body}"
        time.sleep(0.05)  # background work (the relay, the scheduler) gives no event to wait on


def start(role: str, tmp: Path, slack: SlackEmulator, log: IO[str], **extra: str) -> tuple[subprocess.Popen[str], str]:
    """``signoff serve`` (HTTP) or ``signoff worker``, logging to ``log``; returns it and its base URL."""
    config = tmp / "signoff.yaml"
    if not config.exists():
        config.write_text(LIFECYCLE)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SIGNOFF_SLACK_API_URL": slack.api_url,
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_CONFIG": str(config),
        "SIGNOFF_PORT": str(port),
        **extra,
    }
    command = [sys.executable, "-m", "bot", role, "--host", "127.0.0.1"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process)
    return process, url


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def test_serve_is_ready_and_its_metrics_count_what_happened(slack: SlackEmulator, tmp_path: Path) -> None:
    with (tmp_path / "serve.log").open("w") as log:
        process, url = start("serve", tmp_path, slack, log, SIGNOFF_LOG_FORMAT="json")
        try:
            served = SignoffProcess(url, slack, process)
            assert get(f"{url}/readyz")[:3:2] == (200, "ready\n")
            assert served.command("/request", f"discount account={DISTINCTIVE} amount_pct=25").status == 200
            assert served.command("/request", "discount account=Small amount_pct=5").status == 200
            wait_cards(served, "REQ-1", 2)
            background = {
                "signoff_delivery_latency_seconds_count": {"effect": "post_card"},
                "signoff_job_runs_total": {"job": "signoff.retention", "result": "ok"},
            }
            found = scrape_until(url, background, least=1)
            found = scrape_until(url, {"signoff_delivery_latency_seconds_count": {"effect": "post_card"}}, least=2)
            status, content_type, _ = get(f"{url}/metrics")
        finally:
            stop(process)
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert value(found, "signoff_requests_total", kind="discount", outcome="route") == 1
    assert value(found, "signoff_requests_total", kind="discount", outcome="approve") == 1
    assert value(found, "signoff_decisions_total", kind="discount", by="rule", rule="small", verdict="approve") == 1
    assert value(found, "signoff_requests_pending", kind="discount") == 1
    assert value(found, "signoff_slack_ack_latency_seconds_count", type="command") == 2
    assert value(found, "signoff_delivery_latency_seconds_count", effect="post_card") == 2
    assert value(found, "signoff_job_runs_total", job="signoff.retention", result="ok") == 1


def test_json_logs_are_one_object_per_line_with_ids_and_no_secrets_or_field_values(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process, url = start("serve", tmp_path, slack, log, SIGNOFF_LOG_FORMAT="json")
        try:
            served = SignoffProcess(url, slack, process)
            slack.fail("views.open", error="expired_trigger_id")  # logged in the listener: the user is known
            assert served.command("/request", "", user="U0SAM").status == 200
            slack.fail("chat.postMessage", status=500, times=2)  # logged by the relay: the request is known
            assert served.command("/request", f"discount account={DISTINCTIVE} amount_pct=25").status == 200
            wait_cards(served, "REQ-1", 2)
            assert slack.wait_for(lambda s: len(s.responses) >= 1, timeout=WAIT_SECONDS)  # told via response_url
            served.click(APPROVE, "not-a-number", user="U0FIN1")  # an unexpected error, with traceback
        finally:
            stop(process)
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]  # every line is one JSON object
    assert records, "nothing was logged"
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(r.get("user_id") == "U0SAM" and "Slack refused views.open" in r["message"] for r in records)
    assert any(r.get("request_id") == "REQ-1" and r["logger"] == "bot.services.relay" for r in records)
    text = log_path.read_text()
    for secret in (DISTINCTIVE, TOKEN, SECRET):
        assert secret not in text


def test_a_worker_answers_health_readiness_and_metrics_and_says_when_the_schema_is_not_current(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    with (tmp_path / "worker.log").open("w") as log:
        process, url = start("worker", tmp_path, slack, log)
        try:
            assert get(f"{url}/healthz")[:3:2] == (200, "ok\n")
            assert get(f"{url}/readyz")[:3:2] == (200, "ready\n")
            scrape_until(url, {"signoff_job_runs_total": {"job": "signoff.sweeps", "result": "ok"}})
            with sqlite3.connect(tmp_path / "signoff.db") as database:  # as if newer code had migrated it
                database.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
            status, _, reason = get(f"{url}/readyz")
            assert status == 503
            assert "migrations not current" in reason and "from_the_future" in reason
            assert get(f"{url}/healthz")[0] == 200  # alive, only not ready
        finally:
            stop(process)


def test_readiness_says_when_the_database_is_unreachable(slack: SlackEmulator, tmp_path: Path) -> None:
    database = tmp_path / "signoff.db"
    with (tmp_path / "worker.log").open("w") as log:
        process, url = start("worker", tmp_path, slack, log)
        try:
            database.unlink()
            database.mkdir()  # the path is there, but no database can be opened at it
            status, _, reason = get(f"{url}/readyz")
        finally:
            stop(process)
    assert status == 503
    assert reason.startswith("not ready: database unreachable: OperationalError")


def test_in_socket_mode_readiness_and_metrics_answer_on_the_port_and_acks_are_timed(tmp_path: Path) -> None:
    socket_mode = SocketModeEmulator()
    with SlackEmulator(socket_mode=socket_mode) as slack:
        served = start_serve(tmp_path, slack, extra_env={"SLACK_APP_TOKEN": "xapp-e2e"})
        try:
            assert socket_mode.wait_connected(timeout=WAIT_SECONDS)
            command = {
                "command": "/request",
                "text": "discount account=Acme amount_pct=5",
                "user_id": "U0SAM",
                "channel_id": "C0GENERAL",
                "team_id": "T0EMULATOR",
                "trigger_id": "socket-trigger-ops",
                "response_url": slack.response_url("socket"),
            }
            assert socket_mode.wait_ack(socket_mode.send_envelope("slash_commands", command), timeout=WAIT_SECONDS)
            assert get(f"{served.url}/readyz")[:3:2] == (200, "ready\n")
            found = scrape_until(served.url, {"signoff_slack_ack_latency_seconds_count": {"type": "command"}})
        finally:
            stop(served.process)
    assert value(found, "signoff_requests_total", kind="discount", outcome="approve") == 1
