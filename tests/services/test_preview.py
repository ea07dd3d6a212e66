"""preview_request: what submitting the form now would do, reading limits from storage and storing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import Outcome
from bot.domain.preview import Budget
from bot.services.preview import preview_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import LIFECYCLE, Tables


def test_a_preview_stores_nothing_and_follows_the_limit_as_it_is_used(runtime: Runtime, tables: Tables) -> None:
    form = {"account": "Acme", "amount_pct": "5"}
    before = tables.snapshot()
    first = preview_request(runtime=runtime, kind="discount", requester="U0SAM", raw_values=form)
    assert (first.outcome, first.rule) == (Outcome.APPROVE, "small")
    assert [(b.rule, b.left, b.allowed, b.ok) for b in first.budgets] == [("small", 2, 2, True)]
    assert tables.snapshot() == before  # no request, vote, audit event or outbox row

    for n in range(2):
        filed = submit_request(runtime=runtime, kind="discount", fields=form, requester="U0SAM")
        assert filed.rule == "small"
        shown = preview_request(runtime=runtime, kind="discount", requester="U0SAM", raw_values=form)
        assert shown.budgets[0].left == 1 - n
    assert shown.outcome is Outcome.ROUTE and shown.budgets == (Budget("small", 0, 2, shown.budgets[0].window, False),)
    other = preview_request(runtime=runtime, kind="discount", requester="U0DANA", raw_values=form)
    assert other.outcome is Outcome.APPROVE  # per requester: Dana's tally is her own
    assert tables.snapshot()[0] == 2


def test_an_incomplete_form_is_not_evaluated_and_an_unknown_kind_is_said(runtime: Runtime, tables: Tables) -> None:
    shown = preview_request(runtime=runtime, kind="discount", requester="U0SAM", raw_values={"account": None})
    assert shown.outcome is None and shown.needed == ("Account", "Amount pct")
    with pytest.raises(UnknownKind):
        preview_request(runtime=runtime, kind="nope", requester="U0SAM", raw_values={})
    assert tables.snapshot() == (0, 0, 0, 0)


PRIVATE = LIFECYCLE.replace(
    "      - {id: over-limit,",
    "      - {id: band, when: {amount_pct: {between: [17, 23]}}, decide: reject, reason: Not here., preview: false}\n"
    "      - {id: over-limit,",
)


def test_a_private_rule_decides_the_submission_but_not_the_preview(engine: Engine, clock: FixedClock) -> None:
    runtime = make_runtime(engine, governance_from(PRIVATE), clock)
    form = {"account": "Acme", "amount_pct": "20"}
    shown = preview_request(runtime=runtime, kind="discount", requester="U0SAM", raw_values=form)
    assert (shown.outcome, shown.rule, shown.private) == (Outcome.ROUTE, None, True)
    assert submit_request(runtime=runtime, kind="discount", fields=form, requester="U0SAM").rule == "band"
