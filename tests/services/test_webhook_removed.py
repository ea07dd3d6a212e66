"""A reload that removes (or renames) a subscription with deliveries queued does not lose them silently:
one log line names the subscription and the count, its owner is told once in Slack, and the
deliveries end dead with their reason kept (DESIGN §9)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.app import GovernanceHolder, _tell_of_removed_webhooks
from bot.domain.clock import FixedClock
from bot.metrics import SignoffMetrics
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.webhooks import webhook_states
from bot.webhooks.sender import WebhookSender
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeGateway
from tests.services.conftest import LIFECYCLE
from tests.webhook_receiver import SECRET, Receiver, receiving

SECRET_ENV = "SIGNOFF_TEST_WEBHOOK_SECRET"
CRM = "  - {id: crm, url: 'RECEIVER/crm?token=Sup3r', secret_env: SIGNOFF_TEST_WEBHOOK_SECRET, owner: U0OPS}\n"
ADS = "  - {id: ads, url: 'RECEIVER/ads', secret_env: SIGNOFF_TEST_WEBHOOK_SECRET, owner: U0OPS}\n"


def write(path: Path, receiver: Receiver, entries: str) -> None:
    path.write_text(LIFECYCLE + "webhooks:\n" + entries.replace("RECEIVER/", receiver.url("/")))


@pytest.fixture
def replica(engine: Engine, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[GovernanceHolder, Runtime, Receiver]]:
    with receiving() as receiver:
        path = tmp_path / "signoff.yaml"
        write(path, receiver, CRM + ADS)
        holder = GovernanceHolder(path)
        units = SqlUnitOfWorkFactory(engine, webhooks=lambda: holder.current().webhooks)
        runtime = Runtime(uow=units, governance=holder.current, clock=clock, observer=SignoffMetrics())
        holder.on_reload.append(lambda: _tell_of_removed_webhooks(holder, runtime))
        yield holder, runtime, receiver


@pytest.mark.parametrize("renamed", [False, True])
def test_removing_a_subscription_with_queued_deliveries_is_logged_and_its_owner_told_once(
    replica: tuple[GovernanceHolder, Runtime, Receiver], caplog: pytest.LogCaptureFixture, renamed: bool
) -> None:
    holder, runtime, receiver = replica
    for amount in (5, 50):  # decided by rules: submitted + decided each, for both subscriptions
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=Acme amount_pct={amount}")
    new_crm = CRM.replace("id: crm", "id: crm-prod") if renamed else ""
    write(holder.path, receiver, ADS + new_crm)
    with caplog.at_level(logging.WARNING, logger="signoff"):
        assert holder.reload()
        assert holder.reload()  # the same file again (another replica, another signal): told once only
    (line,) = [r.getMessage() for r in caplog.records if "no longer in the governance file" in r.getMessage()]
    assert line == (
        f"webhook crm ({receiver.url('/crm')}?token=REDACTED) is no longer in the governance file: "
        "its 4 queued deliveries will not be sent"
    )

    slack = FakeGateway()
    sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=5)
    while relay_outbox(runtime=runtime, gateway=slack, webhooks=sender).handled:
        pass
    (told,) = [d for d in slack.delivered if d.action == "notify" and "no longer in the governance file" in d.text]
    assert told.target == "U0OPS"
    assert "`crm`" in told.text and "its 4 queued deliveries will not be sent" in told.text
    assert "Sup3r" not in told.text
    assert not receiver.of("/crm") and len(receiver.of("/ads")) == 4
    assert [s.subscription.id for s in webhook_states(uow=runtime.uow)] == ["ads"] + (["crm-prod"] if renamed else [])


def test_a_reload_that_keeps_every_subscription_says_nothing(
    replica: tuple[GovernanceHolder, Runtime, Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    holder, runtime, receiver = replica
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=5")
    write(holder.path, receiver, ADS + CRM.replace("/crm?", "/crm2?"))
    with caplog.at_level(logging.WARNING, logger="signoff"):
        assert holder.reload()
    assert not [r for r in caplog.records if "no longer" in r.getMessage()]
