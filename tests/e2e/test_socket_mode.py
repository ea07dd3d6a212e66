"""Socket Mode: `signoff serve` with SLACK_APP_TOKEN connects to a local WebSocket speaking Slack's envelopes."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from bot.slack.emulator import SlackEmulator
from bot.slack.socket_mode_emulator import SocketModeEmulator
from tests.e2e.conftest import WAIT_SECONDS, start_serve, stop


def test_envelopes_are_acknowledged_with_the_outcome_and_health_still_answers(tmp_path: Path) -> None:
    socket_mode = SocketModeEmulator()
    with SlackEmulator(socket_mode=socket_mode) as slack:
        served = start_serve(tmp_path, slack, extra_env={"SLACK_APP_TOKEN": "xapp-e2e"})
        try:
            assert socket_mode.wait_connected(timeout=WAIT_SECONDS)
            with urllib.request.urlopen(f"{served.url}/healthz", timeout=5) as health:
                assert health.status == 200
            command = {
                "command": "/request",
                "text": "discount account=Acme amount_pct=5",
                "user_id": "U0SAM",
                "channel_id": "C0GENERAL",
                "team_id": "T0EMULATOR",
                "trigger_id": "socket-trigger-1",
                "response_url": slack.response_url("socket"),
            }
            envelope = socket_mode.send_envelope("slash_commands", command)
            ack = socket_mode.wait_ack(envelope, timeout=WAIT_SECONDS)
            assert ack is not None
            assert "approved by rule `small`" in json.dumps(ack)
            redelivered = socket_mode.send_envelope("slash_commands", command)  # the same delivery again
            again = socket_mode.wait_ack(redelivered, timeout=WAIT_SECONDS)
            assert again == ack  # one request, the same answer

            event = {
                "type": "event_callback",
                "team_id": "T0EMULATOR",
                "event": {"type": "app_home_opened", "user": "U0FIN1", "tab": "home"},
            }
            socket_mode.send_envelope("events_api", event, accepts_response_payload=False)
            assert slack.wait_for(lambda s: "U0FIN1" in s.home_views, timeout=WAIT_SECONDS)
        finally:
            stop(served.process)
