"""``signoff simulate`` of a candidate that differs from the file in force: exact counts on a known history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance, UnknownKind
from bot.domain.requests import format_request_id
from bot.domain.simulate import Simulation
from bot.domain.simulate_report import simulation_json
from bot.domain.surface import Window
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from tests.conftest import governance_from, make_runtime
from tests.services.simulate_history import GOVERNANCE, History, file_history

DISCOUNTS, BRANDS = 16, 2
MID = "      - {id: mid, when: {amount_pct: {between: [31, 40]}}, decide: approve, reason: Mid is fine.}\n"
NO_APAC = "      - {id: no-apac, when: {region: {in: [apac]}}, decide: reject, reason: Not in APAC.}\n"
OVER_LIMIT = "      - {id: over-limit,"


def with_rules(*rules: str) -> str:
    return GOVERNANCE.replace(OVER_LIMIT, "".join(rules) + OVER_LIMIT)


@pytest.fixture
def runtime(engine: Engine, clock: FixedClock) -> Runtime:
    governance = governance_from(GOVERNANCE)
    return make_runtime(engine, governance, clock)


@pytest.fixture
def history(runtime: Runtime, clock: FixedClock) -> History:
    return file_history(runtime, clock)


def simulate(runtime: Runtime, history: History, text: str, kinds: list[str] | None = None) -> Simulation:
    assert history.start is not None
    window = Window(history.start - timedelta(days=1), history.start + timedelta(days=30))
    return simulate_candidate(runtime, governance_from(text), window=window, kinds=kinds)


def by_rule(result: Simulation) -> dict[str, tuple[int, int, int]]:
    return {r.rule: (r.would_decide, r.agreed_with_humans, r.contradicted) for r in result.by_rule.values()}


def test_a_new_approve_rule_is_counted_against_what_people_decided(runtime: Runtime, history: History) -> None:
    result = simulate(runtime, history, with_rules(MID))
    # sam_apac (35 %) was approved by people, ana_mid (33 %) rejected: mid would have decided both.
    assert by_rule(result)["mid"] == (2, 1, 1)
    assert by_rule(result)["small"] == (4, 0, 0) and by_rule(result)["over-limit"] == (1, 0, 0)
    assert result.human_decisions_saved == 1
    assert (result.approved_where_humans_rejected, result.rejected_where_humans_approved) == (1, 0)
    assert result.contradiction_examples == [format_request_id(history["ana_mid"])]
    assert result.candidate.auto_approved == result.current.auto_approved + 2
    assert result.differs_from_current == 2
    assert (result.requests, result.candidate.replayed, result.candidate.skipped_invalid) == (
        DISCOUNTS + BRANDS,
    ) * 2 + (0,)


def test_outcome_precedence_is_resolves_a_reject_wins_over_an_approve(runtime: Runtime, history: History) -> None:
    result = simulate(runtime, history, with_rules(MID, NO_APAC))
    assert by_rule(result)["no-apac"] == (1, 0, 1)  # sam_apac: people approved it
    assert by_rule(result)["mid"] == (1, 0, 1)  # only ana_mid now: sam_apac is rejected by no-apac
    assert (result.approved_where_humans_rejected, result.rejected_where_humans_approved) == (1, 1)
    assert result.human_decisions_saved == 0
    document = simulation_json(result)
    assert document["contradictions"]["examples"] == [format_request_id(history[n]) for n in ("sam_apac", "ana_mid")]


def test_requests_that_no_longer_fit_the_contract_are_skipped_with_the_reason(
    runtime: Runtime, history: History
) -> None:
    required = GOVERNANCE.replace(
        "      deal_value: {type: money}\n",
        "      deal_value: {type: money}\n      team: {type: text, required: true}\n",
    )
    result = simulate(runtime, history, required)
    assert (result.requests, result.candidate.replayed, result.candidate.skipped_invalid) == (18, BRANDS, DISCOUNTS)
    assert result.current.skipped_invalid == 0
    assert len(result.skipped_examples) == 5 and all("team" in reason for _, reason in result.skipped_examples)
    narrower = GOVERNANCE.replace("options: [emea, amer, apac]", "options: [emea, amer]")
    result = simulate(runtime, history, narrower)
    assert result.candidate.skipped_invalid == 1
    ref, reason = result.skipped_examples[0]
    assert ref == format_request_id(history["sam_apac"]) and reason.startswith("discount: region:")


def test_a_kind_the_candidate_lacks_is_skipped_and_named(runtime: Runtime, history: History) -> None:
    without_brand = GOVERNANCE[: GOVERNANCE.index("  brand:\n")]
    result = simulate(runtime, history, without_brand)
    assert (result.candidate.replayed, result.candidate.skipped_invalid) == (DISCOUNTS, BRANDS)
    assert {reason for _, reason in result.skipped_examples} == {"the file has no kind “brand”"}
    assert "short" not in by_rule(result)


def test_kind_filters_the_requests_and_rules(runtime: Runtime, history: History) -> None:
    result = simulate(runtime, history, GOVERNANCE, kinds=[" Brand"])
    assert (result.requests, result.candidate.auto_approved, result.candidate.routed) == (2, 1, 1)
    assert by_rule(result) == {"short": (1, 0, 0)}
    with pytest.raises(UnknownKind, match="there is no kind “refund”; kinds: brand, discount"):
        simulate(runtime, history, GOVERNANCE, kinds=["refund"])


def test_nothing_in_the_window_counts_nothing(runtime: Runtime, history: History, governance: Governance) -> None:
    assert history.start is not None
    window = Window(history.start + timedelta(days=20), history.start + timedelta(days=21))
    result = simulate_candidate(runtime, governance, window=window)
    document = simulation_json(result)
    assert document["requests"] == 0 and document["candidate"]["resolved_by_default_share"] == 0.0
    assert document["candidate"]["share_divisor"] == 0


@pytest.fixture
def governance() -> Governance:
    return governance_from(GOVERNANCE)
