"""The relay delivering through the real Web API client to the emulator, Slack faults included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.slack.emulator import SlackEmulator
from bot.slack.gateway import SlackGateway, make_web_client, retry_after_seconds
from storage.records import OutboxRecord


def gateway_for(slack: SlackEmulator) -> SlackGateway:
    return SlackGateway(make_web_client(token="xoxb-test", base_url=slack.api_url, timeout=5))


def drain(runtime: Runtime, gateway: SlackGateway, clock: FixedClock, *, rounds: int = 30) -> None:
    """Relay until nothing is due, moving the clock past every backoff (bounded)."""
    for _ in range(rounds):
        report = relay_outbox(runtime=runtime, gateway=gateway)
        if not report.handled:
            with runtime.uow() as uow:
                if not uow.outbox.claim_due(now=clock.now() + timedelta(hours=1), limit=1, lease=timedelta(0)):
                    return
            clock.advance(timedelta(minutes=20))


def test_cards_go_to_dms_and_are_updated_in_place(runtime: Runtime, slack: SlackEmulator, clock: FixedClock) -> None:
    gateway = gateway_for(slack)
    request = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=&lt;!channel&gt; &amp; Co amount_pct=25"
    )
    drain(runtime, gateway, clock)
    posted = {m.channel: m for m in slack.messages.values()}
    assert set(posted) == {"D0FIN1", "D0FIN2"}
    card = posted["D0FIN1"]
    cells = [cell for b in card.blocks if b["type"] == "section" for cell in b.get("fields", [])]
    # Stored as typed, shown as typed: a plain_text value, which Slack never reads as markup.
    assert cells[:2] == [
        {"type": "mrkdwn", "text": "*Account*"},
        {"type": "plain_text", "text": "<!channel> & Co", "emoji": False},
    ]
    assert any(b["type"] == "actions" for b in card.blocks)

    decide_request(runtime=runtime, request_id=request.request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    drain(runtime, gateway, clock)
    for message in posted.values():
        assert message.updates == 1
        assert not any(b["type"] == "actions" for b in message.blocks)  # buttons gone
        assert "Approved* by <@U0FIN1>" in str(message.blocks)
    dms = slack.messages_in("D0SAM")
    assert [m.text for m in dms] == [f"{request.ref} was approved by <@U0FIN1>."]


def test_rate_limits_and_server_errors_still_deliver_each_card_once(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=2, times=2)
    slack.fail("chat.postMessage", status=500, times=5)
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    drain(runtime, gateway_for(slack), clock)
    assert len(slack.messages_in("C0LEGAL")) == 1
    statuses = [c.status for c in slack.calls_to("chat.postMessage", ok=None)]
    assert statuses.count(429) == 2 and statuses.count(500) == 5 and statuses[-1] == 200


@pytest.mark.parametrize(
    ("retry_after", "waits"),
    [(7, 7), (10**400, 600), (86_400 * 365 * 10_000, 600)],
    ids=["seconds", "beyond-a-float", "beyond-the-calendar"],
)
def test_a_retry_after_is_honoured_up_to_ten_minutes_and_never_crashes_the_relay(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock, engine: Engine, retry_after: int, waits: int
) -> None:
    """A hostile or broken Retry-After once made ``now + timedelta(seconds=…)`` overflow on every pass."""
    slack.fail("chat.postMessage", status=429, retry_after=retry_after)
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    relay_outbox(runtime=runtime, gateway=gateway_for(slack))  # the fan-out
    report = relay_outbox(runtime=runtime, gateway=gateway_for(slack))
    assert report.retried == 1
    with engine.connect() as connection:
        due = connection.execute(
            select(OutboxRecord.next_attempt_at).where(OutboxRecord.kind == "post_card")
        ).scalar_one()
    assert due.replace(tzinfo=None) == (clock.now() + timedelta(seconds=waits)).replace(tzinfo=None)
    drain(runtime, gateway_for(slack), clock)
    assert len(slack.messages_in("C0LEGAL")) == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        # unreadable: None, and the row backs off as after any failure (never "every second")
        *[(None, None), ("", None), ("soon", None), ("-5", None), ("nan", None), ("inf", None), ("1e400", None)],
        *[("Tue, 32 Dec 2026 10:55:14 GMT", None), ("10:55", None)],
        # delay-seconds and HTTP-date (RFC 9110 §10.2.3), at least 1 s and at most 600 s
        *[(" 30 ", 30), ("0.5", 1), ("0", 1), ("601", 600), ("99999999999999999999999", 600)],
        *[("Tue, 01 Dec 2026 10:02:00 GMT", 120), ("Tuesday, 01-Dec-26 10:02:00 GMT", 120)],
        *[
            ("Tue Dec  1 10:00:30 2026", 30),
            ("Tue, 01 Dec 2026 09:00:00 GMT", 1),
            ("Fri, 01 Jan 2100 00:00:00 GMT", 600),
        ],
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date_within_bounds(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds


def test_a_channel_that_is_gone_marks_the_row_dead_with_its_error(
    runtime: Runtime, slack: SlackEmulator, engine: Engine, clock: FixedClock
) -> None:
    slack.fail("chat.postMessage", error="channel_not_found")
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    drain(runtime, gateway_for(slack), clock)
    with engine.connect() as connection:
        row = connection.execute(
            select(OutboxRecord.status, OutboxRecord.last_error).where(
                OutboxRecord.kind == "post_card", OutboxRecord.idempotency_key.contains("C0LEGAL")
            )
        ).one()
    assert tuple(row) == ("dead", "chat.postMessage: channel_not_found")
    assert (
        len([c for c in slack.calls_to("chat.postMessage", ok=None) if c.args["channel"] == "C0LEGAL"]) == 1
    )  # not retried


def test_a_channel_the_bot_is_not_in_sends_dm_cards_and_tells_the_kind_owner(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    request = submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    drain(runtime, gateway_for(slack), clock)
    (notice,) = [m.text for m in slack.messages_in("D0LAWLEAD")]
    assert "C0LEGAL" in notice and "not_in_channel" in notice and request.ref in notice
    assert [len(slack.messages_in(dm)) for dm in ("D0LAW1", "D0LAW2")] == [1, 1]


REASON = "<!channel> see <https://evil.example|bank> & <@U0BOSS>"
ESCAPED_REASON = "&lt;!channel&gt; see &lt;https://evil.example|bank&gt; &amp; &lt;@U0BOSS&gt;"


@pytest.mark.parametrize(
    ("verdict", "reason", "expected"),
    [
        (Verdict.APPROVE, None, "{ref} was approved by <@U0FIN1>."),
        (Verdict.REJECT, REASON, "{ref} was rejected by <@U0FIN1>: " + ESCAPED_REASON),
        (Verdict.CHANGES, REASON, "<@U0FIN1> asked for changes to {ref}: " + ESCAPED_REASON),
    ],
)
def test_the_requesters_dm_mentions_the_approver_and_escapes_the_reason(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock, verdict: Verdict, reason: str | None, expected: str
) -> None:
    gateway = gateway_for(slack)
    request = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25")
    drain(runtime, gateway, clock)
    decide_request(runtime=runtime, request_id=request.request_id, voter="U0FIN1", verdict=verdict, reason=reason)
    drain(runtime, gateway, clock)
    (dm,) = slack.messages_in("D0SAM")
    sentence = expected.format(ref=request.ref)
    assert dm.blocks[0]["text"]["text"] == sentence  # the message people read: a real mention
    assert dm.text == sentence  # the notification's fallback


def test_the_owners_undeliverable_notice_links_the_channel(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    request = submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    drain(runtime, gateway_for(slack), clock)
    (notice,) = slack.messages_in("D0LAWLEAD")
    assert notice.blocks[0]["text"]["text"] == (
        f"Signoff could not post {request.ref} (Contract review) in <#C0LEGAL> for legal (not_in_channel), "
        "so its members got it by DM. Invite the bot to that channel, or fix the group's `channel` in the "
        "governance file."
    )
