"""Shadow rules (DESIGN §3.7): evaluated on every request, recorded, and never acted on.

The table: for each live outcome (reject, require, approve, approve with its limit used up, a
look-alike in doubt, nothing matching), adding shadow rules that match — first in the file,
with and without a limit, approve and reject — leaves the outcome, its rules, steps, reason,
limit checks and the limit usages asked about exactly as they were; and records one verdict per
matching shadow rule.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.domain.explain import render_explanation
from bot.domain.filetests import run_file_tests
from bot.domain.governance import Governance, GovernanceInvalid
from bot.domain.governance_spec import Decision, Outcome
from bot.domain.outcome import LimitUsage, Resolution, resolve
from bot.domain.shadow import ShadowVerdict, shadow_from_json, shadow_json
from tests.conftest import AT, governance_from

LIVE = """
version: 1
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  cmo-office: {members: [U0CMO]}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      pct: {type: number, required: true}
      value: {type: money}
      sector: {type: choice, options: [public, private]}
      account: {type: text}
    approvers: finance
    rules:
%s
      - {id: small, when: {pct: {lte: 10}}, decide: approve, reason: Small is fine., limit: {count: 3, window: 30d}}
      - {id: known, when: {account: {eq: Acme Corp}}, decide: approve, reason: Acme is known.}
      - {id: public-sector, when: {sector: public}, decide: reject, reason: No discounts for the public sector.}
      - {id: big, when: {value: {gte: 100000}}, require: cmo-office, reason: Big deals need the CMO.}
"""

#: Shadow rules that match every request below, written first: were they live, they would win
#: every tie-break and decide or route each request.
SHADOWS = """\
      - {id: try-approve, decide: approve, reason: Trial approve., mode: shadow}
      - {id: try-budget, when: {pct: {lte: 50}}, decide: approve, reason: Trial., mode: shadow,
         limit: {count: 1, per: kind, window: 1d}}
      - {id: try-reject, when: {pct: {gte: 1}}, decide: reject, reason: Trial reject., mode: shadow}
      - {id: try-never, when: {pct: {gt: 99}}, decide: reject, reason: Matches nothing here., mode: shadow}
      - {id: try-lookalike, when: {account: {eq: Acme Corp}}, decide: approve, reason: Trial., mode: shadow}"""

# (live outcome, fields, limit usage of every tally)
CASES: list[tuple[str, dict[str, Any], int]] = [
    ("reject", {"pct": 5, "sector": "public", "value": 200000}, 0),
    ("require", {"pct": 5, "value": 200000}, 0),
    ("approve", {"pct": 5}, 0),
    ("approve, limit used up", {"pct": 5}, 3),
    ("look-alike in doubt", {"pct": 30, "account": "Acrne Corp"}, 0),
    ("nothing matches", {"pct": 30}, 0),
]


class Asked:
    """A usage lookup answering ``used`` for every tally and remembering each question."""

    def __init__(self, used: int):
        self.used = used
        self.calls: list[tuple[str, str | None]] = []

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        self.calls.append((rule, requester))
        return LimitUsage(count=self.used)


def resolved(governance: Governance, fields: dict[str, Any], usage: Asked) -> Resolution:
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    return resolve(governance, kind, values, requester="U0SAM", at=AT, usage=usage)


def live_view(resolution: Resolution) -> tuple[object, ...]:
    return (
        resolution.outcome,
        resolution.rule,
        resolution.rules,
        resolution.steps,
        resolution.reason,
        resolution.limits,
        resolution.limit_keys,
    )


@pytest.mark.parametrize(("case", "fields", "used"), CASES, ids=[c[0] for c in CASES])
def test_a_shadow_rule_never_decides_adds_a_step_or_uses_a_limit(case: str, fields: dict[str, Any], used: int) -> None:
    without, with_shadows = governance_from(LIVE % ""), governance_from(LIVE % SHADOWS)
    asked_without, asked_with = Asked(used), Asked(used)
    before = resolved(without, fields, asked_without)
    after = resolved(with_shadows, fields, asked_with)

    assert live_view(after) == live_view(before)
    assert asked_with.calls == asked_without.calls  # no shadow limit was even asked about
    assert all(rule != "try-budget" for rule, _ in asked_with.calls)
    receipt, plain = after.receipt(), before.receipt()
    assert (receipt["outcome"], receipt["rule"], receipt["steps"]) == (plain["outcome"], plain["rule"], plain["steps"])
    assert before.shadow == ()
    assert after.shadow == (
        ShadowVerdict("try-approve", Decision.APPROVE),
        ShadowVerdict("try-budget", Decision.APPROVE),  # evaluated as if its limit had room
        ShadowVerdict("try-reject", Decision.REJECT),
    )


def test_the_live_outcomes_of_the_table_are_the_ones_named() -> None:
    """The table covers each live outcome (so the test above compares what it says it compares)."""
    governance = governance_from(LIVE % SHADOWS)
    got = [(r.outcome, r.rule) for _, fields, used in CASES if (r := resolved(governance, fields, Asked(used)))]
    assert got == [
        (Outcome.REJECT, "public-sector"),
        (Outcome.ROUTE, None),
        (Outcome.APPROVE, "small"),
        (Outcome.ROUTE, None),
        (Outcome.ROUTE, None),
        (Outcome.ROUTE, None),
    ]
    assert resolved(governance, {"pct": 5, "value": 200000}, Asked(0)).rules == ("big",)


def test_a_shadow_rule_in_doubt_gives_no_verdict_and_does_not_route() -> None:
    governance = governance_from(LIVE % SHADOWS)
    doubtful = resolved(governance, {"pct": 5, "account": "Acrne Corp"}, Asked(0))
    assert (doubtful.outcome, doubtful.rule) == (Outcome.ROUTE, None)  # the live "known" is in doubt too
    assert "try-lookalike" not in [v.rule for v in doubtful.shadow]
    lines = render_explanation(governance, doubtful).splitlines()
    shadow_line = lines[lines.index("  ≈ try-lookalike (approve, shadow: never decides)") + 1]
    live_line = lines[lines.index("  ≈ known (approve)") + 1]
    assert shadow_line.endswith("looks like “Acme Corp”: in doubt, so no shadow verdict")
    assert live_line.endswith("looks like “Acme Corp”: a person decides")
    exact = resolved(governance, {"pct": 30, "account": "Acme Corp"}, Asked(0))
    assert (exact.outcome, exact.rule) == (Outcome.APPROVE, "known")
    assert ShadowVerdict("try-lookalike", Decision.APPROVE) in exact.shadow


def test_the_receipt_marks_each_traced_rule_live_or_shadow_and_lists_the_verdicts() -> None:
    receipt = resolved(governance_from(LIVE % SHADOWS), {"pct": 5}, Asked(0)).receipt()
    modes = {entry["rule"]: entry["mode"] for entry in receipt["trace"]}
    assert modes == {
        "try-approve": "shadow",
        "try-budget": "shadow",
        "try-reject": "shadow",
        "try-never": "shadow",
        "try-lookalike": "shadow",
        "small": "live",
        "known": "live",
        "public-sector": "live",
        "big": "live",
    }
    assert receipt["rule"] == "small"
    assert receipt["rules"] == ["small"]
    assert receipt["shadow"] == [
        {"rule": "try-approve", "decide": "approve"},
        {"rule": "try-budget", "decide": "approve"},
        {"rule": "try-reject", "decide": "reject"},
    ]


def test_explain_names_each_shadow_verdict_and_marks_shadow_rules() -> None:
    governance = governance_from(LIVE % SHADOWS)
    text = render_explanation(governance, resolved(governance, {"pct": 30}, Asked(0)))
    assert "Outcome: needs people: finance (1 approval)" in text
    assert "Shadow: shadow rule `try-approve` would have approved" in text
    assert "Shadow: shadow rule `try-reject` would have rejected" in text
    assert "✗ try-never (reject, shadow: never decides)" in text
    assert "`try-never`" not in text  # it did not match: no verdict
    assert "✓ try-approve (approve, shadow: never decides)" in text
    # The near-miss reason is about live rules only: a shadow rule is never "almost applied".
    assert "try-" not in text.split("Why:")[1].split("\n")[0]


RULE_AT = "kinds.deal.rules[0]"


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        (
            "{id: t, decide: approve, reason: R., mode: trial}",
            f"{RULE_AT}.mode",
            "must be live or shadow, got “trial”",
        ),
        (
            "{id: t, decide: approve, reason: R., mode: Shadow}",
            f"{RULE_AT}.mode",
            "must be live or shadow, got “Shadow”, which looks like “shadow” (write it in lowercase, with no spaces)",
        ),
        (
            "{id: t, decide: approve, reason: R., mode: shad\u043ew}",
            f"{RULE_AT}.mode",
            "must be live or shadow, got “shadоw”, which looks like “shadow” (it has U+043E CYRILLIC SMALL LETTER O)",
        ),
        (
            '{id: t, decide: approve, reason: R., mode: "sha\\u200bdow"}',
            f"{RULE_AT}.mode",
            "must be live or shadow, got “sha[U+200B]dow”, which looks like “shadow” (it has U+200B ZERO WIDTH SPACE)",
        ),
        (
            "{id: t, decide: approve, reason: R., mode: [shadow]}",
            f"{RULE_AT}.mode",
            "must be live or shadow, got an array",
        ),
        ("{id: t, decide: approve, reason: R., mode: ~}", f"{RULE_AT}.mode", "must be live or shadow, got null"),
        (
            "{id: t, require: cmo-office, reason: R., mode: shadow}",
            RULE_AT,
            "a shadow rule trials a decision: it needs decide (approve or reject), not require",
        ),
    ],
)
def test_a_rule_mode_other_than_live_or_shadow_or_a_shadow_require_is_refused_where_it_is(
    rule: str, path: str, message: str
) -> None:
    with pytest.raises(GovernanceInvalid) as caught:
        governance_from(LIVE % f"      - {rule}")
    assert [(p.path, p.message) for p in caught.value.problems] == [(path, message)]
    assert "\n" not in str(caught.value.problems[0])


def test_mode_live_is_the_default_and_may_be_written() -> None:
    governance = governance_from(
        LIVE % "      - {id: t, when: {pct: {lte: 1}}, decide: reject, reason: R., mode: live}"
    )
    assert resolved(governance, {"pct": 1}, Asked(0)).rule == "t"
    assert all(not rule.shadow for rule in governance.kind("deal").rules)


TESTS = """
    tests:
      - {fields: {pct: 30}, expect: approve, rule: try-approve}
      - {fields: {pct: 30}, expect: route, shadow: {try-approve: approve, try-budget: approve, try-reject: reject}}
      - {fields: {pct: 30}, expect: route, shadow: {try-approve: reject}}
"""


def test_file_tests_check_live_rules_and_say_when_the_expected_rule_is_in_shadow() -> None:
    governance = governance_from(LIVE % SHADOWS + TESTS)
    results = run_file_tests(governance, now=AT)
    assert [r.passed for r in results] == [False, True, False]
    assert results[0].failures == (
        "expected approve, got route; rule try-approve, try-budget are in shadow (mode: shadow): "
        "a shadow rule never decides",
        "expected rule try-approve to decide, but no rule did; rule try-approve is in shadow (mode: shadow): "
        "a shadow rule never decides",
    )
    assert results[2].failures == (
        "expected shadow verdicts {try-approve: reject}, "
        "got {try-approve: approve, try-budget: approve, try-reject: reject}",
    )


def test_a_file_test_naming_a_rule_that_is_not_a_shadow_rule_in_its_shadow_expectation_is_refused() -> None:
    with pytest.raises(GovernanceInvalid) as caught:
        governance_from(
            LIVE % SHADOWS + "    tests:\n      - {fields: {pct: 30}, expect: route, shadow: {small: approve}}\n"
        )
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            "kinds.deal.tests[0].shadow.small",
            "no shadow rule “small” in deal (shadow rules: try-approve, try-budget, try-reject, try-never, try-lookalike)",
        )
    ]


@pytest.mark.parametrize(("written", "given"), [("", "null"), (" ~", "null"), (" [try-reject]", "an array")])
def test_a_file_tests_shadow_expectation_left_empty_or_not_a_mapping_is_refused(written: str, given: str) -> None:
    test = f"    tests:\n      - fields: {{pct: 30}}\n        expect: route\n        shadow:{written}\n"
    with pytest.raises(GovernanceInvalid) as caught:
        governance_from(LIVE % SHADOWS + test)
    message = f"must be a mapping of rule → approve|reject ({{}}: none matches), got {given}"
    assert [(p.path, p.message) for p in caught.value.problems] == [("kinds.deal.tests[0].shadow", message)]


def test_stored_verdicts_read_back_and_malformed_entries_are_left_out() -> None:
    verdicts = (ShadowVerdict("a", Decision.APPROVE), ShadowVerdict("b-2", Decision.REJECT))
    assert shadow_from_json(shadow_json(verdicts)) == verdicts
    assert shadow_from_json(None) is None
    assert shadow_from_json([]) == ()
    junk = [
        {"rule": "A B", "decide": "approve"},
        {"rule": "c", "decide": "route"},
        "x",
        {"rule": "ok", "decide": "reject"},
    ]
    assert shadow_from_json(junk) == (ShadowVerdict("ok", Decision.REJECT),)


def test_the_cli_checks_tests_and_explains_a_file_with_shadow_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(textwrap.dedent(LIVE % SHADOWS + TESTS))
    assert main(["check", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path} is valid: 1 kind")
    assert main(["test", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "rule try-approve is in shadow (mode: shadow): a shadow rule never decides" in out
    assert out.strip().endswith("1 passed, 2 failed")

    assert main(["explain", "--config", str(path), "deal", "pct=30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["outcome"], data["rule"], data["steps"]) == ("route", None, [{"group": "finance", "approvals": 1}])
    assert data["shadow"] == [
        {"rule": "try-approve", "decide": "approve"},
        {"rule": "try-budget", "decide": "approve"},
        {"rule": "try-reject", "decide": "reject"},
    ]
    assert [(t["rule"], t["mode"], t["matched"]) for t in data["trace"]][:4] == [
        ("try-approve", "shadow", True),
        ("try-budget", "shadow", True),
        ("try-reject", "shadow", True),
        ("try-never", "shadow", False),
    ]
    assert {t["mode"] for t in data["trace"][5:]} == {"live"}
    assert main(["explain", "--config", str(path), "deal", "pct=5", "--json"]) == 0
    decided = json.loads(capsys.readouterr().out)
    assert (decided["outcome"], decided["rule"], decided["rules"]) == ("approve", "small", ["small"])


def test_matching_shadow_rules_never_push_the_rules_the_reason_names_out_of_a_long_trace() -> None:
    shadows = "".join(
        f"      - {{id: s{i:02d}, when: {{pct: {{lte: {100 + i}}}}}, decide: approve, reason: T, mode: shadow}}\n"
        for i in range(25)
    )
    rejects = "".join(
        f"      - {{id: r{i}, when: {{pct: {{gt: {200 + i}}}}}, decide: reject, reason: No.}}\n" for i in range(5)
    )
    governance = governance_from(LIVE % (shadows + rejects).rstrip("\n"))
    kind = governance.kind("deal")
    resolution = resolve(governance, kind, {"pct": 50, "value": 10}, requester="U0SAM", at=AT)
    assert resolution.outcome is Outcome.ROUTE and "small applies when" in resolution.reason
    traced = [rule.rule for rule in resolution.trace]
    assert len(traced) == 20 and "small" in traced  # the rule the reason names
    assert traced == sorted(traced, key=[rule.id for rule in kind.rules].index)  # shown in file order
    shadow_traced = sum(rule.shadow for rule in resolution.trace)
    assert resolution.receipt()["untraced"]["matched"] == 25 - shadow_traced  # the shadow rules left out, counted
    assert "  ✗ small (approve)" in render_explanation(governance, resolution)
