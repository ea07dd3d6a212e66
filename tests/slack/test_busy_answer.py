"""The acknowledgement tells the truth when the database is locked by someone else.

Another connection holds SQLite's write lock for longer than an interactive use case may wait
(``INTERACTIVE_DB_WAIT_SECONDS``). ``/request`` with text and a form submission are answered
within Slack's 3 s, say "busy", and store nothing, not even once the lock is released; sent
again (same trigger, same form, or Slack's retry with ``X-Slack-Retry-Num``) they file exactly
one request.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import INTERACTIVE_DB_WAIT_SECONDS, Signoff, build_signoff
from bot.slack import prompt_ack
from bot.slack.blocks import REQUEST_VIEW
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import settings_for
from tests.slack.wsgi import Answer, drain, form, interaction, post, signed

BUSY = "Signoff is busy right now and nothing was saved; please try again in a moment"
#: Slack shows the person an error when the answer takes longer than this.
SLACK_ACK_SECONDS = 3.0


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    built = build_signoff(settings_for(tmp_path, slack))
    yield built
    built.engine.dispose()


def requests_stored(signoff: Signoff) -> int:
    with sqlite3.connect(str(signoff.engine.url.database)) as connection:
        return int(connection.execute("SELECT count(*) FROM requests").fetchone()[0])


def slash_request(trigger: str) -> bytes:
    return form(
        command="/request",
        text="discount account=Acme amount_pct=25",
        user_id="U0SAM",
        trigger_id=trigger,
        channel_id="C1",
    )


def form_submission(view_id: str) -> bytes:
    values = {
        "account": {"value": {"type": "plain_text_input", "value": "Acme"}},
        "amount_pct": {"value": {"type": "number_input", "value": "25"}},
    }
    view = {
        "id": view_id,
        "type": "modal",
        "callback_id": REQUEST_VIEW,
        "private_metadata": json.dumps({"kind": "discount"}),
        "state": {"values": values},
    }
    return interaction({"type": "view_submission", "user": {"id": "U0SAM"}, "view": view})


def timed(signoff: Signoff, body: bytes, **headers: str) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = post(signoff.wsgi(), body, {**signed(body), **headers})
    return answer, time.monotonic() - started


def test_a_locked_database_is_answered_busy_in_time_and_a_retry_files_once(signoff: Signoff) -> None:
    assert INTERACTIVE_DB_WAIT_SECONDS < SLACK_ACK_SECONDS
    holder = sqlite3.connect(str(signoff.engine.url.database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, outside Signoff's own queue
    try:
        typed, typed_took = timed(signoff, slash_request("trigger-A"))
        submitted, form_took = timed(signoff, form_submission("V0FORM"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert typed == Answer(200, f":no_entry: {BUSY}")
    assert submitted.json() == {"response_action": "errors", "errors": {"account": BUSY}}
    assert typed_took < SLACK_ACK_SECONDS and form_took < SLACK_ACK_SECONDS, (typed_took, form_took)
    drain(signoff.bolt)
    assert requests_stored(signoff) == 0  # what they were told: nothing was saved

    first, _ = timed(signoff, slash_request("trigger-A"))
    assert "sent to *finance*" in first.body and "already filed" not in first.body
    retried, _ = timed(
        signoff, slash_request("trigger-A"), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retried.body == first.body.replace(".\n_", ". (already filed: this is the same request)\n_", 1)
    assert requests_stored(signoff) == 1

    filed, _ = timed(signoff, form_submission("V0FORM"))
    again, _ = timed(signoff, form_submission("V0FORM"))
    assert filed.json()["response_action"] == again.json()["response_action"] == "update"
    assert "already filed" in json.dumps(again.json())
    assert requests_stored(signoff) == 2


TOO_SLOW = "That took too long, so nothing was saved; please try again"


def test_work_past_the_answer_deadline_is_answered_and_stores_nothing(
    signoff: Signoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A use case still running when its answer is due (slow rules, say) was answered 200-empty yet stored.

    With the whole 3 s kept as margin, every answer is due the moment Bolt takes the request:
    the typed request, the form and the reason form are each told "took too long" in time, and
    nothing is stored; with the margin restored, the same trigger files one request.
    """
    monkeypatch.setattr(prompt_ack, "ANSWER_MARGIN", SLACK_ACK_SECONDS)
    typed, typed_took = timed(signoff, slash_request("trigger-late"))
    submitted, form_took = timed(signoff, form_submission("V0LATE"))
    assert typed == Answer(200, f":no_entry: {TOO_SLOW}")
    assert submitted.json() == {"response_action": "errors", "errors": {"account": TOO_SLOW}}
    assert typed_took < SLACK_ACK_SECONDS and form_took < SLACK_ACK_SECONDS, (typed_took, form_took)
    drain(signoff.bolt)
    assert requests_stored(signoff) == 0
    monkeypatch.undo()
    first, _ = timed(signoff, slash_request("trigger-late"))
    assert "sent to *finance*" in first.body
    assert requests_stored(signoff) == 1
