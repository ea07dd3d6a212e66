"""A rule that holds or fails only by how a look-alike is read is in doubt: a person decides (bot/domain/outcome.py)."""

from __future__ import annotations

import pytest

from bot.domain.conditions import DoubtPlan
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import resolve
from tests.conftest import AT, governance_from

FILE = """
version: 1
groups: {ops: {members: [U0OPS]}, legal: {members: [U0LAW]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text}
      region: {type: choice, options: [emea, apac]}
      link: {type: url}
      mail: {type: email}
    approvers: ops
    rules:
      - {id: r, when: %s, %s, reason: Rule r.}
"""

DOUBT = "“{}” looks like “{}” in rule r: a person decides."


# (when, effect, fields, outcome, the reason when the rule is in doubt: None when it is not)
CASES: list[tuple[str, str, dict[str, str], Outcome, str | None]] = [
    (
        "{account: {in: [Acme Corp]}}",
        "decide: approve",
        {"account": "Acrne Corp"},
        Outcome.ROUTE,
        DOUBT.format("Acrne Corp", "Acme Corp"),
    ),
    (
        "{account: {eq: Acme Corp}}",
        "decide: approve",
        {"account": "ACRNE CORP"},
        Outcome.ROUTE,
        DOUBT.format("ACRNE CORP", "Acme Corp"),
    ),
    (
        "{account: {ne: Evil Corp}}",
        "decide: approve",
        {"account": "EviI Corp"},
        Outcome.ROUTE,
        DOUBT.format("EviI Corp", "Evil Corp"),
    ),
    (
        "{account: {not_in: [Bad Inc]}}",
        "decide: approve",
        {"account": "Bad lnc"},
        Outcome.ROUTE,
        DOUBT.format("Bad lnc", "Bad Inc"),
    ),
    (
        "{not: {account: {in: [Evil Corp]}}}",
        "decide: approve",
        {"account": "EviI Corp"},
        Outcome.ROUTE,
        DOUBT.format("EviI Corp", "Evil Corp"),
    ),
    # all: the other condition fails, so no reading of the look-alike makes the rule hold.
    (
        "{all: [{account: {in: [Acme Corp]}}, {region: apac}]}",
        "decide: approve",
        {"account": "Acrne Corp", "region": "emea"},
        Outcome.ROUTE,
        None,
    ),
    (
        "{all: [{account: {in: [Acme Corp]}}, {region: emea}]}",
        "decide: approve",
        {"account": "Acrne Corp", "region": "emea"},
        Outcome.ROUTE,
        DOUBT.format("Acrne Corp", "Acme Corp"),
    ),
    # any: another condition holds exactly, so the rule holds however the look-alike is read.
    (
        "{any: [{account: {in: [Acme Corp]}}, {region: emea}]}",
        "decide: approve",
        {"account": "Acrne Corp", "region": "emea"},
        Outcome.APPROVE,
        None,
    ),
    # a condition on a field that is not set: the rule holds exactly only through the not.
    (
        "{not: {all: [{region: emea}, {account: {in: [Acme Corp]}}]}}",
        "decide: approve",
        {"account": "Acrne Corp"},
        Outcome.ROUTE,
        DOUBT.format("Acrne Corp", "Acme Corp"),
    ),
    (
        "{account: {in: [Evil Corp]}}",
        "decide: reject",
        {"account": "EviI Corp"},
        Outcome.ROUTE,
        DOUBT.format("EviI Corp", "Evil Corp"),
    ),
    ("{account: {not_in: [Acme Corp]}}", "decide: reject", {"account": "Acrne Corp"}, Outcome.REJECT, None),
    (
        "{account: {contains: wire}}",
        "require: legal",
        {"account": "please wıre it"},
        Outcome.ROUTE,
        DOUBT.format("please wıre it", "wire"),
    ),
    (
        "{link: {contains: evil.com}}",
        "decide: reject",
        {"link": "https://evil.corn/x"},
        Outcome.ROUTE,
        DOUBT.format("https://evil.corn/x", "evil.com"),
    ),
    (
        "{mail: {in: [cfo@acme.com]}}",
        "decide: approve",
        {"mail": "cfo@acrne.com"},
        Outcome.ROUTE,
        DOUBT.format("cfo@acrne.com", "cfo@acme.com"),
    ),
    ("{account: {matches: '^Acme'}}", "decide: approve", {"account": "Acme Corp"}, Outcome.APPROVE, None),
    ("{account: {in: [Acme Corp]}}", "decide: approve", {"account": "Zed"}, Outcome.ROUTE, None),
]


@pytest.mark.parametrize(("when", "effect", "fields", "outcome", "doubt"), CASES)
def test_a_rule_in_doubt_never_decides(
    when: str, effect: str, fields: dict[str, str], outcome: Outcome, doubt: str | None
) -> None:
    governance = governance_from(FILE % (when, effect))
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    resolution = resolve(governance, kind, values, requester="U0SAM", at=AT)
    assert resolution.outcome is outcome
    if doubt is not None:
        assert (resolution.rules, resolution.reason) == (("r",), doubt)
        assert resolution.trace[0].in_doubt and not resolution.trace[0].matched
    else:
        assert "looks like" not in resolution.reason
        assert not resolution.trace[0].in_doubt


def test_a_doubtful_require_asks_its_group() -> None:
    governance = governance_from(FILE % ("{account: {in: [Evil Corp]}}", "require: legal"))
    kind = governance.kind("deal")
    resolution = resolve(governance, kind, {"account": "EviI Corp"}, requester="U0SAM", at=AT)
    assert (resolution.outcome, [s.group for s in resolution.steps]) == (Outcome.ROUTE, ["ops", "legal"])
    assert resolution.reason == DOUBT.format("EviI Corp", "Evil Corp")


def test_only_rules_a_value_could_look_like_are_asked() -> None:
    governance = governance_from(FILE % ("{account: {in: [Acme Corp, Globex]}}", "decide: approve"))
    kind = governance.kind("deal")
    plan = DoubtPlan([(rule.condition, rule.id) for rule in kind.rules])
    assert plan.candidates({"account": "Zed"}) == []
    assert plan.candidates({"account": "Acrne Corp"}) == ["r"]
    assert plan.candidates({"account": "GL0BEX"}) == ["r"]


def test_a_rule_that_is_not_in_doubt_shows_its_conditions_plainly() -> None:
    when = "{all: [{account: {in: [Acme Corp]}}, {region: apac}]}"
    governance = governance_from(FILE % (when, "decide: approve"))
    kind = governance.kind("deal")
    resolution = resolve(governance, kind, {"account": "Acrne Corp", "region": "emea"}, requester="U0SAM", at=AT)
    assert [c.describe() for c in resolution.trace[0].conditions] == [
        "account “Acrne Corp” in [Acme Corp] → false",
        "region “emea” eq apac → false",
    ]
    assert [c["result"] for c in resolution.receipt()["trace"][0]["conditions"]] == [False, False]
