"""Receipts stay small however many rules a kind has: the rules that decided, matched or almost
matched are traced in full, the rest are counted (issue 9, item 10)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.bench_resolve import make_governance, make_rules
from bot.domain.explain import render_explanation
from bot.domain.governance import Governance
from bot.domain.governance_spec import MAX_RULES
from bot.domain.outcome import resolve
from bot.domain.receipt import TRACED_RULES
from tests.conftest import AT


@pytest.fixture(scope="module")
def large() -> Governance:
    rules = make_rules(MAX_RULES - 1)  # the most a file may hold
    rules.insert(
        MAX_RULES // 2,
        {"id": "almost", "when": {"amount": {"gte": 40}, "region": "amer"}, "decide": "approve", "reason": "x"},
    )
    return make_governance(rules)


def receipt_of(governance: Governance, fields: dict[str, Any]) -> dict[str, Any]:
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    return resolve(governance, kind, values, requester="U0SAM", at=AT).receipt()


def test_a_routed_request_at_the_most_rules_traces_the_near_misses_and_counts_the_rest(large: Governance) -> None:
    receipt = receipt_of(large, {"amount": 50, "region": "emea"})
    assert len(json.dumps(receipt)) < 5_000  # 1.9 MB when every rule was traced
    traced = [t["rule"] for t in receipt["trace"]]
    named = [rule for rule in traced if f"{rule} applies when" in receipt["reason"]]
    assert named == traced[: len(named)] and len(named) == 3  # the rules the reason names
    assert "almost" in traced  # amount held, region did not: all but one condition held
    assert receipt["untraced"] == {
        "rules": MAX_RULES - len(traced),
        "matched": 0,
        "not_matched": MAX_RULES - len(traced),
        "summary": f"{MAX_RULES - len(traced):,} other rules did not match",
    }


def test_an_approved_request_at_the_most_rules_traces_the_deciding_rule_first(large: Governance) -> None:
    receipt = receipt_of(large, {"amount": 1, "region": "emea"})
    assert len(json.dumps(receipt)) < 10_000
    assert len(receipt["trace"]) == TRACED_RULES
    assert receipt["trace"][0]["rule"] == receipt["rule"] and receipt["trace"][0]["matched"]
    assert all(t["matched"] for t in receipt["trace"])
    untraced = receipt["untraced"]
    assert untraced["matched"] + untraced["not_matched"] == untraced["rules"] == MAX_RULES - TRACED_RULES
    assert untraced["summary"] == (
        f"{untraced['rules']:,} other rules not shown: {untraced['matched']:,} matched, "
        f"{untraced['not_matched']:,} did not"
    )


def test_a_kind_of_up_to_20_rules_is_traced_whole() -> None:
    receipt = receipt_of(make_governance(make_rules(TRACED_RULES)), {"amount": 50, "region": "emea"})
    assert len(receipt["trace"]) == TRACED_RULES
    assert "untraced" not in receipt


def test_explain_says_how_many_rules_it_does_not_show(large: Governance) -> None:
    kind = large.kind("deal")
    values = large.validate_fields(kind, {"amount": 50, "region": "emea"}, at=AT)
    text = render_explanation(large, resolve(large, kind, values, requester="U0SAM", at=AT))
    assert f"  … {MAX_RULES - 4:,} other rules did not match" in text.splitlines()
    assert len(text.splitlines()) < 30
