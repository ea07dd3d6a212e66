"""Signoff never decides on a look-alike: text rules decide on the exact, case-folded text, and a
value that only looks like a rule's constant goes to a person (SQLite, PostgreSQL).

Issue 9 findings (values) 2, 3 and 4: ``EviI Corp`` got past a block-list, ``Acrne Corp`` was
auto-approved by an allow-list, ``Evıl Corp`` escaped ``matches: "(?i)evil"``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.explain import render_explanation
from bot.domain.filetests import run_file_tests
from bot.domain.lifecycle import State
from bot.services.explain import explain_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from tests.conftest import AT, governance_from, make_runtime

LISTS = """
version: 1
groups: {finance: {members: [U0FIN1]}, legal: {members: [U0LAW1]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text}
      vendor: {type: text}
      customer: {type: text}
      partner: {type: text}
      memo: {type: text}
    approvers: finance
    rules:
      - {id: blocked, when: {account: {in: [Evil Corp, Bad Inc]}}, decide: reject, reason: Sanctioned.}
      - {id: no-evil, when: {vendor: {matches: "(?i)evil"}}, decide: reject, reason: Evil vendor.}
      - {id: allow-list, when: {customer: {in: [Acme Corp, Clean Energy]}}, decide: approve, reason: Known customer.}
      - {id: not-sanctioned, when: {partner: {not_in: [Evil Corp, Bad Inc]}}, decide: approve, reason: Not sanctioned.}
      - {id: wire, when: {memo: {contains: wire transfer}}, require: legal, reason: Wires need legal.}
%s
"""


def looks(value: str, constant: str, rule: str) -> str:
    return f"“{value}” looks like “{constant}” in rule {rule}: a person decides."


# (field, as typed, state, deciding rules, reason)
CASES: list[tuple[str, str, State, tuple[str, ...], str]] = [
    # Finding 2: capital I and small L, before and after case folding.
    ("account", "EviI Corp", State.PENDING, ("blocked",), looks("EviI Corp", "Evil Corp", "blocked")),
    ("account", "Bad lnc", State.PENDING, ("blocked",), looks("Bad lnc", "Bad Inc", "blocked")),
    ("partner", "EviI Corp", State.PENDING, ("not-sanctioned",), looks("EviI Corp", "Evil Corp", "not-sanctioned")),
    ("partner", "Bad lnc", State.PENDING, ("not-sanctioned",), looks("Bad lnc", "Bad Inc", "not-sanctioned")),
    # Finding 3: an allow-list approves only the same name.
    ("customer", "Acrne Corp", State.PENDING, ("allow-list",), looks("Acrne Corp", "Acme Corp", "allow-list")),
    ("customer", "C1ean Energy", State.PENDING, ("allow-list",), looks("C1ean Energy", "Clean Energy", "allow-list")),
    # Finding 4: a pattern that a look-alike of the value matches.
    ("vendor", "Evıl Corp", State.PENDING, ("no-evil",), looks("Evıl Corp", "Evil Corp", "no-evil")),
    ("vendor", "Evɪl Corp", State.PENDING, ("no-evil",), looks("Evɪl Corp", "Evil Corp", "no-evil")),
    ("vendor", "ᴇᴠɪʟ", State.PENDING, ("no-evil",), looks("ᴇᴠɪʟ", "evil", "no-evil")),
    # contains: a look-alike of the phrase.
    ("memo", "please wıre transfer", State.PENDING, ("wire",), looks("please wıre transfer", "wire transfer", "wire")),
    # Exact (after normalization and case folding) still decides.
    ("account", "evil corp", State.REJECTED, ("blocked",), "Sanctioned."),
    ("account", "BAD INC", State.REJECTED, ("blocked",), "Sanctioned."),
    ("vendor", "The EVIL one", State.REJECTED, ("no-evil",), "Evil vendor."),
    ("customer", "Acme corp", State.APPROVED, ("allow-list",), "Known customer."),
    ("customer", "CLEAN ENERGY", State.APPROVED, ("allow-list",), "Known customer."),
    ("partner", "Good Co", State.APPROVED, ("not-sanctioned",), "Not sanctioned."),
    ("memo", "Wire Transfer today", State.PENDING, ("wire",), "Wires need legal."),
]


@pytest.fixture
def runtime(engine: Engine, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance_from(LISTS % ""), clock)


@pytest.mark.parametrize(("field", "value", "state", "rules", "reason"), CASES)
def test_a_look_alike_goes_to_a_person_and_exact_text_still_decides(
    runtime: Runtime, field: str, value: str, state: State, rules: tuple[str, ...], reason: str
) -> None:
    by_modal = submit_request(runtime=runtime, kind="deal", requester="U0SAM", fields={field: value})
    by_slash = submit_request(runtime=runtime, kind="deal", requester="U0SAM", text=f'{field}="{value}"')
    for submission in (by_modal, by_slash):
        assert (submission.state, submission.reason) == (state, reason)
        status = request_status(runtime=runtime, request_id=submission.request_id, viewer="U0SAM")
        assert status.card is not None and status.card.reason == reason
    explained = explain_request(runtime=runtime, kind="deal", text=f'{field}="{value}"', requester="U0SAM")
    assert (explained.rules, explained.reason) == (rules, reason)


def test_a_look_alike_asks_the_finance_default_and_a_doubtful_require_asks_its_group_too(runtime: Runtime) -> None:
    customer = submit_request(runtime=runtime, kind="deal", requester="U0SAM", fields={"customer": "Acrne Corp"})
    assert [step.group for step in customer.steps] == ["finance"]
    memo = submit_request(runtime=runtime, kind="deal", requester="U0SAM", fields={"memo": "wıre transfer"})
    assert [step.group for step in memo.steps] == ["finance", "legal"]


def test_an_exact_reject_wins_over_a_look_alike(runtime: Runtime) -> None:
    both = submit_request(
        runtime=runtime, kind="deal", requester="U0SAM", fields={"account": "Evil Corp", "customer": "Acrne Corp"}
    )
    assert (both.state, both.rule, both.reason) == (State.REJECTED, "blocked", "Sanctioned.")


def test_a_look_alike_and_a_require_both_say_why(runtime: Runtime) -> None:
    both = submit_request(
        runtime=runtime, kind="deal", requester="U0SAM", fields={"customer": "Acrne Corp", "memo": "wire transfer"}
    )
    assert (both.state, both.reason) == (
        State.PENDING,
        looks("Acrne Corp", "Acme Corp", "allow-list") + " Wires need legal.",
    )
    assert [step.group for step in both.steps] == ["finance", "legal"]


def trace_of(resolution: Any, rule: str) -> dict[str, Any]:
    return next(item for item in resolution.receipt()["trace"] if item["rule"] == rule)


def test_explain_shows_the_look_alike_leaf_as_neither_true_nor_false(runtime: Runtime) -> None:
    explained = explain_request(runtime=runtime, kind="deal", text='customer="Acrne Corp"', requester="U0SAM")
    text = render_explanation(runtime.governance(), explained)
    assert "Outcome: needs people: finance (1 approval)" in text
    assert f"Why: {looks('Acrne Corp', 'Acme Corp', 'allow-list')}" in text
    assert (
        "  ≈ allow-list (approve)\n"
        "      customer “Acrne Corp” in [Acme Corp, Clean Energy] → looks like “Acme Corp”: a person decides"
    ) in text
    assert json.loads(json.dumps(trace_of(explained, "allow-list"))) == {
        "rule": "allow-list",
        "effect": "approve",
        "mode": "live",
        "matched": False,
        "in_doubt": True,
        "note": None,
        "conditions": [
            {
                "field": "customer",
                "op": "in",
                "expected": ["Acme Corp", "Clean Energy"],
                "actual": "Acrne Corp",
                "result": None,
                "looks_like": "Acme Corp",
            }
        ],
    }
    exact = explain_request(runtime=runtime, kind="deal", text='customer="Acme corp"', requester="U0SAM")
    assert trace_of(exact, "allow-list")["matched"] is True
    assert "in_doubt" not in trace_of(exact, "allow-list")


FILE_TESTS = """
    tests:
      - {name: look-alike customer, fields: {customer: Acrne Corp}, expect: approve}
      - {name: look-alike is a person's call, fields: {customer: Acrne Corp}, expect: route, steps: [finance]}
"""


def test_file_tests_see_a_look_alike_go_to_a_person() -> None:
    governance = governance_from(LISTS % FILE_TESTS)
    first, second = run_file_tests(governance, now=AT)
    assert first.failures == ("expected approve, got route",)
    assert first.resolution is not None
    assert "looks like “Acme Corp”: a person decides" in render_explanation(governance, first.resolution)
    assert second.passed
