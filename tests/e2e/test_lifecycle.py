"""Starting and stopping every long-running role as an operator (or an orchestrator) does it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.emulator import SlackEmulator
from bot.slack.socket_mode_emulator import SocketModeEmulator
from tests.conftest import ROOT
from tests.e2e.conftest import SECRET, WAIT_SECONDS, free_port, start_serve, stop
from tests.services.conftest import LIFECYCLE


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def role_env(tmp: Path, slack_url: str, **extra: str) -> dict[str, str]:
    config = tmp / "signoff.yaml"
    config.write_text(LIFECYCLE)
    return {
        **{k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"},
        "SLACK_BOT_TOKEN": "xoxb-e2e",
        "SLACK_SIGNING_SECRET": SECRET,
        "SIGNOFF_SLACK_API_URL": slack_url,
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_CONFIG": str(config),
        "SIGNOFF_PORT": str(free_port()),
        **extra,
    }


def start_worker(tmp: Path, slack: SlackEmulator) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=ROOT,
        env=role_env(tmp, slack.api_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert "worker running" in worker.stdout.readline(), stop(worker)  # the line it prints once it is up
    return worker


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("args", [("serve",), ("serve", "--no-worker")], ids=" ".join)
def test_serve_stops_with_exit_0(tmp_path: Path, slack: SlackEmulator, args: tuple[str, ...], sig: int) -> None:
    served = start_serve(tmp_path, slack, args=args)
    assert served.command("/request", "discount account=A amount_pct=5", user="U0SAM").status == 200
    stop(served.process, sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_stops_with_exit_0(tmp_path: Path, slack: SlackEmulator, sig: int) -> None:
    stop(start_worker(tmp_path, slack), sig)


def test_sigterm_lets_the_delivery_in_flight_finish(tmp_path: Path, slack: SlackEmulator) -> None:
    slack.fail("chat.postMessage", delay=3.0)  # the first card takes 3 s to post
    served = start_serve(tmp_path, slack)
    # The digest run at start must be over before the request is filed: a run after it would queue
    # the approvers' digests into the same batch (after 09:00, under load), and the delivery in
    # flight at SIGTERM would be a digest. The next run is a minute away.
    assert _digests_ran(tmp_path / "signoff.db", within=WAIT_SECONDS)
    assert "sent to *finance*" in served.command("/request", "discount account=A amount_pct=25", user="U0SAM").body
    assert slack.wait_for(lambda s: len(s.calls_to("conversations.open")) >= 1, timeout=WAIT_SECONDS)
    started = time.monotonic()
    log = stop(served.process, signal.SIGTERM)  # while the first card is on its way
    assert time.monotonic() - started < 12
    assert len([c for c in slack.calls_to("chat.postMessage") if c.event_type == "signoff_card"]) == 2  # both cards
    with sqlite3.connect(tmp_path / "signoff.db") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM outbox WHERE kind = 'post_card'")]
    assert statuses == ["sent", "sent"], log  # and were recorded: a restart sends neither again


def _digests_ran(db: Path, *, within: float) -> bool:
    """Whether a digest run was claimed (and committed) in ``db`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(db)) as connection:
            try:
                if connection.execute("SELECT 1 FROM job_runs WHERE key LIKE 'digests:%'").fetchone():
                    return True
            except sqlite3.OperationalError:  # the migrations have not created the table yet
                pass
        threading.Event().wait(0.05)  # a database file has no event to wait on
    return False


def run_role(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path, slack: SlackEmulator) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run_role(["serve", "--host", "127.0.0.1"], role_env(tmp_path, slack.api_url, SIGNOFF_PORT=port))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"signoff: SIGNOFF_PORT={port} cannot be used: the port is already in use on 127.0.0.1; "
        "it accepts a free port from 1 to 65535"
    ]


@pytest.mark.parametrize("role", [["serve"], ["worker"]])
def test_unreachable_slack_is_a_bounded_retry_then_one_line(tmp_path: Path, role: list[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    env = role_env(tmp_path, closed, SIGNOFF_SLACK_STARTUP_SECONDS="1")
    done = run_role(role, env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"signoff: Slack does not answer at SIGNOFF_SLACK_API_URL={closed}")
    assert "token` will be unused" not in done.stderr


def test_a_refused_app_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with SlackEmulator(socket_mode=SocketModeEmulator()) as slack:
        done = run_role(["serve"], role_env(tmp_path, slack.api_url, SLACK_APP_TOKEN="xoxb-not-an-app-token"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "signoff: SLACK_APP_TOKEN was refused by Slack (not_allowed_token_type); "
        "it accepts this app's app-level token (xapp-…) with the connections:write scope"
    )
