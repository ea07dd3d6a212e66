"""Receipts keep their exact JSON: the fast trace equals a straightforward one, byte for byte."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.bench_resolve import REQUESTS, make_governance, make_rules
from bot.domain.conditions import LeafTrace
from bot.domain.fields import render_value
from bot.domain.governance import Governance
from bot.domain.outcome import LimitUsage, Resolution, RuleTrace, resolve
from bot.domain.requests import canonical_json
from bot.governance_file import load_governance_file
from tests.conftest import AT, governance_from

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "marketing-ops.yaml"
LIMITS = """
version: 1
groups:
  finance: {members: [U0FIN1]}
kinds:
  spend:
    title: Spend
    owner: U0OWNER
    fields:
      amount: {type: money, currency: EUR, required: true}
      tags: {type: multi_choice, options: [a, b, c]}
      note: {type: text}
    approvers: finance
    rules:
      - {id: counted, when: {amount: {lte: 100}}, decide: approve, reason: Small., limit: {count: 2, per: requester, window: 30d}}
      - {id: summed, when: {amount: {lte: 500}}, decide: approve, reason: Mid., limit: {max: 1000, sum: amount, window: 7d}}
      - {id: tagged, when: {tags: {contains: b}}, require: finance, reason: Tagged.}
      - {id: noted, when: {note: {set: true}}, decide: reject, reason: Notes are refused.}
      - {id: either, when: {any: [{amount: {gt: 900}}, {note: {matches: "urgent"}}]}, require: finance, reason: Either.}
      - {id: trial, when: {amount: {lte: 450}}, decide: approve, reason: Trial., mode: shadow}
      - {id: trial-limit, when: {amount: {lte: 60}}, decide: approve, reason: T., mode: shadow, limit: {count: 1, window: 1d}}
      - {id: trial-no, when: {all: [{amount: {gt: 900}}, {tags: {contains: c}}]}, decide: reject, reason: No., mode: shadow}
"""


def reference_receipt(resolution: Resolution) -> dict[str, Any]:
    """The receipt as DESIGN §5 defines it, built the plain way from ``Resolution.trace``."""

    def jsonable(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list | tuple | frozenset | set):
            return [jsonable(v) for v in value]
        return value.describe() if hasattr(value, "describe") else render_value(value)

    def leaf(c: LeafTrace) -> dict[str, Any]:
        extra = {"note": c.note} if c.note else {}
        return {
            "field": c.field,
            "op": c.op,
            "expected": jsonable(c.expected),
            "actual": jsonable(c.actual),
            "result": bool(c.result),
            **extra,
        }

    def rule(t: RuleTrace) -> dict[str, Any]:
        conditions = [leaf(c) for c in t.conditions]
        mode = "shadow" if t.shadow else "live"
        return {
            "rule": t.rule,
            "effect": t.effect,
            "mode": mode,
            "matched": t.matched,
            "note": t.note,
            "conditions": conditions,
        }

    r = resolution
    untraced = {"untraced": r.traced.untraced_json()} if r.traced.untraced else {}
    return {
        "outcome": str(r.outcome),
        "rule": r.rule,
        "rules": list(r.rules),
        "reason": r.reason,
        "steps": [{"group": s.group, "approvals": s.approvals} for s in r.steps],
        "governance": r.governance,
        "kind": r.kind,
        "inputs": {
            "fields": {k: jsonable(v) for k, v in r.fields.items()},
            "requester": r.requester,
            "at": r.at.isoformat(),
        },
        "trace": [rule(t) for t in r.trace],
        "shadow": [{"rule": v.rule, "decide": str(v.decide)} for v in r.shadow],
        **untraced,
    }


def cases() -> list[tuple[Governance, str, dict[str, Any], str]]:
    """(governance, kind, fields, requester): every file test of the example, the bench's kinds, limits."""
    found: list[tuple[Governance, str, dict[str, Any], str]] = []
    example = load_governance_file(EXAMPLE)
    for name, kind in yaml.safe_load(EXAMPLE.read_text())["kinds"].items():
        for test in kind.get("tests", []):
            for requester in ("U0SAM", "U0CMO", test.get("requester", "U0SAM")):
                found.append((example, name, test["fields"], requester))
    for size in (10, 100):
        bench = make_governance(make_rules(size))
        found += [(bench, "deal", fields, "U0SAM") for fields in REQUESTS.values()]
    limits = governance_from(LIMITS)
    for fields in ({"amount": 50}, {"amount": 400, "tags": ["b", "c"]}, {"amount": 950, "note": "urgent please"}):
        found.append((limits, "spend", fields, "U0SAM"))
    return found


def usage_of(count: int, total: float) -> Any:
    def usage(*, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None) -> LimitUsage:
        return LimitUsage(count=count, total=total)

    return usage


@pytest.mark.parametrize("usage", [usage_of(0, 0), usage_of(5, 900)], ids=["limits free", "limits used up"])
def test_every_receipt_is_byte_identical_to_the_straightforward_one(usage: Any) -> None:
    checked = 0
    for governance, name, raw, requester in cases():
        kind = governance.kind(name)
        for at in (AT, AT + timedelta(hours=13)):
            values = governance.validate_fields(kind, raw, at=at)
            fast = resolve(governance, kind, values, requester=requester, at=at, usage=usage).receipt()
            plain = reference_receipt(resolve(governance, kind, values, requester=requester, at=at, usage=usage))
            assert json.dumps(fast, ensure_ascii=False) == json.dumps(plain, ensure_ascii=False), (name, raw)
            assert canonical_json(fast) == canonical_json(plain)
            checked += 1
    assert checked > 40


def test_a_receipt_shares_no_lists_with_the_next_one() -> None:
    governance = governance_from(LIMITS)
    kind = governance.kind("spend")
    values = governance.validate_fields(kind, {"amount": 400, "tags": ["b"]}, at=AT)
    first = resolve(governance, kind, values, requester="U0SAM", at=AT).receipt()
    first["trace"][2]["conditions"][0]["actual"].append("mutated")
    second = resolve(governance, kind, values, requester="U0SAM", at=AT).receipt()
    assert second["trace"][2]["conditions"][0]["actual"] == ["b"]
