"""End to end: the request form's live preview over HTTP, `signoff serve` answering Slack's signed
``block_actions`` from the form and updating it with the view's hash; the submission files what it said."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.emulator import SlackEmulator
from bot.slack.preview_blocks import PREVIEW_BLOCK
from tests.e2e.conftest import WAIT_SECONDS, SignoffProcess, start_serve, stop
from tests.slack.test_busy_answer import SLACK_ACK_SECONDS

USER = "U0PREVIEW"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[SignoffProcess]:
    with SlackEmulator() as slack:
        signoff = start_serve(tmp_path, slack)
        try:
            yield signoff
        finally:
            stop(signoff.process)


def preview_of(slack: SlackEmulator, view_id: str) -> str:
    return str(next(b for b in slack.views[view_id]["blocks"] if b.get("block_id") == PREVIEW_BLOCK)["text"]["text"])


def test_typing_in_the_form_previews_the_outcome_and_the_submission_files_it(served: SignoffProcess) -> None:
    slack = served.slack
    served.command("/request", "discount", user=USER)
    assert slack.wait_for(lambda s: len(s.views) == 1, timeout=WAIT_SECONDS)
    [view_id] = slack.views
    assert "Still needed: Account, Amount pct" in preview_of(slack, view_id)

    for block_id, value, said in [
        ("account", "Acme", "Still needed: Amount pct"),
        ("amount_pct", "45", ":x: Rejected by `over-limit` — Too much."),
    ]:
        payload = slack.enter(view_id, block_id, value, user=USER)
        assert payload is not None
        updates = len(slack.calls_to("views.update"))
        started = time.monotonic()
        reply = served.interact(payload)
        assert reply.status == 200 and time.monotonic() - started < SLACK_ACK_SECONDS
        assert slack.wait_for(lambda s, seen=updates: len(s.calls_to("views.update")) > seen, timeout=WAIT_SECONDS)
        assert slack.calls_to("views.update")[-1].args["hash"] == payload["view"]["hash"]
        assert said in preview_of(slack, view_id)

    filed = served.interact(slack.modals.submission(view_id, user=USER)).json()
    assert filed["response_action"] == "update"
    assert "rejected by rule `over-limit`" in filed["view"]["blocks"][0]["text"]["text"]
