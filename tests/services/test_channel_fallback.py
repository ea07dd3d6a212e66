"""A group channel the bot cannot post in: the group's eligible people get DM cards, the owner one notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.decide import decide_request
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import escalate_due
from tests.conftest import governance_from, make_runtime
from tests.fakes import FakeGateway, drain
from tests.services.conftest import LIFECYCLE

CHANNEL_ERRORS = ["not_in_channel", "channel_not_found", "is_archived", "restricted_action"]


@pytest.mark.parametrize("code", CHANNEL_ERRORS)
def test_the_card_reaches_each_eligible_member_by_dm_and_the_owner_hears_once(runtime: Runtime, code: str) -> None:
    request_id = submit_request(
        runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Globex"}
    ).request_id
    slack = FakeGateway(channel_errors={"C0LEGAL": code})
    drain(runtime, slack)
    assert sorted(d.target for d in slack.of("post")) == ["U0LAW1", "U0LAW2"]  # legal's members, once each
    (notice,) = slack.of("notify")
    assert notice.target == "U0LAWLEAD"
    assert "C0LEGAL" in notice.text and code in notice.text and f"REQ-{request_id}" in notice.text

    # A new round (the requester amends) finds the channel still unreachable: the same people's cards
    # are brought up to date, and the owner is not told again.
    amend_request(runtime=runtime, request_id=request_id, requester="U0SAM", text="counterparty=Initech")
    drain(runtime, slack)
    assert sorted(d.target for d in slack.of("post")) == ["U0LAW1", "U0LAW2"]
    assert [d.target for d in slack.of("notify") if "C0LEGAL" in d.text] == ["U0LAWLEAD"]

    decide_request(runtime=runtime, request_id=request_id, voter="U0LAW2", verdict=Verdict.APPROVE)
    drain(runtime, slack)
    closed = {d.target for d in slack.of("update") if d.card is not None and not d.card.is_open}
    assert closed == {ref.channel + "/" + ref.ts for ref in slack.posted.values() if ref.ts}


def test_a_request_no_longer_pending_gets_no_fallback_cards(runtime: Runtime) -> None:
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Globex"})
    slack = FakeGateway(channel_errors={"C0LEGAL": "is_archived"})
    relay_outbox(runtime=runtime, gateway=FakeGateway())  # the fan-out queues the channel card
    decide_request(runtime=runtime, request_id=1, voter="U0LAW1", verdict=Verdict.APPROVE)
    drain(runtime, slack)
    assert slack.of("post") == []  # decided before its card went out: nobody needs a DM card
    assert [d.target for d in slack.of("notify") if "C0LEGAL" in d.text] == ["U0LAWLEAD"]


def test_a_copy_that_can_no_longer_be_edited_does_not_keep_the_others_stale(runtime: Runtime) -> None:
    request_id = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25"
    ).request_id
    slack = FakeGateway()
    drain(runtime, slack)
    assert len(slack.of("post")) == 2
    slack.channel_errors["D0FIN1"] = "is_archived"  # that copy's conversation went away
    decide_request(runtime=runtime, request_id=request_id, voter="U0FIN2", verdict=Verdict.APPROVE)
    drain(runtime, slack)
    closed = [d.target for d in slack.of("update") if d.card is not None and not d.card.is_open]
    assert [target.split("/")[0] for target in closed] == ["D0FIN2"]


def test_an_escalation_channel_the_bot_is_not_in_reaches_that_group_by_dm(engine: Engine, clock: FixedClock) -> None:
    with_channel = LIFECYCLE.replace("cmo-office: {members: [U0CMO]}", "cmo-office: {members: [U0CMO], channel: C0CMO}")
    runtime = make_runtime(engine, governance_from(with_channel), clock)
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    slack = FakeGateway(channel_errors={"C0CMO": "is_archived"})
    drain(runtime, slack)
    clock.advance(timedelta(hours=8))  # the SLA: the CMO office joins, through its channel
    assert escalate_due(runtime=runtime) == 1
    clock.advance(timedelta(days=1))  # past any working-hours hold of the escalation card
    drain(runtime, slack)
    assert sorted(d.target for d in slack.of("post")) == ["U0CMO", "U0FIN1", "U0FIN2"]
    assert [d.target for d in slack.of("notify") if "C0CMO" in d.text] == ["U0FINLEAD"]
