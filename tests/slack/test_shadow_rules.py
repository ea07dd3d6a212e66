"""Shadow rules through the real app (DESIGN §3.7): `/signoff status` and `/signoff explain` say what
a shadow rule would have done; the request itself goes to people as if the rule were not there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import dispatch, settings_for

DEALS = """
version: 1
timezone: Europe/Berlin
groups: {finance: {members: [U0FIN1]}}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      deal_value: {type: money, currency: EUR, required: true}
    approvers: finance
    rules:
      - {id: small-deals, when: {deal_value: {lt: 1000}}, decide: approve, reason: Small deals are pre-approved.}
      - {id: small-budget, when: {deal_value: {lt: 5000}}, decide: approve, reason: Trial., mode: shadow}
"""

FORM = {"user_id": "U0SAM", "channel_id": "C1", "trigger_id": "t1"}


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    settings = settings_for(tmp_path, slack)
    Path(settings.config).write_text(DEALS)
    built = build_signoff(settings)
    yield built
    built.engine.dispose()


def test_status_shows_what_a_shadow_rule_would_have_done_and_the_request_still_goes_to_people(
    signoff: Signoff,
) -> None:
    reply = dispatch(signoff, {**FORM, "command": "/request", "text": "discount account=Acme deal_value=2000"})
    assert "`REQ-1` sent to *finance*" in reply

    def status(user: str) -> str:
        return dispatch(signoff, {**FORM, "user_id": user, "command": "/signoff", "text": "status REQ-1"})

    owner = status("U0FINLEAD")  # the owner runs the trial: sees it while people decide
    assert "Shadow: shadow rule `small-budget` would have approved (a trial: it decided nothing)" in owner
    assert "— pending" in owner
    # whoever decides, or waits on, the request is not anchored by the trial while it is open
    assert "small-budget" not in status("U0FIN1") and "small-budget" not in status("U0SAM")
    assert "small-budget" not in status("U0EVE")  # an outsider sees only id and state

    decide_request(runtime=signoff.runtime, request_id=1, voter="U0FIN1", verdict=Verdict.APPROVE)
    assert "would have approved" in status("U0SAM") and "would have approved" in status("U0FIN1")  # decided


def test_status_of_a_request_no_shadow_rule_matched_says_nothing_of_shadows(signoff: Signoff) -> None:
    dispatch(signoff, {**FORM, "command": "/request", "text": "discount account=Acme deal_value=9000"})
    status = dispatch(signoff, {**FORM, "command": "/signoff", "text": "status REQ-1"})
    assert "REQ-1" in status and "Shadow" not in status


def test_explain_in_slack_names_the_shadow_verdict(signoff: Signoff) -> None:
    reply = dispatch(signoff, {**FORM, "command": "/signoff", "text": "explain discount account=Acme deal_value=2000"})
    assert "Outcome: needs people: finance (1 approval)" in reply
    assert "Shadow: shadow rule `small-budget` would have approved" in reply
    assert "small-budget (approve, shadow: never decides)" in reply
