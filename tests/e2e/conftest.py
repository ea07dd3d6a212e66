"""`signoff serve` as a subprocess over HTTP, its Web API pointed at the emulator, requests signed like Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.emulator import Message, SlackEmulator
from tests.conftest import ROOT
from tests.processes import free_port as free_port  # re-exported: e2e tests import it from here
from tests.services.conftest import LIFECYCLE

SECRET = "e2e-signing-secret"
#: The longest a test waits for something `signoff serve` does in the background.
WAIT_SECONDS = 15.0


def request_cards(slack: SlackEmulator, *, channel: str | None = None, ref: str | None = None) -> list[Message]:
    """The request cards Signoff posted (in ``channel``, of request ``ref``), by their metadata.

    Not "any message with buttons" or "any message naming the request": a digest has both,
    and the digest run at start (or at a minute's turn) may post one in the middle of a test.
    """
    return [
        m
        for m in slack.messages_in(channel)
        if m.event_type == "signoff_card" and (ref is None or f"`{ref}`" in json.dumps(m.blocks))
    ]


def notices_in(slack: SlackEmulator, channel: str) -> list[Message]:
    """The DMs about requests and webhooks (``signoff_notice``) in ``channel``: not a digest, nor an owner's
    weekly summary (on a Monday in working hours a worker's first run may send one mid-test)."""
    return [m for m in slack.messages_in(channel) if m.event_type == "signoff_notice"]


def has_buttons(message: Message) -> bool:
    return any(block.get("type") == "actions" for block in message.blocks)


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SignoffProcess:
    """A running `signoff serve`, and ways to talk to it as Slack would."""

    def __init__(self, url: str, slack: SlackEmulator, process: subprocess.Popen[str]):
        self.url = url
        self.slack = slack
        self.process = process
        self._triggers = 0

    def trigger(self) -> str:
        self._triggers += 1
        return f"trigger-{self._triggers}-{time.monotonic_ns()}"

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None, secret: str = SECRET) -> Reply:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            f"{self.url}/slack/events",
            data=body,
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode())

    def command(self, command: str, text: str, *, user: str = "U0SAM", trigger: str | None = None, **kw: Any) -> Reply:
        form = {
            "command": command,
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": "C0GENERAL",
            "team_id": "T0EMULATOR",
            "trigger_id": trigger or self.trigger(),
            "response_url": self.slack.response_url(f"cmd-{user}"),
            **kw,
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> Reply:
        payload.setdefault("trigger_id", self.trigger())
        payload.setdefault("team", {"id": "T0EMULATOR"})
        payload.setdefault("api_app_id", "A0SIGNOFF")
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, *, user: str) -> Reply:
        return self.interact(
            {
                "type": "block_actions",
                "user": {"id": user},
                "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
                "response_url": self.slack.response_url(f"click-{user}"),
                "container": {"type": "message"},
                "channel": {"id": "D0X"},
            }
        )

    def submit_view(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> Reply:
        state = {"values": {block: {"value": element} for block, element in values.items()}}
        return self.interact({"type": "view_submission", "user": {"id": user}, "view": {**view, "state": state}})

    def event(self, event: dict[str, Any]) -> Reply:
        body = {
            "type": "event_callback",
            "team_id": "T0EMULATOR",
            "api_app_id": "A0SIGNOFF",
            "event": event,
            "event_id": f"Ev{time.monotonic_ns()}",
        }
        return self.post(json.dumps(body).encode(), "application/json")


def wait_until_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"signoff serve exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)  # polling a port that is not open yet: there is no event to wait on
    raise AssertionError("signoff serve did not answer /healthz in time")


def start_serve(
    tmp: Path, slack: SlackEmulator, *, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ("serve",)
) -> SignoffProcess:
    config = tmp / "signoff.yaml"
    if not config.exists():
        config.write_text(LIFECYCLE)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"},
        "SLACK_BOT_TOKEN": "xoxb-e2e",
        "SLACK_SIGNING_SECRET": SECRET,
        "SIGNOFF_SLACK_API_URL": slack.api_url,
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_CONFIG": str(config),
        "SIGNOFF_PORT": str(port),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args, "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process)
    return SignoffProcess(url, slack, process)


#: What ``wait_for_log`` has read of each process's stderr (by pid), for ``stop`` to return whole.
_LOG_READ: dict[int, str] = {}
#: Where, in ``_LOG_READ``, the line the last ``wait_for_log`` matched ends (by pid).
_MATCHED: dict[int, int] = {}


def wait_for_log(process: subprocess.Popen[str], text: str, timeout: float) -> bool:
    """Read the process's stderr until a line holding ``text`` appears (a bounded wait on its own words).

    Reads the pipe's bytes itself (``os.read`` once ``select`` says there are some), never through
    the text wrapper's ``readline``: that buffers what follows a line, and a line already in its
    buffer is one ``select`` no longer sees, so a wait for it would run out. Each call looks only
    at what was logged after the line an earlier call matched.
    """
    assert process.stderr is not None
    descriptor = process.stderr.fileno()
    _LOG_READ.setdefault(process.pid, "")
    start = _MATCHED.get(process.pid, 0)
    deadline = time.monotonic() + timeout
    while True:
        read = _LOG_READ[process.pid]
        found = read.find(text, start)
        if found >= 0 and "\n" in read[found:]:
            _MATCHED[process.pid] = read.index("\n", found) + 1
            return True
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            return False
        chunk = os.read(descriptor, 65536)
        if not chunk:  # the process closed its stderr (it ended)
            return False
        _LOG_READ[process.pid] = read + chunk.decode("utf-8", "replace")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    """Stop a running role with ``sig``; it must exit 0 within 15 s without a traceback. Returns its stderr.

    A process that had already ended (killed by the test) is only reaped.
    """
    running = process.poll() is None
    if running:
        process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=10)
        raise AssertionError(f"signoff did not stop within 15 s of signal {sig}") from None
    err = _LOG_READ.pop(process.pid, "") + (err or "")
    _MATCHED.pop(process.pid, None)
    if running:
        assert process.returncode == 0, f"exit {process.returncode} after signal {sig}:\n{err}"
        assert "Traceback" not in (err or ""), err  # None: the test sent stderr to a log file it reads itself
    return err or ""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignoffProcess]:
    with SlackEmulator() as slack:
        signoff = start_serve(tmp_path_factory.mktemp("serve"), slack)
        try:
            yield signoff
        finally:
            stop(signoff.process)
